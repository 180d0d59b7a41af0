"""Build: the public Python API that runs sources -> mapping -> sinks over many inputs.

``build(paths, output=...)`` streams records from files to an RDF file or an Oxigraph store;
``build_graph(...)`` returns an rdflib Dataset for small inputs and notebooks. The CLI is a thin layer
over these two functions.
"""

from __future__ import annotations

import codecs
import dataclasses
import gc
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.gcpolicy import rare_young_passes, streaming_gc
from kg.identity import DEFAULT_BASE, Iris
from kg.inputs import ArrayChain, ArrayPart, PartRules, Payload, iter_payloads
from kg.mapping import MappedRecord, MeshLookup, map_trial, mesh_description
from kg.mesh import MeshIndex, default_index
from kg.model import Trial
from kg.progress import with_progress
from kg.report import Problem, RecordError, Report
from kg.sinks import Spool, SpoolSegment, load_spool_into_store, ntriples, ntriples_utf8_counted, write_spool
from kg.sources import ctgov_v2, detect
from kg.sources.study_array import ArrayPosition, element_start, starts_study_array

# Objects still alive after this many records (the MeSH index, caches, the build's bookkeeping) are moved out of
# the cyclic GC's reach: its full collections rescanning them cost ~10% of a build.
FREEZE_EVERY = 500
PARALLEL_CHUNKSIZE = 1  # one file per task: a 1,000-study file is already a big task, and memory stays low
PART_BYTES = 4 << 20  # big JSON Lines files and arrays are read in parts of this size (~250 studies)
SNIFF_BYTES = 1 << 20  # what is read of a file to tell JSON Lines of studies: its first line must end within it
PARTS = PartRules(ctgov_v2.starts_json_lines, starts_study_array, element_start)


@dataclass
class BuildOptions:
    base: str = DEFAULT_BASE
    jobs: int = 1  # worker processes for parsing and mapping; 0 means one per core
    progress: bool = False  # a progress bar on stderr
    mesh: MeshIndex | None = None  # None: the default index (user-imported or shipped)
    mesh_lookup: bool = False  # ask NLM's MeSH lookup API for names the local index cannot resolve
    mesh_api: str | None = None  # its base URL (else KG_MESH_API, else NLM's)
    resolve: bool = False  # add the cross-record resolution graph (kg.resolve) over the whole build
    resolution_config: tuple[str, ...] = ()  # override files: vetoed pairs, disabled alias rows
    validate: bool = False  # check each record against shapes/ in the workers (kg.validate); results are notes


@dataclass(slots=True)
class RecordOut:
    """One mapped record as the build keeps it: N-Triples (UTF-8) plus what versioning needs."""

    key: tuple[str, str]  # (trial id, source): versions of one record share it
    version: tuple[str, str]  # (lastUpdatePostDate, versionHolder)
    label: str
    graph: str
    text: bytes  # b"" once a worker has written it to its spool segment
    shared: bytes  # N-Triples for the entities graph (names of the shared nodes it mentions); b"" once written
    triples: int
    mesh_uis: tuple[str, ...]  # sorted, interned: a build keeps one per record, so it must be small
    segment: tuple[str, int, int, int] | None = None  # (segment file, offset, length, shared length) once written


@dataclass
class _Worker:
    iris: Iris
    mesh: MeshLookup
    validate: bool = False

    def record(self, trial: Trial, problems: list[Problem]) -> RecordOut:
        mapped: MappedRecord = map_trial(trial, self.iris, self.mesh, problems)
        text, count = ntriples_utf8_counted(mapped.triples)
        shared, shared_count = ntriples_utf8_counted(mapped.shared)
        prov = trial.provenance
        label = trial.nct_id or mapped.trial_id
        if self.validate:  # here, in the worker, so validation runs in parallel with --jobs
            self._validate(mapped, label, prov.origin, problems)
        return RecordOut(
            key=(mapped.trial_id, prov.source),
            version=(prov.last_update_posted or "", prov.version_holder or ""),
            label=label,
            graph=mapped.graph_iri,
            text=text,
            shared=shared,
            triples=count + shared_count,
            mesh_uis=tuple(sorted(mapped.mesh_uis)),
        )

    def payload(self, payload: Payload) -> tuple[list[RecordOut], list[Problem], ArrayPosition | None]:
        """The records and problems of one payload, and for a part of an array where its reading stopped."""
        problems: list[Problem] = []
        at = _array_position(payload)
        return list(self.records(payload, problems, at)), problems, at

    def records(self, payload: Payload, problems: list[Problem], at: ArrayPosition | None = None
                ) -> Iterator[RecordOut]:
        """The mapped records of one payload, as they are made; its problems go to ``problems``. A part of an array
        is read from ``at``, which follows the reading (``_array_position``)."""
        for trial in self._trials(payload, problems, at):
            rec = self._safe_record(trial, problems)
            if rec is not None:
                yield rec

    def _trials(self, payload: Payload, problems: list[Problem], at: ArrayPosition | None) -> Iterator[Trial]:
        part = payload.part
        if isinstance(part, ArrayPart):  # a part of a big ctg-studies.json array, parsed from its bytes
            assert at is not None
            data = payload.read_bytes(problems)
            if data is None:
                at.done = True
                return iter(())
            return ctgov_v2.read_array_part(data, payload.origin, problems, at, part.start == 0, part.last)
        if part is not None:  # a part of a big JSON Lines file (iter_payloads), lines numbered as in it
            data = payload.read_unchecked(problems)
            if data is None:
                return iter(())
            lines = data.removeprefix(codecs.BOM_UTF8) if part.start == 0 else data
            return ctgov_v2.read_json_lines(lines, payload.origin, problems, part.first_line,
                                            not_utf8=_once(payload.report_not_utf8, data, problems))
        document = payload.read(problems)
        if document is None:
            return iter(())
        text, raw = document
        if (source := detect(text)) is None:
            problems.append(Problem(payload.origin, None, None,
                                    "not a trial record in any rendering TrialKG reads", "skipped"))
            return iter(())
        # the v2 reader parses JSON Lines and arrays from the file's bytes when it has them (no second UTF-8 encoding)
        return (ctgov_v2.read(text, payload.origin, problems, raw) if source is ctgov_v2
                else source.read(text, payload.origin, problems))

    def study(self, study: Any, origin: str) -> tuple[list[RecordOut], list[Problem]]:
        problems: list[Problem] = []
        try:
            trial = ctgov_v2.parse_study(study, origin, problems)
        except RecordError as e:
            problems.append(Problem(origin, e.record, e.field, e.message, "skipped"))
            return [], problems
        rec = self._safe_record(trial, problems)
        return ([rec] if rec else []), problems

    @staticmethod
    def _validate(mapped: MappedRecord, label: str, origin: str, problems: list[Problem]) -> None:
        """SHACL results as notes: a record that does not conform is still built, and so is one the validator
        fails on (a validator bug must not cost the user a record)."""
        from kg.validate import record_term_problems

        try:
            problems.extend(record_term_problems(mapped.triples + mapped.shared, label, origin))
        except Exception as e:  # noqa: BLE001 - reported, never silent
            problems.append(Problem(origin, label, None, f"could not validate record: {type(e).__name__}: {e}",
                                    "note"))

    def _safe_record(self, trial: Trial, problems: list[Problem]) -> RecordOut | None:
        try:
            return self.record(trial, problems)
        except (ValueError, KeyError, TypeError) as e:  # a mapping bug must not stop the whole build
            problems.append(Problem(trial.provenance.origin, trial.nct_id, None,
                                    f"could not map record: {type(e).__name__}: {e}", "skipped"))
            return None


def _once(call: Callable[..., None], *args: Any) -> Callable[[], None]:
    """``call(*args)`` the first time it is called, nothing after."""
    done = False

    def once() -> None:
        nonlocal done
        if not done:
            done = True
            call(*args)

    return once


def _array_position(payload: Payload) -> ArrayPosition | None:
    """Where reading a part of an array starts (and, once read, where it stopped); None for any other payload."""
    part = payload.part
    return ArrayPosition(part.start, part.first) if isinstance(part, ArrayPart) else None


_WORKER: _Worker | None = None
_SEGMENT: SpoolSegment | None = None
_SPOOL_PATH: str | None = None


def _init_worker(worker: _Worker, spool_path: str | None) -> None:
    global _WORKER, _SPOOL_PATH
    _WORKER = worker
    _SPOOL_PATH = spool_path
    rare_young_passes()  # as the build sets it (spawned workers too)


def _work(payload: Payload) -> tuple[list[RecordOut], list[Problem], ArrayPosition | None]:
    """One file's (or part's) records in a worker process; their text goes to the worker's own spool segment."""
    global _SEGMENT
    assert _WORKER is not None
    recs, problems, at = _WORKER.payload(payload)
    if _SPOOL_PATH is not None and recs:
        if _SEGMENT is None:
            _SEGMENT = SpoolSegment(_SPOOL_PATH)
        for rec in recs:
            rec.segment = (_SEGMENT.path, *_SEGMENT.write(rec.text, rec.shared))
            rec.text = rec.shared = b""
        _SEGMENT.flush()  # before the parent reads the chunks back
    gc.freeze()  # what this worker keeps (index, caches) is long-lived; see FREEZE_EVERY
    return recs, problems, at


def _mesh_lookup(options: BuildOptions) -> MeshLookup:
    index = options.mesh or default_index()
    if not options.mesh_lookup:
        return index
    from kg.fetch.pubmed import MeshLookupClient
    from kg.mesh_lookup import OnlineMeshLookup

    return OnlineMeshLookup(index, MeshLookupClient(options.mesh_api))


def iter_records(
    paths: Iterable[str | Path], options: BuildOptions, report: Report, studies: Iterable[Any] = (),
    spool_path: str | None = None,
) -> Iterator[RecordOut]:
    """Mapped records from files (and study dicts), in input order, problems going to ``report``. With
    several jobs and a ``spool_path``, workers write record text to their own segments beside it."""
    worker = _Worker(Iris(options.base), _mesh_lookup(options), options.validate)
    for i, study in enumerate(studies):
        recs, problems = worker.study(study, f"<study {i}>")
        report.extend(problems)
        yield from recs
    input_problems: list[Problem] = []
    # Big JSON Lines files and arrays in parts: workers share them, and one process never holds a whole file.
    payloads = iter_payloads(paths, input_problems, PARTS, PART_BYTES, SNIFF_BYTES)
    # The parts of an array are checked in order: each must start where the part before it stopped reading.
    chain = ArrayChain()
    jobs = options.jobs if options.jobs > 0 else (os.cpu_count() or 1)
    if jobs == 1:
        problems: list[Problem] = []
        for given in payloads:
            report.extend(input_problems)
            input_problems.clear()
            payload = chain.part(given)
            if payload is None:
                continue
            at = _array_position(payload)
            for rec in worker.records(payload, problems, at):  # one at a time: a file's records are never all held
                report.extend(problems)
                problems.clear()
                yield rec
            report.extend(problems)
            problems.clear()
            if at is not None:
                chain.read(at.offset, at.index, at.done, at.need)
    else:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        ctx = multiprocessing.get_context(method)
        # The pool's feeder thread runs the payload generator ahead of the results: the input problems met before
        # each payload are queued with it, so they are reported in the same place as with one process.
        before: deque[tuple[Payload, list[Problem]]] = deque()

        def tasks() -> Iterator[Payload]:
            for payload in payloads:
                before.append((payload, input_problems[:]))
                input_problems.clear()
                yield payload

        with ctx.Pool(jobs, initializer=_init_worker, initargs=(worker, spool_path)) as pool:
            for recs, problems, at in pool.imap(_work, tasks(), chunksize=PARALLEL_CHUNKSIZE):
                given, met = before.popleft()
                report.extend(met)
                payload = chain.part(given)
                if payload is not given:  # not where the part before stopped: read its stand-in here, in order
                    recs, problems, at = worker.payload(payload) if payload is not None else ([], [], None)
                report.extend(problems)
                if at is not None:
                    chain.read(at.offset, at.index, at.done, at.need)
                yield from recs
    report.extend(input_problems)


@dataclass
class _Versions:
    """Keeps, for each (trial, source), the newest version seen: (version, spool index, label). Its notes are
    reported after the records' own problems, so they come in the same place whatever the number of jobs."""

    best: dict[tuple[str, str], tuple[tuple[str, str], int, str]] = field(default_factory=dict)
    superseded: set[int] = field(default_factory=set)
    notes: list[Problem] = field(default_factory=list)

    def add(self, rec: RecordOut, index: int) -> None:
        old = self.best.get(rec.key)
        if old is None:
            self.best[rec.key] = (rec.version, index, rec.label)
            return
        if rec.version > old[0]:
            self.superseded.add(old[1])
            self.best[rec.key] = (rec.version, index, rec.label)
        else:
            self.superseded.add(index)
            if rec.version == old[0]:
                self.notes.append(Problem(rec.label, rec.label, None,
                                          "the same version of this record was given twice; built once", "note"))


def build(
    paths: Iterable[str | Path] = (),
    output: str | Path | None = None,
    *,
    store: str | Path | None = None,
    studies: Iterable[Any] = (),
    options: BuildOptions | None = None,
    report: Report | None = None,
) -> Report:
    """Build the graph of every record under ``paths`` (and of ``studies`` dicts) into ``output``
    (file name decides the format; ``-`` is stdout) and/or an Oxigraph ``store`` folder."""
    options = options or BuildOptions()
    report = report or Report()
    if output is None and store is None:
        raise ValueError("build needs an output file or a store")
    mesh = options.mesh or default_index()
    options = dataclasses.replace(options, mesh=mesh)
    spool_dir = os.path.dirname(os.path.abspath(output)) if output not in (None, "-") else None
    spool = Spool(spool_dir, Iris(options.base).entities_graph())
    with streaming_gc():
        try:
            versions = _Versions()
            mesh_uis: dict[int, tuple[str, ...]] = {}
            triples: dict[int, int] = {}
            records = iter_records(paths, options, report, studies, spool.path)
            for rec in with_progress(records, options.progress):
                if rec.segment is not None:
                    index = spool.add_segment_chunk(rec.graph, *rec.segment, rec.version)
                else:
                    index = spool.add(rec.graph, rec.text, rec.version, rec.shared)
                versions.add(rec, index)
                if rec.mesh_uis:
                    mesh_uis[index] = tuple(map(sys.intern, rec.mesh_uis))  # one string per UI, not per record
                triples[index] = rec.triples
                if index % FREEZE_EVERY == 0:
                    gc.freeze()
            report.extend(versions.notes)
            keep = set(range(len(spool.chunks))) - versions.superseded
            report.records_built = len(keep)
            if options.validate:
                from kg.validate import not_conforming

                report.records_invalid = not_conforming(report.problems)
            report.records_superseded = len(versions.superseded)
            used = {ui for i in keep if i in mesh_uis for ui in mesh_uis[i]}
            if used:
                iris = Iris(options.base)
                text = ntriples(mesh_description(used, mesh))
                keep.add(spool.add(iris.mesh_graph(), text))
                triples[len(spool.chunks) - 1] = text.count("\n")
            if options.resolve:
                text = _resolution_graph(spool, keep, options)
                keep.add(spool.add(Iris(options.base).resolution_graph(), text))
                triples[len(spool.chunks) - 1] = text.count("\n")
            report.triples = sum(triples[i] for i in keep)
            if output is not None:
                write_spool(spool, str(output), keep, consume=store is None)
            if store is not None:
                older = load_spool_into_store(spool, str(store), keep)
                if older:
                    report.add(Problem(str(store), None, None, f"{older} record graphs left out: the store already "
                                       "holds a newer version of those records", "note"))
        finally:
            spool.close()
    return report


def _resolution_graph(spool: Spool, keep: set[int], options: BuildOptions) -> str:
    """Merges and candidate links that need evidence from several records, as one graph of their own."""
    from kg.resolve import Resolver, ResolverConfig, contexts_from_records, resolution_triples

    orgs, people = contexts_from_records((chunk.graph, data) for chunk, data in spool.iter_chunks(keep))
    resolver = Resolver(ResolverConfig.load(*options.resolution_config))
    return ntriples(resolution_triples(orgs, Iris(options.base), resolver, people))


def build_graph(
    paths: Iterable[str | Path] = (),
    *,
    studies: Iterable[Any] = (),
    options: BuildOptions | None = None,
    report: Report | None = None,
) -> Any:
    """The graph as an rdflib Dataset (one named graph per record), for small inputs."""
    import tempfile

    import rdflib

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "graph.nq")
        build(paths, out, studies=studies, options=options, report=report)
        dataset = rdflib.Dataset()
        dataset.parse(out, format="nquads")
    return dataset
