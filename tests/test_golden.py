"""Golden graphs: each real record in tests/data/golden/<case>/ gives exactly its reviewed expected.nt."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.compare import graph_diff, to_isomorphic

from kg.build import BuildOptions, build

GOLDEN = Path(__file__).parent / "data" / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir())


def _diff(expected: rdflib.Graph, actual: rdflib.Graph) -> str:
    _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
    lines = [f"- {' '.join(t.n3() for t in tr)}" for tr in sorted(only_expected)[:40]]
    lines += [f"+ {' '.join(t.n3() for t in tr)}" for tr in sorted(only_actual)[:40]]
    return "graphs differ (- expected only, + built only):\n" + "\n".join(lines)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_graph(case: Path, tmp_path: Path) -> None:
    [source] = [p for p in case.iterdir() if p.name.startswith("input")]
    out = tmp_path / "built.nt"
    build([source], out, options=BuildOptions(resolve=False))  # record graphs; resolution: test_resolve
    expected = rdflib.Graph().parse(case / "expected.nt", format="nt")
    actual = rdflib.Graph().parse(out, format="nt")
    assert to_isomorphic(expected) == to_isomorphic(actual), _diff(expected, actual)
