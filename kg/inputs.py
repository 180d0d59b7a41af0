"""Input files: walk paths and open containers (folders, zip, gzip) into (origin, text) payloads.

Containers are recognised by their magic bytes, never by file name. Each payload names where it came
from (``file``, ``archive.zip!member``) so every problem can say which file and member it was. A big file of
JSON Lines, or an array of studies, is given in parts (cut at line breaks, or where an element opens) that
workers read on their own; a gzip file of either is decompressed as a stream into such parts. So no process
holds all of it.
"""

from __future__ import annotations

import codecs
import dataclasses
import gzip
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.report import Problem

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_BLOCK = 1 << 16
MAX_NESTING = 3  # a zip inside a gzip inside a zip is as deep as real downloads go


@dataclass(frozen=True, slots=True)
class Payload:
    """One document to read: a container's member (or decompressed file) as its bytes, or for a plain file only its
    path, so that a worker process reads it (the parent then never holds, nor sends, a large file); the worker
    decodes it."""

    origin: str
    path: Path | None = None
    part: FilePart | ArrayPart | None = None  # only this part of the file (a big file is read in parts)
    data: bytes | None = None  # its bytes when read here: a container's member, a decompressed file or part of one

    def read(self, problems: list[Problem]) -> tuple[str, bytes | None] | None:
        """The text, and for bytes decoded here the UTF-8 bytes it decoded from cleanly (without a BOM), so a
        parser that takes bytes need not encode the text again; None when the file cannot be read."""
        data = self._bytes(problems)
        if data is None:
            return None
        found = len(problems)
        start = self.part.start if self.part else 0
        text = decode(self.origin, data, problems, start)
        clean = len(problems) == found
        return text, ((data.removeprefix(codecs.BOM_UTF8) if start == 0 else data) if clean else None)

    def read_unchecked(self, problems: list[Problem]) -> bytes | None:
        """The bytes as they are in the file, for a parser that checks their UTF-8 as it reads them (orjson, line by
        line: decoding a 4 MiB part of JSON Lines only to check it cost a quarter of parsing its studies); it reports
        what is not UTF-8 with ``report_not_utf8``."""
        return self._bytes(problems)

    def report_not_utf8(self, data: bytes, problems: list[Problem]) -> None:
        """The problem ``read`` reports for ``data`` (this payload's bytes): the first of them that are not UTF-8."""
        decode(self.origin, data, problems, self.part.start if self.part else 0)

    def read_bytes(self, problems: list[Problem]) -> bytes | None:
        """The bytes as they are in the file, for a reader that parses bytes and counts offsets in the file; bytes
        that are not UTF-8 are reported as ``read`` reports them, and left for the reader to replace."""
        data = self._bytes(problems)
        if data is not None:
            start = self.part.start if self.part else 0
            # A stand-in (ArrayChain) checks only the bytes no part before it had: each is reported once.
            skip = max(0, self.part.checked - start) if isinstance(self.part, ArrayPart) else 0
            try:
                str(memoryview(data)[skip:], "utf-8")
            except UnicodeDecodeError:
                decode(self.origin, data[skip:], problems, start + skip)
        return data

    def _bytes(self, problems: list[Problem]) -> bytes | None:
        try:
            if self.data is not None:
                return self.data
            assert self.path is not None
            return self.path.read_bytes() if self.part is None else _read_part(self.path, self.part)
        except (OSError, EOFError, zlib.error) as e:  # EOFError, zlib.error: a gzip file read again, cut short
            problems.append(Problem(self.origin, None, None, f"cannot read: {getattr(e, 'strerror', None) or e}",
                                    "skipped"))
            return None


@dataclass(frozen=True, slots=True)
class FilePart:
    """Bytes ``start`` to ``end`` of a file, cut at line breaks; ``first_line`` is the number of its first line."""

    start: int
    end: int
    first_line: int


@dataclass(frozen=True, slots=True)
class ArrayPart:
    """Bytes ``start`` to ``end`` of a file that holds an array, cut where an element opens; ``first`` is the index of
    its first element, ``last`` whether it runs to the end of the file; ``checked``: the file's bytes before it were
    read (and their UTF-8 reported) by the parts before (a stand-in, ArrayChain)."""

    start: int
    end: int
    first: int
    last: bool = False
    checked: int = 0


@dataclass(frozen=True, slots=True)
class PartRules:
    """What a source tells about a big file from its first bytes, so that it can be read in parts."""

    json_lines: Callable[[bytes], bool]  # JSON Lines of its records: cut after line breaks
    array: Callable[[bytes], bool]  # an array of its records: cut where ``element_start`` finds an element
    element_start: Callable[[bytes, int], int]  # (bytes, from) -> where the next element opens, or -1


def _read_part(path: Path, part: FilePart | ArrayPart) -> bytes:
    with path.open("rb") as f:
        if f.read(2) == _GZIP_MAGIC:  # a part of a gzip file read again (ArrayChain): decompressed up to it
            f.seek(0)
            with gzip.open(f) as g:
                g.seek(part.start)
                return g.read(part.end - part.start)
        f.seek(part.start)
        return f.read(part.end - part.start)


def line_parts(path: Path, size: int, block: int = 1 << 20) -> list[FilePart]:
    """A file cut after line breaks into parts of about ``size`` bytes, each with the number of its first line.
    Read once, a block at a time; worked out before any part is read, so no file stays open meanwhile."""
    parts: list[FilePart] = []
    start, first, line, offset = 0, 1, 1, 0  # the current part's start and first line; the line being read
    with path.open("rb") as f:
        while data := f.read(block):
            i = data.find(b"\n")
            while i != -1:  # a find per line (memchr): study lines are long, and bytes.count goes byte by byte
                line += 1
                if offset + i >= start + size:
                    parts.append(FilePart(start, offset + i + 1, first))
                    start, first = offset + i + 1, line
                i = data.find(b"\n", i + 1)
            offset += len(data)
    if start < offset:
        parts.append(FilePart(start, offset, first))
    return parts


_OVERLAP = 1 << 16  # of one block kept with the next: an element's opening (white space, key) may straddle them


def array_parts(path: Path, size: int, element_start: Callable[[bytes, int], int], block: int = 1 << 20
                ) -> list[ArrayPart]:
    """A file holding an array cut where elements open (as ``element_start`` finds them, after the first) into parts
    of about ``size`` bytes. Each part's first index counts the openings found before it: right for an array of
    studies; where it is not (an element that opens otherwise), the reader of the part before says so (ArrayChain).
    Read once, a block at a time, keeping the end of each block with the next."""
    parts: list[ArrayPart] = []
    start, first, found = 0, 0, 0  # the current part's start and first element; element openings found so far
    kept, kept_at, seen = b"", 0, -1  # the end of the block before, its offset; the last opening counted
    with path.open("rb") as f:
        while data := f.read(block):
            buf = kept + data
            i = element_start(buf, max(0, seen + 1 - kept_at))
            while i != -1:
                found += 1
                seen = kept_at + i
                if seen >= start + size:
                    parts.append(ArrayPart(start, seen, first))
                    start, first = seen, found
                i = element_start(buf, i + 1)
            kept = buf[-_OVERLAP:]
            kept_at += len(buf) - len(kept)
    parts.append(ArrayPart(start, kept_at + len(kept), first, last=True))
    return parts


class ArrayChain:
    """Keeps the parts of an array read in order, each from where the part before it stopped (the element after its
    last one). A part that does not start there, because the cut was a guess that proved wrong (an element start
    inside an element) or its first index was (an element that does not open like a study), is replaced by the part
    that does: from there to its end, read in its stead. A part that stopped before an element it could not finish
    asks for more (``need`` bytes): parts are passed over until one ends that far on, and read in its stead."""

    def __init__(self) -> None:
        self.offset, self.index, self.done, self.need, self.checked = 0, 0, False, 0, 0

    def part(self, payload: Payload) -> Payload | None:
        """The payload to read for ``payload``: itself, its stand-in, or None once its array has been read."""
        part = payload.part
        if not isinstance(part, ArrayPart):
            return payload
        if part.start == 0:  # a new file
            self.offset, self.index, self.done, self.need, self.checked = 0, 0, False, 0, 0
        if self.done or (part.end < self.offset + self.need and not part.last):  # (read with a later part)
            return None
        checked, self.checked = self.checked, max(self.checked, part.end)
        if (part.start, part.first) == (self.offset, self.index):
            return payload
        # Only its first index wrong: the same bytes (a gzip part's are at hand). Else they start before it.
        data = payload.data if part.start == self.offset else None
        stand_in = ArrayPart(self.offset, part.end, self.index, part.last, checked)
        return dataclasses.replace(payload, part=stand_in, data=data)

    def read(self, offset: int, index: int, done: bool, need: int = 0) -> None:
        """Reading stopped before the element ``index`` at ``offset`` (to be read with ``need`` bytes from there), or
        (``done``) at the end of the array."""
        self.offset, self.index, self.done, self.need = offset, index, done, need


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files under the given paths, folders walked recursively in a fixed (sorted) order."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


def iter_payloads(paths: Iterable[str | Path], problems: list[Problem], rules: PartRules | None = None,
                  part_bytes: int = 4 << 20, sniff_bytes: int = 1 << 20) -> Iterator[Payload]:
    """The payloads under ``paths``. A file whose content is over ``part_bytes`` and whose first ``sniff_bytes``
    ``rules`` accept is given in parts of about ``part_bytes``: JSON Lines cut at line breaks, an array where an
    element opens, from a plain file or a gzip stream. Workers share a big file, and no process holds all of it."""
    for path in iter_files(paths):
        try:
            with path.open("rb") as f:
                magic = f.read(4)
            if magic in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
                # The bulk download is a large zip: read it member by member from disk.
                yield from _open_zip(str(path), path, problems, 0)
                continue
            if not magic.startswith(_GZIP_MAGIC):
                parts = file_parts(path, rules, part_bytes, sniff_bytes) if rules else []
                yield from ([Payload(str(path), path=path, part=p) for p in parts] or [Payload(str(path), path=path)])
                continue
        except OSError as e:
            problems.append(Problem(str(path), None, None, f"cannot read: {e.strerror or e}", "skipped"))
            continue
        yield from _open_gzip_file(path, problems, rules, part_bytes, sniff_bytes)


def file_parts(path: Path, rules: PartRules, size: int, sniff_bytes: int) -> list[FilePart] | list[ArrayPart]:
    """The parts of a plain file over ``size`` whose first ``sniff_bytes`` ``rules`` accept; none for any other file
    (a search page is one JSON text, and a first line longer than the sniff is never cut)."""
    if path.stat().st_size <= size:
        return []
    with path.open("rb") as f:
        head = f.read(sniff_bytes)
    if rules.json_lines(head):
        return line_parts(path, size)
    if rules.array(head):
        return array_parts(path, size, rules.element_start)
    return []


def _open_gzip_file(path: Path, problems: list[Problem], rules: PartRules | None, part_bytes: int,
                    sniff_bytes: int) -> Iterator[Payload]:
    """A gzip file read as a stream: JSON Lines or an array of records (as ``rules`` tell from its start) in parts;
    anything else, or content under ``part_bytes``, whole as before (it may be a zip ...)."""
    origin = str(path)
    cuts: LineCuts | ElementCuts | None = None
    content = b""
    try:
        with gzip.open(path, "rb") as f:
            head = f.read(part_bytes + 1)
            if len(head) > part_bytes and rules is not None:
                sniff = head[:sniff_bytes]
                cuts = (LineCuts() if rules.json_lines(sniff) else
                        ElementCuts(rules.element_start) if rules.array(sniff) else None)
            if cuts is None:
                content = head + f.read()
        if cuts is not None:
            # Checked whole before any part is built, as a whole read would be: a failed CRC or bad deflate data
            # may have spoilt any part. Only a file cut short (EOFError) is read in parts, up to the cut.
            _check_gzip(path)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        if cuts is None or not isinstance(e, EOFError):
            problems.append(Problem(origin, None, None, f"broken gzip file: {e}", "skipped"))
            return
    if cuts is None:
        yield from _open(origin + "!gunzip", content, problems, 1)
        return
    try:
        with gzip.open(path, "rb") as f:
            yield from gzip_parts(origin + "!gunzip", f.read(part_bytes + 1), f, part_bytes, cuts, path)
    except (OSError, EOFError, zlib.error) as e:
        problems.append(Problem(origin, None, None, f"gzip file cut short ({e}): {cuts.read()}", "skipped"))


def _check_gzip(path: Path) -> None:
    """Decompress the whole file and drop the bytes: raises what reading it would."""
    with gzip.open(path, "rb") as f:
        while f.read(1 << 20):
            pass


class LineCuts:
    """Where a stream of JSON Lines is cut: after the last line break once over the part size."""

    def __init__(self) -> None:
        self.first = 1  # the number of the next part's first line

    def cut(self, pending: bytearray, size: int) -> int:
        return pending.rfind(b"\n") + 1 if len(pending) > size else 0

    def part(self, start: int, data: bytes, last: bool) -> FilePart:
        part = FilePart(start, start + len(data), self.first)
        self.first += data.count(b"\n")
        return part

    def read(self) -> str:
        return f"its first {self.first - 1:,} lines were read"


class ElementCuts:
    """Where a stream holding an array is cut: where the first element past the part size opens, the elements that
    open before it counted (as ``array_parts`` counts them)."""

    def __init__(self, element_start: Callable[[bytes, int], int]) -> None:
        self.element_start = element_start
        self.first, self.found, self.searched, self.end = 0, 0, 1, 0  # a part's first element opens at 0: not searched

    def cut(self, pending: bytearray, size: int) -> int:
        i = self.element_start(pending, self.searched)
        while i != -1 and i < size:
            self.found, self.searched = self.found + 1, i + 1
            i = self.element_start(pending, self.searched)
        if i == -1:
            self.searched = max(self.searched, len(pending) - _OVERLAP)
            return 0
        return i

    def part(self, start: int, data: bytes, last: bool) -> ArrayPart:
        part = ArrayPart(start, start + len(data), self.first, last)
        self.first, self.found, self.searched, self.end = self.first + self.found + 1, 0, 1, part.end
        return part

    def read(self) -> str:
        return f"its first {self.end:,} bytes were read"


def gzip_parts(origin: str, head: bytes, stream: io.BufferedIOBase | gzip.GzipFile, size: int,
               cuts: LineCuts | ElementCuts, path: Path | None = None) -> Iterator[Payload]:
    """``head`` and the rest of ``stream`` as payloads of over ``size`` bytes (JSON Lines: up to about twice that,
    more for a longer line), each ending where ``cuts`` cut (the last at the end of the stream). ``path``: the file,
    to read a part again (ArrayChain)."""
    pending = bytearray(head)
    start, done = 0, False
    cut_short: EOFError | None = None
    while pending or not done:
        cut = cuts.cut(pending, size)
        while not cut and not done:  # read on until there is a place to cut past ``size``
            try:
                block = stream.read(min(size, _GZIP_BLOCK))  # what a read that meets the end of a cut file loses
            except EOFError as e:  # a file cut short: what came before is sound, up to its last (cut) record
                block, cut_short = b"", e
            if not block:
                done = True
            pending += block
            cut = cuts.cut(pending, size)
        if not cut:
            cut = len(pending)
        data = bytes(pending[:cut])
        del pending[:cut]
        yield Payload(origin, path=path, part=cuts.part(start, data, done and not pending), data=data)
        start += cut
    if cut_short is not None:
        raise cut_short


def _open(origin: str, data: bytes, problems: list[Problem], depth: int) -> Iterator[Payload]:
    if depth > MAX_NESTING:
        problems.append(Problem(origin, None, None, "containers nested too deep", "skipped"))
        return
    if data.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        yield from _open_zip(origin, data, problems, depth)
    elif data.startswith(_GZIP_MAGIC):
        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            problems.append(Problem(origin, None, None, f"broken gzip file: {e}", "skipped"))
            return
        yield from _open(origin + "!gunzip", inner, problems, depth + 1)
    else:
        yield Payload(origin, data=data)


def _open_zip(origin: str, data: bytes | Path, problems: list[Problem], depth: int) -> Iterator[Payload]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except zipfile.BadZipFile as e:
        problems.append(Problem(origin, None, None, f"broken zip file: {e}", "skipped"))
        return
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or Path(info.filename).name.startswith("."):
                continue
            member = f"{origin}!{info.filename}"
            try:
                inner = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                problems.append(Problem(member, None, None, f"cannot read zip member: {e}", "skipped"))
                continue
            yield from _open(member, inner, problems, depth + 1)


def decode(origin: str, data: bytes, problems: list[Problem], offset: int = 0) -> str:
    """UTF-8 (a BOM allowed at the start of a file); bytes that are not UTF-8 are replaced and reported (``offset``:
    where ``data`` begins in its file, for the message: a part of a file has no BOM)."""
    codec = "utf-8-sig" if offset == 0 else "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        at = offset + e.start + (len(codecs.BOM_UTF8) if offset == 0 and data.startswith(codecs.BOM_UTF8) else 0)
        problems.append(Problem(origin, None, None, f"not valid UTF-8 ({e.reason} at byte {at}); "
                                "undecodable bytes replaced with U+FFFD", "dropped"))
        return data.decode(codec, errors="replace")
