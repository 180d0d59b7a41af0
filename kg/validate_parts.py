"""``kg validate FILE --jobs N``: an N-Triples or N-Quads file cut into parts at record boundaries, each part
read and checked by a worker process. The same results in the same order as :func:`kg.validate.validate_file`,
which one process runs (and which this falls back to for Turtle, TriG, gzip and small files).

A part ends where a record starts, by the rule every reader follows (:class:`kg.records.RecordCutter`): in N-Quads
where the graph changes to one that is not the entities graph, in N-Triples where a subject minted for another
trial appears. Both formats hold one statement per line, so a part parses on its own.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.gcpolicy import rare_young_passes
from kg.ntlines import CheckedTerms, first_syntax_error, read_records
from kg.progress import progress_bar
from kg.records import RecordCutter, named
from kg.validate import (
    Shapes,
    ValidationReport,
    Violation,
    compile_shapes,
    file_format,
    load_shapes,
    validate_file,
    validate_records,
)

PART_BYTES = 8 << 20  # ~90 records of kg's N-Quads: parts big enough that a worker's start-up is noise
SCAN_LINES = 50_000  # lines looked at for a record start after a cut point; a record is ~400 lines
_SPLITTABLE = (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES)


def validate_file_in_parts(path: str | Path, jobs: int, *, shapes: Shapes | None = None, engine: str = "compiled",
                           progress: bool = False, part_bytes: int = PART_BYTES) -> ValidationReport:
    """:func:`kg.validate.validate_file` with ``jobs`` worker processes (0: one per core)."""
    global _INHERITED
    path = Path(path)
    jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
    fmt, _ = file_format(path)
    splittable = jobs > 1 and one_process_reason(path, shapes, engine) is None
    cuts = record_cuts(path, fmt, part_bytes) if splittable else []
    if len(cuts) < 3:  # one part: nothing to share
        return validate_file(path, shapes=shapes, engine=engine, progress=progress)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    own_shapes = None if shapes is None or shapes is load_shapes() else shapes
    # Forked workers inherit custom shapes as they are; spawned ones get them as N-Triples (compiled checks do
    # not pickle; the graph parsed again may order results that tie differently).
    _INHERITED = own_shapes if method == "fork" else None
    sent = None if own_shapes is None or method == "fork" else own_shapes.graph.serialize(format="nt")
    tasks = [(str(path), fmt.file_extension, start, end) for start, end in zip(cuts, cuts[1:], strict=False)]
    report = ValidationReport()
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method), initializer=_init_worker,
                               initargs=(sent, engine))
    try:
        results = pool.map(_check_part, tasks)  # forks the workers (before a progress bar starts a thread)
        _INHERITED = None
        with progress_bar(progress) as bar:
            for records, found, error in results:
                if error is not None:  # the error one process reports, its words and line
                    raise _first_syntax_error(path) or SyntaxError(f"{path}: {error[0]}")
                report.add(found, records)
                bar.update(records)
    except BrokenProcessPool as e:  # a worker killed (out of memory?): Pool.imap would wait forever
        raise ValueError(f"{path}: a worker process died ({e}); try fewer --jobs") from None
    finally:
        _INHERITED = None
        pool.shutdown(wait=False, cancel_futures=True)
    return report


def one_process_reason(path: Path, shapes: Shapes | None = None, engine: str = "compiled") -> str | None:
    """Why a file is checked by one process whatever the number of jobs; None if it can be cut into parts."""
    fmt, gz = file_format(path)
    if fmt not in _SPLITTABLE:
        return f"a {fmt.name} file is read by one process (only N-Triples and N-Quads are cut into parts)"
    if gz:
        return "a gzipped file is read by one process"
    # pyshacl checks batches of records and orders results within a batch: parts would cut batches elsewhere
    # than one process does, so pyshacl (asked for, or for shapes the compiled checker cannot run) is one process.
    if engine != "compiled" or (shapes or load_shapes()).compiled is None:
        return "pyshacl checks in one process"
    return None


def record_cuts(path: Path, fmt: ox.RdfFormat, part_bytes: int = PART_BYTES) -> list[int]:
    """Byte offsets 0 < ... < size where parts start, each at a record start about ``part_bytes`` after the
    previous one, then the file's size."""
    if part_bytes < 1:
        raise ValueError(f"part_bytes must be at least 1, not {part_bytes}")
    size = path.stat().st_size
    cuts = [0]
    if size <= part_bytes:
        return [0, size]
    with path.open("rb") as f:
        target = part_bytes
        while target < size:
            cut, scanned_to = _record_start_after(f, target, fmt)
            if cut is not None and cut < size:
                cuts.append(cut)
                target = cut + part_bytes
            elif scanned_to is None:  # no record starts before the end of the file
                break
            else:  # no record starts in SCAN_LINES lines (one huge record, or lines that do not parse): go on
                target = max(target + part_bytes, scanned_to)
    cuts.append(size)
    return cuts


def _record_start_after(f: Any, offset: int, fmt: ox.RdfFormat) -> tuple[int | None, int | None]:
    """(the offset of the first line after ``offset`` that surely starts a record, if one is found soon;
    where the scan stopped, None at the end of the file)."""
    f.seek(offset - 1)
    f.readline()  # to the start of the next line (offset itself, when the byte before it ends a line)
    cut, current = RecordCutter(fmt == ox.RdfFormat.N_QUADS), None
    for _ in range(SCAN_LINES):
        at = f.tell()
        line = f.readline()
        if not line:
            return None, None
        for n, statement in enumerate(_statements(line, fmt)):
            key = cut.key(statement)
            if key != current:
                current = key
                done = cut.at(named(key))
                if done is not None and n == 0 and cut.surely_ended(done):
                    return at, at
    return None, f.tell()


def _statements(line: bytes, fmt: ox.RdfFormat) -> list[Any]:
    """pyoxigraph's statements of a line (a lone CR ends a statement too, so a line as ``readline`` cuts it can
    hold several); none for a blank line or a comment; up to bad syntax, which the worker whose part holds it
    reports."""
    found: list[Any] = []
    try:
        found.extend(ox.parse(line, format=fmt))
    except SyntaxError:
        pass
    return found


# ------------------------------------------------------------------------------------------ workers
_SHAPES: Shapes | None = None
_TERMS: CheckedTerms | None = None  # a worker's terms, cached from part to part
_INHERITED: Shapes | None = None  # custom shapes, set in the parent for the workers it forks
_ENGINE = "compiled"


def _init_worker(own_shapes: str | None, engine: str) -> None:
    global _SHAPES, _ENGINE
    if _INHERITED is not None:
        _SHAPES = _INHERITED
    elif own_shapes is None:
        _SHAPES = load_shapes()
    else:
        import rdflib

        _SHAPES = compile_shapes(rdflib.Graph().parse(data=own_shapes, format="nt"))
    _ENGINE = engine
    # As a streaming job sets it (kg.gcpolicy): rare young passes, the shapes and caches frozen once.
    rare_young_passes()
    gc.freeze()


def _check_part(task: tuple[str, str, int, int]) -> tuple[int, list[Violation], tuple[Any, ...] | None]:
    """(records checked, results, pyoxigraph's syntax error arguments or None) of one part of a file."""
    path, extension, start, end = task
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    if len(data) != end - start:
        raise ValueError(f"{path}: the file changed while it was being checked")
    fmt = ox.RdfFormat.from_extension(extension)
    report = ValidationReport()
    try:
        validate_records(_records(data, fmt), _SHAPES, report, engine=_ENGINE)
    except SyntaxError as e:
        return report.records, report.violations, e.args
    return report.records, report.violations, None


def _records(data: bytes, fmt: Any) -> Iterator[Any]:
    global _TERMS
    if _TERMS is None:
        _TERMS = CheckedTerms()
    return read_records(io.BytesIO(data), fmt, _TERMS)


def _first_syntax_error(path: Path) -> SyntaxError | None:
    """The syntax error one process reports (pyoxigraph's, reading the file from its start, as
    :func:`kg.validate.iter_file_records` words it): a part parsed on its own can word an error otherwise (an
    unterminated string at the end of a part), and pyoxigraph counts a lone CR as a line end too."""
    with open(path, "rb") as source:
        error = first_syntax_error(source, file_format(path)[0])
    return SyntaxError(f"{path}: {error}") if error is not None else None
