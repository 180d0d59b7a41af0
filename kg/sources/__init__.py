"""Sources: one module per input format, each turning its text into :class:`kg.model.Trial` records.

Every source module offers ``looks_like(text) -> bool`` (a content sniff, never the file name) and
``read(text, origin, problems) -> Iterator[Trial]``: it appends a :class:`kg.report.Problem` for each
value it cannot use and for each record it has to skip, and goes on with the rest.
"""

from __future__ import annotations

from types import ModuleType

from kg.sources import ctgov_page, ctgov_v2, ctgov_xml, intel_card, third_party_page

# Tried in this order; the first whose looks_like() accepts the text reads it.
SOURCES: tuple[ModuleType, ...] = (ctgov_v2, ctgov_xml, ctgov_page, third_party_page, intel_card)


def detect(text: str) -> ModuleType | None:
    """The source module that reads this text, judged by content alone."""
    for source in SOURCES:
        if source.looks_like(text):
            return source
    return None
