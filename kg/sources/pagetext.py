"""Text helpers shared by the page sources (``ctgov_page``, ``third_party_page``, ``intel_card``).

One job: turn the printed bits of a web page or card (dates, coded words, ``|`` table cells, label/value
lines) into model values. Nothing here knows one page's layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from kg.codes import is_code
from kg.model import PartialDate, Precision
from kg.report import Problem, Severity

_MONTHS = {
    name: number
    for number, names in enumerate(
        (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")),
        start=1,
    )
    for name in names
}
_ISO_DATE_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_DAY_DATE_RE = re.compile(r"([A-Za-z]+)\.? (\d{1,2}), (\d{4})")
_MONTH_DATE_RE = re.compile(r"([A-Za-z]+)\.? (\d{4})")
_ANY_DATE_RE = re.compile(rf"{_DAY_DATE_RE.pattern}|{_MONTH_DATE_RE.pattern}|\b\d{{4}}-\d{{2}}(?:-\d{{2}})?\b")
_DATE_TYPE_RE = re.compile(r"^(Actual|Estimated|Anticipated)\b", re.I)

_PHASE_RE = re.compile(r"(?P<early>early[\s_]*)?phase[\s_]*(?P<n>[1-4]|iv|i{1,3})(?![a-z])", re.I)
_NO_PHASE_RE = re.compile(r"\bN/?A\b|not applicable", re.I)
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}
_COUNT_RE = re.compile(r"\d[\d,]*")
_YES = {"yes", "true"}
_NO = {"no", "false"}


# ------------------------------------------------------------------------------------------ dates
def parse_date(text: str, date_type: str | None = None) -> PartialDate | None:
    """A printed date with its precision: ``April 2, 2020`` -> day, ``January 2020`` -> month,
    ``2020-03-05`` / ``2020-03`` / ``2020`` as written. None when the text is not a real date."""
    s = text.strip().rstrip(".").strip()
    if m := _ISO_DATE_RE.fullmatch(s):
        year, month, day = m.groups()
        return _partial(int(year), int(month) if month else None, int(day) if day else None, date_type)
    if m := _DAY_DATE_RE.fullmatch(s):
        month_no = _MONTHS.get(m.group(1).lower())
        return _partial(int(m.group(3)), month_no, int(m.group(2)), date_type) if month_no else None
    if m := _MONTH_DATE_RE.fullmatch(s):
        month_no = _MONTHS.get(m.group(1).lower())
        return _partial(int(m.group(2)), month_no, None, date_type) if month_no else None
    return None


def find_date(text: str, date_type: str | None = None) -> PartialDate | None:
    """The first date printed anywhere in ``text`` ("April 2, 2020 Key Record Dates")."""
    for m in _ANY_DATE_RE.finditer(text):
        found = parse_date(m.group(), date_type)
        if found:
            return found
    return None


def date_type(label: str) -> str | None:
    """ACTUAL / ESTIMATED from a label such as "Estimated Primary Completion Date" or "Actual Enrollment"."""
    m = _DATE_TYPE_RE.match(label.strip())
    if not m:
        return None
    return "ACTUAL" if m.group(1).lower() == "actual" else "ESTIMATED"


def _partial(year: int, month: int | None, day: int | None, kind: str | None) -> PartialDate | None:
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return None
    precision: Precision = "day" if day else "month" if month else "year"
    value = f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if day else "")
    return PartialDate(value, precision, kind)


# ------------------------------------------------------------------------------------------ coded values
def enum_word(text: str) -> str:
    """A printed coded value in enum spelling: "Active, not recruiting" -> ``ACTIVE_NOT_RECRUITING``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text.strip()).strip("_").upper()


def code(scheme: str, text: str | None) -> str | None:
    """The enum value of ``text`` in ``scheme`` (see :mod:`kg.codes`), or None if it is not one."""
    if not text:
        return None
    value = enum_word(text)
    return value if is_code(scheme, value) else None


def phases(text: str) -> tuple[str, ...]:
    """Phase codes printed in any of the usual ways: "Phase 1 Phase 2", "PHASE1/PHASE2", "Early phase I",
    "Not Applicable" (-> ``NA``)."""
    found: list[str] = []
    for m in _PHASE_RE.finditer(text):
        number = _ROMAN.get(m.group("n").lower(), m.group("n"))
        value = ("EARLY_PHASE" if m.group("early") else "PHASE") + number
        if is_code("phase", value) and value not in found:
            found.append(value)
    if not found and _NO_PHASE_RE.search(text):
        found.append("NA")
    return tuple(found)


def count(text: str) -> int | None:
    """The first whole number printed in ``text`` ("1,250 participants" -> 1250)."""
    m = _COUNT_RE.search(text)
    return int(m.group().replace(",", "")) if m else None


def yes_no(text: str | None) -> bool | None:
    word = (text or "").strip().lower()
    return True if word in _YES else False if word in _NO else None


# ------------------------------------------------------------------------------------------ layout
def cells(line: str) -> list[str]:
    """The ``|`` cells of a flattened table line, stripped; the empty cell after a closing ``|`` dropped."""
    parts = [c.strip() for c in line.split("|")]
    if len(parts) > 1 and not parts[-1]:
        parts.pop()
    return parts


def nonblank(lines: Iterable[str]) -> list[str]:
    return [s for line in lines if (s := line.strip())]


def paragraphs(lines: Sequence[str]) -> list[list[str]]:
    """Runs of non-blank lines, stripped."""
    out: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def label_values(
    lines: Sequence[str], is_label: Callable[[str], bool]
) -> tuple[list[str], dict[str, list[str]]]:
    """Split non-blank lines at label lines: (lines before the first label, label -> the lines after it)."""
    before: list[str] = []
    found: dict[str, list[str]] = {}
    current: list[str] = before
    for line in nonblank(lines):
        if is_label(line):
            current = found.setdefault(line, [])
        else:
            current.append(line)
    return before, found


def comma_parts(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


# ------------------------------------------------------------------------------------------ problems
class Problems:
    """Appends :class:`Problem` s about one page to the caller's list."""

    def __init__(self, problems: list[Problem], origin: str, record: str | None = None) -> None:
        self.problems = problems
        self.origin = origin
        self.record = record

    def add(self, field: str | None, message: str, severity: Severity = "dropped") -> None:
        self.problems.append(Problem(self.origin, self.record, field, message, severity))

    def missing_parts(self, found: dict[str, bool], kind: str) -> None:
        """One problem naming the parts every ``kind`` shows but this one does not (a page cut short)."""
        missing = [part for part, ok in found.items() if not ok]
        if missing:
            self.add("page", f"{kind} ends early or lacks: {', '.join(missing)}; built from what is readable")
