"""Writing a bench/RESULTS-*.md file: the benchmark's generated text, then the hand-written sections of the
file it replaces (those whose ``## `` heading the generated text does not have and the benchmark never
generates), so a re-run keeps the reading and history written below the tables. Update those sections by
hand after a re-run. Also :func:`machine`, the line every results file opens with."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from pathlib import Path


def machine() -> str:
    """The machine a benchmark ran on: CPU model, cores, Python and system, for the results' first lines."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def _sections(text: str) -> list[list[str]]:
    """The text's ``## `` sections (the part before the first is left out); a line in a fenced code block
    never starts one."""
    sections: list[list[str]] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if line.startswith("## ") and not fenced:
            sections.append([])
        if sections:
            sections[-1].append(line)
    return sections


def write_results(path: Path, generated: str, generates: Iterable[str] = ()) -> None:
    """Write ``generated`` to ``path`` and keep the old file's other sections; ``generates``: headings the
    benchmark writes only on some runs (an old one is dropped, never kept as if written by hand)."""
    kept: list[str] = []
    if path.exists():
        own = {s[0] for s in _sections(generated)} | set(generates)
        kept = ["\n".join(s).rstrip("\n") + "\n" for s in _sections(path.read_text(encoding="utf-8"))
                if s[0] not in own]
    path.write_text("\n".join([generated.rstrip("\n") + "\n", *kept]), encoding="utf-8")
