"""Small helpers the tests share: reading graphs back with an independent parser, and SPARQL over them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph

TKG = "https://w3id.org/trialkg/ontology#"
CODE = "https://w3id.org/trialkg/code/"
PREFIXES = f"""PREFIX tkg: <{TKG}>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX meshv: <http://id.nlm.nih.gov/mesh/vocab#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
FORMATS = {
    ".nt": pyoxigraph.RdfFormat.N_TRIPLES,
    ".nq": pyoxigraph.RdfFormat.N_QUADS,
    ".ttl": pyoxigraph.RdfFormat.TURTLE,
    ".trig": pyoxigraph.RdfFormat.TRIG,
}


def load(path: Path) -> pyoxigraph.Store:
    """Parse a file kg build wrote with pyoxigraph (an independent parser) into a store."""
    store = pyoxigraph.Store()
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    fmt = FORMATS[Path(name).suffix]
    if path.name.endswith(".gz"):
        import gzip

        store.load(gzip.decompress(path.read_bytes()), format=fmt)
    else:
        store.load(path=str(path), format=fmt)
    return store


def select(store: pyoxigraph.Store, query: str) -> list[tuple[str, ...]]:
    """Rows of a SELECT over the union of named graphs, each value as its plain string."""
    rows = store.query(PREFIXES + query, use_default_graph_as_union=True)
    return [tuple(("" if v is None else v.value) for v in row) for row in rows]


def triples(store: pyoxigraph.Store) -> set[tuple[str, str, str]]:
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in store}


def assert_pass_tests_agree(record: Any) -> int:
    """The compiled checker's quick pass test of each shape gives, on every focus node of ``record`` (a
    kg.shacl.RecordTriples), the answer of the full check: passes exactly when the full check finds nothing.
    Returns how many (shape, focus) pairs were compared."""
    from kg.shacl import _NO_INDEX, _Record
    from kg.validate import load_shapes

    compiled = load_shapes().compiled
    rec = _Record(record.triples)
    compared = 0
    for targets, tests in compiled._by_target:
        for focus in compiled._focus(targets, rec):
            d = rec.out.get(focus, _NO_INDEX)
            for _, passes, shape in tests:
                full = compiled._failures(shape, focus, rec, d)
                assert passes(focus, d, rec) == (not full), (shape.iri, focus, full)
                compared += 1
    return compared
