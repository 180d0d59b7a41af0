"""``kg validate FILE --jobs N``: an N-Triples or N-Quads file cut into parts at record boundaries, each part
read and checked by a worker process. The same results in the same order as :func:`kg.validate.validate_file`,
which one process runs (and which this falls back to for Turtle, TriG, gzip and small files).

A part ends where a record graph starts: in N-Quads where the graph changes to one that is not the entities
graph, in N-Triples where a subject minted for another trial appears (the grouping rules of
:func:`kg.validate.group_records`). Both formats hold one statement per line, so a part parses on its own.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.gcpolicy import YOUNG_GC_THRESHOLD
from kg.identity import is_entities_graph
from kg.progress import progress_bar
from kg.shacl import trial_of
from kg.validate import (
    Shapes,
    ValidationReport,
    Violation,
    compile_shapes,
    file_format,
    group_records,
    load_shapes,
    validate_file,
    validate_records,
)

PART_BYTES = 8 << 20  # ~90 records of kg's N-Quads: parts big enough that a worker's start-up is noise
SCAN_LINES = 50_000  # lines looked at for a record start after a cut point; a record is ~400 lines
_SPLITTABLE = (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES)
_LINE_NUMBER = re.compile(r"\bline (\d+)")


def validate_file_in_parts(path: str | Path, jobs: int, *, shapes: Shapes | None = None, engine: str = "compiled",
                           progress: bool = False, part_bytes: int = PART_BYTES) -> ValidationReport:
    """:func:`kg.validate.validate_file` with ``jobs`` worker processes (0: one per core)."""
    path = Path(path)
    jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
    fmt, gz = file_format(path)
    cuts = record_cuts(path, fmt, part_bytes) if jobs > 1 and fmt in _SPLITTABLE and not gz else []
    if len(cuts) < 3:  # one part: nothing to share
        return validate_file(path, shapes=shapes, engine=engine, progress=progress)
    # Workers get the shapes as N-Triples text when they are not the shipped ones (compiled checks do not pickle).
    own_shapes = None if shapes is None or shapes is load_shapes() else shapes.graph.serialize(format="nt")
    tasks = [(str(path), fmt.file_extension, start, end) for start, end in zip(cuts, cuts[1:], strict=False)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    report = ValidationReport()
    with progress_bar(progress) as bar, multiprocessing.get_context(method).Pool(
            jobs, initializer=_init_worker, initargs=(own_shapes, engine)) as pool:
        for (_, _, start, _), (records, found, error) in zip(tasks, pool.imap(_check_part, tasks), strict=True):
            if error is not None:
                raise _in_file(path, start, *error)
            report.add(found, records)
            bar.update(records)
    return report


def record_cuts(path: Path, fmt: ox.RdfFormat, part_bytes: int = PART_BYTES) -> list[int]:
    """Byte offsets 0 < ... < size where parts start, each at a record start about ``part_bytes`` after the
    previous one, then the file's size."""
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as f:
        target = part_bytes
        while target < size:
            cut = _record_start_after(f, target, fmt)
            if cut is not None and cut < size:
                cuts.append(cut)
                target = cut + part_bytes
            else:  # no record starts near here (one huge record, or lines that do not parse): look further on
                target += part_bytes
    cuts.append(size)
    return cuts


def _record_start_after(f: Any, offset: int, fmt: ox.RdfFormat) -> int | None:
    """The offset of the first line after ``offset`` that surely starts a record, if one is found soon."""
    f.seek(offset - 1)
    f.readline()  # to the start of the next line (offset itself, when the byte before it ends a line)
    seen: Any = None
    for _ in range(SCAN_LINES):
        at = f.tell()
        line = f.readline()
        if not line:
            return None
        key = _record_key(line, fmt)
        if key is None:
            continue
        if seen is not None and key != seen and _starts_record(key, fmt):
            return at
        seen = key
    return None


def _record_key(line: bytes, fmt: ox.RdfFormat) -> Any:
    """What tells records apart on a line: its graph (N-Quads) or the trial its subject was minted for
    (N-Triples); None for a line without one (a blank line, a comment, a node shared by records, bad syntax)."""
    try:
        quad = next(iter(ox.parse(line, format=fmt)), None)
    except SyntaxError:
        return None  # the worker whose part holds it reports it
    if quad is None:
        return None
    if fmt == ox.RdfFormat.N_QUADS:
        return quad.graph_name
    subject = quad.subject
    return trial_of(subject.value) if isinstance(subject, ox.NamedNode) else None


def _starts_record(key: Any, fmt: ox.RdfFormat) -> bool:
    # In N-Quads, the entities graph's lines after a record belong to that record.
    return fmt != ox.RdfFormat.N_QUADS or not (isinstance(key, ox.NamedNode) and is_entities_graph(key.value))


# ------------------------------------------------------------------------------------------ workers
_SHAPES: Shapes | None = None
_ENGINE = "compiled"


def _init_worker(own_shapes: str | None, engine: str) -> None:
    global _SHAPES, _ENGINE
    if own_shapes is None:
        _SHAPES = load_shapes()
    else:
        import rdflib

        _SHAPES = compile_shapes(rdflib.Graph().parse(data=own_shapes, format="nt"))
    _ENGINE = engine
    # As a streaming job sets it (kg.gcpolicy): rare young passes, the shapes and caches frozen once.
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
    gc.freeze()


def _check_part(task: tuple[str, str, int, int]) -> tuple[int, list[Violation], tuple[Any, ...] | None]:
    """(records checked, results, pyoxigraph's syntax error arguments or None) of one part of a file."""
    path, extension, start, end = task
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    fmt = ox.RdfFormat.from_extension(extension)
    report = ValidationReport()
    try:
        validate_records(_records(data, fmt), _SHAPES, report, engine=_ENGINE)
    except SyntaxError as e:
        return report.records, report.violations, e.args
    return report.records, report.violations, None


def _records(data: bytes, fmt: Any) -> Iterator[Any]:
    return group_records(ox.parse(data, format=fmt), fmt)


def _in_file(path: Path, start: int, message: str, where: tuple[Any, ...] | None = None) -> SyntaxError:
    """A worker's syntax error as one process reports it: line numbers counted from the start of the file."""
    lines = _lines_before(path, start)
    shifted = _LINE_NUMBER.sub(lambda m: f"line {int(m[1]) + lines}", message)
    if where:
        filename, lineno, column, text, end_lineno, end_column = where
        where = (filename, lineno + lines, column, text, end_lineno and end_lineno + lines, end_column)
    error = SyntaxError(shifted, where) if where else SyntaxError(shifted)
    return SyntaxError(f"{path}: {error}")


def _lines_before(path: Path, offset: int) -> int:
    count = 0
    with path.open("rb") as f:
        while f.tell() < offset:
            block = f.read(min(1 << 20, offset - f.tell()))
            if not block:
                break
            count += block.count(b"\n")
    return count
