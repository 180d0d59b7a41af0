"""The ontology's terms as closed namespaces: ``TKG.phase`` is the N-Triples form of a declared term.

The terms are read from the ``ontology/*.ttl`` files, so a term the ontology does not declare is an
AttributeError when the mapping is imported, not a new IRI in the graph.
"""

from __future__ import annotations

import pyoxigraph

from kg.resources import ontology_files

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
NAMESPACES = {
    "tkg": "https://w3id.org/trialkg/ontology#",
    "schema": "https://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "owl": OWL_NS,
    "rdf": RDF_NS,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "meshv": "http://id.nlm.nih.gov/mesh/vocab#",
    "fabio": "http://purl.org/spar/fabio/",
    "obo": "http://purl.obolibrary.org/obo/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "void": "http://rdfs.org/ns/void#",
}
_DECLARING_TYPES = {OWL_NS + t for t in ("Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty")}
_BUILT_IN = {RDF_NS + "type"}


def declared_terms() -> frozenset[str]:
    """Every class and property IRI the ontology files declare."""
    found = set(_BUILT_IN)
    for path in ontology_files():
        with path.open("rb") as f:
            found.update(
                t.subject.value
                for t in pyoxigraph.parse(f, format=pyoxigraph.RdfFormat.TURTLE)
                if t.predicate.value == RDF_NS + "type" and t.object.value in _DECLARING_TYPES
            )
    return frozenset(found)


class ClosedNamespace:
    """Attribute access to the declared terms of one namespace, as ``<iri>`` strings.

    An undeclared term is the usual AttributeError (with Python's "Did you mean" suggestion from the declared
    ones). The class defines no ``__getattr__``: with one, CPython 3.11 reads every term the slow way, and the
    mapping reads hundreds of terms per record."""

    def __init__(self, prefix: str, base: str, terms: frozenset[str]) -> None:
        self._prefix = prefix
        self._base = base
        self._names = sorted(t[len(base):] for t in terms if t.startswith(base) and "/" not in t[len(base):])
        for name in self._names:
            setattr(self, name, f"<{base}{name}>")

    def iri(self, name: str) -> str:
        """The bare IRI (no angle brackets) of a declared term."""
        return getattr(self, name)[1:-1]


_TERMS = declared_terms()
TKG = ClosedNamespace("tkg", NAMESPACES["tkg"], _TERMS)
SCHEMA = ClosedNamespace("schema", NAMESPACES["schema"], _TERMS)
DCTERMS = ClosedNamespace("dcterms", NAMESPACES["dcterms"], _TERMS)
PROV = ClosedNamespace("prov", NAMESPACES["prov"], _TERMS)
SKOS = ClosedNamespace("skos", NAMESPACES["skos"], _TERMS)
OWL = ClosedNamespace("owl", NAMESPACES["owl"], _TERMS)
RDF = ClosedNamespace("rdf", NAMESPACES["rdf"], _TERMS)
RDFS = ClosedNamespace("rdfs", NAMESPACES["rdfs"], _TERMS)
MESHV = ClosedNamespace("meshv", NAMESPACES["meshv"], _TERMS)
FABIO = ClosedNamespace("fabio", NAMESPACES["fabio"], _TERMS)
OBO = ClosedNamespace("obo", NAMESPACES["obo"], _TERMS)
