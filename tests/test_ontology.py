"""The ontology declares every term the mapping emits, and codes.ttl is the generated one."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph

from kg.codes import CODE_NS
from kg.vocab import RDF_NS, declared_terms
from scripts.make_ontology_codes import render

ROOT = Path(__file__).resolve().parent.parent
MESH, PUBMED, TRIAL = "http://id.nlm.nih.gov/mesh/", "https://pubmed.ncbi.nlm.nih.gov/", "https://clinicaltrials.gov/"


def _codes() -> set[str]:
    return {t.subject.value for t in pyoxigraph.parse(path=str(ROOT / "ontology" / "codes.ttl"),
                                                      format=pyoxigraph.RdfFormat.TURTLE)}


def test_every_emitted_predicate_class_and_code_is_declared(sample_nq: Path) -> None:
    declared, codes = declared_terms(), _codes()
    undeclared = set()
    for q in pyoxigraph.parse(path=str(sample_nq), format=pyoxigraph.RdfFormat.N_QUADS):
        if q.predicate.value not in declared:
            undeclared.add(q.predicate.value)
        obj = q.object
        if q.predicate.value == RDF_NS + "type" and obj.value not in declared:
            undeclared.add(obj.value)
        if isinstance(obj, pyoxigraph.NamedNode) and obj.value.startswith(CODE_NS) and obj.value not in codes:
            undeclared.add(obj.value)
    assert not undeclared, f"terms the ontology does not declare: {sorted(undeclared)}"


def test_codes_ttl_is_generated_from_kg_codes() -> None:
    assert (ROOT / "ontology" / "codes.ttl").read_text(encoding="utf-8") == render(), \
        "ontology/codes.ttl is stale: run python scripts/make_ontology_codes.py"


def test_ontology_files_parse() -> None:
    for path in (ROOT / "ontology").glob("*.ttl"):
        assert sum(1 for _ in pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)) > 0
