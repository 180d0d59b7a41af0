"""RDF term syntax: N-Triples forms of IRIs and literals, escaped so any input gives valid RDF.

The mapping builds triples as N-Triples term strings (``<iri>``, ``"text"^^<dt>``): writing them is
then string joining, several times faster than building rdflib or pyoxigraph term objects.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache
from urllib.parse import quote

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_INTEGER = XSD + "integer"
XSD_DECIMAL = XSD + "decimal"
XSD_BOOLEAN = XSD + "boolean"
XSD_DATE = XSD + "date"
XSD_GYEAR = XSD + "gYear"
XSD_GYEARMONTH = XSD + "gYearMonth"
XSD_ANYURI = XSD + "anyURI"

# Characters N-Triples forbids inside <...>, plus anything outside printable ASCII we percent-encode.
_IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f]')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
# Control characters other than \n \r \t, and lone surrogates: rare, escaped by a callback.
_LIT_RARE = re.compile(r'[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f\ud800-\udfff]')


def _escape_char(m: re.Match[str]) -> str:
    c = m.group()
    if c in _ESCAPES:
        return _ESCAPES[c]
    if "\ud800" <= c <= "\udfff":  # a lone surrogate cannot be encoded: replace it
        return "\ufffd"
    return f"\\u{ord(c):04X}"


def escape_literal(text: str) -> str:
    if text.isprintable() and '"' not in text and "\\" not in text:  # the common case, checked in C
        return text
    return escape_unusual(text)


def escape_unusual(text: str) -> str:
    """:func:`escape_literal` of a text that failed its common-case check (so the check is not made again: each
    scans the whole text, and a long description with line breaks fails it)."""
    # Line breaks, tabs and quotes are common in descriptions: str.replace is several times faster
    # than a per-match Python callback. Backslash first, so the escapes added are not escaped again.
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    text = text.replace("\t", "\\t")
    if not text.isprintable() and _LIT_RARE.search(text):  # isprintable: a C scan, far faster than the regex
        text = _LIT_RARE.sub(_escape_char, text)
    return text


_UNESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_UNESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape_char(m: re.Match[str]) -> str:
    code = m.group(1) or m.group(2)
    return chr(int(code, 16)) if code else _UNESCAPES.get(m.group(3), m.group(3))


def unescape_literal(text: str) -> str:
    """The text of an N-Triples literal's escaped lexical form (the inverse of :func:`escape_literal`)."""
    return _UNESCAPE.sub(_unescape_char, text) if "\\" in text else text


def iri(value: str) -> str:
    """``<value>``, with characters that are not allowed in an IRI percent-encoded."""
    if _IRI_BAD.search(value):
        value = _IRI_BAD.sub(lambda m: quote(m.group(), safe=""), value)
    return f"<{value}>"


def ref(value: str) -> str:
    """``<value>`` for an IRI this package minted from safe parts (slugs, NCT ids): no check needed."""
    return f"<{value}>"


def string(text: str) -> str:
    if text.isprintable() and '"' not in text and "\\" not in text:  # escape_literal's common case, inlined
        return f'"{text}"'
    return f'"{escape_unusual(text)}"'


def typed(text: str, datatype: str) -> str:
    return f'"{escape_literal(text)}"^^<{datatype}>'


def integer(value: int) -> str:
    return f'"{int(value)}"^^<{XSD_INTEGER}>'


@lru_cache(maxsize=1 << 16)  # the same site coordinates recur across trials
def decimal(value: float) -> str:
    """An xsd:decimal in plain notation (no exponent); raises ValueError for NaN and infinities."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    text = repr(float(value))
    if "e" in text:  # repr is the shortest round-trip form; only exponents need Decimal
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f'"{text}"^^<{XSD_DECIMAL}>'


def boolean(value: bool) -> str:
    return f'"{"true" if value else "false"}"^^<{XSD_BOOLEAN}>'


DATE_DATATYPES = {"year": XSD_GYEAR, "month": XSD_GYEARMONTH, "day": XSD_DATE}


def date(value: str, precision: str) -> str:
    return typed(value, DATE_DATATYPES[precision])
