"""RDF term syntax: N-Triples forms of IRIs and literals, escaped so any input gives valid RDF.

The mapping builds triples as N-Triples term strings (``<iri>``, ``"text"^^<dt>``): writing them is
then string joining, several times faster than building rdflib or pyoxigraph term objects.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring
from urllib.parse import quote

import orjson

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
_SURROGATE = re.compile("[\ud800-\udfff]")
_json_string = orjson.dumps  # of a str: its JSON string, as UTF-8


def _with_surrogates_replaced(text: str) -> str:
    """:func:`string` of a text holding lone surrogates (from a Python-dict rendering or an escaped JSON string):
    they cannot be written as UTF-8, so each becomes U+FFFD."""
    return encode_basestring(_SURROGATE.sub("\ufffd", text))


def escape_literal(text: str) -> str:
    """The lexical form of ``text`` escaped for an N-Triples literal, without the quotes."""
    return string(text)[1:-1]


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
    """``"text"``: a plain string literal, escaped as N-Triples needs. A JSON string is one: its encoder
    escapes exactly quote, backslash and the control characters below U+0020 (as \\n, \\t ... or \\u00XX, all
    valid ECHAR/UCHAR escapes), and leaves every other character as it is. orjson's encoder does it in one fast
    pass, where a check for the common case scans the text at ~25 instructions a character (its output is
    json's encode_basestring's for every code point); it refuses lone surrogates."""
    try:
        return _json_string(text).decode()
    except TypeError:
        return _with_surrogates_replaced(text)


def typed(text: str, datatype: str) -> str:
    return f"{string(text)}^^<{datatype}>"


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
