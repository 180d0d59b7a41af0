"""Sinks: write record graphs as N-Triples, N-Quads, Turtle or TriG files (optionally gzipped),
to stdout, or into an Oxigraph store.

Records are first spooled as N-Triples chunks to a temporary file, so a record superseded by a newer
version later in the input can be left out without holding the graph in memory; the final format is
then written in one streaming pass (Turtle and TriG through pyoxigraph's streaming serializer).
A record's chunk ends with its lines for the entities graph (names of shared nodes; ``Chunk.shared``
bytes): they follow the record in every output, and go to the entities graph where graphs are kept.
"""

from __future__ import annotations

import glob
import gzip
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import pyoxigraph

from kg.files import publish
from kg.vocab import NAMESPACES

FORMATS = {".nt": "nt", ".nq": "nq", ".ttl": "ttl", ".trig": "trig"}
_OXI_FORMATS = {
    "nt": pyoxigraph.RdfFormat.N_TRIPLES,
    "nq": pyoxigraph.RdfFormat.N_QUADS,
    "ttl": pyoxigraph.RdfFormat.TURTLE,
    "trig": pyoxigraph.RdfFormat.TRIG,
}
QUAD_FORMATS = {"nq", "trig"}


def format_of(path: str) -> tuple[str, bool]:
    """(format, gzipped) from an output file name such as ``graph.ttl.gz``; ``-`` is N-Triples."""
    if path == "-":
        return "nt", False
    p = Path(path)
    gz = p.suffix == ".gz"
    suffix = Path(p.stem).suffix if gz else p.suffix
    if suffix not in FORMATS:
        raise ValueError(f"unknown output format {path!r}: use .nt, .nq, .ttl or .trig (optionally .gz), or -")
    return FORMATS[suffix], gz


def ntriples(triples: Iterable[tuple[str, str, str]]) -> str:
    """N-Triples text of a record's triples, each once, in first-seen order."""
    return ntriples_counted(triples)[0]


def ntriples_counted(triples: Iterable[tuple[str, str, str]]) -> tuple[str, int]:
    """:func:`ntriples` and how many triples it wrote. Joins in C (no Python frame per triple)."""
    unique = dict.fromkeys(triples)
    if not unique:
        return "", 0
    return " .\n".join([*map(" ".join, unique), ""]), len(unique)


def ntriples_utf8_counted(triples: Iterable[tuple[str, str, str]]) -> tuple[bytes, int]:
    """:func:`ntriples_counted` as UTF-8, encoded a line at a time: a record's text holds a few lines with
    characters beyond Latin-1, and encoding the whole text at once would go character by character through all
    of it (a line of ASCII is copied)."""
    unique = dict.fromkeys(triples)
    if not unique:
        return b"", 0
    return b" .\n".join([*map(str.encode, map(" ".join, unique)), b""]), len(unique)


@dataclass(slots=True)
class Chunk:
    graph: str  # graph IRI, bare
    offset: int
    length: int
    version: tuple[str, str] | None = None  # (lastUpdatePostDate, versionHolder) of a record graph
    file: int = 0  # index into Spool.files: 0 is the spool's own file, others are worker segments
    shared: int = 0  # the last bytes of the chunk that belong to the entities graph


def split_shared(chunk: Chunk, data: bytes) -> tuple[bytes, bytes]:
    """A chunk's record-graph lines and its entities-graph lines."""
    cut = len(data) - chunk.shared
    return data[:cut], data[cut:]


def _write_chunk(file: BinaryIO, text: str | bytes, shared: str | bytes) -> tuple[int, int]:
    """Write a chunk (its record's lines, then its entities-graph lines; text or UTF-8): its length and the length
    of the second part. Two writes, not one of the two joined: a record's text is ~60 KB, copied once less."""
    own = text if isinstance(text, bytes) else text.encode("utf-8")
    tail = shared if isinstance(shared, bytes) else shared.encode("utf-8")
    file.write(own)
    if tail:
        file.write(tail)
    return len(own) + len(tail), len(tail)


class SpoolSegment:
    """A worker process's own spool file. The worker writes its records' text here and hands the parent only
    (path, offset, length), so with --jobs the parent does not unpickle and rewrite every record. Named
    after the spool (``{spool}.{pid}.part``) so the spool removes it even if its chunks never arrive."""

    def __init__(self, spool_path: str) -> None:
        self.path = f"{spool_path}.{os.getpid()}.part"
        self._file: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - lives as long as the worker process
        self._offset = 0

    def write(self, text: str | bytes, shared: str | bytes = "") -> tuple[int, int, int]:
        """(offset, length, shared length) of ``text`` followed by ``shared`` in the segment."""
        length, shared_length = _write_chunk(self._file, text, shared)
        offset = self._offset
        self._offset += length
        return offset, length, shared_length

    def flush(self) -> None:
        self._file.flush()


class Spool:
    """Record graphs as N-Triples chunks in temporary files (its own and workers' segments), in input order."""

    def __init__(self, directory: str | None = None, shared_graph: str | None = None) -> None:
        self.directory = directory
        self.shared_graph = shared_graph  # where the chunks' shared lines go in quad outputs and stores
        fd, self.path = tempfile.mkstemp(prefix="trialkg-", suffix=".nt.spool", dir=directory)
        self._file: BinaryIO = os.fdopen(fd, "wb")
        self.chunks: list[Chunk] = []
        self.files: list[str] = [self.path]
        self._file_index: dict[str, int] = {self.path: 0}
        self._offset = 0

    def add(self, graph: str, text: str | bytes, version: tuple[str, str] | None = None,
            shared: str | bytes = "") -> int:
        """A chunk: ``text`` for ``graph`` and ``shared`` for the entities graph (N-Triples, as text or UTF-8)."""
        if shared and self.shared_graph is None:
            raise ValueError("this spool has no entities graph for shared lines")
        length, shared_length = _write_chunk(self._file, text, shared)
        self.chunks.append(Chunk(graph, self._offset, length, version, 0, shared_length))
        self._offset += length
        return len(self.chunks) - 1

    def add_segment_chunk(self, graph: str, segment: str, offset: int, length: int, shared: int = 0,
                          version: tuple[str, str] | None = None) -> int:
        """A chunk a worker already wrote to its segment file ``segment``; the spool deletes that file on close."""
        if shared and self.shared_graph is None:
            raise ValueError("this spool has no entities graph for shared lines")
        file = self._file_index.get(segment)
        if file is None:
            file = self._file_index[segment] = len(self.files)
            self.files.append(segment)
        self.chunks.append(Chunk(graph, offset, length, version, file, shared))
        return len(self.chunks) - 1

    def iter_chunks(self, keep: set[int] | None = None) -> Iterator[tuple[Chunk, bytes]]:
        self._file.flush()
        handles: dict[int, BinaryIO] = {}
        try:
            for i, c in enumerate(self.chunks):
                if keep is not None and i not in keep:
                    continue
                f = handles.get(c.file)
                if f is None:
                    f = handles[c.file] = open(self.files[c.file], "rb")  # noqa: SIM115 - closed below
                f.seek(c.offset)
                yield c, f.read(c.length)
        finally:
            for f in handles.values():
                f.close()

    def holds_exactly(self, keep: set[int] | None) -> bool:
        """Whether the spool's own file is, byte for byte, the N-Triples of the kept chunks."""
        return len(self.files) == 1 and (keep is None or len(keep) == len(self.chunks))

    def become(self, path: str) -> None:
        """Move the spool's own file to ``path`` (same file system): the N-Triples output without a copy."""
        self._file.close()
        publish(self.path, path)
        self.files = []

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        for path in {*self.files, *glob.glob(glob.escape(self.path) + ".*.part")}:
            if os.path.exists(path):
                os.unlink(path)


def _lines_with_graph(graph: str, data: bytes) -> bytes:
    g = f" <{graph}> .\n".encode()
    return b"".join(line[:-3] + g for line in data.splitlines(keepends=True))


def _quad_lines(spool: Spool, chunk: Chunk, data: bytes) -> bytes:
    """N-Quads of a chunk: its record lines in its graph, its shared lines in the entities graph."""
    if not chunk.shared:
        return _lines_with_graph(chunk.graph, data)
    own, shared = split_shared(chunk, data)
    return _lines_with_graph(chunk.graph, own) + _lines_with_graph(spool.shared_graph or "", shared)


def write_spool(spool: Spool, output: str, keep: set[int] | None = None, consume: bool = False) -> None:
    """Write the kept chunks of a spool to ``output`` in the format its name asks for. With ``consume`` (the
    spool is not read again), plain N-Triples of a spool that holds exactly the kept chunks is the spool file
    itself, moved into place rather than copied."""
    fmt, gz = format_of(output)
    if consume and fmt == "nt" and not gz and output != "-" and spool.holds_exactly(keep):
        spool.become(output)
        return
    if output == "-":
        for _chunk, data in spool.iter_chunks(keep):
            sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    out_dir = os.path.dirname(os.path.abspath(output))
    fd, tmp = tempfile.mkstemp(prefix=".trialkg-", dir=out_dir)
    os.close(fd)
    try:
        with open(tmp, "wb") as raw, _gzipped(raw) if gz else nullcontext(raw) as out:
            if fmt in ("nt", "nq"):
                for chunk, data in spool.iter_chunks(keep):
                    out.write(_quad_lines(spool, chunk, data) if fmt == "nq" else data)
            else:
                _write_turtle_family(spool, keep, fmt, out)
        publish(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _gzipped(raw: IO[bytes]) -> gzip.GzipFile:
    # No file name (it would be the random temporary one) and mtime=0: byte-identical run to run.
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)


def _write_turtle_family(spool: Spool, keep: set[int] | None, fmt: str, out: IO[bytes]) -> None:
    prefixes = dict(NAMESPACES)
    if fmt == "ttl":
        def triples() -> Iterator[pyoxigraph.Triple]:
            for _chunk, data in spool.iter_chunks(keep):
                yield from pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_TRIPLES)

        pyoxigraph.serialize(triples(), out, format=_OXI_FORMATS["ttl"], prefixes=prefixes)
    else:
        def quads() -> Iterator[pyoxigraph.Quad]:
            for chunk, data in spool.iter_chunks(keep):
                yield from pyoxigraph.parse(_quad_lines(spool, chunk, data), format=pyoxigraph.RdfFormat.N_QUADS)

        pyoxigraph.serialize(quads(), out, format=_OXI_FORMATS["trig"], prefixes=prefixes)


_STORED_VERSION = """SELECT ?modified ?holder WHERE { GRAPH <%s> {
    <%s> <http://purl.org/dc/terms/modified> ?modified .
    OPTIONAL { <%s> <https://w3id.org/trialkg/ontology#versionHolder> ?holder } } }"""


def stored_version(store: pyoxigraph.Store, graph: str) -> tuple[str, str] | None:
    """The (lastUpdatePostDate, versionHolder) of a record graph already in the store, if any."""
    for row in store.query(_STORED_VERSION % (graph, graph, graph)):
        return row[0].value, row[1].value if row[1] is not None else ""
    return None


def load_spool_into_store(spool: Spool, store_dir: str, keep: set[int] | None = None) -> int:
    """Load the kept record graphs into an Oxigraph store on disk. A record graph replaces the stored
    graph of the same record only when it is not older; returns how many were left out as older."""
    store = pyoxigraph.Store(store_dir)
    older = 0
    with tempfile.NamedTemporaryFile(suffix=".nq", delete=False) as tmp:
        for chunk, data in spool.iter_chunks(keep):
            node = pyoxigraph.NamedNode(chunk.graph)
            if store.contains_named_graph(node):
                old = stored_version(store, chunk.graph)
                if chunk.version is not None and old is not None and old > chunk.version:
                    older += 1
                    continue
                store.clear_graph(node)  # a record graph is replaced whole, never merged with an older one
            tmp.write(_quad_lines(spool, chunk, data))  # shared lines: the store keeps each quad once
    try:
        store.bulk_load(path=tmp.name, format=pyoxigraph.RdfFormat.N_QUADS)
        store.flush()
    finally:
        os.unlink(tmp.name)
    return older
