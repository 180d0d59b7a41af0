"""Rewrite tests/data/golden/*/expected.nt from each case's input (after reviewing the change!)."""

from __future__ import annotations

import sys
from pathlib import Path

from kg.build import BuildOptions, build

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "data" / "golden"

if __name__ == "__main__":
    for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        [source] = [p for p in case.iterdir() if p.name.startswith("input")]
        out = case / "expected.nt"
        build([source], out, options=BuildOptions(resolve=False))  # the record graphs alone
        out.write_text("".join(sorted(out.read_text(encoding="utf-8").splitlines(keepends=True))), encoding="utf-8")
        sys.stdout.write(f"wrote {out}\n")
