"""The compiled SHACL checker: the shapes turned into Python checks over one record graph's pyoxigraph triples,
and the results every engine reports (:class:`Violation`).

It implements the SHACL Core subset the shapes use, with pyshacl's semantics where SHACL leaves room (pattern on
the lexical form, ill-typed literals, literal comparison); a shapes file using anything else raises
:class:`UnsupportedShapes` and is checked by pyshacl (:mod:`kg.validate`). tests/test_shapes.py and
tests/test_validate.py check that both engines give the same results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection

SH = "http://www.w3.org/ns/shacl#"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
SHAPES_NS = "https://w3id.org/trialkg/shapes#"
SEVERITIES = ("Violation", "Warning", "Info")

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
class RecordTriples:
    label: str | None  # the trial id, if one could be seen
    triples: list[tuple[Any, Any, Any]]  # pyoxigraph terms


def order_key(v: Violation) -> tuple[Any, ...]:
    return (v.trial or "", SEVERITIES.index(v.severity) if v.severity in SEVERITIES else 9, v.shape, v.focus,
            v.value or "")


class UnsupportedShapes(ValueError):
    """The shapes use a SHACL feature the compiled checker does not implement; pyshacl checks them instead."""




# ------------------------------------------------------------------------------------------ terms
class RdflibTerms:
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
# Checks worth remembering a passing value for (and sh:datatype other than xsd:string); the others (plain strings,
# lists of allowed values, node kinds, lengths) cost about what looking a value up costs (a long literal is
# hashed in full).
_COSTLY = {"PatternConstraintComponent", "OrConstraintComponent",
           "NodeConstraintComponent", "MinInclusiveConstraintComponent", "MaxInclusiveConstraintComponent",
           "MinExclusiveConstraintComponent", "MaxExclusiveConstraintComponent"}
MAX_PASSED = 50_000  # values remembered per shape, then forgotten all at once
_XSD_STRING = URIRef(XSD_STRING)
_NO_FAILURES: list[tuple[str, Any]] = []  # shared, never appended to: failures are added by making a new list
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
        subject: Any = None
        d: dict[Any, set[Any]] = {}
        for s, p, o in triples:
            if s is not subject:  # one subject's triples follow each other, one object where a reader caches terms
                subject = s
                d = out.setdefault(s, {})
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
    # the predicates of an alternative path when the shape asks only for one value on it (sh:minCount 1):
    # then a value's presence is checked, without collecting the values
    any_of: tuple[Any, ...] | None = None
    # the predicate of a one-predicate shape with no sh:minCount: a node without it has nothing to check
    optional_predicate: Any = None
    # values known to pass every check, when the checks depend on the value alone and are costly (patterns,
    # ranges, typed literals, sh:or of such): dates, codes and coordinates recur across records
    passed: set[Any] | None = None

    def __post_init__(self) -> None:
        if self.predicate is not None and self.min_count == 0:
            self.optional_predicate = self.predicate


class CompiledShapes:
    """The shapes as Python checks; ``check`` gives the same results as pyshacl on one record graph."""

    def __init__(self, graph: rdflib.Graph) -> None:
        self._graph = graph
        self._terms = RdflibTerms()
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
        # focus nodes found once per target, not once per shape; per shape what check() asks first: does
        # the node have the predicate of an optional value, does it surely pass
        self._by_target = [(targets, [(s.optional_predicate, self._pass_test(s), s) for s in shapes])
                           for targets, shapes in groups.items()]

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
            # Plain strings, as data strings reach pyshacl (RdflibTerms); other literals compare in rdflib's own way.
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
        checks, nested = self._checks(node), [self._nested_shape(p) for p in g.objects(node, _R.property)]
        costly = any(c in _COSTLY for c, _ in checks) or self._one(node, _R.datatype) not in (None, _XSD_STRING)
        # (not shapes without a path, whose value is the focus node itself: mostly a node minted for one record)
        cacheable = path is not None and not nested and costly and all(self._value_only(c, node) for c, _ in checks)
        presence_only = (path is not None and path[0] == "|" and all(kind == "p" for kind, _ in path[1])
                         and min_count is not None and int(min_count) == 1 and max_count is None
                         and not checks and not nested)
        return _Shape(
            iri=str(node) if isinstance(node, URIRef) else "",
            path=path,
            predicate=path[1] if path is not None and path[0] == "p" else None,
            result_path=str(path_node) if isinstance(path_node, URIRef) else None,
            targets=targets,
            min_count=0 if min_count is None else int(min_count),
            max_count=float("inf") if max_count is None else int(max_count),
            checks=checks,
            nested=nested,
            severity=str(self._one(node, _R.severity) or _R.Violation).removeprefix(SH),
            message=str(messages[0]) if messages else "",
            deactivated=bool(deactivated is not None and deactivated.toPython() is True),
            any_of=tuple(pred for _, pred in path[1]) if presence_only else None,  # type: ignore[index]
            passed=set() if cacheable else None,
        )

    def _value_only(self, component: str, node: Any) -> bool:
        """Whether a check of ``node`` judges a value alone, not the graph around it: sh:class looks at the
        graph; sh:or and sh:node do when one of their shapes has a path or checks that do."""
        if component == "ClassConstraintComponent":
            return False
        if component in ("OrConstraintComponent", "NodeConstraintComponent"):
            refs = (Collection(self._graph, self._one(node, _R["or"])) if component == "OrConstraintComponent"
                    else [self._one(node, _R.node)])
            return all((s := self._nested[r]).path is None and not s.nested and s.min_count == 0
                       and all(self._value_only(c, r) for c, _ in s.checks) for r in refs)
        return True

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
            text = self.text

            def pattern_ok(v: Any, _r: _Record) -> bool:
                if type(v) is ox.NamedNode:  # most values: the IRIs of node shapes
                    return rx.search(v.value) is not None
                return not isinstance(v, ox.BlankNode) and rx.search(text(v)) is not None
            checks.append(("PatternConstraintComponent", pattern_ok))
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
                           lambda v, r: not isinstance(v, ox.Literal) and v in r.classes().get(c, _NONE)))
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
    def _failures(self, shape: _Shape, focus: Any, rec: _Record, d: dict[Any, set[Any]] | None = None
                  ) -> list[tuple[str, Any]]:
        """(constraint component, value or None) for each way ``focus`` fails ``shape``; mostly none. ``d``:
        the focus node's predicates, when the caller has them already."""
        if d is None:
            d = rec.out.get(focus, _NO_INDEX)
        if shape.any_of is not None:
            return _NO_FAILURES if any(p in d for p in shape.any_of) else [("MinCountConstraintComponent", None)]
        if shape.predicate is not None:
            values = d.get(shape.predicate, _NONE)
        else:
            values = {focus} if shape.path is None else _values(rec, focus, shape.path)
        n = len(values)
        found = _NO_FAILURES
        if n < shape.min_count:
            found = [("MinCountConstraintComponent", None)]
        if n > shape.max_count:
            found = [*found, ("MaxCountConstraintComponent", None)]
        if n:
            passed = shape.passed
            if passed is not None and passed.issuperset(values):
                return found
            for component, ok in shape.checks:
                for v in values:
                    if not ok(v, rec):
                        found = [*found, (component, v)]
            for nested in shape.nested:
                for v in values:
                    if not self._conforms(nested, v, rec):
                        found = [*found, ("PropertyConstraintComponent", v)]  # only asked whether it conforms
            if passed is not None:
                if len(passed) > MAX_PASSED:
                    passed.clear()
                failed = {v for _, v in found}
                passed.update(v for v in values if v not in failed)
        return found

    def _pass_test(self, shape: _Shape) -> Callable[[Any, dict[Any, set[Any]], _Record], bool]:
        """A quick test that ``focus`` conforms to ``shape``: the same answer as ``not _failures(...)``,
        without what _failures needs only to describe a failure. Shapes with a value cache, nested shapes or
        a path of several predicates are left to _failures."""
        failures = self._failures
        if shape.nested or shape.passed is not None or shape.any_of is not None or (
                shape.path is not None and shape.predicate is None):
            return lambda f, d, r: not failures(shape, f, r, d)
        least, most, predicate = shape.min_count, shape.max_count, shape.predicate
        test = self._all_of([ok for _, ok in shape.checks])
        if predicate is None:  # a node shape: its one value is the focus node
            return lambda f, _d, r: least <= 1 <= most and test(f, r)

        def passes(_f: Any, d: dict[Any, set[Any]], r: _Record) -> bool:
            values = d.get(predicate, _NONE)
            if not least <= len(values) <= most:
                return False
            for v in values:
                if not test(v, r):
                    return False
            return True
        return passes

    def _all_of(self, tests: list[Callable[[Any, _Record], bool]]) -> Callable[[Any, _Record], bool]:
        """One test for a value that passes all ``tests``, with the common pairs made one function."""
        if not tests:
            return lambda _v, _r: True
        if len(tests) == 1:
            return tests[0]
        first, *rest = tests
        if len(rest) == 1:
            second = rest[0]
            return lambda v, r: first(v, r) and second(v, r)
        return lambda v, r: all(ok(v, r) for ok in tests)

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
        failures, index = self._failures, rec.out
        for targets, tests in self._by_target:
            tests = [t for t in tests if t[2].iri in wanted] if wanted else tests
            for f in self._focus(targets, rec):
                d = index.get(f, _NO_INDEX)
                for optional, passes, shape in tests:
                    if optional is not None and optional not in d:
                        continue  # no value, none required: nothing to check (most shapes, most nodes)
                    if passes(f, d, rec):
                        continue
                    for component, value in failures(shape, f, rec, d):
                        out.append(self._result(shape, f, value, component, record.label, rec))
        self._terms.clear()
        out.sort(key=order_key)
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
