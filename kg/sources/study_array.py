"""The website's ``ctg-studies.json`` download: a JSON array of v2 studies read an element at a time, from the
whole file or from a part of it, so that neither a big download's objects nor (in parts) its bytes are all held.

An element starts where the next study opens: at the ``{`` of a ``"protocolSection"`` key (a v2 record's first key)
right after a ``,`` (``element_start``; the same rule cuts a big file into parts). That is only a guess where such a
key opens an object in a nested list; so a piece up to a guessed end is taken only if it parses as one JSON value
(then it is exactly the element), and where no guess does, json's own parser finds where the element ends, or
where the JSON breaks. Reading the whole file or its parts in turn gives the same elements and problems: a part
stops before an element it cannot finish, and says where (``ArrayPosition``) the next part has to start.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from kg.report import Problem, Severity

_KEY = b'"protocolSection"'
_SPACE = b" \t\r\n"  # JSON's white space
_CLOSE, _COMMA, _BRACE, _BACKSLASH = 0x5D, 0x2C, 0x7B, 0x5C  # ] , { \
_WINDOW = 1 << 16  # bytes decoded at first to find an element's end exactly (doubled while it goes on)
_MAX_ELEMENT = 1 << 28  # an element that does not end within this many bytes is taken as broken (_WINDOW * 2**k);
# far above any real study (the largest are ~2 MB), so that a valid one is never cut off
_LOOKAHEAD = 16  # how far json's parser may read past a syntax error it reports (a literal, a \uXXXX pair)
_DECODER = json.JSONDecoder()


@dataclass(slots=True)
class ArrayPosition:
    """Where reading an array stands: the file offset and index of the next element to read, and ``done`` once the
    array has been read to its end (or cannot be read on); ``need``: a part stopped before an element it could not
    finish, and reading it again needs at least this many bytes from ``offset`` (twice what it had, up to
    ``_MAX_ELEMENT``: so an element is read again only a few times, and a read holds at most that and a part)."""

    offset: int
    index: int
    done: bool = False
    need: int = 0


def _skip(data: bytes, i: int) -> int:
    """The first byte at or after ``i`` that is not white space (``len(data)`` if none)."""
    n = len(data)
    while i < n and data[i] in _SPACE:
        i += 1
    return i


def _back(data: bytes, i: int) -> int:
    """The last byte before ``i`` that is not white space (-1 if none)."""
    i -= 1
    while i >= 0 and data[i] in _SPACE:
        i -= 1
    return i


def starts_study_array(head: bytes) -> bool:
    """Whether a file that begins with ``head`` is an array whose first element opens with "protocolSection"."""
    head = head.removeprefix(codecs.BOM_UTF8)
    i = _skip(head, 0)
    if head[i:i + 1] != b"[":
        return False
    i = _skip(head, i + 1)
    return head[i:i + 1] == b"{" and head.startswith(_KEY, _skip(head, i + 1))


def element_start(data: bytes, at: int = 0) -> int:
    """Where the next study element opens at or after ``at``: a ``{``, then "protocolSection" (its quote not escaped:
    not inside a string), after a ``,`` (white space between); -1 if none."""
    k = data.find(_KEY, at)
    while k != -1:
        if k > 0 and data[k - 1] != _BACKSLASH:
            brace = _back(data, k)
            if brace >= at and data[brace] == _BRACE and (comma := _back(data, brace)) >= 0 and data[comma] == _COMMA:
                return brace
        k = data.find(_KEY, k + 1)
    return -1


def array_objects(data: bytes, origin: str, problems: list[Problem], at: ArrayPosition, opens: bool = True,
                  closes: bool = True) -> Iterator[tuple[str, Any]]:
    """(``origin[i]``, element) for each element of a JSON array in ``data``, parsed one at a time.

    ``data`` begins at file offset ``at.offset``: at the array's ``[`` (``opens``) or where element ``at.index``
    opens; ``closes``: it runs to the end of the file, else it ends where the next part's first element opens.
    ``at`` follows the reading: when the generator is done it names the next element to read. A part that ends
    inside an element stops before it; read on from ``at`` with more data, it gives what the whole file would.

    An element that is not valid JSON is reported and reading goes on with the next study that opens after the
    break (the broken text counts as one element); so does text between elements that is not a ``,``. An element
    that never closes (it runs to the end of the file, or on past ``_MAX_ELEMENT``) is reported and reading goes on
    with the next study that opens after its start."""
    base, n = at.offset, len(data)
    view = memoryview(data)  # pieces without copies

    def problem(message: str, element: int | None = None, severity: Severity = "skipped") -> None:
        problems.append(Problem(origin if element is None else f"{origin}[{element}]", None, None, message, severity))

    def close(p: int) -> None:  # the closing "]" at p: a part that is not the file's last has text after it
        rest = _skip(data, p + 1)
        if rest < n or not closes:
            problem("text after the array's closing ]: not read")
        at.done = True

    def resume(after: int) -> int:  # after a break: the next study that opens, the next part's, or -1: none
        p = element_start(data, after)
        if p == -1 and closes:
            at.done = True
        return p if p != -1 or closes else n

    # Where the next line break and the next study after p are (-1: none), once looked for: in an array on one line,
    # or whose studies do not open with "protocolSection", looking again for each element would read the rest.
    line = nxt = 0
    p = _skip(data, len(codecs.BOM_UTF8) if opens and data.startswith(codecs.BOM_UTF8) else 0)
    if opens:
        if data[p:p + 1] != b"[":
            problem("not valid JSON: the file does not open with [")
            at.done = True
            return
        p = _skip(data, p + 1)
        if data[p:p + 1] == b"]":
            close(p)
            return
    while p != -1:
        p = _skip(data, p)
        at.offset, i = base + p, at.index
        if p == n:
            if closes:
                problem(f"the array has no closing ]: the file ends before element {i} (it may be cut short)")
                at.done = True
            return
        if data[p] == _CLOSE:  # after a comma: not JSON, but nothing is lost
            problem("not valid JSON: a , before the array's closing ]", severity="note")
            close(p)
            return
        # Where the element ends, guessed: at the "," that ends its line (the website writes a study a line), else
        # at the "," before the next study (or the next part). A guess that parses is right: the piece is one value.
        found = None
        if line != -1 and line <= p:
            line = data.find(b"\n", p)
        if line != -1 and data[comma := _back(data, line)] == _COMMA and comma > p:
            found = _parsed(view, p, comma)
        if found is None:
            if nxt != -1 and nxt <= p:
                nxt = element_start(data, p + 1)
            if nxt != -1 or not closes:  # (with none in the file the piece to its end is not tried: orjson would
                stop = _back(data, nxt if nxt != -1 else n)  # read it all for each element; json's parser below)
                found = _parsed(view, p, stop)
        if found is not None:
            item, end = found
        else:  # not one element: json's parser says where it ends
            end, broken_at, why = _value_end(data, p, closes)
            if end == -1 and broken_at == -1:  # the data ends inside this element
                if not closes:  # read again from here with more data (ArrayChain), up to _MAX_ELEMENT
                    at.need = min(2 * (n - p), _MAX_ELEMENT + 1)
                    return
                if (nxt := element_start(data, p + 1)) == -1:
                    problem("the file ends inside this element (cut short): not read", i)
                    at.done = True
                    return
                # A study opens after it: the element never closed (a "]" or "}" lost) and swallowed the rest.
                problem("not valid JSON (it does not end before the next study opens): not read", i)
                at.index, p = i + 1, nxt
                continue
            if end == -1:  # broken (broken_at -2: not ended within _MAX_ELEMENT): read on strictly after p
                why = why or f"it does not end within {_MAX_ELEMENT:,} bytes"
                problem(f"not valid JSON ({why}): not read", i)
                at.index = i + 1
                p = resume(max(broken_at, p + 1))
                continue
            try:
                item = _loads(view[p:end])
            except orjson.JSONDecodeError as e:
                problem(f"not valid JSON ({e}): not read", i)
                item = _BROKEN
        if item is not _BROKEN:
            yield f"{origin}[{i}]", item
        at.index = i + 1
        a = _skip(data, end)
        if a == n:
            p = a  # the file ends without "]"; a part never ends here (it is cut after a ",")
        elif data[a] == _COMMA:
            p = a + 1
        elif data[a] == _CLOSE:
            close(a)
            return
        else:
            problem(f"not valid JSON: a , or ] expected after element {i}: not read", i + 1)
            at.index = i + 2
            p = resume(a)


_BROKEN = object()


def _parsed(view: memoryview, start: int, stop: int) -> tuple[Any, int] | None:
    """(the value, ``stop``) if the piece from ``start`` to ``stop`` is one JSON value, else None."""
    try:
        return orjson.loads(view[start:stop]), stop
    except orjson.JSONDecodeError:
        return None


def _value_end(data: bytes, p: int, closes: bool) -> tuple[int, int, str]:
    """json's parser on the value that opens at ``p``: (its end, -1, ""), or (-1, where it breaks, why), or
    (-1, -1, "") when ``data`` ends inside it (at the end of the file: the text runs out there), or (-1, -2, "")
    when it does not end within ``_MAX_ELEMENT`` bytes. A syntax error is
    only taken as one when what follows it cannot change it; else more data is read, as a later part would give.
    Bytes that are not UTF-8 are kept as they are (surrogateescape), to count bytes exactly."""
    size = _WINDOW
    while True:
        text = data[p:p + size].decode("utf-8", "surrogateescape")
        whole = p + size >= len(data)
        try:
            _, end = _DECODER.raw_decode(text + "\0")  # a NUL stops a string cut short by the window
            if end < len(text) or whole:  # (a number that runs to the window's end may run on)
                return p + len(text[:end].encode("utf-8", "surrogateescape")), -1, ""
        except json.JSONDecodeError as e:
            if e.pos < len(text) - _LOOKAHEAD or (whole and closes and e.pos < len(text)):
                return -1, p + len(text[:e.pos].encode("utf-8", "surrogateescape")), e.msg
        except RecursionError:
            return -1, p, "nested too deep"
        if whole:
            return -1, -1, ""
        if size >= _MAX_ELEMENT:  # decided on the same bytes whole and in parts (a part asks for them: need)
            return -1, -2, ""
        size *= 2


def _loads(piece: memoryview) -> Any:
    """orjson's value of a piece; bytes that are not UTF-8 replaced by U+FFFD, as the whole file's decoding does."""
    try:
        return orjson.loads(piece)
    except orjson.JSONDecodeError:
        try:
            bytes(piece).decode("utf-8")
        except UnicodeDecodeError:
            return orjson.loads(bytes(piece).decode("utf-8", "replace"))
        raise
