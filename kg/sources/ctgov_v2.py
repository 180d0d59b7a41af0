"""ClinicalTrials.gov API v2 JSON to model records.

Reads every JSON form users hold: one study object, the website's ``ctg-studies.json`` array (an element at a
time, by ``kg.sources.study_array``), an API search page ``{"studies": [...], "nextPageToken": ...}``, JSON
Lines, and a study printed as a Python dict (under a "Raw JSON" line; parsed with ``ast.literal_eval``, never
``eval``). Only this module knows the v2 nesting.
"""

from __future__ import annotations

import ast
import importlib.resources
import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from functools import lru_cache
from math import isfinite
from typing import Any

import orjson

from kg.codes import SCHEMES
from kg.identity import NCT_RE, PMID_RE, related_nct_ids
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
    Precision,
    Provenance,
    Reference,
    ResponsibleParty,
    Site,
    Trial,
)
from kg.report import Problem, RecordError
from kg.sources.study_array import ArrayPosition, array_objects, element_start, starts_study_array

SOURCE = "ctgov-v2"
_PY_REPR_HEADER = re.compile(r"^\s*Raw JSON\s*\n", re.I)
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_MESH_UI_RE = re.compile(r"^[DC]\d{6,9}$")
_NON_SPACE = re.compile(r"\S")

# Trial.dates key -> (statusModule field, is it a {date, type} struct?)
DATE_FIELDS: dict[str, tuple[str, bool]] = {
    "start": ("startDateStruct", True),
    "primary_completion": ("primaryCompletionDateStruct", True),
    "completion": ("completionDateStruct", True),
    "first_submitted": ("studyFirstSubmitDate", False),
    "first_posted": ("studyFirstPostDateStruct", True),
    "last_update_submitted": ("lastUpdateSubmitDate", False),
    "last_update_posted": ("lastUpdatePostDateStruct", True),
    "results_first_submitted": ("resultsFirstSubmitDate", False),
    "results_first_posted": ("resultsFirstPostDateStruct", True),
    "status_verified": ("statusVerifiedDate", False),
}
# (Trial.dates key, statusModule field, its path, path of its date or None when not a struct), built once
_DATE_READS = [
    (kind, key, f"protocolSection.statusModule.{key}",
     f"protocolSection.statusModule.{key}.date" if is_struct else None)
    for kind, (key, is_struct) in DATE_FIELDS.items()
]


# The allowed values of each coded field (kg.codes), for a set lookup where is_code would cost a call per field.
_CODE_VALUES: dict[str, frozenset[str]] = {scheme: frozenset(values) for scheme, values in SCHEMES.items()}

# Field names the v2 data model allows at the top of a study, in each section and in each module (from the
# official OpenAPI spec by scripts/make_v2_fields.py): any other key is noted, never silently ignored.
_MODEL = json.loads((importlib.resources.files("kg") / "data" / "ctgov_v2_fields.json").read_text("utf-8"))
_MODEL_FIELDS: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in _MODEL["fields"].items()}
# The sections whose keys are checked -> their module -> that module's fields.
_CHECKED_MODULES: dict[str, dict[str, frozenset[str]]] = {
    section: {k.removeprefix(f"{section}."): v for k, v in _MODEL_FIELDS.items() if k.startswith(f"{section}.")}
    for section in ("protocolSection", "derivedSection")
}


def _unknown_fields(study: dict) -> list[str]:
    """Keys outside the v2 data model: at the top, in the protocol and derived sections and their modules."""
    # issuperset first: nearly every dict has only known keys, and it costs half the set difference
    known = _MODEL_FIELDS[""]
    out = [] if known.issuperset(study) else list(study.keys() - known)
    for section, modules in _CHECKED_MODULES.items():
        sec = study.get(section)
        if not isinstance(sec, dict):
            continue
        known = _MODEL_FIELDS[section]
        if not known.issuperset(sec):
            out += [f"{section}.{k}" for k in sec.keys() - known]
        for module, value in sec.items():
            known = modules.get(module)
            if known is not None and isinstance(value, dict) and not known.issuperset(value):
                out += [f"{section}.{module}.{k}" for k in value.keys() - known]
    return sorted(out)


# ------------------------------------------------------------------------------------------ containers
def looks_like(text: str) -> bool:
    head = text.lstrip()[:2048]
    if _PY_REPR_HEADER.match(text[:200]):
        return True
    if head.startswith("{'") and "protocolSection" in text[:20000]:
        return True
    if not head.startswith(("{", "[")):
        return False
    return any(k in text[:200000] for k in ('"protocolSection"', '"studies"', '"nctId"'))


def iter_study_objects(text: str, origin: str, problems: list[Problem], raw: bytes | None = None
                       ) -> Iterator[tuple[str, Any]]:
    """(origin of the study, study object) for each study the text holds, whatever its container. JSON Lines
    are parsed from ``raw`` (the text's UTF-8) when given: orjson reads bytes without encoding each line."""
    header = _PY_REPR_HEADER.match(text)
    first = _NON_SPACE.search(text)
    if header or (first and text.startswith("{'", first.start())):
        body = text[header.end():] if header else text
        try:
            yield origin, ast.literal_eval(body.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
            problems.append(Problem(origin, None, None, f"not a readable Python dict of a study: {e}", "skipped"))
        return
    if _is_json_lines(text):
        yield from _iter_json_lines(raw if raw is not None else text, origin, problems)
        return
    if first and text[first.start()] == "[":  # the website's ctg-studies.json: parsed an element at a time
        data = raw if raw is not None else text.encode()
        if not (starts_study_array(data[:1 << 20]) and element_start(data) != -1):
            # No study opens with "protocolSection" after a ",": no element could be told from another without json's
            # parser reading each to its end. One orjson parse of the whole, as before; only a broken one element-wise.
            try:
                items = orjson.loads(data)
            except orjson.JSONDecodeError:
                items = None
            if isinstance(items, list):
                yield from ((f"{origin}[{i}]", item) for i, item in enumerate(items))
                return
        yield from array_objects(data, origin, problems, ArrayPosition(0, 0))
        return
    try:  # from the bytes when clean: orjson would encode the text to UTF-8 again (a quarter of its parse)
        data = orjson.loads(raw if raw is not None else text)
    except orjson.JSONDecodeError as e:
        problems.append(Problem(origin, None, None, f"invalid or truncated JSON: {e}", "skipped"))
        return
    if isinstance(data, dict) and isinstance(data.get("studies"), list):
        for i, item in enumerate(data["studies"]):
            yield f"{origin}#studies[{i}]", item
    else:
        yield origin, data


def _is_json_lines(text: str) -> bool:
    """A first line that is a whole JSON object, and more after it. Sniffed before parsing the whole text:
    a failed whole-text parse of a big JSON Lines file costs a quarter of its parsing time."""
    first = _NON_SPACE.search(text)
    if first is None or text[first.start()] != "{":
        return False
    end = text.find("\n", first.start())
    if end == -1 or _NON_SPACE.search(text, end) is None:
        return False
    try:
        return isinstance(orjson.loads(text[first.start():end]), dict)
    except orjson.JSONDecodeError:
        return False


def starts_json_lines(head: bytes) -> bool:
    """Whether a file that begins with ``head`` is JSON Lines of studies: its first line, whole within ``head``,
    is a JSON object this source reads, and something follows it."""
    text = head.decode("utf-8-sig", errors="replace")
    return _is_json_lines(text) and looks_like(text)


_JSON_SPACE = " \t\r\n"  # a line of only these is blank (str.strip would also take U+00A0 and others: not JSON)
_JSON_SPACE_BYTES = _JSON_SPACE.encode()


def _iter_json_lines(text: str | bytes, origin: str, problems: list[Problem], first_line: int = 1,
                     not_utf8: Callable[[], None] | None = None) -> Iterator[tuple[str, Any]]:
    """(origin of the line, its JSON) of each line that is not blank. Bytes whose UTF-8 nobody checked before
    (``not_utf8`` given: it reports them) are checked by orjson as it parses them: a line that is not UTF-8 is
    decoded with replacement, as the whole text would have been, and parsed again."""
    blank = _JSON_SPACE if isinstance(text, str) else _JSON_SPACE_BYTES
    for n, line in enumerate(_lines(text), start=first_line):
        if not line.strip(blank):  # type: ignore[arg-type]
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            error = e
            if not_utf8 is not None and not _is_utf8(line):  # type: ignore[arg-type]
                not_utf8()
                try:
                    value = orjson.loads(line.decode("utf-8", errors="replace"))  # type: ignore[union-attr]
                except orjson.JSONDecodeError as again:
                    error = again
                else:
                    yield f"{origin}:{n}", value
                    continue
            problems.append(Problem(f"{origin}:{n}", None, None, f"invalid JSON line: {error}", "skipped"))
        else:
            yield f"{origin}:{n}", value


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _lines(text: str | bytes) -> Iterator[str | bytes]:
    """``text.split("\\n")``, one line at a time: ``find`` looks for the next line break with memchr, where
    ``bytes.split`` compares byte by byte (not splitlines: JSON may hold a raw U+2028)."""
    newline = "\n" if isinstance(text, str) else b"\n"  # UTF-8 has no 0x0A inside a character: same lines
    start = 0
    while (end := text.find(newline, start)) != -1:  # type: ignore[arg-type]
        yield text[start:end]
        start = end + 1
    yield text[start:]


def read(text: str, origin: str, problems: list[Problem], raw: bytes | None = None) -> Iterator[Trial]:
    """The studies in ``text``; ``raw``, when given, is the UTF-8 the text was decoded from."""
    return _studies(iter_study_objects(text, origin, problems, raw), problems)


def read_array_part(data: bytes, origin: str, problems: list[Problem], at: ArrayPosition, opens: bool, closes: bool
                    ) -> Iterator[Trial]:
    """The studies of a part of a ctg-studies.json array that starts at ``at`` (see ``study_array.array_objects``)."""
    return _studies(array_objects(data, origin, problems, at, opens, closes), problems)


def read_json_lines(text: str | bytes, origin: str, problems: list[Problem], first_line: int = 1,
                    not_utf8: Callable[[], None] | None = None) -> Iterator[Trial]:
    """The studies of JSON Lines: a whole file, or a part of one whose first line is line ``first_line``; for bytes
    not checked to be UTF-8, ``not_utf8`` reports what is not (see _iter_json_lines)."""
    return _studies(_iter_json_lines(text, origin, problems, first_line, not_utf8), problems)


def _studies(objects: Iterator[tuple[str, Any]], problems: list[Problem]) -> Iterator[Trial]:
    for where, obj in objects:
        try:
            yield parse_study(obj, where, problems)
        except RecordError as e:
            problems.append(Problem(where, e.record, e.field, e.message, "skipped"))


# ------------------------------------------------------------------------------------------ field access
# A field's path for messages: a string, or (list path, index, field name) formatted only when needed.
Path = str | tuple[str, int, str]


class _Fields:
    """Typed access to one study's fields; a value of the wrong type is reported and left out."""

    def __init__(self, origin: str, record: str | None, problems: list[Problem]) -> None:
        self.origin = origin
        self.record = record
        self.problems = problems

    def drop(self, path: Path, message: str) -> None:
        if isinstance(path, tuple):  # (list path, index, field): formatted only when there is a problem
            path = f"{path[0]}[{path[1]}].{path[2]}"
        self.problems.append(Problem(self.origin, self.record, path, message, "dropped"))

    def obj(self, parent: dict, key: str, path: Path) -> dict:
        value = parent.get(key)
        if value.__class__ is dict:  # the common case first
            return value
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.drop(path, f"expected an object, got {type(value).__name__}")
            return {}
        return value

    def objs(self, parent: dict, key: str, path: Path) -> list[dict]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.drop(path, f"expected a list, got {type(value).__name__}")
            return []
        for v in value:
            if not isinstance(v, dict):
                break
        else:
            return value  # all objects, the common case: no copy (callers only read it)
        good = [v for v in value if isinstance(v, dict)]
        self.drop(path, f"{len(value) - len(good)} list items are not objects")
        return good

    def text(self, parent: dict, key: str, path: Path) -> str | None:
        value = parent.get(key)
        if value.__class__ is str:  # the common case first: ~60 calls per record
            return value.strip() or None
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        self.drop(path, f"expected text, got {type(value).__name__}")
        return None

    def item_texts(self, item: dict, keys: tuple[str, ...], list_path: str, i: int) -> list[str | None]:
        """text() of several fields of one list item, in one call: a call costs more than reading a field."""
        out = []
        for key in keys:
            value = item.get(key)
            if value.__class__ is str:
                out.append(value.strip() or None)
            elif value is None:
                out.append(None)
            else:
                out.append(self.text(item, key, (list_path, i, key)))
        return out

    def texts(self, parent: dict, key: str, path: Path) -> tuple[str, ...]:
        value = parent.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            value = [value]
        out = []
        for v in value:
            if isinstance(v, str):
                if v := v.strip():
                    out.append(v)
            elif v is not None:
                self.drop(path, f"expected text items, got {type(v).__name__}")
        return tuple(out)

    def code(self, parent: dict, key: str, path: Path, scheme: str) -> str | None:
        value = parent.get(key)
        if value.__class__ is str:  # text()'s common cases without its call: ~35 coded fields per record
            value = value.strip() or None
        elif value is not None:
            value = self.text(parent, key, path)
        if value is None:
            return None
        if value not in _CODE_VALUES[scheme]:
            self.drop(path, f"unknown {scheme} value {value!r}")
            return None
        return value

    def codes(self, parent: dict, key: str, path: Path, scheme: str) -> tuple[str, ...]:
        out = []
        allowed = _CODE_VALUES[scheme]
        for value in self.texts(parent, key, path):
            if value in allowed:
                out.append(value)
            else:
                self.drop(path, f"unknown {scheme} value {value!r}")
        return tuple(out)

    def boolean(self, parent: dict, key: str, path: Path) -> bool | None:
        value = parent.get(key)
        if value is None or isinstance(value, bool):
            return value
        self.drop(path, f"expected true/false, got {value!r}")
        return None

    def integer(self, parent: dict, key: str, path: Path) -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        self.drop(path, f"expected a non-negative integer, got {value!r}")
        return None

    def number(self, parent: dict, key: str, path: Path) -> float | None:
        value = parent.get(key)
        if value.__class__ is float and isfinite(value):  # the common case first: two per site
            return value
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            if abs(value) != float("inf"):
                return float(value)
        self.drop(path, f"expected a number, got {value!r}")
        return None

    def date(self, value: Any, path: str, date_type: str | None = None) -> PartialDate | None:
        if value is None:
            return None
        parsed = parse_partial_date(value) if isinstance(value, str) else None
        if parsed is None:
            self.drop(path, f"not a date (YYYY, YYYY-MM or YYYY-MM-DD): {value!r}")
            return None
        if date_type is not None and not (isinstance(date_type, str) and date_type in _CODE_VALUES["date-type"]):
            self.drop(f"{path}.type", f"unknown date type {date_type!r}")
            date_type = None
        return PartialDate(parsed[0], parsed[1], date_type)


@lru_cache(maxsize=16384)  # the same few thousand dates recur in every record (~10 per record)
def parse_partial_date(text: str) -> tuple[str, Precision] | None:
    """``2020``, ``2020-12`` or ``2020-12-31`` with its precision, or None when it is not a real date."""
    m = _DATE_RE.match(text.strip())
    if not m:
        return None
    year, month, day = m.groups()
    try:
        if day:
            date(int(year), int(month), int(day))
            return m.group(), "day"
        if month:
            if not 1 <= int(month) <= 12:
                return None
            return m.group(), "month"
    except ValueError:
        return None
    return m.group(), "year"


# ------------------------------------------------------------------------------------------ the study
def parse_study(study: Any, origin: str, problems: list[Problem]) -> Trial:
    """One v2 study object to a Trial; raises RecordError when it has no usable NCT id."""
    if not isinstance(study, dict):
        raise RecordError(f"expected a study object, got {type(study).__name__}")
    if "protocolSection" not in study:
        raise RecordError("not a ClinicalTrials.gov v2 study (no protocolSection)", field="protocolSection")
    f0 = _Fields(origin, None, problems)
    protocol = f0.obj(study, "protocolSection", "protocolSection")
    ident = f0.obj(protocol, "identificationModule", "protocolSection.identificationModule")
    nct_id = f0.text(ident, "nctId", "protocolSection.identificationModule.nctId")
    if not nct_id or not NCT_RE.match(nct_id):
        raise RecordError(
            f"missing or malformed NCT id {nct_id!r}", field="protocolSection.identificationModule.nctId"
        )
    f = _Fields(origin, nct_id, problems)
    unknown = _unknown_fields(study)
    if unknown:
        problems.append(Problem(origin, nct_id, unknown[0], f"not in the v2 data model of API spec "
                                f"{_MODEL['spec_version']}, so not read: {', '.join(unknown)}", "note"))
    p = "protocolSection."
    status = f.obj(protocol, "statusModule", p + "statusModule")
    sponsors = f.obj(protocol, "sponsorCollaboratorsModule", p + "sponsorCollaboratorsModule")
    description = f.obj(protocol, "descriptionModule", p + "descriptionModule")
    conditions = f.obj(protocol, "conditionsModule", p + "conditionsModule")
    design = f.obj(protocol, "designModule", p + "designModule")
    arms = f.obj(protocol, "armsInterventionsModule", p + "armsInterventionsModule")
    outcomes = f.obj(protocol, "outcomesModule", p + "outcomesModule")
    contacts = f.obj(protocol, "contactsLocationsModule", p + "contactsLocationsModule")
    refs = f.obj(protocol, "referencesModule", p + "referencesModule")
    derived = f.obj(study, "derivedSection", "derivedSection")
    misc = f.obj(derived, "miscInfoModule", "derivedSection.miscInfoModule")
    enrollment = f.obj(design, "enrollmentInfo", p + "designModule.enrollmentInfo")
    org = f.obj(ident, "organization", p + "identificationModule.organization")
    org_study = f.obj(ident, "orgStudyIdInfo", p + "identificationModule.orgStudyIdInfo")
    summary = f.text(description, "briefSummary", p + "descriptionModule.briefSummary")
    detailed = f.text(description, "detailedDescription", p + "descriptionModule.detailedDescription")
    dates = _dates(f, status)
    last_posted = dates.get("last_update_posted")

    return Trial(
        provenance=Provenance(
            source=SOURCE,
            origin=origin,
            last_update_posted=last_posted.value if last_posted else None,
            version_holder=f.text(misc, "versionHolder", "derivedSection.miscInfoModule.versionHolder"),
        ),
        nct_id=nct_id,
        org_study_id=f.text(org_study, "id", p + "identificationModule.orgStudyIdInfo.id"),
        organization=_org(f, org, "fullName", p + "identificationModule.organization"),
        nct_aliases=tuple(
            a for a in f.texts(ident, "nctIdAliases", p + "identificationModule.nctIdAliases") if NCT_RE.match(a)
        ),
        secondary_ids=_secondary_ids(f, ident),
        acronym=f.text(ident, "acronym", p + "identificationModule.acronym"),
        brief_title=f.text(ident, "briefTitle", p + "identificationModule.briefTitle"),
        official_title=f.text(ident, "officialTitle", p + "identificationModule.officialTitle"),
        brief_summary=summary,
        detailed_description=detailed,
        overall_status=f.code(status, "overallStatus", p + "statusModule.overallStatus", "status"),
        last_known_status=f.code(status, "lastKnownStatus", p + "statusModule.lastKnownStatus", "status"),
        why_stopped=f.text(status, "whyStopped", p + "statusModule.whyStopped"),
        dates=dates,
        study_type=f.code(design, "studyType", p + "designModule.studyType", "study-type"),
        phases=f.codes(design, "phases", p + "designModule.phases", "phase"),
        design=_design(f, f.obj(design, "designInfo", p + "designModule.designInfo")),
        enrollment=f.integer(enrollment, "count", p + "designModule.enrollmentInfo.count"),
        enrollment_type=f.code(enrollment, "type", p + "designModule.enrollmentInfo.type", "enrollment-type"),
        has_results=f.boolean(study, "hasResults", "hasResults"),
        keywords=f.texts(conditions, "keywords", p + "conditionsModule.keywords"),
        lead_sponsor=_org(f, f.obj(sponsors, "leadSponsor", p + "sponsorCollaboratorsModule.leadSponsor"), "name",
                          p + "sponsorCollaboratorsModule.leadSponsor"),
        collaborators=tuple(
            o for i, c in enumerate(f.objs(sponsors, "collaborators", p + "sponsorCollaboratorsModule.collaborators"))
            if (o := _org(f, c, "name", f"{p}sponsorCollaboratorsModule.collaborators[{i}]"))
        ),
        responsible_party=_responsible_party(f, sponsors),
        officials=_people(f, contacts, "overallOfficials", p + "contactsLocationsModule.overallOfficials"),
        central_contacts=_people(f, contacts, "centralContacts", p + "contactsLocationsModule.centralContacts"),
        interventions=_interventions(f, arms),
        arms=_arms(f, arms),
        conditions=f.texts(conditions, "conditions", p + "conditionsModule.conditions"),
        mesh_terms=_mesh_terms(f, derived),
        outcomes=_outcomes(f, outcomes),
        eligibility=_eligibility(f, f.obj(protocol, "eligibilityModule", p + "eligibilityModule")),
        sites=_sites(f, contacts),
        references=_references(f, refs),
        links=_links(f, refs),
        ipd_sharing=_ipd(f, f.obj(protocol, "ipdSharingStatementModule", p + "ipdSharingStatementModule")),
        related_nct_ids=related_nct_ids(nct_id, summary, detailed),
    )


def _dates(f: _Fields, status: dict) -> dict[str, PartialDate]:
    out: dict[str, PartialDate] = {}
    for kind, key, path, date_path in _DATE_READS:
        value = status.get(key)
        if value is None:
            continue
        if date_path:  # a {date, type} struct
            struct = value if value.__class__ is dict else f.obj(status, key, path)
            parsed = f.date(struct.get("date"), date_path, struct.get("type"))
        else:
            parsed = f.date(value, path)
        if parsed:
            out[kind] = parsed
    return out


def _org(f: _Fields, obj: dict, name_key: str, path: str) -> OrgMention | None:
    name = f.text(obj, name_key, f"{path}.{name_key}")
    if not name:
        return None
    return OrgMention(name, f.code(obj, "class", path + ".class", "agency-class"))


def _secondary_ids(f: _Fields, ident: dict) -> tuple[Identifier, ...]:
    path = "protocolSection.identificationModule.secondaryIdInfos"
    out = []
    for i, s in enumerate(f.objs(ident, "secondaryIdInfos", path)):
        value = f.text(s, "id", (path, i, "id"))
        if value:
            out.append(Identifier(
                value,
                f.code(s, "type", (path, i, "type"), "identifier-type"),
                f.text(s, "domain", (path, i, "domain")),
                f.text(s, "link", (path, i, "link")),
            ))
    return tuple(out)


def _design(f: _Fields, info: dict) -> Design | None:
    if not info:
        return None
    p = "protocolSection.designModule.designInfo."
    masking = f.obj(info, "maskingInfo", p + "maskingInfo")
    return Design(
        allocation=f.code(info, "allocation", p + "allocation", "allocation"),
        intervention_model=f.code(info, "interventionModel", p + "interventionModel", "intervention-model"),
        intervention_model_description=f.text(info, "interventionModelDescription", p + "interventionModelDescription"),
        observational_model=f.code(info, "observationalModel", p + "observationalModel", "observational-model"),
        time_perspective=f.code(info, "timePerspective", p + "timePerspective", "time-perspective"),
        primary_purpose=f.code(info, "primaryPurpose", p + "primaryPurpose", "primary-purpose"),
        masking=f.code(masking, "masking", p + "maskingInfo.masking", "masking"),
        masking_description=f.text(masking, "maskingDescription", p + "maskingInfo.maskingDescription"),
        who_masked=f.codes(masking, "whoMasked", p + "maskingInfo.whoMasked", "who-masked"),
    )


def _person(f: _Fields, obj: dict, list_path: str, i: int) -> PersonMention | None:
    name = f.text(obj, "name", (list_path, i, "name"))
    if not name:
        return None
    role = f.code(obj, "role", (list_path, i, "role"), "role")
    return PersonMention(name, role, f.text(obj, "affiliation", (list_path, i, "affiliation")))


def _people(f: _Fields, parent: dict, key: str, path: str) -> tuple[PersonMention, ...]:
    return tuple(p for i, o in enumerate(f.objs(parent, key, path)) if (p := _person(f, o, path, i)))


def _responsible_party(f: _Fields, sponsors: dict) -> ResponsibleParty | None:
    path = "protocolSection.sponsorCollaboratorsModule.responsibleParty"
    rp = f.obj(sponsors, "responsibleParty", path)
    if not rp:
        return None
    name = f.text(rp, "investigatorFullName", path + ".investigatorFullName")
    investigator = None
    if name:
        investigator = PersonMention(
            name, "RESPONSIBLE_PARTY",
            f.text(rp, "investigatorAffiliation", path + ".investigatorAffiliation"),
            f.text(rp, "investigatorTitle", path + ".investigatorTitle"),
        )
    return ResponsibleParty(
        type=f.code(rp, "type", path + ".type", "responsible-party-type"),
        investigator=investigator,
        old_name_title=f.text(rp, "oldNameTitle", path + ".oldNameTitle"),
        old_organization=f.text(rp, "oldOrganization", path + ".oldOrganization"),
    )


def _interventions(f: _Fields, arms: dict) -> tuple[Intervention, ...]:
    path = "protocolSection.armsInterventionsModule.interventions"
    out = []
    for i, o in enumerate(f.objs(arms, "interventions", path)):
        name = f.text(o, "name", (path, i, "name"))
        if not name:
            f.drop((path, i, "name"), "intervention without a name left out")
            continue
        out.append(Intervention(  # positional, as Site
            name,
            f.code(o, "type", (path, i, "type"), "intervention-type"),
            f.text(o, "description", (path, i, "description")),
            f.texts(o, "otherNames", (path, i, "otherNames")),
            f.texts(o, "armGroupLabels", (path, i, "armGroupLabels")),  # arm_labels
        ))
    return tuple(out)


def _arms(f: _Fields, arms: dict) -> tuple[Arm, ...]:
    path = "protocolSection.armsInterventionsModule.armGroups"
    out = []
    for i, o in enumerate(f.objs(arms, "armGroups", path)):
        label = f.text(o, "label", (path, i, "label"))
        if not label:
            f.drop((path, i, "label"), "arm group without a label left out")
            continue
        out.append(Arm(  # positional, as Site
            label,
            f.code(o, "type", (path, i, "type"), "arm-type"),
            f.text(o, "description", (path, i, "description")),
            f.texts(o, "interventionNames", (path, i, "interventionNames")),
        ))
    return tuple(out)


def _mesh_terms(f: _Fields, derived: dict) -> tuple[MeshTerm, ...]:
    out = []
    for module, branch in (("conditionBrowseModule", "condition"), ("interventionBrowseModule", "intervention")):
        mod = f.obj(derived, module, f"derivedSection.{module}")
        for key, ancestor in (("meshes", False), ("ancestors", True)):
            path = f"derivedSection.{module}.{key}"
            for i, m in enumerate(f.objs(mod, key, path)):
                term, ui = m.get("term"), m.get("id")
                if term.__class__ is str and ui.__class__ is str:  # item_texts' common case: ~30 terms a record
                    term, ui = term.strip() or None, ui.strip() or None
                else:
                    term, ui = f.item_texts(m, ("term", "id"), path, i)
                if ui is not None and not _is_mesh_ui(ui):
                    f.drop((path, i, "id"), f"not a MeSH UI: {ui!r}")
                    ui = None
                if term or ui:
                    out.append(MeshTerm(term or "", ui, branch, ancestor))  # type: ignore[arg-type]
    return tuple(out)


@lru_cache(maxsize=16384)  # ~10 UIs a record, mostly the same few thousand; a cache hit costs a quarter of a match
def _is_mesh_ui(text: str) -> bool:
    return _MESH_UI_RE.match(text) is not None


def _outcomes(f: _Fields, outcomes: dict) -> tuple[Outcome, ...]:
    out = []
    for key, kind in (("primaryOutcomes", "PRIMARY"), ("secondaryOutcomes", "SECONDARY"), ("otherOutcomes", "OTHER")):
        path = f"protocolSection.outcomesModule.{key}"
        for i, o in enumerate(f.objs(outcomes, key, path)):
            measure = f.text(o, "measure", (path, i, "measure"))
            if not measure:
                f.drop((path, i, "measure"), "outcome without a measure left out")
                continue
            description, time_frame = f.item_texts(o, ("description", "timeFrame"), path, i)
            out.append(Outcome(kind, measure, description, time_frame))  # type: ignore[arg-type]
    return tuple(out)


def _eligibility(f: _Fields, e: dict) -> Eligibility | None:
    if not e:
        return None
    p = "protocolSection.eligibilityModule."
    return Eligibility(
        criteria=f.text(e, "eligibilityCriteria", p + "eligibilityCriteria"),
        minimum_age=f.text(e, "minimumAge", p + "minimumAge"),
        maximum_age=f.text(e, "maximumAge", p + "maximumAge"),
        sex=f.code(e, "sex", p + "sex", "sex"),
        healthy_volunteers=f.boolean(e, "healthyVolunteers", p + "healthyVolunteers"),
        std_ages=f.codes(e, "stdAges", p + "stdAges", "standard-age"),
        gender_based=f.boolean(e, "genderBased", p + "genderBased"),
        gender_description=f.text(e, "genderDescription", p + "genderDescription"),
        study_population=f.text(e, "studyPopulation", p + "studyPopulation"),
        sampling_method=f.code(e, "samplingMethod", p + "samplingMethod", "sampling-method"),
    )


def _sites(f: _Fields, contacts: dict) -> tuple[Site, ...]:
    path = "protocolSection.contactsLocationsModule.locations"
    out = []
    for i, loc in enumerate(f.objs(contacts, "locations", path)):
        # read in this order so that problems are reported in field order; each field's common case is read here
        # (~10 sites a record) and anything else by the _Fields method, which reports it
        geo = loc.get("geoPoint")
        if geo.__class__ is not dict:
            geo = f.obj(loc, "geoPoint", (path, i, "geoPoint"))
        facility = loc.get("facility")
        facility = facility.strip() or None if facility.__class__ is str else f.text(loc, "facility",
                                                                                      (path, i, "facility"))
        people = _site_people(f, loc, facility, f"{path}[{i}]") if "contacts" in loc else ()
        city, state, zip_code, country = f.item_texts(loc, ("city", "state", "zip", "country"), path, i)
        latitude = geo.get("lat")
        if not (latitude.__class__ is float and isfinite(latitude)):
            latitude = f.number(geo, "lat", (path, i, "geoPoint.lat"))
        longitude = geo.get("lon")
        if not (longitude.__class__ is float and isfinite(longitude)):
            longitude = f.number(geo, "lon", (path, i, "geoPoint.lon"))
        status = loc.get("status")
        if not (status.__class__ is str and status in _SITE_STATUSES):  # the registry's values carry no spaces
            status = f.code(loc, "status", (path, i, "status"), "site-status")
        if facility or city or country:
            # positional: a class call with keywords costs ~3x (Python 3.11 builds a kwargs dict), ~10 sites a record
            out.append(Site(facility, city, state, zip_code, country, latitude, longitude, status, people))
        else:
            f.drop((path, i, "facility"), "site without facility, city or country left out")
    return tuple(out)


_SITE_STATUSES = _CODE_VALUES["site-status"]


def _site_people(f: _Fields, loc: dict, facility: str | None, site_path: str) -> tuple[PersonMention, ...]:
    """A site's investigators and contacts (as _person), affiliated with the site's facility."""
    path = site_path + ".contacts"
    out = []
    for j, c in enumerate(f.objs(loc, "contacts", path)):
        name = f.text(c, "name", (path, j, "name"))
        if name:
            role = f.code(c, "role", (path, j, "role"), "role")
            f.text(c, "affiliation", (path, j, "affiliation"))  # not used, but a bad value is still reported
            out.append(PersonMention(name, role, facility))
    return tuple(out)


def _references(f: _Fields, refs: dict) -> tuple[Reference, ...]:
    path = "protocolSection.referencesModule.references"
    out = []
    for i, r in enumerate(f.objs(refs, "references", path)):
        pmid = f.text(r, "pmid", (path, i, "pmid"))
        if pmid is not None and not PMID_RE.match(pmid):
            f.drop((path, i, "pmid"), f"not a PubMed id: {pmid!r}")
            pmid = None
        citation = f.text(r, "citation", (path, i, "citation"))
        if citation or pmid:
            out.append(Reference(citation, pmid, f.code(r, "type", (path, i, "type"), "reference-type")))
    return tuple(out)


def _links(f: _Fields, refs: dict) -> tuple[Link, ...]:
    path = "protocolSection.referencesModule.seeAlsoLinks"
    out = []
    for i, r in enumerate(f.objs(refs, "seeAlsoLinks", path)):
        url = f.text(r, "url", (path, i, "url"))
        if url:
            out.append(Link(url, f.text(r, "label", (path, i, "label"))))
    return tuple(out)


def _ipd(f: _Fields, ipd: dict) -> IpdSharing | None:
    if not ipd:
        return None
    p = "protocolSection.ipdSharingStatementModule."
    return IpdSharing(
        sharing=f.code(ipd, "ipdSharing", p + "ipdSharing", "ipd-sharing"),
        description=f.text(ipd, "description", p + "description"),
        info_types=f.codes(ipd, "infoTypes", p + "infoTypes", "ipd-info-type"),
        time_frame=f.text(ipd, "timeFrame", p + "timeFrame"),
        access_criteria=f.text(ipd, "accessCriteria", p + "accessCriteria"),
        url=f.text(ipd, "url", p + "url"),
    )
