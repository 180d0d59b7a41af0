"""A third-party website's page for a ClinicalTrials.gov record, saved as text, to model records.

One job: read that page layout: a title, ``NCT ID:`` and ``Last Updated:`` lines, then headed sections
("Basic Information", "Study Groups", "Sponsors", "References" ...), each opened by one line of the
site's own blurb, holding label lines followed by their values. Coded values are printed in the
ClinicalTrials.gov API v2 spelling. "More Related Trials" is the site's similarity suggestion, not a
registry fact, and is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from kg.codes import is_code
from kg.identity import NCT_RE, related_nct_ids
from kg.model import (
    Arm,
    Design,
    Eligibility,
    Identifier,
    Intervention,
    OrgMention,
    PartialDate,
    PersonMention,
    Provenance,
    Reference,
    ResponsibleParty,
    Site,
    Trial,
)
from kg.report import Problem
from kg.sources.pagetext import (
    Problems,
    code,
    comma_parts,
    count,
    label_values,
    nonblank,
    paragraphs,
    parse_date,
    phases,
    yes_no,
)

SOURCE = "thirdparty-page"
KIND = "third-party trial page"

_NCT_LINE_RE = re.compile(r"^NCT ID:\s*(?P<id>\S*)\s*$", re.M)
_UPDATED_RE = re.compile(r"^Last Updated:\s*(?P<date>.+?)\s*$", re.M)
SECTIONS = (
    "Study Results", "Basic Information", "Brief Summary", "Detailed Description", "Conditions", "Keywords",
    "Study Design", "Study Groups", "Interventions", "Outcomes", "Eligibility Criteria", "Sponsors",
    "Responsible Party", "Principal Investigators", "Locations", "Countries", "References", "Other Identifiers",
    "More Related Trials",
)
# Sections every such page shows; one missing means the page was cut short.
_REQUIRED = ("Basic Information", "Eligibility Criteria", "Sponsors", "Other Identifiers")
_BLURB_START = re.compile(r"^(Get|Review|Dive|See|Understand|Learn|Check|Meet|Identify|Explore|Additional) ")
_BASIC_DATES = {"Study Start Date": "start", "Primary Completion Date": "primary_completion",
                "Study Completion Date": "completion"}
_BASIC_LABELS = ("Recruitment Status", "Clinical Phase", "Total Enrollment", "Study Classification", *_BASIC_DATES)
_DESIGN_LABELS = ("Allocation Method", "Intervention Model", "Observational Model", "Time Perspective",
                  "Primary Study Purpose", "Blinding Strategy")
_ELIGIBILITY_LABELS = ("Minimum Eligible Age", "Maximum Eligible Age", "Eligible Sex", "Accepts Healthy Volunteers",
                       "Study Population", "Sampling Method")
_WHO_MASKED_RE = {
    "PARTICIPANT": re.compile(r"\bParticipants?\b", re.I),
    "CARE_PROVIDER": re.compile(r"\bCare ?(?:givers?|Providers?)\b", re.I),
    "INVESTIGATOR": re.compile(r"\bInvestigators?\b", re.I),
    "OUTCOMES_ASSESSOR": re.compile(r"\bOutcomes? Assessors?\b", re.I),
}
_GROUP_TYPE = "Group Type "
_INTERVENTION_TYPE = "Intervention Type "
_SPONSOR_ROLE_RE = re.compile(r"^Sponsor Role\s+(?P<role>\w+)$", re.I)
_RESPONSIBILITY_RE = re.compile(r"^Responsibility Role\s+(?P<type>\w+)$")
_OFFICIAL_ROLE_RE = re.compile(r"^Role:\s*(?P<role>\w+)$")
_SITE_STATUS_RE = re.compile(r"^Site Status\b\s*(?P<status>\w*)$")
_REFERENCE_TYPE_RE = re.compile(r"^Reference Type\s+(?P<type>\w+)$")
_PMID_RE = re.compile(r"^PMID:\s*(?P<pmid>\d+)")
_ID_TYPE_RE = re.compile(r"^Identifier Type:\s*(?P<type>.*)$")
_ID_SOURCE_RE = re.compile(r"^Identifier Source:\s*(?P<source>.*)$")


def looks_like(text: str) -> bool:
    """An ``NCT ID:`` line near the top and at least two of the site's section headings."""
    if text.lstrip().startswith(("{", "[", "<", "Raw JSON")):
        return False
    head = text[:3000]
    if not _NCT_LINE_RE.search(head):
        return False
    lines = {line.strip() for line in text.splitlines()}
    return sum(heading in lines for heading in SECTIONS) >= 2


def read(text: str, origin: str, problems: list[Problem]) -> Iterator[Trial]:
    m = _NCT_LINE_RE.search(text)
    nct_id = m.group("id") if m and NCT_RE.match(m.group("id")) else None
    if nct_id is None:
        problems.append(Problem(origin, None, "nct_id", f"{KIND} without a valid NCT ID line", "skipped"))
        return
    yield _trial(text, nct_id, Problems(problems, origin, nct_id))


def _sections(lines: Sequence[str]) -> tuple[list[str], dict[str, list[str]]]:
    """(lines before the first heading, heading -> its lines with the site's blurb removed)."""
    head, found = [], {}
    current: list[str] = head
    for line in lines:
        if line.strip() in SECTIONS and line.strip() not in found:
            current = found.setdefault(line.strip(), [])
        else:
            current.append(line)
    return head, {name: _without_blurb(body) for name, body in found.items()}


def _without_blurb(body: list[str]) -> list[str]:
    """Drop the site's one-line explanation that opens every section."""
    paras = paragraphs(body)
    if not paras:
        return []
    first = paras[0]
    if len(first) == 1 and first[0].endswith(".") and (len(paras) > 1 or _BLURB_START.match(first[0])):
        start = next(i for i, line in enumerate(body) if line.strip() == first[0])
        return body[start + 1:]
    return body


def _trial(text: str, nct_id: str, problems: Problems) -> Trial:
    lines = [line.rstrip() for line in text.splitlines()]
    head, sections = _sections(lines)
    title = next((s for s in nonblank(head) if not s.startswith(("NCT ID:", "Last Updated:"))), None)
    basic = _labelled(sections.get("Basic Information", []), _BASIC_LABELS)[1]
    summary = _prose(sections.get("Brief Summary", []))
    detailed = _prose(sections.get("Detailed Description", []))
    interventions = _interventions(sections.get("Interventions", []))
    arms, arm_links = _arms(sections.get("Study Groups", []), interventions)
    lead, collaborators = _sponsors(sections.get("Sponsors", []), problems)
    org_study_id, secondary_ids = _identifiers(sections.get("Other Identifiers", []), problems)
    dates = _dates(text, basic, problems)
    updated = dates.get("last_update_posted")
    problems.missing_parts({name: bool(nonblank(sections.get(name, []))) for name in _REQUIRED}, KIND)
    return Trial(
        provenance=Provenance(SOURCE, problems.origin, updated.value if updated else None),
        nct_id=nct_id,
        org_study_id=org_study_id,
        secondary_ids=secondary_ids,
        brief_title=title,
        brief_summary=summary,
        detailed_description=detailed,
        overall_status=_code(problems, "status", _first(basic, "Recruitment Status"), "overall_status"),
        dates=dates,
        study_type=_code(problems, "study-type", _first(basic, "Study Classification"), "study_type"),
        phases=phases(_first(basic, "Clinical Phase") or ""),
        design=_design(sections.get("Study Design", [])),
        enrollment=count(_first(basic, "Total Enrollment") or ""),
        has_results=_has_results(sections.get("Study Results")),
        keywords=tuple(nonblank(sections.get("Keywords", []))),
        lead_sponsor=lead,
        collaborators=collaborators,
        responsible_party=_responsible_party(sections.get("Responsible Party", [])),
        officials=_officials(sections.get("Principal Investigators", [])),
        interventions=tuple(_with_arm_labels(iv, arm_links) for iv in interventions),
        arms=arms,
        conditions=tuple(nonblank(sections.get("Conditions", []))),
        eligibility=_eligibility(sections.get("Eligibility Criteria", [])),
        sites=_sites(sections.get("Locations", [])),
        references=_references(sections.get("References", [])),
        related_nct_ids=related_nct_ids(nct_id, summary, detailed),
    )


# ------------------------------------------------------------------------------------------ helpers
def _labelled(lines: Sequence[str], labels: Sequence[str]) -> tuple[list[str], dict[str, list[str]]]:
    return label_values(lines, lambda s: s in labels)


def _first(values: dict[str, list[str]], label: str) -> str | None:
    found = values.get(label)
    return found[0] if found else None


def _code(problems: Problems, scheme: str, value: str | None, field: str) -> str | None:
    if value is None:
        return None
    found = code(scheme, value)
    if found is None:
        problems.add(field, f"unknown {scheme} value {value!r}")
    return found


def _prose(lines: Sequence[str]) -> str | None:
    return "\n\n".join(" ".join(p) for p in paragraphs(lines)) or None


def _dates(text: str, basic: dict[str, list[str]], problems: Problems) -> dict[str, PartialDate]:
    out: dict[str, PartialDate] = {}
    for label, kind in _BASIC_DATES.items():
        value = _first(basic, label)
        if value is None:
            continue
        found = parse_date(value)
        if found:
            out[kind] = found
        else:
            problems.add(kind, f"not a date: {value!r}")
    m = _UPDATED_RE.search(text[:3000])
    if m and (found := parse_date(m.group("date"))):
        out["last_update_posted"] = found
    return out


def _has_results(lines: list[str] | None) -> bool | None:
    if lines is None:
        return None
    return False if any(s.lower() == "results pending" for s in nonblank(lines)) else None


def _design(lines: Sequence[str]) -> Design | None:
    _, values = _labelled(lines, _DESIGN_LABELS)
    if not values:
        return None
    model = values.get("Intervention Model", [])
    blinding = values.get("Blinding Strategy", [])
    who = " ".join(blinding[1:])
    return Design(
        allocation=code("allocation", _first(values, "Allocation Method")),
        intervention_model=code("intervention-model", model[0]) if model else None,
        intervention_model_description=" ".join(model[1:]) or None,
        observational_model=code("observational-model", _first(values, "Observational Model")),
        time_perspective=code("time-perspective", _first(values, "Time Perspective")),
        primary_purpose=code("primary-purpose", _first(values, "Primary Study Purpose")),
        masking=code("masking", blinding[0]) if blinding else None,
        who_masked=tuple(c for c, pattern in _WHO_MASKED_RE.items() if pattern.search(who)),
    )


# ------------------------------------------------------------------------------------------ arms
def _interventions(lines: Sequence[str]) -> list[Intervention]:
    """Interventions section: name, description line(s), ``Intervention Type X``."""
    out: list[Intervention] = []
    pending: list[str] = []
    for s in nonblank(lines):
        if s.startswith(_INTERVENTION_TYPE) and pending:
            kind = code("intervention-type", s[len(_INTERVENTION_TYPE):])
            out.append(Intervention(pending[0], kind, "\n".join(pending[1:]) or None))
            pending = []
        else:
            pending.append(s)
    return out


def _arms(lines: Sequence[str], interventions: list[Intervention]) -> tuple[tuple[Arm, ...], dict[str, list[str]]]:
    """Study Groups: per arm its label, description and ``Group Type X``, then each intervention as name,
    ``Intervention Type X`` and its description (known from the Interventions section).

    Returns the arms and intervention name -> arm labels."""
    descriptions = {iv.description for iv in interventions if iv.description}
    items = nonblank(lines)
    arms: list[Arm] = []
    links: dict[str, list[str]] = {}
    pending: list[str] = []
    current: list[str] | None = None  # the last arm's intervention names
    i = 0
    while i < len(items):
        s = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else ""
        if s.startswith(_GROUP_TYPE) and pending:
            label, description = pending[0], " ".join(pending[1:]) or None
            current = []
            arms.append(Arm(label, code("arm-type", s[len(_GROUP_TYPE):]), description, ()))
            pending = []
        elif current is not None and nxt.startswith(_INTERVENTION_TYPE):
            kind = nxt[len(_INTERVENTION_TYPE):]
            current.append(f"{_display(kind)}: {s}")
            links.setdefault(s, []).append(arms[-1].label)
            arms[-1] = Arm(arms[-1].label, arms[-1].type, arms[-1].description, tuple(current))
            i += 1
        elif current is not None and not pending and _is_intervention_description(s, nxt, descriptions):
            pass  # the description of the intervention above, as in the Interventions section
        else:
            pending.append(s)
        i += 1
    return tuple(arms), links


def _is_intervention_description(line: str, nxt: str, known: set[str | None]) -> bool:
    """Known from the Interventions section; without that section (a cut page), the one line after an
    intervention that is not itself followed by ``Intervention Type``."""
    if known:
        return line in known
    return not nxt.startswith((_INTERVENTION_TYPE, _GROUP_TYPE))


def _display(intervention_type: str) -> str:
    """``DIETARY_SUPPLEMENT`` -> "Dietary Supplement" (the registry's "Type: name" spelling)."""
    return intervention_type.replace("_", " ").title()


def _with_arm_labels(iv: Intervention, links: dict[str, list[str]]) -> Intervention:
    return Intervention(iv.name, iv.type, iv.description, iv.other_names, tuple(links.get(iv.name, ())))


# ------------------------------------------------------------------------------------------ people
def _sponsors(lines: Sequence[str], problems: Problems) -> tuple[OrgMention | None, tuple[OrgMention, ...]]:
    """Each sponsor: name, agency class, ``Sponsor Role lead|collaborator``."""
    lead: OrgMention | None = None
    collaborators: list[OrgMention] = []
    pending: list[str] = []
    for s in nonblank(lines):
        m = _SPONSOR_ROLE_RE.match(s)
        if not m:
            pending.append(s)
            continue
        agency = pending[-1] if pending and is_code("agency-class", pending[-1]) else None
        names = pending[:-1] if agency else pending
        pending = []
        if not names:
            problems.add("sponsors", f"sponsor role {m.group('role')!r} without a name")
            continue
        org = OrgMention(" ".join(names), agency)
        if m.group("role").lower() == "lead":
            lead = org
        else:
            collaborators.append(org)
    if pending:
        problems.add("sponsors", f"sponsor lines without a role left out: {pending!r}")
    return lead, tuple(collaborators)


def _responsible_party(lines: Sequence[str]) -> ResponsibleParty | None:
    """Name, title, ``Responsibility Role X`` (an organisation when the sponsor is responsible)."""
    items = nonblank(lines)
    role_at = next((i for i, s in enumerate(items) if _RESPONSIBILITY_RE.match(s)), None)
    if role_at is None:
        return None
    kind = code("responsible-party-type", _RESPONSIBILITY_RE.match(items[role_at]).group("type"))  # type: ignore[union-attr]
    before = items[:role_at]
    if kind == "SPONSOR" or not before:
        return ResponsibleParty(type=kind)
    title = " ".join(before[1:]) or None
    return ResponsibleParty(type=kind, investigator=PersonMention(before[0], "RESPONSIBLE_PARTY", None, title))


def _officials(lines: Sequence[str]) -> tuple[PersonMention, ...]:
    """Name, ``Role: X``, affiliation (absent when the next line is already the next person)."""
    items = nonblank(lines)
    out = []
    for i, s in enumerate(items):
        m = _OFFICIAL_ROLE_RE.match(s)
        if not m or i == 0:
            continue
        next_is_person = i + 2 < len(items) and _OFFICIAL_ROLE_RE.match(items[i + 2])
        affiliation = items[i + 1] if i + 1 < len(items) and not next_is_person else None
        role = m.group("role") if is_code("role", m.group("role")) else None
        out.append(PersonMention(items[i - 1], role, affiliation))
    return tuple(out)


def _sites(lines: Sequence[str]) -> tuple[Site, ...]:
    """Each site: facility, "City, State, Country", ``Site Status [X]``."""
    out = []
    pending: list[str] = []
    for s in nonblank(lines):
        m = _SITE_STATUS_RE.match(s)
        if not m:
            pending.append(s)
            continue
        if pending:
            out.append(_site(pending, code("site-status", m.group("status"))))
        pending = []
    return tuple(out)


def _site(lines: list[str], status: str | None) -> Site:
    facility = lines[0]
    parts = comma_parts(lines[1]) if len(lines) > 1 else []
    city = parts[0] if len(parts) > 1 else None
    country = parts[-1] if parts else None
    state = ", ".join(parts[1:-1]) or None
    return Site(facility=facility, city=city, state=state, country=country, status=status)


# ------------------------------------------------------------------------------------------ the rest
def _eligibility(lines: Sequence[str]) -> Eligibility | None:
    criteria, values = _labelled(lines, _ELIGIBILITY_LABELS)
    if not criteria and not values:
        return None
    text = "\n".join(line.strip() for line in _criteria_lines(lines)).strip()
    return Eligibility(
        criteria=text or None,
        minimum_age=_first(values, "Minimum Eligible Age"),
        maximum_age=_first(values, "Maximum Eligible Age"),
        sex=code("sex", _first(values, "Eligible Sex")),
        healthy_volunteers=yes_no(_first(values, "Accepts Healthy Volunteers")),
        study_population=_first(values, "Study Population"),
        sampling_method=code("sampling-method", _first(values, "Sampling Method")),
    )


def _criteria_lines(lines: Sequence[str]) -> list[str]:
    out = []
    for line in lines:
        if line.strip() in _ELIGIBILITY_LABELS:
            break
        out.append(line)
    return out


def _references(lines: Sequence[str]) -> tuple[Reference, ...]:
    """Each reference: citation, ``Reference Type X``, ``PMID: n (View on PubMed)``."""
    out: list[Reference] = []
    citation: list[str] = []
    kind: str | None = None
    pmid: str | None = None
    for s in nonblank(lines):
        if m := _REFERENCE_TYPE_RE.match(s):
            kind = code("reference-type", m.group("type"))
        elif m := _PMID_RE.match(s):
            pmid = m.group("pmid")
        else:
            if kind or pmid:
                out.append(Reference(" ".join(citation) or None, pmid, kind))
                citation, kind, pmid = [], None, None
            citation.append(s)
    if citation or pmid:
        out.append(Reference(" ".join(citation) or None, pmid, kind))
    return tuple(out)


def _identifiers(lines: Sequence[str], problems: Problems) -> tuple[str | None, tuple[Identifier, ...]]:
    """Each identifier: value, ``Identifier Type: X`` (``-`` for none), ``Identifier Source: org_study_id |
    secondary_id``. A last value without its source line (a cut page) may be either: left out."""
    org_study_id: str | None = None
    secondary: list[Identifier] = []
    value: str | None = None
    kind: str | None = None
    for s in nonblank(lines):
        if m := _ID_TYPE_RE.match(s):
            kind = code("identifier-type", m.group("type"))
        elif m := _ID_SOURCE_RE.match(s):
            source = m.group("source").strip()
            if value and source == "org_study_id" and org_study_id is None:
                org_study_id = value
            elif value and source == "secondary_id":
                secondary.append(Identifier(value, kind))
            elif value:
                problems.add("secondary_ids", f"identifier {value!r} has an unknown source {source!r}; left out")
            value, kind = None, None
        else:
            if value:
                secondary.append(Identifier(value, kind))
            value, kind = s, None
    if value:
        problems.add("secondary_ids", f"identifier {value!r} has no Identifier Source line; left out")
    return org_study_id, tuple(secondary)
