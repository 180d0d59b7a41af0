"""The classic ClinicalTrials.gov study page saved as text (tables flattened to ``|`` cells) to model records.

One job: read that page layout. The headings of the page are mostly lost in the flattening, so parts are
found by their own shape: ``Label : | value |`` rows, the condition/intervention/phase table, the arm
table, ``- measure [ Time Frame: ... ]`` outcome lines, the contacts-and-locations block, and the
keyword and MeSH lines that close the page (MeSH headings printed run together, split with the MeSH index).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from kg import mesh
from kg.identity import related_nct_ids
from kg.model import (
    Arm,
    Design,
    Eligibility,
    Identifier,
    Intervention,
    IpdSharing,
    MeshTerm,
    OrgMention,
    Outcome,
    PartialDate,
    PersonMention,
    Provenance,
    ResponsibleParty,
    Site,
    Trial,
)
from kg.report import Problem
from kg.sources.pagetext import (
    Problems,
    cells,
    code,
    comma_parts,
    count,
    date_type,
    find_date,
    parse_date,
    phases,
    yes_no,
)

SOURCE = "ctgov-page"
KIND = "ClinicalTrials.gov study page"

_ID_LINE_RE = re.compile(r"^ClinicalTrials\.gov Identifier:\s*\|?\s*(NCT\d{8})\b", re.M)
_REFER_RE = re.compile(r"^Please refer to this study by its ClinicalTrials\.gov identifier.*?(NCT\d{8})?\s*$")
_PAGE_MARKERS = ("Recruitment Status :", "Listing a study does not mean it has been evaluated", "First Posted :")
_ROW_RE = re.compile(r"^(?P<label>[^|]+?)\s*:\s*\|(?P<rest>.*)$")
_STATUS_RE = re.compile(r"^Recruitment Status\s*:\s*(?P<value>.*)$", re.I)
_LAST_KNOWN_RE = re.compile(r"^Recruitment status was:\s*(?P<value>.+)$", re.I)
_VERIFIED_RE = re.compile(r"^Verified (?P<date>[A-Za-z]+ \d{4})\b")
_HEADER_DATE_RE = re.compile(r"^(?P<label>First Posted|Last Update Posted|Results First Posted)\s*:\s*(?P<date>.+)$")
_STUDY_DATE_RE = re.compile(r"^(?:(?:Actual|Estimated|Anticipated) )?(?P<kind>Study Start|Primary Completion|"
                            r"Study Completion) Date$")
_ENROLLMENT_RE = re.compile(r"^(?:(?:Actual|Estimated|Anticipated) )?Enrollment$")
_OUTCOME_RE = re.compile(r"^- (?P<measure>.+?) \[ Time Frame: (?P<time>.*?) \](?P<desc>.*)$")
_OUTCOME_HEADING_RE = re.compile(r"^(?P<kind>Primary|Secondary|Other(?: Pre-specified)?) Outcome Measures?\b", re.I)
_AGES_RE = re.compile(r"^(?:(?P<min>\d+ \w+?) (?:to (?P<max>\d+ \w+?)|and older)|up to (?P<upto>\d+ \w+?))?\s*"
                      r"(?:\((?P<std>[^)]*)\))?$", re.I)
_IV_TYPES = ("Drug", "Device", "Biological", "Procedure", "Radiation", "Behavioral", "Genetic",
             "Dietary Supplement", "Combination Product", "Diagnostic Test", "Other")
_IV_RE = re.compile(rf"^(?P<type>{'|'.join(_IV_TYPES)}): (?P<name>.+)$")
_IV_IN_CELL_RE = re.compile(rf"(?:^|\s)(?P<type>{'|'.join(_IV_TYPES)}): ")
_ARM_TYPES = ("Experimental", "Active Comparator", "Placebo Comparator", "Sham Comparator", "No Intervention",
              "Other")
_ARM_RE = re.compile(rf"^(?P<type>{'|'.join(_ARM_TYPES)}): (?P<label>.+)$")
_PERSON_ROLES = {
    "Principal Investigator": "PRINCIPAL_INVESTIGATOR",
    "Sub-Investigator": "SUB_INVESTIGATOR",
    "Study Director": "STUDY_DIRECTOR",
    "Study Chair": "STUDY_CHAIR",
}
_CONTACT_RE = re.compile(r"^Contact:\s*(?P<rest>.*)$")
_END_OF_LOCATIONS = {"Responsible Party", "ClinicalTrials.gov Identifier", "Other Study ID Numbers", "Last Verified"}
_COMMA_COUNTRIES = ("Korea, Republic of", "Korea, Democratic People's Republic of", "Iran, Islamic Republic of",
                    "Moldova, Republic of", "Tanzania, United Republic of", "Congo, The Democratic Republic of the",
                    "Macedonia, The Former Yugoslav Republic of")
_STUDY_TYPES = {"interventional": "INTERVENTIONAL", "observational": "OBSERVATIONAL",
                "expanded access": "EXPANDED_ACCESS"}
_ALLOCATION = {"n/a": "NA", "randomized": "RANDOMIZED", "non-randomized": "NON_RANDOMIZED"}
_MODELS = {"single group assignment": "SINGLE_GROUP", "parallel assignment": "PARALLEL",
           "crossover assignment": "CROSSOVER", "factorial assignment": "FACTORIAL",
           "sequential assignment": "SEQUENTIAL"}
_MASKING = {"none": "NONE", "single": "SINGLE", "double": "DOUBLE", "triple": "TRIPLE", "quadruple": "QUADRUPLE"}
_WHO_MASKED = {"Participant": "PARTICIPANT", "Care Provider": "CARE_PROVIDER", "Investigator": "INVESTIGATOR",
               "Outcomes Assessor": "OUTCOMES_ASSESSOR"}
_IPD_INFO = {"Study Protocol": "STUDY_PROTOCOL", "Statistical Analysis Plan": "SAP", "Informed Consent Form": "ICF",
             "Clinical Study Report": "CSR", "Analytic Code": "ANALYTIC_CODE"}
_SECONDARY_ID_TYPES = {"U.S. NIH Grant/Contract": "NIH", "Other Grant/Funding Number": "OTHER_GRANT",
                       "Registry Identifier": "REGISTRY", "EudraCT Number": "EUDRACT_NUMBER",
                       "CTIS (EU CT) Number": "CTIS", "Other Identifier": "OTHER"}
_SECONDARY_ID_RE = re.compile(r"^(?P<value>.+?)\s*[\[(]\s*(?P<type>[^\])]+?)\s*[\])]$")
_HEADER_DATES = {"First Posted": "first_posted", "Last Update Posted": "last_update_posted",
                 "Results First Posted": "results_first_posted"}
_STUDY_DATES = {"Study Start": "start", "Primary Completion": "primary_completion", "Study Completion": "completion"}


def looks_like(text: str) -> bool:
    """A classic study page: its identifier line plus one of the page's fixed phrases."""
    head = text[:30000]
    if text.lstrip().startswith(("{", "[", "<", "Raw JSON")):
        return False
    return bool(_ID_LINE_RE.search(head)) and any(marker in head for marker in _PAGE_MARKERS)


def read(text: str, origin: str, problems: list[Problem]) -> Iterator[Trial]:
    lines = [line.rstrip() for line in text.splitlines()]
    nct_id = _nct_id(text)
    if nct_id is None:
        problems.append(Problem(origin, None, "nct_id", f"{KIND} without a ClinicalTrials.gov identifier", "skipped"))
        return
    yield _Page(lines, Problems(problems, origin, nct_id)).trial(nct_id)


def _nct_id(text: str) -> str | None:
    m = _ID_LINE_RE.search(text)
    if m:
        return m.group(1)
    for line in text.splitlines():
        refer = _REFER_RE.match(line.strip())
        if refer and refer.group(1):
            return refer.group(1)
    return None


@dataclass(frozen=True)
class _Row:
    """A ``Label : | value | ... |`` line."""

    at: int
    label: str
    values: tuple[str, ...]


def _rows(lines: Sequence[str]) -> list[_Row]:
    out = []
    for i, line in enumerate(lines):
        m = _ROW_RE.match(line.strip())
        if m:
            out.append(_Row(i, m.group("label").strip(), tuple(c for c in cells(m.group("rest")) if c)))
    return out


@dataclass
class _SiteDraft:
    facility: str
    status: str | None
    country: str | None
    state: str | None
    address: str | None = None
    people: list[PersonMention] = field(default_factory=list)


@dataclass
class _InterventionDraft:
    printed_type: str  # "Biological", as the page prints it
    name: str
    description: list[str] = field(default_factory=list)


@dataclass
class _ArmDraft:
    label: str
    type: str | None
    description: list[str] = field(default_factory=list)
    interventions: list[_InterventionDraft] = field(default_factory=list)


class _Page:
    """One page's lines and the parts found in them."""

    def __init__(self, lines: list[str], problems: Problems) -> None:
        self.lines = lines
        self.problems = problems
        self.rows = _rows(lines)

    # -- lookups -------------------------------------------------------------------------------------
    def row(self, label: str) -> _Row | None:
        return next((r for r in self.rows if r.label == label), None)

    def value(self, label: str) -> str | None:
        r = self.row(label)
        return r.values[0] if r and r.values else None

    def index(self, predicate: Callable[[str], bool], start: int = 0) -> int | None:
        return next((i for i in range(start, len(self.lines)) if predicate(self.lines[i].strip())), None)

    def continued(self, r: _Row) -> list[str]:
        """A row's values plus the lines under it up to the next row or blank line."""
        out = list(r.values)
        for line in self.lines[r.at + 1:]:
            s = line.strip()
            if not s or _ROW_RE.match(s):
                break
            out.extend(c for c in cells(s) if c)
        return out

    # -- the record ----------------------------------------------------------------------------------
    def trial(self, nct_id: str) -> Trial:
        dates = self.dates()
        conditions, interventions, phase_codes, table_end = self.condition_table()
        arms, arm_interventions = self.arms()
        officials, central, sites = self.contacts_and_locations()
        summary, detailed = self.descriptions(table_end)
        org_study_id, secondary_ids = self.study_ids()
        responsible = self.responsible_party()
        lead, collaborators = self.sponsors(responsible)
        keywords, mesh_terms = self.keywords_and_mesh()
        enrollment, enrollment_type = self.enrollment()
        last_posted = dates.get("last_update_posted")
        self.check_complete(table_end is not None)
        return Trial(
            provenance=Provenance(SOURCE, self.problems.origin, last_posted.value if last_posted else None),
            nct_id=nct_id,
            org_study_id=org_study_id,
            secondary_ids=secondary_ids,
            brief_title=self.title(),
            official_title=self.value("Official Title"),
            brief_summary=summary,
            detailed_description=detailed,
            overall_status=self.status(_STATUS_RE),
            last_known_status=self.status(_LAST_KNOWN_RE),
            dates=dates,
            study_type=self.study_type(),
            phases=phase_codes,
            design=self.design(),
            enrollment=enrollment,
            enrollment_type=enrollment_type,
            has_results=self.has_results(),
            keywords=keywords,
            lead_sponsor=lead,
            collaborators=collaborators,
            responsible_party=responsible,
            officials=officials,
            central_contacts=central,
            interventions=_merge_interventions(interventions, arm_interventions),
            arms=arms,
            conditions=conditions,
            mesh_terms=mesh_terms,
            outcomes=self.outcomes(),
            eligibility=self.eligibility(),
            sites=sites,
            ipd_sharing=self.ipd_sharing(),
            related_nct_ids=related_nct_ids(nct_id, summary, detailed),
        )

    def title(self) -> str | None:
        return next((s for line in self.lines if (s := line.strip())), None)

    def status(self, pattern: re.Pattern[str]) -> str | None:
        at = self.index(lambda s: bool(pattern.match(s)))
        if at is None:
            return None
        value = pattern.match(self.lines[at].strip()).group("value").strip()  # type: ignore[union-attr]
        if not value and at + 1 < len(self.lines):
            value = self.lines[at + 1].strip()
        status = code("status", value)
        if status is None and value:
            self.problems.add("overall_status", f"unknown recruitment status {value!r}")
        return status

    def dates(self) -> dict[str, PartialDate]:
        out: dict[str, PartialDate] = {}
        for line in self.lines:
            s = line.strip()
            if m := _HEADER_DATE_RE.match(s):
                found = find_date(m.group("date"))
                if found:
                    out.setdefault(_HEADER_DATES[m.group("label")], found)
            elif (m := _VERIFIED_RE.match(s)) and (found := parse_date(m.group("date"))):
                out.setdefault("status_verified", found)
        for r in self.rows:
            m = _STUDY_DATE_RE.match(r.label)
            if m and r.values and (found := parse_date(r.values[0], date_type(r.label))):
                out[_STUDY_DATES[m.group("kind")]] = found
            elif r.label in _HEADER_DATES and r.values and (found := find_date(r.values[0])):
                out.setdefault(_HEADER_DATES[r.label], found)
        verified = self.value("Last Verified")
        if "status_verified" not in out and verified and (found := parse_date(verified)):
            out["status_verified"] = found
        return out

    def condition_table(self) -> tuple[tuple[str, ...], list[Intervention], tuple[str, ...], int | None]:
        """(conditions, interventions, phases, index after the table) from the Condition/Intervention/Phase
        table. A condition cell runs its conditions together; it stays one string (it cannot be split
        reliably)."""
        at = self.index(lambda s: s.startswith("Condition or disease"))
        if at is None:
            return (), [], (), None
        header = cells(self.lines[at])
        row: list[str] = []
        end = at + 2
        while end < len(self.lines) and len(row) < len(header):
            row.extend(cells(self.lines[end]) if "|" in self.lines[end] else [self.lines[end].strip()])
            end += 1
        by_column = dict(zip(header, row, strict=False))
        condition_cell = by_column.get("Condition or disease", "")
        return (
            (condition_cell,) if condition_cell else (),
            _interventions_in_cell(by_column.get("Intervention/treatment", "")),
            phases(by_column.get("Phase", "")),
            end,
        )

    def descriptions(self, table_end: int | None) -> tuple[str | None, str | None]:
        """Brief summary: prose between the page tabs and the condition table; detailed description: prose
        between that table and the study-design rows (the page's own headings are lost)."""
        tabs_end = self.index(lambda s: s == "- How to Read a Study Record")
        table_at = self.index(lambda s: s.startswith("Condition or disease"))
        summary = None
        if tabs_end is not None and table_at is not None:
            summary = _prose(self.lines[tabs_end + 1:table_at])
        design_at = self.row("Study Type")
        detailed = None
        if table_end is not None and design_at is not None:
            detailed = _prose(self.lines[table_end:design_at.at])
        return summary, detailed

    def study_type(self) -> str | None:
        value = self.value("Study Type")
        if not value:
            return None
        found = next((c for word, c in _STUDY_TYPES.items() if value.lower().startswith(word)), None)
        if found is None:
            self.problems.add("study_type", f"unknown study type {value!r}")
        return found

    def enrollment(self) -> tuple[int | None, str | None]:
        r = next((r for r in self.rows if _ENROLLMENT_RE.match(r.label)), None)
        if r is None or not r.values:
            return None, None
        return count(r.values[0]), date_type(r.label)

    def design(self) -> Design | None:
        allocation = self.value("Allocation")
        model = self.value("Intervention Model")
        masking = self.value("Masking")
        purpose = self.value("Primary Purpose")
        if not any((allocation, model, masking, purpose)):
            return None
        masking_word = (masking or "").split("(")[0].strip().lower()
        return Design(
            allocation=_ALLOCATION.get((allocation or "").lower()),
            intervention_model=_MODELS.get((model or "").lower()),
            intervention_model_description=self.value("Intervention Model Description"),
            observational_model=code("observational-model", self.value("Observational Model")),
            time_perspective=code("time-perspective", self.value("Time Perspective")),
            primary_purpose=code("primary-purpose", purpose),
            masking=_MASKING.get(masking_word),
            masking_description=self.value("Masking Description"),
            who_masked=tuple(c for word, c in _WHO_MASKED.items() if masking and word in masking),
        )

    def has_results(self) -> bool | None:
        tabs = {line.strip() for line in self.lines[:40]}
        if "- No Results Posted" in tabs:
            return False
        if "- Study Results" in tabs:
            return True
        return None

    # -- arms and outcomes ---------------------------------------------------------------------------
    def arms(self) -> tuple[tuple[Arm, ...], list[Intervention]]:
        """Arms from the Arm / Intervention table: each row an arm cell (``Type: label`` + description), a
        lone ``|``, then its interventions (``Type: name`` + description), closed by a trailing ``|``."""
        at = self.index(lambda s: s.startswith("Arm | Intervention/treatment"))
        if at is None:
            return (), []
        arms: list[Arm] = []
        interventions: list[Intervention] = []
        arm: _ArmDraft | None = None
        in_arm_cell = True
        for line in self.lines[at + 2:]:
            s = line.strip()
            if not s or _OUTCOME_RE.match(s) or s.startswith("Choosing to participate"):
                break
            closes = s.endswith("|")
            s = s.rstrip("|").strip()
            if in_arm_cell:
                arm = _arm_cell_line(arm, s)
                in_arm_cell = not closes
            elif arm is not None:
                _intervention_cell_line(arm, s)
                if closes:
                    arms.append(_finish_arm(arm, interventions))
                    arm, in_arm_cell = None, True
        if arm is not None:
            arms.append(_finish_arm(arm, interventions))
            self.problems.add("arms", f"arm {arm.label!r} is cut short")
        return tuple(arms), interventions

    def outcomes(self) -> tuple[Outcome, ...]:
        """``- measure [ Time Frame: ... ]description`` lines. Where the page kept no Primary/Secondary
        headings, the first measure is taken as primary (the registry lists primary ones first) and the
        rest as secondary, with a note."""
        found: list[tuple[str | None, str, str, str]] = []
        kind: str | None = None
        for line in self.lines:
            s = line.strip()
            if m := _OUTCOME_HEADING_RE.match(s):
                kind = "OTHER" if m.group("kind").lower().startswith("other") else m.group("kind").upper()
            elif m := _OUTCOME_RE.match(s):
                found.append((kind, m.group("measure").strip(), m.group("time").strip(), m.group("desc").strip()))
        if found and all(k is None for k, *_ in found):
            if len(found) > 1:
                self.problems.add("outcomes", "the page shows no Primary/Secondary Outcome headings: the first "
                                  "measure is taken as primary, the other "
                                  f"{len(found) - 1} as secondary", "note")
            found = [("PRIMARY" if i == 0 else "SECONDARY", *rest) for i, (_, *rest) in enumerate(found)]
        return tuple(Outcome(k or "PRIMARY", measure, desc or None, time or None)  # type: ignore[arg-type]
                     for k, measure, time, desc in found)

    # -- eligibility ---------------------------------------------------------------------------------
    def eligibility(self) -> Eligibility | None:
        ages = self.value("Ages Eligible for Study")
        sexes = self.value("Sexes Eligible for Study")
        healthy = self.value("Accepts Healthy Volunteers")
        if not any((ages, sexes, healthy)):
            return None
        minimum, maximum, std_ages = self.ages(ages)
        return Eligibility(
            criteria=self.criteria(),
            minimum_age=minimum,
            maximum_age=maximum,
            sex=code("sex", sexes),
            healthy_volunteers=yes_no(healthy),
            std_ages=std_ages,
            study_population=self.value("Study Population"),
            sampling_method=code("sampling-method", self.value("Sampling Method")),
        )

    def ages(self, text: str | None) -> tuple[str | None, str | None, tuple[str, ...]]:
        if not text:
            return None, None, ()
        m = _AGES_RE.match(" ".join(text.split()))
        if m is None:
            self.problems.add("eligibility.ages", f"ages not understood: {text!r}")
            return None, None, ()
        std = tuple(c for word in comma_parts(m.group("std") or "") if (c := code("standard-age", word)))
        return m.group("min"), m.group("max") or m.group("upto"), std

    def criteria(self) -> str | None:
        last = max((r.at for r in self.rows if r.label in ("Accepts Healthy Volunteers", "Sampling Method",
                                                            "Sexes Eligible for Study")), default=None)
        if last is None:
            return None
        out = []
        for line in self.lines[last + 1:]:
            s = line.strip()
            if not s or s.startswith("To learn more about this study"):
                break
            out.append(s)
        return "\n".join(out) or None

    # -- people, places, organisations ---------------------------------------------------------------
    def contacts_and_locations(
        self,
    ) -> tuple[tuple[PersonMention, ...], tuple[PersonMention, ...], tuple[Site, ...]]:
        """(overall officials, central contacts, sites) from the block after "Please refer to this study".

        A two-cell line followed by a one-cell address line is a facility (name | status); any other
        two-cell line is a "Country, State" group heading. ``Role: | name | affiliation |`` lines with an
        affiliation are overall officials; without one they belong to the site above them."""
        start = self.index(lambda s: bool(_REFER_RE.match(s)))
        if start is None:
            return (), (), ()
        end = next((r.at for r in self.rows if r.at > start and r.label in _END_OF_LOCATIONS), len(self.lines))
        block = [s for line in self.lines[start + 1:end] if (s := line.strip())]
        officials: list[PersonMention] = []
        central: list[PersonMention] = []
        sites: list[_SiteDraft] = []
        country: str | None = None
        state: str | None = None
        for i, s in enumerate(block):
            row = _ROW_RE.match(s)
            contact = _CONTACT_RE.match(s)
            parts = cells(s)
            if row and row.group("label").strip() in _PERSON_ROLES:
                person = _person_row(row.group("label").strip(), row.group("rest"))
                if person is None:
                    continue
                if person.affiliation or not sites:
                    officials.append(person)
                else:
                    sites[-1].people.append(PersonMention(person.name, person.role, sites[-1].facility))
            elif contact:
                person = _contact(contact.group("rest"))
                if person is None:
                    continue
                if sites:
                    sites[-1].people.append(PersonMention(person.name, person.role, sites[-1].facility))
                else:
                    central.append(person)
            elif len(parts) >= 2 and i + 1 < len(block) and _is_address(block[i + 1]):
                sites.append(_SiteDraft(parts[0], code("site-status", parts[1]), country, state))
            elif len(parts) >= 2:
                country, state = _split_country_state(parts[0])
            elif sites and sites[-1].address is None:
                sites[-1].address = parts[0]
        return tuple(officials), tuple(central), tuple(_site(d) for d in sites)

    def responsible_party(self) -> ResponsibleParty | None:
        """"Name, Title, Affiliation" for an investigator (the page always prints a title for one); a value
        with fewer commas is the sponsor itself."""
        value = self.value("Responsible Party")
        if not value:
            return None
        parts = comma_parts(value)
        if len(parts) < 3:
            return ResponsibleParty(type="SPONSOR")
        investigator = PersonMention(parts[0], "RESPONSIBLE_PARTY", parts[-1], ", ".join(parts[1:-1]))
        return ResponsibleParty(investigator=investigator)

    def sponsors(self, responsible: ResponsibleParty | None) -> tuple[OrgMention | None, tuple[OrgMention, ...]]:
        """The flattened page has no sponsor section; where the responsible party is the sponsor its name is
        the lead sponsor's. Otherwise the sponsor is not known from this page."""
        collaborators = tuple(OrgMention(v) for v in self.continued(r)) if (r := self.row("Collaborators")) else ()
        if sponsor := self.value("Sponsor"):
            return OrgMention(sponsor), collaborators
        if responsible and responsible.type == "SPONSOR":
            return OrgMention(self.value("Responsible Party") or ""), collaborators
        if self.row("Responsible Party") is not None:
            self.problems.add("lead_sponsor", "the page names no sponsor (only an investigator as responsible "
                              "party); lead sponsor left out", "note")
        return None, collaborators

    def study_ids(self) -> tuple[str | None, tuple[Identifier, ...]]:
        """"Other Study ID Numbers": the first is the organisation's study id, the rest secondary ids."""
        r = self.row("Other Study ID Numbers")
        if r is None:
            return None, ()
        values = self.continued(r)
        if not values:
            return None, ()
        return values[0], tuple(_secondary_id(v) for v in values[1:])

    def ipd_sharing(self) -> IpdSharing | None:
        plan = self.value("Plan to Share IPD")
        if plan is None:
            return None
        materials = " ".join(self.continued(r)) if (r := self.row("Supporting Materials")) else ""
        return IpdSharing(
            sharing=code("ipd-sharing", plan),
            description=self.value("Plan Description"),
            info_types=tuple(c for phrase, c in _IPD_INFO.items() if phrase in materials),
            time_frame=self.value("Time Frame"),
            access_criteria=self.value("Access Criteria"),
            url=self.value("URL"),
        )

    # -- keywords and MeSH ---------------------------------------------------------------------------
    def keywords_and_mesh(self) -> tuple[tuple[str, ...], tuple[MeshTerm, ...]]:
        """The lines after the last ``Label: | value |`` row: keywords (free text, run together: kept as
        one string), then the MeSH headings, then their ancestors."""
        if self.row("Last Verified") is None or not self.rows:
            return (), ()
        tail = [s for line in self.lines[self.rows[-1].at + 1:] if (s := line.strip().rstrip("|").strip())]
        if not tail:
            return (), ()
        try:
            index = mesh.default_index()
        except (OSError, ValueError) as e:
            self.problems.add("mesh_terms", f"no MeSH index to split the MeSH lines ({e}); left out")
            return tuple(tail[:1]), ()
        keywords, mesh_lines = _split_tail(tail, index)
        terms: list[MeshTerm] = []
        for ancestor, line in zip((False, True), mesh_lines, strict=False):
            matched, leftover = index.segment(line)
            for term in matched:
                item = MeshTerm(term, None, _branch(index, term), ancestor)
                if item not in terms:
                    terms.append(item)
            which = "ancestor" if ancestor else "MeSH term"
            for fragment in leftover:
                self.problems.add("mesh_terms", f"{which} line: {fragment!r} is not a MeSH heading; left out", "note")
        return tuple(keywords), tuple(terms)

    def check_complete(self, has_condition_table: bool) -> None:
        self.problems.missing_parts({
            "condition/intervention/phase table": has_condition_table,
            "study design (Study Type)": self.row("Study Type") is not None,
            "eligibility": self.row("Sexes Eligible for Study") is not None,
            "contacts and locations": self.index(lambda s: bool(_REFER_RE.match(s))) is not None,
            "Other Study ID Numbers": self.row("Other Study ID Numbers") is not None,
            "Last Verified (and the keyword and MeSH lines after it)": self.row("Last Verified") is not None,
        }, KIND)


# ------------------------------------------------------------------------------------------ small parts
def _prose(lines: Sequence[str]) -> str | None:
    text = "\n".join(s for line in lines if (s := line.strip()) and s != "|")
    return text or None


def _interventions_in_cell(cell: str) -> list[Intervention]:
    """``Biological: CAStem Drug: Placebo`` -> one intervention per ``Type:`` prefix."""
    starts = list(_IV_IN_CELL_RE.finditer(cell))
    ends = [m.start() for m in starts[1:]] + [len(cell)] if starts else []
    out = []
    for m, end in zip(starts, ends, strict=True):
        name = cell[m.end():end].strip()
        if name:
            out.append(Intervention(name, code("intervention-type", m.group("type"))))
    return out


def _arm_cell_line(arm: _ArmDraft | None, line: str) -> _ArmDraft | None:
    """The first line of an arm cell is ``Type: label``; the others are its description."""
    if arm is None:
        m = _ARM_RE.match(line)
        if m:
            return _ArmDraft(m.group("label").strip(), code("arm-type", m.group("type")))
        return _ArmDraft(line, None) if line else None
    if line:
        arm.description.append(line)
    return arm


def _intervention_cell_line(arm: _ArmDraft, line: str) -> None:
    """``Type: name`` starts an intervention of the arm; other lines describe the last one."""
    m = _IV_RE.match(line)
    if m:
        arm.interventions.append(_InterventionDraft(m.group("type"), m.group("name").strip()))
    elif line and arm.interventions:
        arm.interventions[-1].description.append(line)


def _finish_arm(arm: _ArmDraft, interventions: list[Intervention]) -> Arm:
    for iv in arm.interventions:
        interventions.append(Intervention(iv.name, code("intervention-type", iv.printed_type),
                                          "\n".join(iv.description) or None, arm_labels=(arm.label,)))
    return Arm(arm.label, arm.type, "\n".join(arm.description) or None,
               tuple(f"{iv.printed_type}: {iv.name}" for iv in arm.interventions))


def _merge_interventions(listed: list[Intervention], in_arms: list[Intervention]) -> tuple[Intervention, ...]:
    """One intervention per (type, name): the condition table's list, completed with the arm table's
    descriptions and arm labels."""
    merged: dict[tuple[str | None, str], Intervention] = {}
    for iv in [*listed, *in_arms]:
        key = (iv.type, iv.name)
        old = merged.get(key)
        if old is None:
            merged[key] = iv
            continue
        labels = old.arm_labels + tuple(a for a in iv.arm_labels if a not in old.arm_labels)
        merged[key] = Intervention(old.name, old.type, old.description or iv.description, old.other_names, labels)
    return tuple(merged.values())


def _person_row(label: str, rest: str) -> PersonMention | None:
    values = [c for c in cells(rest) if c]
    if not values:
        return None
    return PersonMention(values[0], _PERSON_ROLES[label], values[1] if len(values) > 1 else None)


def _contact(rest: str) -> PersonMention | None:
    values = [c for c in cells(rest) if c]
    return PersonMention(values[0], "CONTACT") if values else None


def _is_address(line: str) -> bool:
    parts = cells(line)
    return len(parts) == 1 and line.rstrip().endswith("|") and not _ROW_RE.match(line) and bool(parts[0])


def _split_country_state(heading: str) -> tuple[str, str | None]:
    """"United States, California" -> (country, state); country names that hold a comma are kept whole."""
    country = next((c for c in _COMMA_COUNTRIES if heading == c or heading.startswith(c + ",")), None)
    if country is None:
        country = heading.split(",", 1)[0].strip()
    rest = heading[len(country):].lstrip(",").strip()
    return country, rest or None


def _site(draft: _SiteDraft) -> Site:
    """City / state / zip from the address line "City, State, Country, Zip" using the group heading."""
    parts = comma_parts(draft.address or "")
    country, state = draft.country, draft.state
    zip_code = None
    if parts and any(ch.isdigit() for ch in parts[-1]) and parts[-1] != country:
        zip_code = parts.pop()
    if country and parts and parts[-1] == country and len(parts) > 1:
        parts.pop()
    elif country is None and len(parts) > 1:
        country = parts.pop()
    state_parts = comma_parts(state or "")
    if state_parts and len(parts) > len(state_parts) and parts[-len(state_parts):] == state_parts:
        parts = parts[:-len(state_parts)]
    elif state is None and len(parts) > 1:
        state = ", ".join(parts[1:])
        parts = parts[:1]
    return Site(facility=draft.facility, city=", ".join(parts) or None, state=state, zip=zip_code, country=country,
                status=draft.status, people=tuple(draft.people))


def _secondary_id(text: str) -> Identifier:
    m = _SECONDARY_ID_RE.match(text)
    if m and m.group("type") in _SECONDARY_ID_TYPES:
        return Identifier(m.group("value"), _SECONDARY_ID_TYPES[m.group("type")])
    return Identifier(text)


def _split_tail(tail: list[str], index: mesh.MeshIndex) -> tuple[list[str], list[str]]:
    """(keyword lines, [MeSH line, ancestor line]) from the closing lines. Three or more: keywords first,
    then the two MeSH lines; fewer: a first line that is wholly MeSH headings is the MeSH line."""
    if len(tail) >= 3:
        return tail[:-2], tail[-2:]
    if not index.segment(tail[0])[1]:
        return [], tail
    return tail[:1], tail[1:]


def _branch(index: mesh.MeshIndex, term: str) -> str:
    """"intervention" for headings only in the Chemicals and Drugs (D) or Techniques (E) trees, else
    "condition"."""
    ui = index.resolve(term)
    trees = index.tree_numbers(ui) if ui else ()
    if trees and all(t[:1] in ("D", "E") for t in trees):
        return "intervention"
    return "condition"
