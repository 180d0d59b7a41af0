"""Validate: check record graphs against the SHACL shapes in ``shapes/``, record by record, never the whole graph.

The shapes are parsed and compiled (:mod:`kg.shacl`) once per process. Records stream in (from a build, an N-Triples /
N-Quads / Turtle / TriG file, or an Oxigraph store) and are grouped per record graph (:mod:`kg.records`; kg's
N-Triples and N-Quads lines are read by :mod:`kg.ntlines`, the rest by pyoxigraph); each record graph is
checked on its own by the compiled shapes (:class:`CompiledShapes`: SHACL Core checks as Python functions
over the record's pyoxigraph terms). pyshacl is the reference: the tests check that both give the same
results, and pyshacl checks the records (in batches, on rdflib graphs) when the shapes use a feature the
compiled checker does not implement, or when asked (``engine="pyshacl"``). Every result becomes a
:class:`Violation` naming the trial, focus node, path, value, message, severity and shape.

Why not pyshacl for every record: ~26 ms of CPU per record (rdflib graph building, a full result for every
failing sh:or branch), 9x the build; the compiled shapes take ~1.5-2.5 ms as a build streams; reading a file back
adds making its terms again (bench/RESULTS-validate.md). pyshacl over an Oxigraph store was ~1000x slower and wrong
(xsd:string literals did not match plain ones in ``sh:in``); pyrudof 0.3.35 agreed with pyshacl on every
shape case but took ~14 ms per record.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
import rdflib
from rdflib import BNode, URIRef

from kg.gcpolicy import streaming_gc
from kg.identity import is_entities_graph
from kg.ntlines import LINE_FORMATS, OxTerms, read_records
from kg.progress import with_progress
from kg.records import RecordCutter, named
from kg.report import Problem
from kg.resources import resource_dir
from kg.shacl import (  # noqa: F401 - SHAPES_NS and trial_of are part of this module's API too
    SEVERITIES,
    SH,
    SHAPES_NS,
    XSD_STRING,
    CompiledShapes,
    RdflibTerms,
    RecordTriples,
    UnsupportedShapes,
    Violation,
    order_key,
    trial_of,
)

# pyshacl checks batches of record graphs (the compiled shapes one record at a time), cut at this many records
# or triples, whichever comes first: big enough that pyshacl's cost per shape is spread over many focus nodes,
# small enough to keep memory flat (~2 KB per rdflib triple).
BATCH_RECORDS = 100
BATCH_TRIPLES = 60_000

_FORMATS = {
    ".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS, ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
}


# ------------------------------------------------------------------------------------------ reports
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
    return compile_shapes(graph)


def compile_shapes(graph: rdflib.Graph) -> Shapes:
    """The shapes of ``graph``, compiled where the compiled checker implements what they use."""
    try:
        return Shapes(graph, CompiledShapes(graph))
    except UnsupportedShapes as e:
        return Shapes(graph, None, str(e))


# ------------------------------------------------------------------------------------------ batches
def _validate_batch(records: list[RecordTriples], shapes: Shapes, terms: RdflibTerms) -> list[Violation]:
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
    out.sort(key=order_key)
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
    terms = RdflibTerms()
    for batch in _batches(records, max_records, max_triples):
        report.add(_validate_batch(batch, shapes, terms), len(batch))
    return report


# ------------------------------------------------------------------------------------------ inputs
def file_format(path: Path) -> tuple[ox.RdfFormat, bool]:
    """(RDF format, gzipped) of a file, from its name; ValueError when the name does not tell."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    suffix = Path(name[:-3] if gz else name).suffix
    if suffix not in _FORMATS:
        raise ValueError(f"{path}: cannot tell the RDF format; use .nt, .nq, .ttl or .trig (optionally .gz)")
    return _FORMATS[suffix], gz


def group_records(parsed: Iterable[Any], fmt: ox.RdfFormat) -> Iterator[RecordTriples]:
    """The records of pyoxigraph's statements of a file: cut where the graph (N-Quads, TriG) or the subject
    (N-Triples, Turtle) changes, by the rule of :class:`kg.records.RecordCutter`."""
    cut = RecordCutter(fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG))
    at, key_of = cut.at, cut.key
    current = None
    for statement in parsed:
        key = key_of(statement)
        if key != current:
            current = key
            if (done := at(named(key))) is not None:
                yield done
        cut.append((statement.subject, statement.predicate, statement.object))
    if (done := cut.end()) is not None:
        yield done


def iter_file_records(path: str | Path) -> Iterator[RecordTriples]:
    """The records of an RDF file, streamed: never more than one record's triples held at once. N-Triples and
    N-Quads are read by :mod:`kg.ntlines` (the same records, several times cheaper), gzipped files, Turtle and
    TriG by pyoxigraph."""
    fmt, gz = file_format(Path(path))
    handle: IO[bytes] = gzip.open(path, "rb") if gz else open(path, "rb")  # noqa: SIM115
    with handle:
        try:
            if fmt in LINE_FORMATS and not gz and handle.seekable():  # not a pipe: the line reader seeks
                yield from read_records(handle, fmt)
            else:
                yield from group_records(ox.parse(handle, format=fmt), fmt)
        except SyntaxError as e:  # pyoxigraph gives the line and column, not the file
            raise SyntaxError(f"{path}: {e}") from None
        except (OSError, EOFError, zlib.error) as e:  # e.g. a .gz file that is not gzip, or corrupt
            raise ValueError(f"{path}: cannot read: {e}") from None


def validate_file(path: str | Path, *, shapes: Shapes | None = None, report: ValidationReport | None = None,
                  engine: str = "compiled", progress: bool = False) -> ValidationReport:
    """Validate an N-Triples, N-Quads, Turtle or TriG file (optionally gzipped), record graph by record graph
    (``progress``: count them on stderr)."""
    with streaming_gc():  # here, not in validate_records: a build calls that once per record
        return validate_records(with_progress(iter_file_records(path), progress), shapes, report, engine=engine)


_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_LOCATION = ox.NamedNode("https://schema.org/location")


def iter_store_records(store_dir: str | Path) -> Iterator[RecordTriples]:
    """Each record graph of an Oxigraph store folder, one at a time, with what the entities graph says about
    the shared nodes it mentions (typed organisations and people, site locations)."""
    store = ox.Store.read_only(str(store_dir))
    graphs = sorted(store.named_graphs(), key=lambda n: n.value)
    entities = next((g for g in graphs if isinstance(g, ox.NamedNode) and is_entities_graph(g.value)), None)
    for g in graphs:
        if g == entities:
            continue
        label = trial_of(g.value) if isinstance(g, ox.NamedNode) else None
        triples = [(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, g)]
        if entities is not None:
            shared = {s for s, p, _ in triples if p == _RDF_TYPE} | {o for _, p, o in triples if p == _LOCATION}
            for node in sorted(shared, key=str):
                triples += [(q.subject, q.predicate, q.object)
                            for q in store.quads_for_pattern(node, None, None, entities)]
        yield RecordTriples(label, triples)


def validate_store(store_dir: str | Path, *, shapes: Shapes | None = None, report: ValidationReport | None = None,
                   engine: str = "compiled", progress: bool = False) -> ValidationReport:
    """Validate every named graph of an Oxigraph store folder, record graph by record graph."""
    if not Path(store_dir).is_dir():
        raise ValueError(f"{store_dir}: not an Oxigraph store folder")
    with streaming_gc():
        return validate_records(with_progress(iter_store_records(store_dir), progress), shapes, report,
                                engine=engine)


def validate_graph_text(nt_text: str, label: str | None = None, shapes: Shapes | None = None) -> list[Violation]:
    """Violations in one record's N-Triples text (e.g. a build's ``RecordOut.text`` decoded from UTF-8)."""
    return RecordValidator(shapes).check(nt_text, label)


# ------------------------------------------------------------------------------------------ build hook
class RecordValidator:
    """What a build calls per record (``check``) or per group of records (``check_many``).

    Each worker process makes its own; the shapes are loaded once per process."""

    def __init__(self, shapes: Shapes | None = None, engine: str = "compiled") -> None:
        self.shapes = shapes or load_shapes()
        self.engine = engine
        self._to_ox = OxTerms()

    @staticmethod
    def _record(text: str, label: str | None) -> RecordTriples:
        return RecordTriples(label, [(x.subject, x.predicate, x.object)
                                     for x in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)])

    def check(self, record_text: str, label: str | None = None) -> list[Violation]:
        return self.check_many([(record_text, label)])

    def check_terms(self, triples: Iterable[tuple[str, str, str]], label: str | None = None) -> list[Violation]:
        """Violations of one record given as the mapping's N-Triples term strings: no text to parse again."""
        record = RecordTriples(label, self._to_ox.triples(triples))
        report = ValidationReport()
        validate_records([record], self.shapes, report, engine=self.engine)
        return report.violations

    def check_many(self, records: Iterable[tuple[str, str | None]]) -> list[Violation]:
        """Violations of several records' N-Triples, each checked on its own graph (pyshacl: in batches)."""
        report = ValidationReport()
        validate_records((self._record(text, label) for text, label in records), self.shapes, report,
                         engine=self.engine)
        return report.violations


SHACL_VIOLATION = "does not conform to"  # the start of a build note for a sh:Violation
_BUILD_VALIDATOR: RecordValidator | None = None


def _build_validator() -> RecordValidator:
    global _BUILD_VALIDATOR
    if _BUILD_VALIDATOR is None:
        _BUILD_VALIDATOR = RecordValidator()
    return _BUILD_VALIDATOR


def record_problems(records: list[tuple[str, str | None]], origin: str) -> list[Problem]:
    """The SHACL results of records' N-Triples text as report notes (one validator per worker process)."""
    return _as_problems(_build_validator().check_many(records), origin)


def record_term_problems(triples: Iterable[tuple[str, str, str]], label: str | None, origin: str) -> list[Problem]:
    """The SHACL results of one mapped record (its N-Triples term strings) as report notes: what a build calls."""
    return _as_problems(_build_validator().check_terms(triples, label), origin)


def _as_problems(violations: list[Violation], origin: str) -> list[Problem]:
    out = []
    for v in violations:
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
