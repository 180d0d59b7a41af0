"""Check that every real record of the shared data builds: 574 v2 studies, 107 legacy XML files, 5 seeds.

    python bench/check_corpus.py        # exit 1 if any record is skipped or any output fails to parse

Reads ../shared directly (the tests use copies in tests/data). Prints the problems found, by kind.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

import pyoxigraph

from kg.build import BuildOptions, build

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SETS = {
    "ctgov_v2/studies (574)": [SHARED / "data" / "ctgov_v2" / "studies"],
    "ctgov_xml/studies (107)": sorted((SHARED / "data" / "ctgov_xml" / "studies").glob("*.xml")),
    "seeds (5)": sorted((SHARED / "seeds").glob("*.txt")),
}


def main() -> int:
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name, paths in SETS.items():
            out = Path(tmp) / "out.nq"
            report = build(paths, out, options=BuildOptions(validate=True))
            parsed = sum(1 for _ in pyoxigraph.parse(path=str(out), format=pyoxigraph.RdfFormat.N_QUADS))
            kinds = Counter((p.severity, (p.field or "").split("[")[0]) for p in report.problems)
            print(f"{name}: {report.summary()}; {parsed} quads parsed back")
            for (severity, field), n in sorted(kinds.items()):
                print(f"    {n:5d} {severity:8s} {field}")
            failed |= report.skipped > 0 or report.records_invalid > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
