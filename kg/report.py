"""Problems found in the input, each naming file, record and field, and their summary."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

# skipped: the record was not built; dropped: one value was left out, the record built;
# note: built in full, but something a curator may want to know (an unresolved MeSH name ...).
Severity = Literal["skipped", "dropped", "note"]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    record: str | None
    field: str | None
    message: str
    severity: Severity = "dropped"

    def __str__(self) -> str:
        where = self.file + (f" record {self.record}" if self.record else "")
        what = f" field {self.field}" if self.field else ""
        return f"{where}{what}: {self.message} [{self.severity}]"


class RecordError(Exception):
    """A record that cannot be built at all; the build reports it and goes on with the next."""

    def __init__(self, message: str, field: str | None = None, record: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.record = record


@dataclass
class Report:
    """Everything a build found wrong, plus counts of what it built."""

    problems: list[Problem] = field(default_factory=list)
    records_built: int = 0
    records_superseded: int = 0
    records_invalid: int = 0  # built, but with a SHACL violation (kg build with validation on)
    triples: int = 0

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def skipped(self) -> int:
        return sum(1 for p in self.problems if p.severity == "skipped")

    def counts(self) -> Counter[str]:
        return Counter(p.severity for p in self.problems)

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{self.records_built} records built ({self.triples} triples), "
            f"{self.records_superseded} superseded by a newer version, "
            f"{c['skipped']} skipped, {c['dropped']} values dropped, {c['note']} notes"
            + (f", {self.records_invalid} do not conform to the shapes" if self.records_invalid else "")
        )

    def write_json(self, path: str | Path) -> None:
        data = {
            "records_built": self.records_built,
            "records_superseded": self.records_superseded,
            "records_skipped": self.skipped,
            "records_invalid": self.records_invalid,
            "triples": self.triples,
            "problems": [asdict(p) for p in self.problems],
        }
        Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
