"""Canned queries: read the SPARQL library in ``queries/*.rq``, bind parameters as RDF terms, run a query
over the union of the named graphs of an Oxigraph store, an RDF file or a remote SPARQL endpoint, and
write the results as a text table, SPARQL CSV or SPARQL JSON.

Each ``.rq`` file starts with a header of ``# key: value`` comment lines (the header ends at the first
line that is not a comment)::

    # title: Trial card                                  one line
    # answers: Everything about one trial ...            the question; repeat the key to continue
    # param: nct string NCT02513394 -- the trial's NCT id
    # kind: lookup                                       lookup (one trial, organisation or person) or aggregate

A ``param`` line is ``NAME KIND DEFAULT -- description``; ``NAME`` is the query variable ``?NAME``,
``KIND`` one of ``iri string integer date``, ``DEFAULT`` a value as given on the command line (quote it
when it has spaces). An ``iri`` may be written ``<...>``, bare, or as ``prefix:local`` with a prefix the
query declares. Every parameter has a default, so every query runs without arguments.

Values are never pasted into the query as text: they become a ``VALUES`` block of RDF terms, written
(escaped) by pyoxigraph, that opens the query's outer group and each sub-select that uses the parameter,
on a local store and a remote endpoint alike. A parameter may appear in triple patterns anywhere; in a
FILTER or BIND expression only at the level of the outer group or of a sub-select (or in its HAVING),
not inside a nested ``{ }``, UNION branch or OPTIONAL, where SPARQL's bottom-up evaluation does not see
the VALUES binding.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from kg.resources import resource_dir

PARAM_KINDS = ("iri", "string", "integer", "date")
QUERY_KINDS = ("lookup", "aggregate")
HEADER_KEYS = ("title", "answers", "param", "kind")
XSD = "http://www.w3.org/2001/XMLSchema#"
OUTPUT_FORMATS = ("table", "csv", "json", "tsv", "xml")
_RESULT_FORMATS = {
    "csv": ox.QueryResultsFormat.CSV,
    "json": ox.QueryResultsFormat.JSON,
    "tsv": ox.QueryResultsFormat.TSV,
    "xml": ox.QueryResultsFormat.XML,
}
_RDF_FORMATS = {".nq": ox.RdfFormat.N_QUADS, ".nt": ox.RdfFormat.N_TRIPLES, ".ttl": ox.RdfFormat.TURTLE,
                ".trig": ox.RdfFormat.TRIG}
_PREFIX_RE = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)
_IRIREF_RE = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_CURIE_RE = re.compile(r"^([A-Za-z][\w.-]*)?:(\S*)$")
TABLE_CELL_MAX = 80  # characters shown per cell in the text table
DEFAULT_ENDPOINT_TIMEOUT = 60.0


class QueryError(Exception):
    """A query that cannot be run as asked: unknown name, bad parameter, bad header, endpoint failure."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: str
    description: str


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    answers: str
    kind: str
    params: tuple[Param, ...]
    text: str

    @property
    def prefixes(self) -> dict[str, str]:
        """The query's PREFIX declarations (empty name for the default prefix)."""
        return {m.group(1) or "": m.group(2) for m in _PREFIX_RE.finditer(self.text)}


# ------------------------------------------------------------------------------------------ the library
def parse_query(text: str, name: str, strict: bool = True) -> CannedQuery:
    """A canned query from the text of its ``.rq`` file; a malformed header is a QueryError.
    Not ``strict`` (a user's own file): title, answers and kind may be left out."""
    fields: dict[str, list[str]] = {k: [] for k in HEADER_KEYS}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line[1:].strip().partition(":")
        if not sep or key not in fields:
            raise QueryError(f"{name}: header line {line!r} is not '# key: value' with key in {HEADER_KEYS}")
        fields[key].append(value.strip())
    params = tuple(_parse_param(p, name) for p in fields["param"])
    for key, default in (("title", name), ("answers", ""), ("kind", "aggregate")):
        if not fields[key]:
            if strict:
                raise QueryError(f"{name}: header has no '# {key}:' line")
            fields[key].append(default)
    kind = fields["kind"][0]
    if kind not in QUERY_KINDS:
        raise QueryError(f"{name}: kind {kind!r} is not one of {QUERY_KINDS}")
    q = CannedQuery(name, fields["title"][0], " ".join(fields["answers"]), kind, params, text)
    for p in params:
        if f"?{p.name}" not in text and f"${p.name}" not in text:
            raise QueryError(f"{name}: parameter {p.name!r} is not a variable of the query")
        bind_value(p, p.default, q.prefixes)  # a default that does not parse is an error in the file
    return q


def _parse_param(spec: str, query: str) -> Param:
    head, _, description = spec.partition(" -- ")
    try:
        parts = shlex.split(head)
    except ValueError as e:
        raise QueryError(f"{query}: param {spec!r}: {e}") from None
    if len(parts) != 3 or parts[1] not in PARAM_KINDS:
        raise QueryError(f"{query}: param {spec!r} is not 'NAME KIND DEFAULT -- description' "
                         f"with KIND in {PARAM_KINDS}")
    return Param(parts[0], parts[1], parts[2], description.strip())


@cache
def canned_queries() -> tuple[CannedQuery, ...]:
    """Every query of the library, by name."""
    return tuple(load_query_file(p) for p in sorted(resource_dir("queries").glob("*.rq")))


def load_query_file(path: str | Path, strict: bool = True) -> CannedQuery:
    path = Path(path)
    return parse_query(path.read_text(encoding="utf-8"), path.stem, strict)


def get_query(name: str) -> CannedQuery:
    """A canned query by name, or a ``.rq`` file by path."""
    if name.endswith(".rq") and Path(name).is_file():
        return load_query_file(name, strict=False)
    by_name = {q.name: q for q in canned_queries()}
    if name in by_name:
        return by_name[name]
    close = difflib.get_close_matches(name, list(by_name), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see kg query --list"
    raise QueryError(f"no canned query named {name!r}{hint}")


# ------------------------------------------------------------------------------------------ parameters
def bind_value(param: Param, value: str, prefixes: Mapping[str, str]) -> ox.NamedNode | ox.Literal:
    """The RDF term of a parameter value, checked against the parameter's kind."""
    try:
        if param.kind == "iri":
            return ox.NamedNode(_expand_iri(value, prefixes))
        if param.kind == "string":
            return ox.Literal(value)
        if param.kind == "integer":
            return ox.Literal(str(int(value.strip())), datatype=ox.NamedNode(XSD + "integer"))
        if param.kind == "date":
            return ox.Literal(date.fromisoformat(value.strip()).isoformat(), datatype=ox.NamedNode(XSD + "date"))
    except ValueError as e:
        raise QueryError(f"parameter {param.name}: {value!r} is not a valid {param.kind} ({e})") from None
    raise QueryError(f"parameter {param.name}: unknown kind {param.kind!r}")


def _expand_iri(value: str, prefixes: Mapping[str, str]) -> str:
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    m = _CURIE_RE.match(value)
    if m and (m.group(1) or "") in prefixes and not value.startswith(("http:", "https:", "urn:")):
        return prefixes[m.group(1) or ""] + m.group(2)
    return value


def bindings(query: CannedQuery, given: Mapping[str, str] | None = None) -> dict[str, ox.NamedNode | ox.Literal]:
    """Every parameter of ``query`` as an RDF term: the given value, else the default."""
    given = dict(given or {})
    known = {p.name: p for p in query.params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        names = ", ".join(known) or "none"
        raise QueryError(f"{query.name} has no parameter {', '.join(unknown)} (its parameters: {names})")
    prefixes = query.prefixes
    return {p.name: bind_value(p, given.get(p.name, p.default), prefixes) for p in query.params}


def parse_param_args(args: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` from the command line to a dict."""
    out = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise QueryError(f"--param {arg!r} is not NAME=VALUE")
        out[key.strip()] = value
    return out


def with_values(text: str, terms: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """The query with a ``VALUES`` block of the bound terms opening its outer group, and opening each
    sub-select's group that uses one of them, so a parameter means its value wherever it appears.

    The terms are written by pyoxigraph in N-Triples syntax (escaped), so a value holding quotes, braces
    or ``#`` stays one term and cannot change the query around it.
    """
    if not terms:
        return text
    opens, closes, selects = _scan(text)
    if not opens:
        raise QueryError("query has no group pattern to bind parameters in")
    inserts = {opens[0]: dict(terms)}
    for sel in selects:
        start = next((o for o in opens if o > sel), None)
        if start is None or start == opens[0]:
            continue
        # The sub-select reaches from SELECT to the close of the group around it: its projection and
        # HAVING may use a parameter too (a HAVING test on a parameter runs after the grouping).
        around = [o for o in opens if o < sel and _matching_close(o, opens, closes) > sel]
        end = _matching_close(around[-1], opens, closes) if around else _matching_close(start, opens, closes)
        used = {k: v for k, v in terms.items() if re.search(rf"[?$]{re.escape(k)}\b", text[sel:end])}
        if used:
            inserts[start] = used
    out = text
    for at in sorted(inserts, reverse=True):
        names = " ".join(f"?{k}" for k in inserts[at])
        row = " ".join(str(v) for v in inserts[at].values())
        out = out[: at + 1] + f"\n  VALUES ({names}) {{ ({row}) }}\n" + out[at + 1:]
    return out


def _scan(text: str) -> tuple[list[int], list[int], list[int]]:
    """Positions of ``{``, ``}`` and the keyword SELECT outside comments, strings and IRIs."""
    opens: list[int] = []
    closes: list[int] = []
    selects: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif c == "<":
            m = _IRIREF_RE.match(text, i)
            i = m.end() if m else i + 1  # not an IRI: a less-than operator
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" else 1
            i += len(quote)
        elif c == "{":
            opens.append(i)
            i += 1
        elif c == "}":
            closes.append(i)
            i += 1
        elif c in "sS" and text[i:i + 6].upper() == "SELECT" and (i == 0 or not text[i - 1].isalnum()):
            selects.append(i)
            i += 6
        else:
            i += 1
    return opens, closes, selects


def _matching_close(start: int, opens: list[int], closes: list[int]) -> int:
    depth = 0
    for pos, delta in sorted([(o, 1) for o in opens if o >= start] + [(c, -1) for c in closes if c > start]):
        depth += delta
        if depth == 0:
            return pos
    raise QueryError("unbalanced braces in query")


# ------------------------------------------------------------------------------------------ where to run
@dataclass(frozen=True)
class Endpoint:
    """A remote SPARQL 1.1 Protocol endpoint whose default graph is the union of the named graphs."""

    url: str
    timeout: float = DEFAULT_ENDPOINT_TIMEOUT


Source = ox.Store | Endpoint


def open_store(path: str | Path, read_only: bool = True) -> ox.Store:
    """The embedded Oxigraph store in a folder made by ``kg build --store``."""
    path = Path(path)
    if not path.is_dir():
        raise QueryError(f"no Oxigraph store at {path}")
    try:
        return ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
    except OSError as e:
        raise QueryError(f"cannot open the Oxigraph store at {path}: {e}") from None


def load_file(path: str | Path) -> ox.Store:
    """An in-memory store holding an RDF file (.nq .nt .ttl .trig, optionally .gz): triples files go to
    the default graph, which the union default graph includes."""
    import gzip

    path = Path(path)
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    fmt = _RDF_FORMATS.get(Path(name).suffix)
    if fmt is None:
        raise QueryError(f"cannot tell the RDF format of {path}: use .nq .nt .ttl or .trig (optionally .gz)")
    store = ox.Store()
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            store.bulk_load(f, format=fmt)
    except (OSError, SyntaxError) as e:
        raise QueryError(f"cannot load {path}: {e}") from None
    return store


# ------------------------------------------------------------------------------------------ running
def execute(
    query: CannedQuery, source: Source, params: Mapping[str, str] | None = None
) -> ox.QuerySolutions:
    """Run a canned query with its parameters (defaults for those not given) over the union graph."""
    # pyoxigraph's own substitutions only bind projected variables, which a GROUP BY query cannot
    # project freely: a VALUES block means the same everywhere, local store or remote endpoint.
    text = with_values(query.text, bindings(query, params))
    if isinstance(source, Endpoint):
        return _execute_remote(text, source)
    try:
        result = source.query(text, use_default_graph_as_union=True)
    except SyntaxError as e:
        raise QueryError(f"{query.name}: {e}") from None
    if not isinstance(result, ox.QuerySolutions):
        raise QueryError(f"{query.name}: canned queries must be SELECT queries")
    return result


# Response headers by which a server says it cut the results at its row limit: Virtuoso's, and kg serve's own.
TRUNCATION_HEADERS = ("X-SPARQL-MaxRows", "X-TrialKG-Truncated")
_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def _canonical_booleans(content: bytes) -> bytes:
    """xsd:boolean values in their canonical form: Virtuoso 7 writes "1"/"0" where other stores write
    "true"/"false" (the same values), so results compare equal whatever the store."""
    if b'"1"' not in content and b'"0"' not in content:
        return content
    data = json.loads(content)
    for binding in data.get("results", {}).get("bindings", []):
        for term in binding.values():
            if term.get("datatype") == _XSD_BOOLEAN and term.get("value") in ("1", "0"):
                term["value"] = "true" if term["value"] == "1" else "false"
    return json.dumps(data).encode("utf-8")


def _execute_remote(text: str, endpoint: Endpoint) -> ox.QuerySolutions:
    import requests

    try:
        r = requests.post(endpoint.url, data={"query": text}, timeout=endpoint.timeout,
                          headers={"Accept": "application/sparql-results+json"})
    except requests.RequestException as e:
        raise QueryError(f"endpoint {endpoint.url}: {e}") from None
    if r.status_code != 200:
        raise QueryError(f"endpoint {endpoint.url} answered {r.status_code}: {r.text[:500]}")
    for header in TRUNCATION_HEADERS:
        if header in r.headers:  # a server limit cut the answer: never pass a partial table off as whole
            raise QueryError(f"endpoint {endpoint.url} cut the results short ({header}: {r.headers[header]}); "
                             "raise the server's result limit or narrow the query")
    try:
        result = ox.parse_query_results(_canonical_booleans(r.content), ox.QueryResultsFormat.JSON)
    except SyntaxError as e:
        raise QueryError(f"endpoint {endpoint.url} sent unreadable results: {e}") from None
    if not isinstance(result, ox.QuerySolutions):
        raise QueryError(f"endpoint {endpoint.url} sent a boolean, not a table of results")
    return result


@dataclass
class Table:
    """Query results read into memory: variable names and rows of terms (None where unbound)."""

    variables: list[str]
    rows: list[tuple[ox.NamedNode | ox.BlankNode | ox.Literal | None, ...]]

    @classmethod
    def of(cls, solutions: ox.QuerySolutions) -> Table:
        names = [v.value for v in solutions.variables]
        return cls(names, [tuple(s[n] for n in names) for s in solutions])

    def as_strings(self) -> list[tuple[str, ...]]:
        """Each row as N-Triples terms ("" when unbound): exact and easy to compare."""
        return [tuple("" if t is None else str(t) for t in row) for row in self.rows]


def run_query(query: CannedQuery, source: Source, params: Mapping[str, str] | None = None) -> Table:
    return Table.of(execute(query, source, params))


# ------------------------------------------------------------------------------------------ output
def write_results(solutions: ox.QuerySolutions, fmt: str, out: IO[bytes],
                  prefixes: Mapping[str, str] | None = None) -> int | None:
    """Write results as ``table`` (aligned text) or a SPARQL results format (csv, json, tsv, xml).
    Returns the row count for a table (None for the streaming formats)."""
    if fmt in _RESULT_FORMATS:
        solutions.serialize(out, _RESULT_FORMATS[fmt])
        return None
    if fmt != "table":
        raise QueryError(f"unknown output format {fmt!r}: use one of {OUTPUT_FORMATS}")
    table = Table.of(solutions)
    out.write(format_table(table, prefixes or {}).encode("utf-8"))
    return len(table.rows)


def format_table(table: Table, prefixes: Mapping[str, str]) -> str:
    """Aligned text columns; IRIs shortened with the query's prefixes, literals as their text."""
    by_length = sorted(((ns, p) for p, ns in prefixes.items() if ns), key=lambda x: -len(x[0]))

    def cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
        if term is None:
            return ""
        if isinstance(term, ox.NamedNode):
            for ns, p in by_length:
                if term.value.startswith(ns) and len(term.value) > len(ns):
                    text = f"{p}:{term.value[len(ns):]}"
                    break
            else:
                text = f"<{term.value}>"
        elif isinstance(term, ox.BlankNode):
            text = f"_:{term.value}"
        else:
            text = term.value
        text = " ".join(text.split())  # one line per row
        return text if len(text) <= TABLE_CELL_MAX else text[: TABLE_CELL_MAX - 1] + "…"

    cells = [[cell(t) for t in row] for row in table.rows]
    widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(table.variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(table.variables, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines) + "\n"


def describe(query: CannedQuery) -> str:
    """The header of a query as ``kg query --list`` shows it."""
    lines = [f"{query.name}  [{query.kind}]", f"    {query.title}: {query.answers}"]
    for p in query.params:
        lines.append(f"    --param {p.name}=<{p.kind}>  default {p.default}  {p.description}")
    return "\n".join(lines)
