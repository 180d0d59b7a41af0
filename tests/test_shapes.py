"""The SHACL shapes: valid SHACL, code lists equal to kg/codes.py, a conforming and a violating real graph
for every shape (tests/data/shapes/<shape>/, written by scripts/make_shape_cases.py), and the compiled
shapes giving pyshacl's results on every one of those graphs."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection

from kg.codes import CODE_NS, SCHEMES
from kg.validate import SHAPES_NS, RecordTriples, Violation, load_shapes, shapes_file, validate_graph, validate_records
from scripts.make_shape_lists import render
from tests.helpers import assert_pass_tests_agree

CASES = Path(__file__).parent / "data" / "shapes"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf)


def _targeted_shapes() -> list[str]:
    g = load_shapes().graph
    return sorted({str(s).removeprefix(SHAPES_NS) for p in _TARGETS for s in g.subjects(p, None)
                   if str(s).startswith(SHAPES_NS)})


def test_shapes_pass_the_shacl_meta_shapes() -> None:
    from pyshacl.entrypoints import meta_validate

    conforms, _graph, text = meta_validate(str(shapes_file()), inference="none")
    assert conforms, text


def test_code_lists_are_generated_from_codes_py() -> None:
    text = shapes_file().read_text(encoding="utf-8")
    assert render(text) == text, "shapes/trialkg.ttl is stale: run python scripts/make_shape_lists.py"


def test_every_code_list_is_a_whole_scheme() -> None:
    g = load_shapes().graph
    lists = [list(Collection(g, node)) for node in g.objects(None, SH["in"])]
    code_lists = [[str(v) for v in items] for items in lists if str(items[0]).startswith(CODE_NS)]
    assert len(code_lists) > 20
    for values in code_lists:
        scheme = values[0][len(CODE_NS):].split("/")[0]
        assert values == [f"{CODE_NS}{scheme}/{v}" for v in SCHEMES[scheme]], scheme


def test_every_ontology_class_has_a_node_shape() -> None:
    ontology = rdflib.Graph().parse(Path(__file__).parent.parent / "ontology" / "trialkg.ttl")
    tkg = "https://w3id.org/trialkg/ontology#"
    classes = {str(c) for c in ontology.subjects(rdflib.RDF.type, rdflib.OWL.Class) if str(c).startswith(tkg)}
    shaped = {str(c) for c in load_shapes().graph.objects(None, SH.targetClass)}
    assert classes <= shaped, sorted(classes - shaped)


def test_every_shape_has_a_conforming_and_a_violating_case() -> None:
    have = {p.name for p in CASES.iterdir() if (p / "conforms.ttl").exists() and (p / "violates.ttl").exists()}
    assert set(_targeted_shapes()) == have


@pytest.mark.parametrize("shape", _targeted_shapes())
def test_shape_case(shape: str) -> None:
    iri = SHAPES_NS + shape
    good = rdflib.Graph().parse(CASES / shape / "conforms.ttl")
    assert validate_graph(good, [iri]) == []
    bad = rdflib.Graph().parse(CASES / shape / "violates.ttl")
    found = validate_graph(bad, [iri])
    assert found and all(v.shape == iri for v in found), found


# ------------------------------------------------------------------------------------------ compiled shapes
def results(found: list[Violation]) -> list[tuple[str, ...]]:
    """Every field of every result, in a fixed order (pyshacl's order among equal sort keys is arbitrary)."""
    return sorted(tuple(repr(x) for x in astuple(v)) for v in found)


def case_record(path: Path) -> RecordTriples:
    triples = [(t.subject, t.predicate, t.object) for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
    return RecordTriples("NCT00763412", triples)


def test_the_shapes_compile() -> None:
    shapes = load_shapes()
    assert shapes.compiled is not None, shapes.unsupported
    assert {s.iri.removeprefix(SHAPES_NS) for s in shapes.compiled.shapes} == set(_targeted_shapes())


@pytest.mark.parametrize("case", ["conforms", "violates"])
@pytest.mark.parametrize("shape", _targeted_shapes())
def test_compiled_shapes_agree_with_pyshacl(shape: str, case: str) -> None:
    """All shapes at once, not only the case's own: every field of every result is pyshacl's."""
    record = case_record(CASES / shape / f"{case}.ttl")
    assert assert_pass_tests_agree(record) > 0
    compiled = validate_records([record]).violations
    assert results(compiled) == results(validate_records([record], engine="pyshacl").violations)
    assert any(v.shape == SHAPES_NS + shape for v in compiled) == (case == "violates")
