"""The reader of N-Triples and N-Quads files for ``kg validate``: lines split with ``bytes.split``, terms made
through a cache (predicates, classes, codes and a record's own nodes recur on many lines), records cut in the same
loop (:class:`kg.records.RecordCutter`). pyoxigraph's parse into Python terms cost twice the whole build, and a
reader that handed statements on to a separate grouping cost more than that parse (bench/RESULTS-validate.md).

It reads only what it has checked, and makes the terms pyoxigraph's parser would: the layout kg writes (terms
between single spaces, `` .`` and a line break at the end), subject, predicate and graph IRIs, an IRI or a plain or
typed literal as object. An IRI is checked by pyoxigraph's ``NamedNode``, which makes the parser's own IRI check; a
literal's text for raw quotes and line breaks and for escapes N-Triples does not have. pyoxigraph parses any other
line alone (other spacing or line ends, a comment, a blank line or node, a language tag, an escape in an IRI, bytes
that are not UTF-8, an error): these formats hold at most one statement on a line and carry nothing over from one
line to the next, so a line reads alone as it does in its file. After 64 such lines in a row it parses the rest of
the source at once. A syntax error is the one pyoxigraph reports reading the whole source, with its line and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import partial
from typing import IO, Any

import pyoxigraph as ox

from kg.rdfterms import unescape_literal
from kg.records import RecordCutter
from kg.shacl import RecordTriples

LINE_FORMATS = (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS)
OTHERS_IN_A_ROW = 64  # lines in a row pyoxigraph reads one at a time, before it reads the rest of the source
MAX_LINE = 1 << 20  # bytes: a longer line (or a file of lines not ended by "\n") goes to pyoxigraph with the rest
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"  # rdf:langString and rdf:dirLangString need a language tag
_ESCAPE = re.compile(r"""\\(?:[tbnrf"'\\]|u(?![dD][89a-fA-F])[0-9A-Fa-f]{4})""")  # pyoxigraph refuses surrogates


class OxTerms:
    """N-Triples term strings (``<iri>``, ``"text"``, ``"text"^^<dt>``, ``"text"@lang``, ``_:b``) to pyoxigraph
    terms, cached: predicates, classes and codes recur in every record. Trusts the strings: for the mapping's
    own, which a build validates (parsing a record's text again with pyoxigraph cost three times the checks);
    :class:`CheckedTerms` for a file's."""

    MAX_CACHED = 200_000

    def __init__(self) -> None:
        self.cache: dict[Any, Any] = {}  # str terms here, UTF-8 bytes in CheckedTerms
        self._datatypes: dict[str, Any] = {}

    def __call__(self, term: Any) -> Any:
        found = self.cache.get(term)
        if found is None:
            if len(self.cache) >= self.MAX_CACHED:
                self.clear()
            found = self.cache[term] = self._parse(term)
        return found

    def clear(self) -> None:
        self.cache.clear()
        self._datatypes.clear()  # a file may hold any number of distinct datatypes

    def triples(self, triples: Iterable[tuple[str, str, str]]) -> list[tuple[Any, Any, Any]]:
        get, parse = self.cache.get, self  # a cache hit costs a dict lookup, not a Python call
        return [(get(s) or parse(s), get(p) or parse(p), get(o) or parse(o)) for s, p, o in triples]

    def _parse(self, term: str) -> Any:
        if term[0] == "<":
            return ox.NamedNode(term[1:-1])
        if term[0] == "_":
            return ox.BlankNode(term[2:])
        end = term.rindex('"')
        return self._literal(term[1:end], term[end + 1:])

    def _literal(self, lexical: str, tail: str) -> Any:
        """The literal ``"lexical"tail``: ``tail`` is empty, ``^^<datatype>`` or ``@language``."""
        if "\\" in lexical:
            lexical = unescape_literal(lexical)
        if not tail:
            return ox.Literal(lexical)
        if tail[0] == "^":  # the few datatypes are made once
            iri = tail[3:-1]
            datatype = self._datatypes.get(iri)
            if datatype is None:
                datatype = self._datatypes[iri] = ox.NamedNode(iri)
            return ox.Literal(lexical, datatype=datatype)
        return ox.Literal(lexical, language=tail[1:])


class Refused(ValueError):
    """A term or line this reader leaves to pyoxigraph."""


class CheckedTerms(OxTerms):
    """:class:`OxTerms` for the terms of a file's lines, as UTF-8 bytes: makes only those it has checked (raises
    :class:`Refused`, or the ValueError of a decoding or a pyoxigraph constructor, otherwise). ``iris`` holds the
    IRIs among them, for the places only an IRI may be."""

    def __init__(self) -> None:
        super().__init__()
        self.iris: dict[bytes, Any] = {}

    def clear(self) -> None:
        super().clear()
        self.iris.clear()

    def iri(self, term: bytes) -> Any:
        if term[:1] != b"<":
            raise Refused(term)
        found = self.iris[term] = self(term)
        return found

    def _parse(self, term: bytes) -> Any:  # type: ignore[override]
        text = term.decode("utf-8")
        first = text[:1]
        if first == "<":
            if text[-1] != ">":
                raise Refused(term)
            return ox.NamedNode(text[1:-1])  # ValueError unless an absolute IRI (pyoxigraph's parser checks so)
        if first != '"':
            raise Refused(term)  # a blank node (kg writes none) or not a term
        end = text.rindex('"')
        lexical = text[1:end]
        raw = _ESCAPE.sub("", lexical) if "\\" in lexical else lexical
        tail = text[end + 1:]
        if (not end or '"' in raw or "\\" in raw or "\r" in raw or "\n" in raw
                or tail and (tail[:3] != "^^<" or tail[-1] != ">" or tail.startswith(_RDF, 3))):
            raise Refused(term)  # language tags too: kg writes none
        return self._literal(lexical, tail)


def read_records(source: IO[bytes], fmt: ox.RdfFormat, terms: CheckedTerms | None = None
                 ) -> Iterator[RecordTriples]:
    """The records of an N-Triples or N-Quads byte stream (seekable: to hand pyoxigraph the rest of it, and to find an
    error's place): what ``kg.validate.group_records(ox.parse(source, format=fmt), fmt)`` gives, in the same order,
    up to the same error. A line is read MAX_LINE bytes at most, so memory stays bounded as pyoxigraph's does."""
    quads = fmt == ox.RdfFormat.N_QUADS
    terms = terms if terms is not None else CheckedTerms()
    iri_get, iri, get, iris = terms.iris.get, terms.iri, terms.cache.get, terms.iris
    cut = RecordCutter(quads)
    at, append = cut.at, cut.append
    current = None  # the graph (N-Quads) or subject (N-Triples) as written: where it changes, records may be cut
    tail = _NO_GRAPH if quads else b" .\n"  # how a line in the current graph ends
    end_at = -len(tail)
    subject = subject_term = None  # the last subject: lines of one subject follow each other
    others = 0  # lines in a row not read here
    for line in iter(partial(source.readline, MAX_LINE), b""):
        try:
            if line.endswith(tail):
                s, p, o = line[:end_at].split(b" ", 2)
                key = current if quads else s
            elif len(line) == MAX_LINE and not line.endswith(b"\n"):  # not a line of kg's: not held whole either
                others = OTHERS_IN_A_ROW  # so that the rest of the source goes to pyoxigraph, from this line on
                raise Refused(line[:64])
            elif quads:  # another graph
                head, key, end = line.rsplit(b" ", 2)
                if end != b".\n":
                    raise Refused(line)
                if key not in iris:
                    iri(key)  # a graph name is an IRI too
                s, p, o = head.split(b" ", 2)
            else:
                raise Refused(line)
            if s != subject:
                subject_term, subject = iri_get(s) or iri(s), s
            triple = (subject_term, iri_get(p) or iri(p), get(o) or terms(o))
        except (ValueError, IndexError, TypeError):  # refused by a check or a constructor: pyoxigraph reads it
            others += 1
            if others < OTHERS_IN_A_ROW:
                statements: Iterable[tuple[bytes, Any]] = _parsed(line, cut, source, fmt)
            else:  # a file of another layout (CRLF, tabs, comments): pyoxigraph reads the rest at once
                source.seek(source.tell() - len(line))
                statements = _parsed(source, cut, source, fmt)
        else:
            others = 0
            if key == current:
                append(triple)
                continue
            statements = ((key, triple),)
        for key, triple in statements:
            if key != current:
                current = key
                named = key[1:-1].decode("utf-8") if key[:1] == b"<" else None
                if quads:  # only a named graph's lines are read here
                    tail = b" " + key + b" .\n" if named is not None else _NO_GRAPH
                    end_at = -len(tail)
                if (done := at(named)) is not None:
                    yield done
                append = cut.append
            append(triple)
    if (done := cut.end()) is not None:
        yield done


_NO_GRAPH = b"\n\n"  # no line ends so: a line from the iteration holds one line break


def _parsed(data: bytes | IO[bytes], cut: RecordCutter, source: IO[bytes], fmt: ox.RdfFormat
            ) -> Iterator[tuple[bytes, Any]]:
    """(graph or subject as the lines write it, triple) of each statement pyoxigraph reads in a line, or in the
    source from where it stands: N-Triples and N-Quads hold at most one statement on a line and carry nothing from
    one line to the next, so they read as they do in the whole source."""
    try:
        for quad in ox.parse(data, format=fmt):
            yield str(cut.key(quad)).encode("utf-8"), (quad.subject, quad.predicate, quad.object)
    except SyntaxError as error:
        raise first_syntax_error(source, fmt) or error from None


def first_syntax_error(source: IO[bytes], fmt: ox.RdfFormat) -> SyntaxError | None:
    """pyoxigraph's error reading the whole source, which names the line and column in it."""
    source.seek(0)
    try:
        for _ in ox.parse(source, format=fmt):
            pass
    except SyntaxError as e:
        return e
    return None
