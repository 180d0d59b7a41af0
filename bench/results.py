"""Writing a bench/RESULTS-*.md file: the benchmark's generated text, then the hand-written sections of the
file it replaces (those whose ``## `` heading the generated text does not have), so a re-run keeps the
reading and history written below the tables. Update those sections by hand after a re-run."""

from __future__ import annotations

import re
from pathlib import Path


def write_results(path: Path, generated: str) -> None:
    kept: list[str] = []
    if path.exists():
        own = {line for line in generated.splitlines() if line.startswith("## ")}
        sections = re.split(r"(?m)^(?=## )", path.read_text(encoding="utf-8"))[1:]
        kept = [s.rstrip("\n") + "\n" for s in sections if s.splitlines()[0] not in own]
    path.write_text("\n".join([generated.rstrip("\n") + "\n", *kept]), encoding="utf-8")
