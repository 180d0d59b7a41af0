"""Source: the legacy ClinicalTrials.gov ``<clinical_study>`` XML (retired AllPublicXML) -> :class:`Trial`.

One file holds one study. Legacy labels ("Phase 1/Phase 2", "Double (Participant, Investigator)",
"U.S. Fed" ...) are translated into the API v2 enum spelling of :mod:`kg.codes`; a value that does not
translate is dropped with a :class:`Problem`, and the rest of the record is still built. The XML is parsed
without loading DTDs, resolving entities or touching the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from functools import lru_cache
from typing import Literal

from lxml import etree

from kg.codes import SCHEMES
from kg.model import (
    Arm,
    Design,
    Eligibility,
    Identifier,
    Intervention,
    IpdSharing,
    Link,
    MeshTerm,
    OrgMention,
    Outcome,
    PartialDate,
    PersonMention,
    Provenance,
    Reference,
    ResponsibleParty,
    Site,
    Trial,
)
from kg.report import Problem

SOURCE = "ctgov-xml"
ROOT_TAG = "clinical_study"
NCT_ID = re.compile(r"NCT\d{8}")
NCT_ID_EXACT = re.compile(r"^NCT\d{8}$")


_NOT_KEY = re.compile(r"[^A-Z0-9]+")


@lru_cache(maxsize=1 << 12)  # a few hundred labels recur in every record
def _key(label: str) -> str:
    """A legacy label as a lookup key: upper case, each run of non-alphanumerics one ``_``."""
    return _NOT_KEY.sub("_", label.upper()).strip("_")


def _table(scheme: str, **exceptions: str) -> dict[str, str]:
    """Key -> v2 enum: every enum of ``scheme`` matches itself (``Non-Randomized`` -> NON_RANDOMIZED),
    plus the legacy labels that do not, given by their keys."""
    table = {value: value for value in SCHEMES[scheme]}
    for legacy, value in exceptions.items():
        if value not in SCHEMES[scheme]:
            raise ValueError(f"{value} is not in the {scheme} scheme")
        table[legacy] = value
    return table


# --- translation tables (keys are _key(legacy label)) -----------------------------------------------------
STATUS = _table("status", UNKNOWN_STATUS="UNKNOWN")
SITE_STATUS = _table("site-status")
STUDY_TYPE = _table("study-type", OBSERVATIONAL_PATIENT_REGISTRY="OBSERVATIONAL")
PHASE = _table(
    "phase",
    N_A="NA",
    PHASE_0="EARLY_PHASE1",
    EARLY_PHASE_1="EARLY_PHASE1",
    PHASE_1="PHASE1",
    PHASE_2="PHASE2",
    PHASE_3="PHASE3",
    PHASE_4="PHASE4",
)
ALLOCATION = _table("allocation", N_A="NA")
INTERVENTION_MODEL = _table(
    "intervention-model", **{f"{value}_ASSIGNMENT": value for value in SCHEMES["intervention-model"]}
)
PRIMARY_PURPOSE = _table("primary-purpose", EDUCATIONAL_COUNSELING_TRAINING="ECT")
OBSERVATIONAL_MODEL = _table("observational-model")
TIME_PERSPECTIVE = _table("time-perspective")
MASKING = _table(
    "masking",
    NONE_OPEN_LABEL="NONE",
    OPEN_LABEL="NONE",
    NO_MASKING="NONE",
    **{f"{value}_BLIND": value for value in SCHEMES["masking"] if value != "NONE"},
)
WHO_MASKED = _table("who-masked", SUBJECT="PARTICIPANT", CAREGIVER="CARE_PROVIDER")
AGENCY_CLASS = _table(
    "agency-class",
    U_S_FED="FED",
    US_FED="FED",
    OTHER_U_S_FEDERAL_AGENCY="FED",
    INDIVIDUAL="INDIV",
    AMBIGUOUS="AMBIG",
)
RESPONSIBLE_PARTY_TYPE = _table("responsible-party-type")
OFFICIAL_ROLE = _table("role")
INTERVENTION_TYPE = _table("intervention-type", GENE_TRANSFER="GENETIC")
ARM_TYPE = _table("arm-type")
SEX = _table("sex", BOTH="ALL")
SAMPLING_METHOD = _table("sampling-method")
IPD_SHARING = _table("ipd-sharing")
IPD_INFO_TYPE = _table(
    "ipd-info-type",
    STATISTICAL_ANALYSIS_PLAN_SAP="SAP",
    STATISTICAL_ANALYSIS_PLAN="SAP",
    INFORMED_CONSENT_FORM_ICF="ICF",
    INFORMED_CONSENT_FORM="ICF",
    CLINICAL_STUDY_REPORT_CSR="CSR",
    CLINICAL_STUDY_REPORT="CSR",
)
DATE_TYPE = _table("date-type", ANTICIPATED="ESTIMATED", ESTIMATE="ESTIMATED")
YES_NO = {"YES": True, "TRUE": True, "ACCEPTS_HEALTHY_VOLUNTEERS": True, "NO": False, "FALSE": False}

# Trial.dates key -> XML elements holding it, the first present wins (old names after new ones).
DATE_ELEMENTS: dict[str, tuple[str, ...]] = {
    "start": ("start_date",),
    "primary_completion": ("primary_completion_date",),
    "completion": ("completion_date",),
    "first_submitted": ("study_first_submitted", "firstreceived_date"),
    "first_posted": ("study_first_posted",),
    "last_update_submitted": ("last_update_submitted", "lastchanged_date"),
    "last_update_posted": ("last_update_posted",),
    "results_first_submitted": ("results_first_submitted", "firstreceived_results_date"),
    "results_first_posted": ("results_first_posted",),
    "status_verified": ("verification_date",),
}
OUTCOME_KINDS: tuple[tuple[str, Literal["PRIMARY", "SECONDARY", "OTHER"]], ...] = (
    ("primary_outcome", "PRIMARY"),
    ("secondary_outcome", "SECONDARY"),
    ("other_outcome", "OTHER"),
)
REFERENCE_KINDS = (("reference", "BACKGROUND"), ("results_reference", "RESULT"))
# Keys of the old one-line <study_design> ("Allocation: Randomized, Masking: Double Blind, ...").
OLD_DESIGN_KEYS = {
    "ALLOCATION": "allocation",
    "INTERVENTION_MODEL": "intervention_model",
    "PRIMARY_PURPOSE": "primary_purpose",
    "MASKING": "masking",
    "OBSERVATIONAL_MODEL": "observational_model",
    "TIME_PERSPECTIVE": "time_perspective",
}

MONTH_NAMES = "january february march april may june july august september october november december".split()
MONTHS = {
    **{name: n for n, name in enumerate(MONTH_NAMES, 1)},
    **{name[:3]: n for n, name in enumerate(MONTH_NAMES, 1)},
}
DATE_DAY = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")
DATE_MONTH = re.compile(r"^([A-Za-z]+)\.?,?\s+(\d{4})$")
DATE_ISO = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
DOWNLOAD_DATE = re.compile(r"([A-Za-z]+\.?\s+\d{1,2},?\s+\d{4})\s*$")
# What may precede the root element: byte-order mark, declaration, comments, DOCTYPE, processing instructions.
PROLOG = re.compile(r"^\ufeff?\s*(?:(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)\s*)*", re.S)
ROOT_START = re.compile(r"<clinical_study[\s>/]")
BULLET = re.compile(r"^([-*\u2022o]|\d+[.)])\s{2,}")


# --- parsing ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)  # one per process: a parser is reusable, not thread-safe (a build has one thread)
def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
        collect_ids=False,  # no xml:id lookups: skip hashing them
    )


def looks_like(text: str) -> bool:
    """An XML document whose root element is ``clinical_study`` (by content, never by file name)."""
    head = PROLOG.sub("", text[:65536], count=1)
    return ROOT_START.match(head) is not None


def read(text: str, origin: str, problems: list[Problem]) -> Iterator[Trial]:
    """Yield the one trial of an AllPublicXML file; a file that cannot be used yields nothing."""
    root = _parse(text, origin, problems)
    if root is None:
        return
    trial = _trial(root, origin, problems)
    if trial is not None:
        yield trial


def _parse(text: str, origin: str, problems: list[Problem]) -> etree._Element | None:
    # lxml refuses a str that declares its encoding; the text is decoded already, so drop the declaration.
    body = re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", "", text, count=1)
    try:
        root = etree.fromstring(body, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        problems.append(Problem(origin, None, None, f"cannot parse as XML: {exc}", "skipped"))
        return None
    if root is None or root.tag != ROOT_TAG:
        tag = None if root is None else root.tag
        problems.append(Problem(origin, None, None, f"root element is {tag!r}, not {ROOT_TAG!r}", "skipped"))
        return None
    etree.strip_elements(root, etree.Entity, with_tail=False)  # unexpanded entity references: no text
    return root


def _text(el: etree._Element | None) -> str | None:
    """Stripped text content of an element, line breaks as LF (the XML writes some as ``&#xD;``), or None."""
    if el is None:
        return None
    value = el.text if len(el) == 0 else "".join(el.itertext())  # nearly all are leaves: no iterator
    if not value:
        return None
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.strip() or None


# Elements by a path of child tag names ("facility/address/city"), as ElementPath's find/findall give them, in
# document order, but through lxml's own child iteration: ElementPath costs about twice as much per call, and
# a record asks ~300 times.
def _first(parent: etree._Element, path: str) -> etree._Element | None:
    tag, _, rest = path.partition("/")
    if not rest:
        return next(parent.iterchildren(tag), None)
    for child in parent.iterchildren(tag):
        if (found := _first(child, rest)) is not None:
            return found
    return None


def _each(parent: etree._Element, path: str) -> Iterator[etree._Element]:
    tag, _, rest = path.partition("/")
    if not rest:
        yield from parent.iterchildren(tag)
        return
    for child in parent.iterchildren(tag):
        yield from _each(child, rest)


def _find(parent: etree._Element | None, path: str) -> str | None:
    return None if parent is None else _text(_first(parent, path))


def _all(parent: etree._Element | None, path: str) -> tuple[str, ...]:
    if parent is None:
        return ()
    return tuple(v for v in map(_text, _each(parent, path)) if v)


def textblock(raw: str | None) -> str | None:
    """Undo the XML's indentation and line wrapping: strip each line, join the lines of a paragraph with a
    space, separate paragraphs with one blank line, and reduce a bullet's padding (``-  x`` -> ``- x``)."""
    if not raw:
        return None
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in [*raw.splitlines(), ""]:
        line = line.strip()
        if line:
            lines.append(line)
        elif lines:
            paragraphs.append(BULLET.sub(r"\1 ", " ".join(lines)))
            lines = []
    return "\n\n".join(paragraphs) or None


# --- one record -------------------------------------------------------------------------------------------
class _Context:
    """What the section functions share: the record's id for problems, and the problem list."""

    def __init__(self, origin: str, record: str | None, problems: list[Problem]) -> None:
        self.origin = origin
        self.record = record
        self.problems = problems

    def drop(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.origin, self.record, field, message, "dropped"))

    def code(self, table: Mapping[str, str], value: str | None, field: str) -> str | None:
        """Translate a legacy label with ``table``; an unknown one is dropped with a problem."""
        if value is None:
            return None
        found = table.get(_key(value))
        if found is None:
            self.drop(field, f"unknown value {value!r}")
        return found

    def codes(self, table: Mapping[str, str], values: Iterable[str], field: str) -> tuple[str, ...]:
        return tuple(c for c in (self.code(table, v, field) for v in values) if c is not None)


def _trial(root: etree._Element, origin: str, problems: list[Problem]) -> Trial | None:
    id_info = _first(root, "id_info")
    nct_id = _find(id_info, "nct_id")
    org_study_id = _find(id_info, "org_study_id")
    if nct_id is None or not NCT_ID_EXACT.match(nct_id):
        what = "no nct_id" if nct_id is None else f"nct_id {nct_id!r} is not NCT followed by 8 digits"
        problems.append(Problem(origin, nct_id or org_study_id, "id_info/nct_id", what, "skipped"))
        return None
    ctx = _Context(origin, nct_id, problems)
    aliases = _all(id_info, "nct_alias")
    brief_summary = textblock(_find(root, "brief_summary/textblock"))
    detailed = textblock(_find(root, "detailed_description/textblock"))
    lead = _org(_first(root, "sponsors/lead_sponsor"), ctx, "sponsors/lead_sponsor")
    interventions = _interventions(root, ctx)
    enrollment, enrollment_type = _enrollment(root, ctx)
    return Trial(
        provenance=_provenance(root, origin, ctx),
        nct_id=nct_id,
        org_study_id=org_study_id,
        organization=_organization(root, lead),
        nct_aliases=aliases,
        secondary_ids=tuple(Identifier(value=v) for v in _all(id_info, "secondary_id")),
        acronym=_find(root, "acronym"),
        brief_title=_find(root, "brief_title"),
        official_title=_find(root, "official_title"),
        brief_summary=brief_summary,
        detailed_description=detailed,
        overall_status=ctx.code(STATUS, _find(root, "overall_status"), "overall_status"),
        last_known_status=ctx.code(STATUS, _find(root, "last_known_status"), "last_known_status"),
        why_stopped=textblock(_find(root, "why_stopped")),
        dates=_dates(root, ctx),
        study_type=ctx.code(STUDY_TYPE, _find(root, "study_type"), "study_type"),
        phases=_phases(_find(root, "phase"), ctx),
        design=_design(root, ctx),
        enrollment=enrollment,
        enrollment_type=enrollment_type,
        has_results=_first(root, "clinical_results") is not None,
        keywords=_all(root, "keyword"),
        lead_sponsor=lead,
        collaborators=_collaborators(root, ctx),
        responsible_party=_responsible_party(_first(root, "responsible_party"), ctx),
        officials=_officials(root, ctx),
        central_contacts=_contacts(root, "overall_contact", "overall_contact_backup", None),
        interventions=interventions,
        arms=_arms(root, interventions, ctx),
        conditions=_all(root, "condition"),
        mesh_terms=_mesh_terms(root),
        outcomes=_outcomes(root),
        eligibility=_eligibility(_first(root, "eligibility"), ctx),
        sites=tuple(_site(el, ctx) for el in _each(root, "location")),
        references=_references(root),
        links=_links(root),
        ipd_sharing=_ipd_sharing(_first(root, "patient_data"), ctx),
        related_nct_ids=_related_nct_ids((brief_summary, detailed), {nct_id, *aliases}),
    )


# --- sections -----------------------------------------------------------------------------------------------
def parse_date(value: str, date_type: str | None = None) -> PartialDate | None:
    """``July 1999`` -> 1999-07 (month), ``July 15, 1999`` -> 1999-07-15 (day); ISO forms too; else None."""
    value = " ".join(value.split())
    if m := DATE_DAY.match(value):
        month, day, year = MONTHS.get(m.group(1).lower()), int(m.group(2)), int(m.group(3))
        return _checked(year, month, day, date_type)
    if m := DATE_MONTH.match(value):
        return _checked(int(m.group(2)), MONTHS.get(m.group(1).lower()), None, date_type)
    if m := DATE_ISO.match(value):
        year, month, day = (int(g) if g else None for g in m.groups())
        if month is None:
            return PartialDate(f"{year:04d}", "year", date_type)
        return _checked(year, month, day, date_type)
    return None


def _checked(year: int, month: int | None, day: int | None, date_type: str | None) -> PartialDate | None:
    if month is None:
        return None
    try:
        date(year, month, day or 1)
    except ValueError:
        return None
    if day is None:
        return PartialDate(f"{year:04d}-{month:02d}", "month", date_type)
    return PartialDate(f"{year:04d}-{month:02d}-{day:02d}", "day", date_type)


def _dates(root: etree._Element, ctx: _Context) -> dict[str, PartialDate]:
    dates: dict[str, PartialDate] = {}
    for key, names in DATE_ELEMENTS.items():
        el = next((e for e in (_first(root, n) for n in names) if e is not None and _text(e)), None)
        if el is None:
            continue
        date_type = ctx.code(DATE_TYPE, el.get("type"), f"{el.tag}/@type")
        parsed = parse_date(_text(el) or "", date_type)
        if parsed is None:
            ctx.drop(el.tag, f"unreadable date {_text(el)!r}")
        else:
            dates[key] = parsed
    return dates


def _provenance(root: etree._Element, origin: str, ctx: _Context) -> Provenance:
    posted = None
    for name in ("last_update_posted", "lastchanged_date"):
        if (value := _find(root, name)) and (parsed := parse_date(value)):
            posted = parsed.value
            break
    holder = None
    if download := _find(root, "required_header/download_date"):
        m = DOWNLOAD_DATE.search(download)
        parsed = parse_date(m.group(1)) if m else None
        if parsed is None:
            ctx.drop("required_header/download_date", f"unreadable date {download!r}")
        else:
            holder = parsed.value
    return Provenance(source=SOURCE, origin=origin, last_update_posted=posted, version_holder=holder)


def _phases(value: str | None, ctx: _Context) -> tuple[str, ...]:
    """``Phase 1/Phase 2`` -> (PHASE1, PHASE2); ``N/A`` -> (NA,)."""
    if value is None:
        return ()
    parts = [value] if _key(value) == "N_A" else [p for p in value.split("/") if p.strip()]
    return ctx.codes(PHASE, parts, "phase")


def _masking(value: str | None, ctx: _Context, field: str) -> tuple[str | None, tuple[str, ...]]:
    """``Double (Participant, Investigator)`` / ``Double Blind (Subject, Caregiver)`` -> DOUBLE + who."""
    if value is None:
        return None, ()
    head, _, rest = value.partition("(")
    masking = ctx.code(MASKING, head, field)
    who = [w for w in rest.rstrip(") ").split(",") if w.strip()]
    if masking == "NONE":  # "None (Open Label)"
        who = []
    return masking, ctx.codes(WHO_MASKED, who, field)


def _design(root: etree._Element, ctx: _Context) -> Design | None:
    info = _first(root, "study_design_info")
    if info is not None:
        values = {field: _find(info, field) for field in OLD_DESIGN_KEYS.values()}
        prefix = "study_design_info/"
    elif (old := _find(root, "study_design")) is not None:
        values = _old_design(old)
        prefix = "study_design/"
    else:
        return None
    masking, who = _masking(values.get("masking"), ctx, prefix + "masking")
    return Design(
        allocation=ctx.code(ALLOCATION, values.get("allocation"), prefix + "allocation"),
        intervention_model=ctx.code(
            INTERVENTION_MODEL, values.get("intervention_model"), prefix + "intervention_model"
        ),
        intervention_model_description=_find(info, "intervention_model_description"),
        observational_model=ctx.code(
            OBSERVATIONAL_MODEL, values.get("observational_model"), prefix + "observational_model"
        ),
        time_perspective=ctx.code(
            TIME_PERSPECTIVE, values.get("time_perspective"), prefix + "time_perspective"
        ),
        primary_purpose=ctx.code(PRIMARY_PURPOSE, values.get("primary_purpose"), prefix + "primary_purpose"),
        masking=masking,
        masking_description=_find(info, "masking_description"),
        who_masked=who,
    )


def _old_design(text: str) -> dict[str, str]:
    """``Allocation: Randomized, Masking: Double Blind (Subject, Investigator), ...`` -> field -> label;
    parts the model has no place for (Control, Endpoint Classification) are left out."""
    values: dict[str, str] = {}
    for part in re.split(r",\s*(?=[A-Z][A-Za-z ]+:)", text):
        name, _, value = part.partition(":")
        if (field := OLD_DESIGN_KEYS.get(_key(name))) and value.strip():
            values[field] = value.strip()
    return values


def _enrollment(root: etree._Element, ctx: _Context) -> tuple[int | None, str | None]:
    el = _first(root, "enrollment")
    value = _text(el)
    if el is None or value is None:
        return None, None
    try:
        count = int(value)
    except ValueError:
        ctx.drop("enrollment", f"not a whole number: {value!r}")
        return None, None
    return count, ctx.code(DATE_TYPE, el.get("type"), "enrollment/@type")


def _org(el: etree._Element | None, ctx: _Context, field: str) -> OrgMention | None:
    name = _find(el, "agency")
    if name is None:
        return None
    return OrgMention(name, ctx.code(AGENCY_CLASS, _find(el, "agency_class"), f"{field}/agency_class"))


def _collaborators(root: etree._Element, ctx: _Context) -> tuple[OrgMention, ...]:
    found = (_org(el, ctx, "sponsors/collaborator") for el in _each(root, "sponsors/collaborator"))
    return tuple(org for org in found if org is not None)


def _organization(root: etree._Element, lead: OrgMention | None) -> OrgMention | None:
    """``<source>``, the organisation that provided the record; its class is known only when it is the lead
    sponsor."""
    source = _find(root, "source")
    if source is None:
        return None
    return OrgMention(source, lead.agency_class if lead is not None and lead.name == source else None)


def _responsible_party(el: etree._Element | None, ctx: _Context) -> ResponsibleParty | None:
    if el is None:
        return None
    name = _find(el, "investigator_full_name")
    person = None
    if name is not None:
        person = PersonMention(
            name, affiliation=_find(el, "investigator_affiliation"), title=_find(el, "investigator_title")
        )
    return ResponsibleParty(
        type=ctx.code(
            RESPONSIBLE_PARTY_TYPE,
            _find(el, "responsible_party_type"),
            "responsible_party/responsible_party_type",
        ),
        investigator=person,
        old_name_title=_find(el, "name_title"),
        old_organization=_find(el, "organization"),
    )


def _officials(root: etree._Element, ctx: _Context) -> tuple[PersonMention, ...]:
    officials = []
    for el in _each(root, "overall_official"):
        if (name := _find(el, "last_name")) is None:
            continue
        role = ctx.code(OFFICIAL_ROLE, _find(el, "role"), "overall_official/role")
        officials.append(PersonMention(name, role=role, affiliation=_find(el, "affiliation")))
    return tuple(officials)


def _contacts(
    parent: etree._Element, main: str, backup: str, affiliation: str | None
) -> tuple[PersonMention, ...]:
    """Contact names only (no phone or e-mail): roles CONTACT and CONTACT_BACKUP."""
    people = []
    for tag, role in ((main, "CONTACT"), (backup, "CONTACT_BACKUP")):
        for el in _each(parent, tag):
            if name := _find(el, "last_name"):
                people.append(PersonMention(name, role=role, affiliation=affiliation))
    return tuple(people)


def _site(el: etree._Element, ctx: _Context) -> Site:
    # The location's (first) facility and its (first) address, found once: a record lists ~30 sites.
    place = _first(el, "facility")
    address = None if place is None else _first(place, "address")
    facility = _find(place, "name")
    investigators = []
    for inv in _each(el, "investigator"):
        if name := _find(inv, "last_name"):
            role = ctx.code(OFFICIAL_ROLE, _find(inv, "role"), "location/investigator/role")
            investigators.append(PersonMention(name, role=role, affiliation=facility))
    return Site(
        facility=facility,
        city=_find(address, "city"),
        state=_find(address, "state"),
        zip=_find(address, "zip"),
        country=_find(address, "country"),
        status=ctx.code(SITE_STATUS, _find(el, "status"), "location/status"),
        people=(*investigators, *_contacts(el, "contact", "contact_backup", facility)),
    )


def _interventions(root: etree._Element, ctx: _Context) -> tuple[Intervention, ...]:
    found = []
    for el in _each(root, "intervention"):
        if (name := _find(el, "intervention_name")) is None:
            continue
        found.append(
            Intervention(
                name=name,
                type=ctx.code(
                    INTERVENTION_TYPE, _find(el, "intervention_type"), "intervention/intervention_type"
                ),
                description=_find(el, "description"),
                other_names=_all(el, "other_name"),
                arm_labels=_all(el, "arm_group_label"),
            )
        )
    return tuple(found)


def _arms(root: etree._Element, interventions: tuple[Intervention, ...], ctx: _Context) -> tuple[Arm, ...]:
    """Arms with the names of the interventions that list the arm's label (the XML links them that way)."""
    arms = []
    for el in _each(root, "arm_group"):
        if (label := _find(el, "arm_group_label")) is None:
            continue
        arms.append(
            Arm(
                label=label,
                type=ctx.code(ARM_TYPE, _find(el, "arm_group_type"), "arm_group/arm_group_type"),
                description=_find(el, "description"),
                intervention_names=tuple(i.name for i in interventions if label in i.arm_labels),
            )
        )
    return tuple(arms)


def _mesh_terms(root: etree._Element) -> tuple[MeshTerm, ...]:
    """MeSH headings by name only: the XML has no UIs (the build resolves the names)."""
    return (
        *(MeshTerm(term, branch="condition") for term in _all(root, "condition_browse/mesh_term")),
        *(MeshTerm(term, branch="intervention") for term in _all(root, "intervention_browse/mesh_term")),
    )


def _outcomes(root: etree._Element) -> tuple[Outcome, ...]:
    outcomes = []
    for tag, kind in OUTCOME_KINDS:
        for el in _each(root, tag):
            if measure := _find(el, "measure"):
                outcomes.append(Outcome(kind, measure, _find(el, "description"), _find(el, "time_frame")))
    return tuple(outcomes)


def _age(value: str | None) -> str | None:
    return None if value is None or _key(value) == "N_A" else value


def _flag(value: str | None, ctx: _Context, field: str) -> bool | None:
    """Yes/No (and the healthy-volunteers and ``true``/``false`` spellings) -> bool."""
    if value is None:
        return None
    found = YES_NO.get(_key(value))
    if found is None:
        ctx.drop(field, f"unknown value {value!r}")
    return found


def _eligibility(el: etree._Element | None, ctx: _Context) -> Eligibility | None:
    if el is None:
        return None
    return Eligibility(
        criteria=textblock(_find(el, "criteria/textblock")),
        minimum_age=_age(_find(el, "minimum_age")),
        maximum_age=_age(_find(el, "maximum_age")),
        sex=ctx.code(SEX, _find(el, "gender"), "eligibility/gender"),
        healthy_volunteers=_flag(_find(el, "healthy_volunteers"), ctx, "eligibility/healthy_volunteers"),
        gender_based=_flag(_find(el, "gender_based"), ctx, "eligibility/gender_based"),
        gender_description=_find(el, "gender_description"),
        study_population=textblock(_find(el, "study_pop/textblock")),
        sampling_method=ctx.code(
            SAMPLING_METHOD, _find(el, "sampling_method"), "eligibility/sampling_method"
        ),
    )


def _references(root: etree._Element) -> tuple[Reference, ...]:
    refs = []
    for tag, kind in REFERENCE_KINDS:
        for el in _each(root, tag):
            citation, pmid = _find(el, "citation"), _find(el, "PMID")
            if citation or pmid:
                refs.append(Reference(citation=citation, pmid=pmid, type=kind))
    return tuple(refs)


def _links(root: etree._Element) -> tuple[Link, ...]:
    return tuple(
        Link(url, _find(el, "description")) for el in _each(root, "link") if (url := _find(el, "url"))
    )


def _ipd_sharing(el: etree._Element | None, ctx: _Context) -> IpdSharing | None:
    if el is None:
        return None
    return IpdSharing(
        sharing=ctx.code(IPD_SHARING, _find(el, "sharing_ipd"), "patient_data/sharing_ipd"),
        description=_find(el, "ipd_description"),
        info_types=ctx.codes(IPD_INFO_TYPE, _all(el, "ipd_info_type"), "patient_data/ipd_info_type"),
        time_frame=_find(el, "ipd_time_frame"),
        access_criteria=_find(el, "ipd_access_criteria"),
        url=_find(el, "ipd_url"),
    )


def _related_nct_ids(texts: Iterable[str | None], own: set[str]) -> tuple[str, ...]:
    """NCT ids named in the descriptions, other than the trial's own (and its aliases), sorted."""
    found = {m for text in texts if text for m in NCT_ID.findall(text)}
    return tuple(sorted(found - own))
