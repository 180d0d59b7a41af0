"""A trial-intelligence site's trial card, saved as text, to model records.

One job: read that card: a "Clinical trial" line, the title, then label lines ("Name", "Trial start",
"Status", "Phase", "Treatment", "Size", "Primary endpoint", "Eligibility criteria", "Protocol",
"Indication" ...) each followed by its value lines. The "Protocol" value is a Python dict repr in the
ClinicalTrials.gov API v2 design-module shape, read with ``ast.literal_eval`` (never ``eval``); where the
card's own lines and that block disagree, the block wins and the conflict is reported as a note.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from kg.codes import is_code
from kg.identity import NCT_RE
from kg.model import (
    Arm,
    Design,
    Eligibility,
    Intervention,
    OrgMention,
    Outcome,
    PartialDate,
    Provenance,
    Trial,
)
from kg.report import Problem
from kg.sources.pagetext import Problems, code, count, label_values, nonblank, parse_date, phases

SOURCE = "intel-card"
KIND = "trial-intelligence card"

_CARD_HEADING = "Clinical trial"
_DATE_LABEL_RE = re.compile(r"^(?:(?P<type>Estimated|Actual) )?(?P<kind>Trial start|PCD|Trial end)$", re.I)
_LABELS = (
    "Name", "Description", "Trial arms", "Status", "Phase", "Treatment", "Size", "Primary endpoint",
    "Secondary endpoint", "Eligibility criteria", "Protocol", "Updated at", "Indication", "Organization",
    "Sponsor",
)
_COUNT_LINE_RE = re.compile(r"^\d+ (?:organizations?|products?|indications?)$")
_DATE_KINDS = {"trial start": "start", "pcd": "primary_completion", "trial end": "completion"}
_ENDPOINTS = {"Primary endpoint": "PRIMARY", "Secondary endpoint": "SECONDARY"}
# Parts every such card shows; one missing means the card was cut short.
_REQUIRED = ("Name", "Status", "Eligibility criteria", "Protocol", "Indication")
_ORG_KEYS = (("organization", "fullName"), ("organization", "name"), ("leadSponsor", "name"), ("sponsor", "name"))


def looks_like(text: str) -> bool:
    """First line "Clinical trial", with the card's "Name" label and a "Trial start" or "Protocol" label."""
    lines = nonblank(text.splitlines()[:400])
    if not lines or lines[0] != _CARD_HEADING:
        return False
    labels = set(lines)
    return "Name" in labels and bool(labels & {"Trial start", "Protocol"})


def read(text: str, origin: str, problems: list[Problem]) -> Iterator[Trial]:
    lines = [s for s in nonblank(text.splitlines()) if not _COUNT_LINE_RE.match(s)]
    title = lines[1] if len(lines) > 1 and not _is_label(lines[1]) else None
    _, values = label_values(lines[1:], _is_label)
    name = _first(values, "Name")
    nct_id = name if name and NCT_RE.match(name) else None
    org_study_id = None if nct_id else name
    record = nct_id or org_study_id
    p = Problems(problems, origin, record)
    if record is None:
        p.add("Name", f"{KIND} without a Name (organisation id or NCT id)", "skipped")
        return
    yield _trial(title, nct_id, org_study_id, values, p)


def _is_label(line: str) -> bool:
    return line in _LABELS or bool(_DATE_LABEL_RE.match(line))


def _first(values: dict[str, list[str]], label: str) -> str | None:
    found = values.get(label)
    return found[0] if found else None


def _trial(title: str | None, nct_id: str | None, org_study_id: str | None, values: dict[str, list[str]],
           p: Problems) -> Trial:
    protocol = _protocol(values.get("Protocol"), p)
    intervention, arms = _treatment(values.get("Treatment", []), values.get("Trial arms", []))
    updated = parse_date(_first(values, "Updated at") or "")
    p.missing_parts({label: label in values for label in _REQUIRED}, KIND)
    enrollment, enrollment_type = _enrollment(values, protocol, p)
    return Trial(
        provenance=Provenance(SOURCE, p.origin, updated.value if updated else None),
        nct_id=nct_id,
        org_study_id=org_study_id,
        organization=_organization(protocol, values),
        brief_title=title,
        brief_summary=" ".join(values.get("Description", [])) or None,
        overall_status=code("status", _first(values, "Status")),
        dates=_dates(values),
        study_type=_protocol_code(protocol, "studyType", "study-type"),
        phases=_phases(values, protocol, p),
        design=_design(protocol),
        enrollment=enrollment,
        enrollment_type=enrollment_type,
        interventions=(intervention,) if intervention else (),
        arms=arms,
        conditions=tuple(values.get("Indication", [])),
        outcomes=_outcomes(values),
        eligibility=Eligibility(criteria=" ".join(crit)) if (crit := values.get("Eligibility criteria")) else None,
    )


# ------------------------------------------------------------------------------------------ the protocol block
def _protocol(lines: list[str] | None, p: Problems) -> dict[str, Any]:
    if not lines:
        return {}
    try:
        block = ast.literal_eval("\n".join(lines))
    except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
        p.add("protocol", f"protocol block is not a readable dict ({type(e).__name__}); left out")
        return {}
    if not isinstance(block, dict):
        p.add("protocol", f"protocol block is a {type(block).__name__}, not a dict; left out")
        return {}
    return block


def _protocol_code(protocol: dict[str, Any], key: str, scheme: str, parent: str | None = None) -> str | None:
    holder = protocol.get(parent, {}) if parent else protocol
    value = holder.get(key) if isinstance(holder, dict) else None
    return value if isinstance(value, str) and is_code(scheme, value) else None


def _design(protocol: dict[str, Any]) -> Design | None:
    info = protocol.get("designInfo")
    if not isinstance(info, dict):
        return None
    masking = info.get("maskingInfo") if isinstance(info.get("maskingInfo"), dict) else {}
    who = masking.get("whoMasked") if isinstance(masking.get("whoMasked"), list) else []
    description = info.get("interventionModelDescription")
    return Design(
        allocation=_protocol_code(info, "allocation", "allocation"),
        intervention_model=_protocol_code(info, "interventionModel", "intervention-model"),
        intervention_model_description=description if isinstance(description, str) else None,
        observational_model=_protocol_code(info, "observationalModel", "observational-model"),
        time_perspective=_protocol_code(info, "timePerspective", "time-perspective"),
        primary_purpose=_protocol_code(info, "primaryPurpose", "primary-purpose"),
        masking=_protocol_code(masking, "masking", "masking"),
        who_masked=tuple(w for w in who if isinstance(w, str) and is_code("who-masked", w)),
    )


def _organization(protocol: dict[str, Any], values: dict[str, list[str]]) -> OrgMention | None:
    """The organisation (sponsor) the protocol block or an "Organization"/"Sponsor" line names."""
    for key, name_key in _ORG_KEYS:
        holder = protocol.get(key)
        if isinstance(holder, str) and holder.strip():
            return OrgMention(holder.strip())
        if isinstance(holder, dict) and isinstance(holder.get(name_key), str) and holder[name_key].strip():
            agency = holder.get("class")
            return OrgMention(holder[name_key].strip(),
                              agency if isinstance(agency, str) and is_code("agency-class", agency) else None)
    name = _first(values, "Organization") or _first(values, "Sponsor")
    return OrgMention(name) if name else None


# ------------------------------------------------------------------------------------------ card lines vs block
def _phases(values: dict[str, list[str]], protocol: dict[str, Any], p: Problems) -> tuple[str, ...]:
    printed = _first(values, "Phase")
    on_card = phases(printed or "")
    listed = protocol.get("phases")
    listed = listed if isinstance(listed, list) else []
    in_block = tuple(v for v in listed if isinstance(v, str) and is_code("phase", v))
    if in_block and on_card and on_card != in_block:
        p.add("phase", f"the card's phase line says {printed!r} ({', '.join(on_card)}), its protocol block says "
              f"{', '.join(in_block)}; kept the protocol block", "note")
    return in_block or on_card


def _enrollment(values: dict[str, list[str]], protocol: dict[str, Any], p: Problems) -> tuple[int | None, str | None]:
    size = count(_first(values, "Size") or "")
    info = protocol.get("enrollmentInfo") if isinstance(protocol.get("enrollmentInfo"), dict) else {}
    block_count = info.get("count") if isinstance(info.get("count"), int) else None
    if size is not None and block_count is not None and size != block_count:
        p.add("enrollment", f"the card's size says {size}, its protocol block says {block_count}; kept the "
              "protocol block", "note")
    return (block_count if block_count is not None else size), _protocol_code(info, "type", "enrollment-type")


# ------------------------------------------------------------------------------------------ card lines
def _dates(values: dict[str, list[str]]) -> dict[str, PartialDate]:
    out: dict[str, PartialDate] = {}
    for label, found in values.items():
        m = _DATE_LABEL_RE.match(label)
        if not m or not found:
            continue
        kind = m.group("type").upper() if m.group("type") else None
        parsed = parse_date(found[0], kind)
        if parsed:
            out[_DATE_KINDS[m.group("kind").lower()]] = parsed
    return out


def _treatment(lines: list[str], arm_lines: list[str]) -> tuple[Intervention | None, tuple[Arm, ...]]:
    """Treatment: name, description, "Arms:" and its arm labels, "Other names:" and the other names."""
    if not lines:
        return None, tuple(Arm(label) for label in arm_lines)
    parts: dict[str, list[str]] = {"description": [], "Arms:": [], "Other names:": []}
    current = parts["description"]
    for line in lines[1:]:
        if line in parts:
            current = parts[line]
        else:
            current.append(line)
    name = lines[0]
    labels = tuple(dict.fromkeys([*arm_lines, *parts["Arms:"]]))
    intervention = Intervention(name, None, "\n".join(parts["description"]) or None, tuple(parts["Other names:"]),
                                labels)
    return intervention, tuple(Arm(label, intervention_names=(name,)) for label in labels)


def _outcomes(values: dict[str, list[str]]) -> tuple[Outcome, ...]:
    """Endpoints as (measure, time frame) line pairs; the card lists each twice, kept once."""
    out: list[Outcome] = []
    for label, kind in _ENDPOINTS.items():
        lines = values.get(label, [])
        for measure, time_frame in zip(lines[::2], [*lines[1::2], None], strict=False):
            outcome = Outcome(kind, measure, None, time_frame)  # type: ignore[arg-type]
            if outcome not in out:
                out.append(outcome)
    return tuple(out)
