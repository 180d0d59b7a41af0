"""Validate: check record graphs against the SHACL shapes in ``shapes/``, record by record, never the whole graph.

The shapes are parsed and compiled once per process. Records stream in (from a build, an N-Triples /
N-Quads / Turtle / TriG file, or an Oxigraph store) and are grouped per record graph; each record graph is
checked on its own by the compiled shapes (:class:`CompiledShapes`: SHACL Core checks as Python functions
over the record's pyoxigraph terms). pyshacl is the reference: the tests check that both give the same
results, and pyshacl checks the records (in batches, on rdflib graphs) when the shapes use a feature the
compiled checker does not implement, or when asked (``engine="pyshacl"``). Every result becomes a
:class:`Violation` naming the trial, focus node, path, value, message, severity and shape.

Why not pyshacl for every record: ~26 ms of CPU per record (rdflib graph building, a full result for every
failing sh:or branch), 9x the build; the compiled shapes take ~3.7 ms (bench/RESULTS-validate.md). pyshacl
over an Oxigraph store was ~1000x slower and wrong (xsd:string literals did not match plain ones in
``sh:in``); pyrudof 0.3.35 agreed with pyshacl on every shape case but took ~14 ms per record.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection

from kg.report import Problem
from kg.resources import resource_dir

SH = "http://www.w3.org/ns/shacl#"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
SHAPES_NS = "https://w3id.org/trialkg/shapes#"
# pyshacl checks batches of record graphs (the compiled shapes one record at a time), cut at this many records
# or triples, whichever comes first: big enough that pyshacl's cost per shape is spread over many focus nodes,
# small enough to keep memory flat (~2 KB per rdflib triple).
BATCH_RECORDS = 100
BATCH_TRIPLES = 60_000
SEVERITIES = ("Violation", "Warning", "Info")

_FORMATS = {
    ".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS, ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
}
# The trial a node belongs to, from the IRIs the mapping mints (kg.identity): the NCT IRI, a trial part
# {base}trial/{id}/{kind}/{n}, a record graph {base}graph/{id}/{source}. Ids without an NCT number are
# {organisation slug}/{id slug}, two segments.
_NCT_IRI = re.compile(r"^https://clinicaltrials\.gov/study/(NCT\d{8})$")
_MINTED = re.compile(r"/(?:trial|graph)/(NCT\d{8}|[^/]+/[^/]+)(?:/|$)")


def trial_of(iri: str) -> str | None:
    """The trial id (NCT id, else organisation/id slug) in an IRI the mapping minted for a trial, if any."""
    m = _NCT_IRI.match(iri) or _MINTED.search(iri)
    return m.group(1) if m else None


# ------------------------------------------------------------------------------------------ results
@dataclass(frozen=True, slots=True)
class Violation:
    """One SHACL result, in terms a person can act on."""

    trial: str | None  # the record it was found in (NCT id or trial id)
    focus: str  # the node that fails, as an IRI (or literal text)
    path: str | None  # the property checked
    value: str | None  # the offending value, if the constraint has one
    message: str
    severity: str  # Violation, Warning or Info
    shape: str  # the shape's IRI, e.g. https://w3id.org/trialkg/shapes#ClinicalStudy-overallStatus
    constraint: str = ""  # the SHACL constraint component, e.g. MinCountConstraintComponent

    @property
    def shape_name(self) -> str:
        return self.shape.removeprefix(SHAPES_NS)

    def __str__(self) -> str:
        where = f"{self.trial or '-'} {self.focus}" + (f" {self.path}" if self.path else "")
        what = f" value {self.value!r}" if self.value is not None else ""
        return f"{self.severity}: {where}{what}: {self.message} [{self.shape_name}]"


@dataclass
class ShapeSummary:
    shape: str
    severity: str
    count: int
    message: str


@dataclass
class ValidationReport:
    """Every result found, and how many records were checked and did not conform."""

    violations: list[Violation] = field(default_factory=list)
    records: int = 0
    failed: set[str] = field(default_factory=set)  # records with at least one sh:Violation

    @property
    def conforms(self) -> bool:
        return not any(v.severity == "Violation" for v in self.violations)

    def counts(self) -> Counter[str]:
        return Counter(v.severity for v in self.violations)

    def by_shape(self) -> list[ShapeSummary]:
        """One line per (shape, severity): how often it fired, most frequent first."""
        counts: Counter[tuple[str, str]] = Counter()
        messages: dict[tuple[str, str], str] = {}
        for v in self.violations:
            key = (v.shape, v.severity)
            counts[key] += 1
            messages.setdefault(key, v.message)
        order = sorted(counts.items(), key=lambda kv: (SEVERITIES.index(kv[0][1]) if kv[0][1] in SEVERITIES
                                                       else 9, -kv[1], kv[0][0]))
        return [ShapeSummary(shape, sev, n, messages[(shape, sev)]) for (shape, sev), n in order]

    def summary(self) -> str:
        c = self.counts()
        return (f"{self.records} graphs checked, {len(self.failed)} records do not conform: "
                f"{c['Violation']} violations, {c['Warning']} warnings, {c['Info']} infos")

    def add(self, found: Iterable[Violation], records: int) -> None:
        for v in found:
            self.violations.append(v)
            if v.severity == "Violation":
                self.failed.add(v.trial or v.focus)
        self.records += records

    def to_json(self, limit: int | None = None) -> dict[str, Any]:
        shown = self.violations if limit is None else self.violations[:limit]
        return {
            "conforms": self.conforms,
            "records": self.records,
            "records_not_conforming": len(self.failed),
            "counts": {s: self.counts()[s] for s in SEVERITIES},
            "violations": [asdict(v) for v in shown],
            "violations_total": len(self.violations),
            "summary": [asdict(s) for s in self.by_shape()],
        }


# ------------------------------------------------------------------------------------------ shapes
class UnsupportedShapes(ValueError):
    """The shapes use a SHACL feature the compiled checker does not implement; pyshacl checks them instead."""


@dataclass
class Shapes:
    """The parsed shapes graph, compiled once per process and shared by every record."""

    graph: rdflib.Graph
    compiled: CompiledShapes | None  # None when the shapes use a feature only pyshacl implements
    unsupported: str = ""  # why they could not be compiled
    _harvest: Any = None

    @property
    def shapes_graph(self) -> Any:  # pyshacl.shapes_graph.ShapesGraph, harvested on first use only
        if self._harvest is None:
            from pyshacl.shapes_graph import ShapesGraph

            self._harvest = ShapesGraph(self.graph)
            _ = self._harvest.shapes
        return self._harvest


def shapes_file() -> Path:
    return resource_dir("shapes") / "trialkg.ttl"


@cache
def load_shapes(path: str | None = None) -> Shapes:
    graph = rdflib.Graph()
    graph.parse(path or str(shapes_file()), format="turtle")
    try:
        return Shapes(graph, CompiledShapes(graph))
    except UnsupportedShapes as e:
        return Shapes(graph, None, str(e))


# ------------------------------------------------------------------------------------------ terms
class _Terms:
    """pyoxigraph terms to rdflib terms, with IRIs and literals reused: record graphs repeat them a lot."""

    def __init__(self) -> None:
        self._iris: dict[str, URIRef] = {}
        self._literals: dict[tuple[str, str | None, str | None], Literal] = {}

    def __call__(self, term: Any) -> Any:
        if isinstance(term, ox.NamedNode):
            value = term.value
            found = self._iris.get(value)
            if found is None:
                found = self._iris[value] = URIRef(value)
            return found
        if isinstance(term, ox.Literal):
            lang = term.language
            dt = None if lang else term.datatype.value
            if dt == XSD_STRING:
                dt = None  # rdflib and the shapes' sh:in lists write plain strings without a datatype
            key = (term.value, dt, lang)
            lit = self._literals.get(key)
            if lit is None:
                lit = self._literals[key] = Literal(term.value, datatype=dt, lang=lang)
            return lit
        return BNode(term.value)

    def clear(self) -> None:
        # Literals are per record mostly; keep the cache from growing over a whole file.
        if len(self._literals) > 200_000:
            self._literals.clear()
        if len(self._iris) > 500_000:
            self._iris.clear()


# ------------------------------------------------------------------------------------------ compiled checker
# The shapes compiled into Python checks over one record's pyoxigraph triples. It implements the SHACL Core
# subset the shapes use, with pyshacl's semantics where SHACL leaves room (pattern on the lexical form,
# ill-typed literals, literal comparison); a shapes file using anything else is left to pyshacl
# (UnsupportedShapes). tests/test_shapes.py and tests/test_validate.py check that both give the same results.
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
_R = rdflib.Namespace(SH)
_RDF = rdflib.RDF
_NONE: frozenset[Any] = frozenset()
_NO_INDEX: dict[Any, Any] = {}
_TARGETS = {_R.targetClass: "class", _R.targetNode: "node", _R.targetObjectsOf: "objects",
            _R.targetSubjectsOf: "subjects"}
# Parameters read by _compile (plus targets); any other sh: term on a shape makes it unsupported.
_PARAMS = {_R.path, _R.message, _R.severity, _R.name, _R.description, _R.order, _R.group, _R.deactivated,
           _R.minCount, _R.maxCount, _R.datatype, _R.nodeKind, _R.pattern, _R.flags, _R.minLength, _R.maxLength,
           _R["in"], _R["class"], _R.minInclusive, _R.maxInclusive, _R.minExclusive, _R.maxExclusive, _R["or"],
           _R.node, _R.property, *_TARGETS}
_NODE_KINDS = {
    _R.IRI: (ox.NamedNode,), _R.Literal: (ox.Literal,), _R.BlankNode: (ox.BlankNode,),
    _R.BlankNodeOrIRI: (ox.BlankNode, ox.NamedNode), _R.BlankNodeOrLiteral: (ox.BlankNode, ox.Literal),
    _R.IRIOrLiteral: (ox.NamedNode, ox.Literal),
}
_RANGES = {  # parameter: (component, test on pyshacl's compare_literal(value, bound))
    _R.minInclusive: ("MinInclusiveConstraintComponent", lambda c: c >= 0),
    _R.maxInclusive: ("MaxInclusiveConstraintComponent", lambda c: c <= 0),
    _R.minExclusive: ("MinExclusiveConstraintComponent", lambda c: c > 0),
    _R.maxExclusive: ("MaxExclusiveConstraintComponent", lambda c: c < 0),
}
_RDF_LANGSTRING = str(_RDF.langString)
_XSD = "http://www.w3.org/2001/XMLSchema#"


def _date(lexical: str) -> date | None:
    try:
        return date(int(lexical[:4]), int(lexical[5:7]), int(lexical[8:10]))
    except ValueError:
        return None


# Lexical forms rdflib surely parses to the value pyshacl expects (datatype: (form, value)); any other form
# is left to rdflib itself, so the compiled checks agree with pyshacl on odd ones too.
_FAST_NUMBERS: dict[str, tuple[re.Pattern[str], Callable[[str], Any]]] = {
    _XSD + "decimal": (re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,20})?\Z"), Decimal),
    _XSD + "integer": (re.compile(r"-?[0-9]{1,18}\Z"), int),
}
_FAST: dict[str, tuple[re.Pattern[str], Callable[[str], Any]]] = {
    **_FAST_NUMBERS,
    _XSD + "boolean": (re.compile(r"(true|false|1|0)\Z"), lambda s: s),
    _XSD + "date": (re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}\Z"), _date),
    _XSD + "gYearMonth": (re.compile(r"[1-9][0-9]{3}-(0[1-9]|1[0-2])\Z"), lambda s: s),
    _XSD + "gYear": (re.compile(r"[1-9][0-9]{3}\Z"), lambda s: s),
}
_RDFS_LITERAL = "http://www.w3.org/2000/01/rdf-schema#Literal"
_RDFS_DATATYPE = "http://www.w3.org/2000/01/rdf-schema#Datatype"


class _Record:
    """One record graph, indexed: subject -> predicate -> objects, with inverse and class indexes made lazily."""

    __slots__ = ("out", "_inverse", "_classes", "_objects")

    def __init__(self, triples: Iterable[tuple[Any, Any, Any]]) -> None:
        out: dict[Any, dict[Any, set[Any]]] = {}
        for s, p, o in triples:
            d = out.get(s)
            if d is None:
                out[s] = {p: {o}}
            else:
                found = d.get(p)
                if found is None:
                    d[p] = {o}
                else:
                    found.add(o)
        self.out = out
        self._inverse: dict[Any, dict[Any, set[Any]]] = {}
        self._classes: dict[Any, set[Any]] | None = None
        self._objects: dict[Any, set[Any]] = {}

    def inverse(self, p: Any) -> dict[Any, set[Any]]:
        found = self._inverse.get(p)
        if found is None:
            found = self._inverse[p] = {}
            for s, d in self.out.items():
                for o in d.get(p, _NONE):
                    found.setdefault(o, set()).add(s)
        return found

    def objects_of(self, p: Any) -> set[Any]:
        found = self._objects.get(p)
        if found is None:
            found = self._objects[p] = {o for d in self.out.values() for o in d.get(p, _NONE)}
        return found

    def _supers(self, cls: Any, seen: set[Any]) -> set[Any]:
        """cls and its rdfs:subClassOf ancestors in this graph (SHACL instances follow them)."""
        seen.add(cls)
        for parent in self.out.get(cls, _NO_INDEX).get(RDFS_SUBCLASS, _NONE):
            if parent not in seen:
                self._supers(parent, seen)
        return seen

    def classes(self) -> dict[Any, set[Any]]:
        """class -> its instances, counting instances of its subclasses."""
        if self._classes is None:
            direct: dict[Any, set[Any]] = {}
            for s, d in self.out.items():
                for t in d.get(RDF_TYPE, _NONE):
                    direct.setdefault(t, set()).add(s)
            if any(RDFS_SUBCLASS in d for d in self.out.values()):
                closed: dict[Any, set[Any]] = {}
                for t, members in direct.items():
                    for c in self._supers(t, set()):
                        closed.setdefault(c, set()).update(members)
                direct = closed
            self._classes = direct
        return self._classes

    def is_instance(self, node: Any, cls: Any) -> bool:
        return node in self.classes().get(cls, _NONE)


# A path is ("p", predicate), ("^", predicate) or ("|", (path, ...)).
PathSpec = tuple[str, Any]


def _values(rec: _Record, focus: Any, path: PathSpec) -> set[Any]:
    kind, arg = path
    if kind == "p":
        return rec.out.get(focus, _NO_INDEX).get(arg, _NONE)
    if kind == "^":
        return rec.inverse(arg).get(focus, _NONE)
    found: set[Any] = set()
    for sub in arg:
        found |= _values(rec, focus, sub)
    return found


@dataclass(slots=True)
class _Shape:
    iri: str  # "" for a blank-node (nested) shape
    path: PathSpec | None  # None for a node shape: its value node is the focus node
    predicate: Any  # the path's predicate when the path is one predicate (the common, fast case)
    result_path: str | None  # the sh:path IRI when it is a single predicate, as pyshacl reports it
    targets: tuple[tuple[str, Any], ...]
    min_count: int  # 0 when not given
    max_count: float  # infinity when not given
    # (component, test(value, record)) for each constraint on single value nodes
    checks: list[tuple[str, Callable[[Any, _Record], bool]]]
    nested: list[_Shape]  # sh:property of a nested shape: it conforms only if these do
    severity: str
    message: str
    deactivated: bool


class CompiledShapes:
    """The shapes as Python checks; ``check`` gives the same results as pyshacl on one record graph."""

    def __init__(self, graph: rdflib.Graph) -> None:
        self._graph = graph
        self._terms = _Terms()
        self._datatype_ok: dict[tuple[Any, str], bool] = {}
        self._nested: dict[Any, _Shape] = {}
        self._compiling: set[Any] = set()
        roots = {s for p in _TARGETS for s in graph.subjects(p, None)}
        for s in roots:
            if (s, _RDF.type, rdflib.RDFS.Class) in graph or (s, _RDF.type, rdflib.OWL.Class) in graph:
                raise UnsupportedShapes(f"{s}: implicit class targets")
        self.shapes = [self._compile(s, top=True) for s in sorted(roots, key=str)]
        self.shapes = [s for s in self.shapes if not s.deactivated]
        groups: dict[tuple[tuple[str, Any], ...], list[_Shape]] = {}
        for shape in self.shapes:
            groups.setdefault(shape.targets, []).append(shape)
        self._by_target = list(groups.items())  # focus nodes found once per target, not once per shape

    # ---------------------------------------------------------------- compiling
    def _one(self, node: Any, p: Any) -> Any:
        found = list(self._graph.objects(node, p))
        if len(found) > 1:
            raise UnsupportedShapes(f"{node}: {len(found)} values of {p}")
        return found[0] if found else None

    def _term(self, t: Any) -> Any:
        if isinstance(t, URIRef):
            return ox.NamedNode(str(t))
        if isinstance(t, Literal) and t.datatype is None and not t.language:
            # Plain strings, as data strings reach pyshacl (_Terms); other literals compare in rdflib's own way.
            return ox.Literal(str(t))
        raise UnsupportedShapes(f"{t!r} as a term to compare")

    def _path(self, node: Any) -> PathSpec:
        if isinstance(node, URIRef):
            return ("p", ox.NamedNode(str(node)))
        g = self._graph
        inverse = self._one(node, _R.inversePath)
        if isinstance(inverse, URIRef) and len(list(g.predicate_objects(node))) == 1:
            return ("^", ox.NamedNode(str(inverse)))
        alternatives = self._one(node, _R.alternativePath)
        if alternatives is not None and len(list(g.predicate_objects(node))) == 1:
            return ("|", tuple(self._path(p) for p in Collection(g, alternatives)))
        raise UnsupportedShapes(f"{node}: a path other than a predicate, ^predicate or alternatives")

    def _compile(self, node: Any, top: bool = False) -> _Shape:
        g = self._graph
        for p in set(g.predicates(node, None)):
            if str(p).startswith(SH) and p not in _PARAMS:
                raise UnsupportedShapes(f"{node}: {p} is not implemented by the compiled checker")
        path_node = self._one(node, _R.path)
        path = None if path_node is None else self._path(path_node)
        targets = tuple(sorted(((kind, self._term(t) if kind != "node" else self._node_term(t))
                                for p, kind in _TARGETS.items() for t in g.objects(node, p)), key=str))
        messages = list(g.objects(node, _R.message))
        if top and len(messages) != 1:
            raise UnsupportedShapes(f"{node}: a targeted shape needs exactly one sh:message")
        if top and not isinstance(node, URIRef):
            raise UnsupportedShapes(f"{node}: a targeted blank-node shape")
        if top and (node, _R.property, None) in g:
            raise UnsupportedShapes(f"{node}: sh:property on a targeted shape")
        deactivated = self._one(node, _R.deactivated)
        min_count, max_count = self._one(node, _R.minCount), self._one(node, _R.maxCount)
        return _Shape(
            iri=str(node) if isinstance(node, URIRef) else "",
            path=path,
            predicate=path[1] if path is not None and path[0] == "p" else None,
            result_path=str(path_node) if isinstance(path_node, URIRef) else None,
            targets=targets,
            min_count=0 if min_count is None else int(min_count),
            max_count=float("inf") if max_count is None else int(max_count),
            checks=self._checks(node),
            nested=[self._nested_shape(p) for p in g.objects(node, _R.property)],
            severity=str(self._one(node, _R.severity) or _R.Violation).removeprefix(SH),
            message=str(messages[0]) if messages else "",
            deactivated=bool(deactivated is not None and deactivated.toPython() is True),
        )

    def _node_term(self, t: Any) -> Any:
        if isinstance(t, Literal):
            return ox.Literal(str(t), datatype=ox.NamedNode(str(t.datatype))) if t.datatype else ox.Literal(str(t))
        return self._term(t)

    def _nested_shape(self, node: Any) -> _Shape:
        found = self._nested.get(node)
        if found is None:
            if node in self._compiling:
                raise UnsupportedShapes(f"{node}: a shape that refers to itself")
            self._compiling.add(node)
            found = self._nested[node] = self._compile(node)
        return found

    def _checks(self, node: Any) -> list[tuple[str, Callable[[Any, _Record], bool]]]:
        one, checks = (lambda p: self._one(node, p)), []
        if (dt := one(_R.datatype)) is not None:
            checks.append(("DatatypeConstraintComponent", self._datatype_check(str(dt))))
        if (kind := one(_R.nodeKind)) is not None:
            if kind not in _NODE_KINDS:
                raise UnsupportedShapes(f"{node}: sh:nodeKind {kind}")
            kinds = _NODE_KINDS[kind]
            checks.append(("NodeKindConstraintComponent", lambda v, _r: isinstance(v, kinds)))
        if (pattern := one(_R.pattern)) is not None:
            flags = str(one(_R.flags) or "").lower()
            rx = re.compile(str(pattern), (re.I if "i" in flags else 0) | (re.M if "m" in flags else 0))
            checks.append(("PatternConstraintComponent",
                           lambda v, _r: not isinstance(v, ox.BlankNode) and rx.search(self.text(v)) is not None))
        if (n := one(_R.minLength)) is not None:
            least = int(n)
            checks.append(("MinLengthConstraintComponent", lambda v, _r: least == 0 or (
                not isinstance(v, ox.BlankNode) and len(self.text(v)) >= least)))
        if (n := one(_R.maxLength)) is not None:
            most = int(n)
            checks.append(("MaxLengthConstraintComponent",
                           lambda v, _r: not isinstance(v, ox.BlankNode) and len(self.text(v)) <= most))
        if (items := one(_R["in"])) is not None:
            allowed = frozenset(self._term(t) for t in Collection(self._graph, items))
            checks.append(("InConstraintComponent", lambda v, _r: v in allowed))
        if (cls := one(_R["class"])) is not None:
            c = self._term(cls)
            checks.append(("ClassConstraintComponent",
                           lambda v, r: not isinstance(v, ox.Literal) and r.is_instance(v, c)))
        for param, (component, test) in _RANGES.items():
            if (bound := one(param)) is not None:
                checks.append((component, self._range_check(bound, test)))
        if (alternatives := one(_R["or"])) is not None:
            shapes = [self._nested_shape(s) for s in Collection(self._graph, alternatives)]
            checks.append(("OrConstraintComponent", lambda v, r: any(self._conforms(s, v, r) for s in shapes)))
        if (other := one(_R.node)) is not None:
            shape = self._nested_shape(other)
            checks.append(("NodeConstraintComponent", lambda v, r: self._conforms(shape, v, r)))
        return checks

    # ---------------------------------------------------------------- value tests, as pyshacl does them
    def text(self, v: Any) -> str:
        """A node as pyshacl's string constraints and its report see it (rdflib may normalise typed literals)."""
        if isinstance(v, ox.Literal) and v.language is None and v.datatype.value != XSD_STRING:
            return str(self._terms(v))
        return v.value

    def _rdflib_datatype_ok(self, v: Any, rule: str) -> bool:
        """pyshacl's test for a literal of the rule's datatype: rdflib parses it (not ill-typed) to a Python
        value of the expected type. Cached: dates and codes repeat across records."""
        key = (v, rule)
        found = self._datatype_ok.get(key)
        if found is None:
            lit = self._terms(v)
            found = lit.ill_typed is not True and bool(self._actual(None, lit, URIRef(rule)))
            if len(self._datatype_ok) > 200_000:
                self._datatype_ok.clear()
            self._datatype_ok[key] = found
        return found

    def _datatype_check(self, rule: str) -> Callable[[Any, _Record], bool]:
        from pyshacl.constraints.core.value_constraints import DatatypeConstraintComponent

        self._actual = DatatypeConstraintComponent._assert_actual_datatype  # the Python type pyshacl expects
        if rule == XSD_STRING:
            string = ox.NamedNode(XSD_STRING)
            return lambda v, _r: type(v) is ox.Literal and v.datatype == string and v.language is None
        fast = _FAST.get(rule)
        rule_node = ox.NamedNode(rule)

        def ok(v: Any, _r: _Record) -> bool:
            if type(v) is not ox.Literal:
                return False
            if rule == _RDFS_LITERAL:
                return True
            if v.language is not None:
                return rule == _RDF_LANGSTRING
            if rule == _RDFS_DATATYPE:
                return v.datatype.value != XSD_STRING  # rdflib keeps plain strings without a datatype
            if v.datatype != rule_node:
                return False
            if fast is not None and fast[0].match(v.value) and fast[1](v.value) is not None:
                return True  # a lexical form rdflib surely parses to the expected type
            return self._rdflib_datatype_ok(v, rule)

        return ok

    def _range_check(self, bound: Any, test: Callable[[int], bool]) -> Callable[[Any, _Record], bool]:
        from pyshacl.rdfutil.compare import compare_literal

        if not isinstance(bound, Literal):
            raise UnsupportedShapes(f"{bound!r} as a range bound")
        bound_is_string = isinstance(bound.value, str)
        numeric_bound = isinstance(bound.value, (int, Decimal)) and not isinstance(bound.value, bool)

        def ok(v: Any, _r: _Record) -> bool:
            if type(v) is not ox.Literal:
                return False
            if numeric_bound and v.language is None:
                fast = _FAST_NUMBERS.get(v.datatype.value)
                if fast is not None and fast[0].match(v.value):
                    value = fast[1](v.value)  # rdflib compares well-formed numbers by value
                    return test(0 if value == bound.value else 1 if value > bound.value else -1)
            lit = self._terms(v)
            if isinstance(lit.value, str) != bound_is_string:
                return False
            try:
                return test(compare_literal(lit, bound))
            except (TypeError, NotImplementedError, ArithmeticError):  # pyshacl itself raises on "NaN"^^xsd:decimal
                return False

        return ok

    # ---------------------------------------------------------------- evaluation
    def _failures(self, shape: _Shape, focus: Any, rec: _Record) -> list[tuple[str, Any]]:
        """(constraint component, value or None) for each way ``focus`` fails ``shape``; mostly empty."""
        if shape.predicate is not None:
            values = rec.out.get(focus, _NO_INDEX).get(shape.predicate, _NONE)
        else:
            values = {focus} if shape.path is None else _values(rec, focus, shape.path)
        found = []
        n = len(values)
        if n < shape.min_count:
            found.append(("MinCountConstraintComponent", None))
        if n > shape.max_count:
            found.append(("MaxCountConstraintComponent", None))
        if n:
            for component, ok in shape.checks:
                for v in values:
                    if not ok(v, rec):
                        found.append((component, v))
            for nested in shape.nested:
                for v in values:
                    if not self._conforms(nested, v, rec):
                        found.append(("PropertyConstraintComponent", v))  # only asked whether it conforms
        return found

    def _conforms(self, shape: _Shape, focus: Any, rec: _Record) -> bool:
        return shape.deactivated or not self._failures(shape, focus, rec)

    @staticmethod
    def _focus(targets: tuple[tuple[str, Any], ...], rec: _Record) -> set[Any]:
        found: set[Any] = set()
        for kind, t in targets:
            if kind == "class":
                found |= rec.classes().get(t, _NONE)
            elif kind == "node":
                found.add(t)
            elif kind == "objects":
                found |= rec.objects_of(t)
            else:
                found.update(s for s, d in rec.out.items() if t in d)
        return found

    def check(self, record: RecordTriples, only: Iterable[str] = ()) -> list[Violation]:
        """The results of one record graph (optionally of some shapes only), sorted as :func:`_violations` does."""
        rec = _Record(record.triples)
        wanted = set(only)
        out = []
        for targets, shapes in self._by_target:
            focus = self._focus(targets, rec)
            if not focus:
                continue
            for shape in shapes:
                if wanted and shape.iri not in wanted:
                    continue
                pred, optional = shape.predicate, shape.min_count == 0
                for f in focus:
                    if optional and pred is not None and pred not in rec.out.get(f, _NO_INDEX):
                        continue  # no value, none required: nothing to check (most shapes, most nodes)
                    for component, value in self._failures(shape, f, rec):
                        out.append(self._result(shape, f, value, component, record.label, rec))
        self._terms.clear()
        out.sort(key=_order)
        return out

    def _result(self, shape: _Shape, focus: Any, value: Any, component: str, label: str | None,
                rec: _Record) -> Violation:
        if shape.path is None:
            value = focus  # a node shape's value node is its focus node
        trial = label if label is not None and (focus in rec.out or value in rec.out) else None
        focus_text = self.text(focus)
        value_text = None if value is None else self.text(value)
        if trial is None:
            trial = trial_of(focus_text) or (trial_of(value_text) if isinstance(value, ox.NamedNode) else None)
        return Violation(trial, focus_text, shape.result_path, value_text, shape.message, shape.severity,
                         shape.iri, component)


# ------------------------------------------------------------------------------------------ batches
@dataclass
class RecordTriples:
    label: str | None  # the trial id, if one could be seen
    triples: list[tuple[Any, Any, Any]]  # pyoxigraph terms


def _order(v: Violation) -> tuple[Any, ...]:
    return (v.trial or "", SEVERITIES.index(v.severity) if v.severity in SEVERITIES else 9, v.shape, v.focus,
            v.value or "")


def _validate_batch(records: list[RecordTriples], shapes: Shapes, terms: _Terms) -> list[Violation]:
    """pyshacl: one batch of record graphs as one rdflib graph; the records must be of different trials."""
    graph = rdflib.Graph()
    owner: dict[Any, str] = {}
    add = graph.add
    for rec in records:
        for s, p, o in rec.triples:
            triple = (terms(s), terms(p), terms(o))
            add(triple)
            if rec.label is not None:
                owner.setdefault(triple[0], rec.label)
    terms.clear()
    return _run(graph, shapes, owner)


def _run(graph: rdflib.Graph, shapes: Shapes, owner: dict[Any, str], only: list[str] | None = None
         ) -> list[Violation]:
    from pyshacl.graph_abstraction import DataGraph
    from pyshacl.validator import Validator

    options: dict[str, Any] = {"inference": "none", "advanced": False}
    if only:
        options["use_shapes"] = only
    validator = Validator(DataGraph.from_rdflib(graph), shacl_graph=shapes.graph, options=options)
    validator.shacl_graph = shapes.shapes_graph  # reuse the shapes harvested once, not per batch
    conforms, report, _text = validator.run()
    return [] if conforms else _violations(report, owner)


def validate_graph(graph: rdflib.Graph, only: Iterable[str] = (), shapes: Shapes | None = None) -> list[Violation]:
    """Violations in a small rdflib graph (one record, a test case) by pyshacl, the reference, optionally
    against some shapes only."""
    return _run(graph, shapes or load_shapes(), {}, list(only) or None)


def _text(node: Any) -> str | None:
    return None if node is None else str(node)


def _violations(report: rdflib.Graph, owner: dict[Any, str]) -> list[Violation]:
    def one(s: Any, p: str) -> Any:
        return report.value(s, URIRef(SH + p))

    out = []
    # Only the report's own results: those of nested shapes (sh:node ...) hang below them as sh:detail.
    for r in report.objects(None, URIRef(SH + "result")):
        focus, value, path = one(r, "focusNode"), one(r, "value"), one(r, "resultPath")
        trial = owner.get(focus) or (owner.get(value) if value is not None else None)
        trial = trial or trial_of(str(focus)) or (trial_of(str(value)) if isinstance(value, URIRef) else None)
        severity = str(one(r, "resultSeverity") or SH + "Violation").removeprefix(SH)
        shape = one(r, "sourceShape")
        out.append(Violation(
            trial=trial,
            focus=str(focus),
            path=None if isinstance(path, BNode) else _text(path),  # a complex path (alternative, inverse)
            value=_text(value),
            message=str(one(r, "resultMessage") or ""),
            severity=severity,
            shape=str(shape) if isinstance(shape, URIRef) else "",
            constraint=str(one(r, "sourceConstraintComponent") or "").removeprefix(SH),
        ))
    out.sort(key=_order)
    return out


def _batches(records: Iterable[RecordTriples], max_records: int, max_triples: int) -> Iterator[list[RecordTriples]]:
    """Batches of records; two records of one trial (two renderings, two versions) never share a batch,
    since their graphs together would give the trial two titles."""
    batch: list[RecordTriples] = []
    seen: set[str] = set()
    size = 0
    for rec in records:
        if batch and (len(batch) >= max_records or size >= max_triples or (rec.label and rec.label in seen)):
            yield batch
            batch, seen, size = [], set(), 0
        batch.append(rec)
        size += len(rec.triples)
        if rec.label:
            seen.add(rec.label)
    if batch:
        yield batch


ENGINES = ("compiled", "pyshacl")


def validate_records(
    records: Iterable[RecordTriples], shapes: Shapes | None = None, report: ValidationReport | None = None,
    max_records: int = BATCH_RECORDS, max_triples: int = BATCH_TRIPLES, engine: str = "compiled",
) -> ValidationReport:
    """Check each record graph: by the compiled shapes one record at a time (pyshacl when the shapes cannot
    be compiled), or with ``engine="pyshacl"`` by pyshacl in batches of records."""
    if engine not in ENGINES:
        raise ValueError(f"unknown validation engine {engine!r}; use one of {', '.join(ENGINES)}")
    shapes = shapes or load_shapes()
    report = report if report is not None else ValidationReport()
    compiled = shapes.compiled if engine == "compiled" else None
    if compiled is not None:
        for rec in records:
            report.add(compiled.check(rec), 1)
        return report
    terms = _Terms()
    for batch in _batches(records, max_records, max_triples):
        report.add(_validate_batch(batch, shapes, terms), len(batch))
    return report


# ------------------------------------------------------------------------------------------ inputs
def _group_quads(quads: Iterable[Any]) -> Iterator[RecordTriples]:
    """Records from a quad stream: one per named graph (the build writes each graph's quads together)."""
    current: Any = object()
    rec: RecordTriples | None = None
    for s, p, o, g in quads:
        if g != current:
            if rec is not None:
                yield rec
            current = g
            label = trial_of(g.value) if isinstance(g, ox.NamedNode) else None
            rec = RecordTriples(label, [])
        rec.triples.append((s, p, o))  # type: ignore[union-attr]
    if rec is not None:
        yield rec


def _group_triples(triples: Iterable[Any]) -> Iterator[RecordTriples]:
    """Records from a triple stream (N-Triples, Turtle): a new record starts where a subject minted for
    another trial appears; canonical organisations, people and MeSH nodes stay with the record around them."""
    rec: RecordTriples | None = None
    for t in triples:
        s = t.subject
        key = trial_of(s.value) if isinstance(s, ox.NamedNode) else None
        if rec is None or (key is not None and key != rec.label):
            if rec is not None:
                yield rec
            rec = RecordTriples(key, [])
        rec.triples.append((s, t.predicate, t.object))
    if rec is not None:
        yield rec


def _open(path: Path) -> tuple[IO[bytes], ox.RdfFormat]:
    name = path.name.lower()
    gz = name.endswith(".gz")
    suffix = Path(name[:-3] if gz else name).suffix
    if suffix not in _FORMATS:
        raise ValueError(f"{path}: cannot tell the RDF format; use .nt, .nq, .ttl or .trig (optionally .gz)")
    handle: IO[bytes] = gzip.open(path, "rb") if gz else open(path, "rb")  # noqa: SIM115
    return handle, _FORMATS[suffix]


def iter_file_records(path: str | Path) -> Iterator[RecordTriples]:
    """The records of an RDF file, streamed: never more than one record's triples held at once."""
    handle, fmt = _open(Path(path))
    with handle:
        parsed = ox.parse(handle, format=fmt)
        if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            yield from _group_quads(parsed)
        else:
            yield from _group_triples(parsed)


def validate_file(path: str | Path, *, shapes: Shapes | None = None, report: ValidationReport | None = None,
                  engine: str = "compiled") -> ValidationReport:
    """Validate an N-Triples, N-Quads, Turtle or TriG file (optionally gzipped), record graph by record graph."""
    return validate_records(iter_file_records(path), shapes, report, engine=engine)


def iter_store_records(store_dir: str | Path) -> Iterator[RecordTriples]:
    """Each named graph of an Oxigraph store folder, one at a time."""
    store = ox.Store.read_only(str(store_dir))
    for g in sorted(store.named_graphs(), key=lambda n: n.value):
        label = trial_of(g.value) if isinstance(g, ox.NamedNode) else None
        triples = [(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, g)]
        yield RecordTriples(label, triples)


def validate_store(store_dir: str | Path, *, shapes: Shapes | None = None,
                   report: ValidationReport | None = None, engine: str = "compiled") -> ValidationReport:
    """Validate every named graph of an Oxigraph store folder, record graph by record graph."""
    if not Path(store_dir).is_dir():
        raise ValueError(f"{store_dir}: not an Oxigraph store folder")
    return validate_records(iter_store_records(store_dir), shapes, report, engine=engine)


def validate_graph_text(nt_text: str, label: str | None = None, shapes: Shapes | None = None) -> list[Violation]:
    """Violations in one record's N-Triples (e.g. ``RecordOut.text`` of a build)."""
    return RecordValidator(shapes).check(nt_text, label)


# ------------------------------------------------------------------------------------------ build hook
class RecordValidator:
    """What a build calls per record (``check``) or per group of records (``check_many``).

    Each worker process makes its own; the shapes are loaded once per process."""

    def __init__(self, shapes: Shapes | None = None, engine: str = "compiled") -> None:
        self.shapes = shapes or load_shapes()
        self.engine = engine

    @staticmethod
    def _record(text: str, label: str | None) -> RecordTriples:
        return RecordTriples(label, [(x.subject, x.predicate, x.object)
                                     for x in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)])

    def check(self, record_text: str, label: str | None = None) -> list[Violation]:
        return self.check_many([(record_text, label)])

    def check_many(self, records: Iterable[tuple[str, str | None]]) -> list[Violation]:
        """Violations of several records' N-Triples, each checked on its own graph (pyshacl: in batches)."""
        report = ValidationReport()
        validate_records((self._record(text, label) for text, label in records), self.shapes, report,
                         engine=self.engine)
        return report.violations


SHACL_VIOLATION = "does not conform to"  # the start of a build note for a sh:Violation
_BUILD_VALIDATOR: RecordValidator | None = None


def record_problems(records: list[tuple[str, str | None]], origin: str) -> list[Problem]:
    """The SHACL results of a build's records as report notes (one validator per worker process)."""
    global _BUILD_VALIDATOR
    if _BUILD_VALIDATOR is None:
        _BUILD_VALIDATOR = RecordValidator()
    out = []
    for v in _BUILD_VALIDATOR.check_many(records):
        what = SHACL_VIOLATION if v.severity == "Violation" else f"SHACL {v.severity.lower()}:"
        value = f" (value {compact(v.value)})" if v.value is not None else ""
        out.append(Problem(origin, v.trial, compact(v.path) or None,
                           f"{what} {v.shape_name}: {v.message}{value}", "note"))
    return out


def not_conforming(problems: Iterable[Problem]) -> int:
    """How many records the build's notes say do not conform to the shapes."""
    return len({p.record for p in problems if p.message.startswith(SHACL_VIOLATION)})


def iter_violations(report: ValidationReport, severities: Iterable[str] = SEVERITIES,
                    key: Callable[[Violation], Any] | None = None) -> Iterator[Violation]:
    """The report's results of the given severities (worst first by default)."""
    wanted = set(severities)
    found = [v for v in report.violations if v.severity in wanted]
    order = key or (lambda v: (SEVERITIES.index(v.severity) if v.severity in SEVERITIES else 9, v.trial or ""))
    yield from sorted(found, key=order)


_PREFIXES = {
    "https://w3id.org/trialkg/shapes#": "tkgs:",
    "https://w3id.org/trialkg/ontology#": "tkg:",
    "https://w3id.org/trialkg/code/": "code:",
    "https://w3id.org/trialkg/trial/": "trial:",
    "https://schema.org/": "schema:",
    "http://purl.org/dc/terms/": "dcterms:",
    "http://www.w3.org/2004/02/skos/core#": "skos:",
    "http://www.w3.org/ns/prov#": "prov:",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
    "http://id.nlm.nih.gov/mesh/vocab#": "meshv:",
    "http://id.nlm.nih.gov/mesh/": "mesh:",
    "https://clinicaltrials.gov/study/": "ctgov:",
    "https://pubmed.ncbi.nlm.nih.gov/": "pubmed:",
}


def compact(iri: str | None) -> str:
    """A shorter form of a TrialKG, schema.org, MeSH ... IRI for people to read (``tkg:phase``)."""
    if not iri:
        return ""
    for ns, prefix in _PREFIXES.items():
        if iri.startswith(ns):
            return prefix + iri[len(ns):]
    return iri
