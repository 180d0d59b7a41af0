"""Input files: walk paths and open containers (folders, zip, gzip) into (origin, text) payloads.

Containers are recognised by their magic bytes, never by file name. Each payload names where it came
from (``file``, ``archive.zip!member``) so every problem can say which file and member it was. A gzip file
of JSON Lines is decompressed as a stream into parts cut at line breaks, so no process holds all of it.
"""

from __future__ import annotations

import codecs
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
    """One document to read: its text, or for a plain file only its path, so that a worker process
    reads and decodes it (the parent then never holds, nor sends, the text of a large file)."""

    origin: str
    text: str | None = None
    path: Path | None = None
    part: FilePart | None = None  # only this part of the file (a big JSON Lines file is read in parts)
    data: bytes | None = None  # the part's bytes, when they were decompressed here (a gzip file of JSON Lines)

    def read(self, problems: list[Problem]) -> tuple[str, bytes | None] | None:
        """The text, and for bytes decoded here the UTF-8 bytes it decoded from cleanly (without a BOM), so a
        parser that takes bytes need not encode the text again; None when the file cannot be read."""
        if self.text is not None:
            return self.text, None
        part = self.part
        try:
            if self.data is not None:
                data = self.data
            else:
                assert self.path is not None
                data = self.path.read_bytes() if part is None else _read_part(self.path, part)
        except OSError as e:
            problems.append(Problem(self.origin, None, None, f"cannot read: {e.strerror or e}", "skipped"))
            return None
        found = len(problems)
        start = part.start if part else 0
        text = decode(self.origin, data, problems, start)
        clean = len(problems) == found
        return text, ((data.removeprefix(codecs.BOM_UTF8) if start == 0 else data) if clean else None)


@dataclass(frozen=True, slots=True)
class FilePart:
    """Bytes ``start`` to ``end`` of a file, cut at line breaks; ``first_line`` is the number of its first line."""

    start: int
    end: int
    first_line: int


def _read_part(path: Path, part: FilePart) -> bytes:
    with path.open("rb") as f:
        f.seek(part.start)
        return f.read(part.end - part.start)


def json_lines_parts(path: Path, size: int, json_lines: Callable[[bytes], bool], sniff_bytes: int) -> list[FilePart]:
    """The parts of a plain file bigger than ``size`` whose first ``sniff_bytes`` ``json_lines`` accepts; none for
    any other file (a whole array or search page is one JSON text, and a first line longer than the sniff is
    never cut)."""
    if path.stat().st_size <= size:
        return []
    with path.open("rb") as f:
        head = f.read(sniff_bytes)
    return line_parts(path, size) if json_lines(head) else []


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


def iter_payloads(paths: Iterable[str | Path], problems: list[Problem],
                  json_lines: Callable[[bytes], bool] | None = None, part_bytes: int = 4 << 20,
                  sniff_bytes: int = 1 << 20) -> Iterator[Payload]:
    """The payloads under ``paths``. A file (plain or gzip) whose content is over ``part_bytes`` and whose first
    ``sniff_bytes`` ``json_lines`` accepts (JSON Lines of studies) is given in parts of about ``part_bytes``, cut
    at line breaks: workers share a big file, and no process holds all of it."""
    for path in iter_files(paths):
        try:
            with path.open("rb") as f:
                magic = f.read(4)
            if magic in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
                # The bulk download is a large zip: read it member by member from disk.
                yield from _open_zip(str(path), path, problems, 0)
                continue
            if not magic.startswith(_GZIP_MAGIC):
                parts = json_lines_parts(path, part_bytes, json_lines, sniff_bytes) if json_lines else []
                yield from ([Payload(str(path), path=path, part=p) for p in parts] or [Payload(str(path), path=path)])
                continue
        except OSError as e:
            problems.append(Problem(str(path), None, None, f"cannot read: {e.strerror or e}", "skipped"))
            continue
        yield from _open_gzip_file(path, problems, json_lines, part_bytes, sniff_bytes)


def _open_gzip_file(path: Path, problems: list[Problem], json_lines: Callable[[bytes], bool] | None,
                    part_bytes: int, sniff_bytes: int) -> Iterator[Payload]:
    """A gzip file read as a stream: JSON Lines (as ``json_lines`` tells from its start) in parts; anything
    else, or content under ``part_bytes``, whole as before (it may be an array, a zip ...)."""
    origin = str(path)
    whole, content = True, b""
    try:
        with gzip.open(path, "rb") as f:
            head = f.read(part_bytes + 1)
            whole = len(head) <= part_bytes or json_lines is None or not json_lines(head[:sniff_bytes])
            if whole:
                content = head + f.read()
        if not whole:
            # Checked whole before any part is built, as a whole read would be: a failed CRC or bad deflate data
            # may have spoilt any part. Only a file cut short (EOFError) is read in parts, up to the cut.
            _check_gzip(path)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        if whole or not isinstance(e, EOFError):
            problems.append(Problem(origin, None, None, f"broken gzip file: {e}", "skipped"))
            return
    if whole:
        yield from _open(origin + "!gunzip", content, problems, 1)
        return
    lines_read = 0
    try:
        with gzip.open(path, "rb") as f:
            for part in gzip_line_parts(origin + "!gunzip", f.read(part_bytes + 1), f, part_bytes):
                yield part
                lines_read += (part.data or b"").count(b"\n")
    except (OSError, EOFError, zlib.error) as e:
        problems.append(Problem(origin, None, None, f"gzip file cut short ({e}): its first {lines_read:,} lines "
                                "were read", "skipped"))


def _check_gzip(path: Path) -> None:
    """Decompress the whole file and drop the bytes: raises what reading it would."""
    with gzip.open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def gzip_line_parts(origin: str, head: bytes, stream: io.BufferedIOBase | gzip.GzipFile, size: int
                    ) -> Iterator[Payload]:
    """``head`` and the rest of ``stream`` as payloads of over ``size`` bytes (up to about twice that, more for a
    longer line), each ending at a line break (the last at the end of the stream), with their offsets and first
    line numbers."""
    pending = bytearray(head)
    start, first, done = 0, 1, False
    cut_short: EOFError | None = None
    while pending or not done:
        cut = pending.rfind(b"\n") + 1 if len(pending) > size else 0
        while not cut and not done:  # a part ends at a line break: read on until one is past ``size``
            try:
                block = stream.read(min(size, _GZIP_BLOCK))  # what a read that meets the end of a cut file loses
            except EOFError as e:  # a file cut short: what came before is sound, up to its last (cut) line
                block, cut_short = b"", e
            if not block:
                done = True
            pending += block
            cut = pending.rfind(b"\n") + 1 if len(pending) > size else 0
        if not cut:
            cut = len(pending)
        data = bytes(pending[:cut])
        del pending[:cut]
        yield Payload(origin, part=FilePart(start, start + cut, first), data=data)
        start += cut
        first += data.count(b"\n")
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
        yield Payload(origin, text=decode(origin, data, problems))


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
