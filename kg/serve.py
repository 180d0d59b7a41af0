"""Serve: a small read-only SPARQL 1.1 Protocol endpoint over an embedded Oxigraph store.

``GET /sparql?query=...``, ``POST`` with a form (``query=...``) or an ``application/sparql-query`` body.
The default graph is the union of the named graphs, as for ``kg query``. Results are negotiated from the
``Accept`` header: SPARQL JSON (default), XML, CSV or TSV for SELECT/ASK; N-Triples (default), Turtle or
RDF/XML for CONSTRUCT/DESCRIBE. A query that does not parse is a 400; updates are refused (403).

Queries run in worker processes that open the store read-only, so a query that runs past the timeout
is stopped by ending its worker (pyoxigraph cannot cancel a query in-process) and answered with a 503;
a fresh worker takes its place. SELECT results are cut after ``limit`` rows (header
``X-TrialKG-Truncated: true`` when they were).
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import queue
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT = 30.0
DEFAULT_LIMIT = 10_000
DEFAULT_WORKERS = 2
MAX_QUERY_BYTES = 1_000_000
ENDPOINT_PATHS = ("/sparql", "/query")
_RESULT_TYPES = {  # media type -> pyoxigraph QueryResultsFormat name
    "application/sparql-results+json": "JSON",
    "application/json": "JSON",
    "application/sparql-results+xml": "XML",
    "application/xml": "XML",
    "text/csv": "CSV",
    "text/tab-separated-values": "TSV",
}
_GRAPH_TYPES = {
    "application/n-triples": "N_TRIPLES",
    "text/plain": "N_TRIPLES",
    "text/turtle": "TURTLE",
    "application/rdf+xml": "RDF_XML",
}


@dataclass(frozen=True)
class ServeOptions:
    store: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    timeout: float = DEFAULT_TIMEOUT
    limit: int = DEFAULT_LIMIT
    workers: int = DEFAULT_WORKERS


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    truncated: bool = False


def _pick(accept: str, offered: dict[str, str], default: str) -> str:
    """The offered media type the Accept header prefers (q-values honoured), else ``default``."""
    best, best_q = None, 0.0
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        q -= i * 1e-6  # earlier wins among equals
        if media in ("*/*", "application/*", "text/*"):
            media = default if media == "*/*" or default.startswith(media[:-1]) else ""
        if media in offered and q > best_q:
            best, best_q = media, q
    return best or default


# ------------------------------------------------------------------------------------------ worker process
def _answer(store: Any, query: str, accept: str, limit: int) -> Answer:
    import pyoxigraph as ox

    try:
        result = store.query(query, use_default_graph_as_union=True)
    except SyntaxError as e:
        return Answer(400, "text/plain; charset=utf-8", f"bad query: {e}\n".encode())
    if isinstance(result, ox.QuerySolutions):
        media = _pick(accept, _RESULT_TYPES, "application/sparql-results+json")
        fmt = getattr(ox.QueryResultsFormat, _RESULT_TYPES[media])
        rows = list(itertools.islice(result, limit + 1))
        truncated = len(rows) > limit
        body = _serialize_rows([v.value for v in result.variables], rows[:limit], fmt)
        return Answer(200, _content_type(media), body, truncated)
    if isinstance(result, ox.QueryBoolean):
        media = _pick(accept, _RESULT_TYPES, "application/sparql-results+json")
        fmt = getattr(ox.QueryResultsFormat, _RESULT_TYPES[media])
        return Answer(200, _content_type(media), result.serialize(format=fmt) or b"")
    media = _pick(accept, _GRAPH_TYPES, "application/n-triples")
    fmt = getattr(ox.RdfFormat, _GRAPH_TYPES[media])
    triples = list(itertools.islice(result, limit + 1))
    body = ox.serialize(triples[:limit], format=fmt) or b""
    return Answer(200, _content_type(media), body, len(triples) > limit)


def _content_type(media: str) -> str:
    return f"{media}; charset=utf-8" if media.startswith("text/") else media


def _serialize_rows(variables: list[str], rows: list[Any], fmt: Any) -> bytes:
    """Serialise a cut list of solutions: pyoxigraph serialises only whole result iterators, so the
    rows go through its TSV reader (exact terms, tabs escaped) to make one."""
    import pyoxigraph as ox

    lines = ["\t".join(f"?{v}" for v in variables)]
    for row in rows:
        lines.append("\t".join("" if row[v] is None else str(row[v]).replace("\t", "\\t") for v in variables))
    solutions = ox.parse_query_results("\n".join(lines) + "\n", ox.QueryResultsFormat.TSV)
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions.serialize(format=fmt) or b""


def _worker_main(store_dir: str, conn: Connection, limit: int) -> None:
    import pyoxigraph as ox

    store = ox.Store.read_only(store_dir)
    while True:
        try:
            query, accept = conn.recv()
        except EOFError:
            return
        try:
            ans = _answer(store, query, accept, limit)
        except Exception as e:  # noqa: BLE001 - any engine error becomes a 500, the worker lives on
            ans = Answer(500, "text/plain; charset=utf-8", f"query failed: {type(e).__name__}: {e}\n".encode())
        conn.send(ans)


class _Worker:
    def __init__(self, ctx: Any, store: Path, limit: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(str(store), child, limit), daemon=True)
        self.process.start()
        child.close()

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """Worker processes, each holding the store open read-only; one query at a time each."""

    def __init__(self, options: ServeOptions) -> None:
        self._options = options
        self._ctx = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._idle: queue.Queue[_Worker] = queue.Queue()
        for _ in range(max(1, options.workers)):
            self._idle.put(_Worker(self._ctx, options.store, options.limit))

    def run(self, query: str, accept: str) -> Answer:
        worker = self._idle.get()
        try:
            worker.conn.send((query, accept))
            if worker.conn.poll(self._options.timeout):
                ans: Answer = worker.conn.recv()
                self._idle.put(worker)
                return ans
        except (EOFError, OSError, BrokenPipeError):
            pass
        # Timed out or died: end it (the only way to stop a running query) and start a fresh one.
        worker.stop()
        self._idle.put(_Worker(self._ctx, self._options.store, self._options.limit))
        return Answer(503, "text/plain; charset=utf-8",
                      f"query stopped after the {self._options.timeout:g} s timeout\n".encode())

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().stop()


# ------------------------------------------------------------------------------------------ HTTP
class _Handler(BaseHTTPRequestHandler):
    server_version = "TrialKG-SPARQL/1"
    pool: WorkerPool  # set on the subclass made by make_server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        if url.path not in ENDPOINT_PATHS:
            self._send(Answer(404, "text/plain; charset=utf-8", b"the SPARQL endpoint is /sparql\n"))
            return
        params = parse_qs(url.query, keep_blank_values=True)
        if "update" in params:
            self._refuse_update()
            return
        if "query" not in params:
            self._send(Answer(200, "text/plain; charset=utf-8",
                              b"TrialKG read-only SPARQL 1.1 endpoint: GET or POST ?query=...\n"))
            return
        self._query(params)

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path not in ENDPOINT_PATHS:
            self._send(Answer(404, "text/plain; charset=utf-8", b"the SPARQL endpoint is /sparql\n"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_QUERY_BYTES:
            self._send(Answer(413, "text/plain; charset=utf-8", b"query too long\n"))
            return
        body = self.rfile.read(length).decode("utf-8", "replace")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        params = parse_qs(url.query, keep_blank_values=True)
        if ctype == "application/sparql-update":
            self._refuse_update()
            return
        if ctype == "application/sparql-query":
            params["query"] = [body]
        elif ctype == "application/x-www-form-urlencoded":
            params.update(parse_qs(body, keep_blank_values=True))
        else:
            self._send(Answer(415, "text/plain; charset=utf-8",
                              b"POST application/sparql-query or application/x-www-form-urlencoded\n"))
            return
        if "update" in params:
            self._refuse_update()
            return
        self._query(params)

    def _query(self, params: dict[str, list[str]]) -> None:
        queries = params.get("query") or []
        if len(queries) != 1:
            self._send(Answer(400, "text/plain; charset=utf-8", b"give exactly one query\n"))
            return
        if params.get("default-graph-uri") or params.get("named-graph-uri"):
            self._send(Answer(400, "text/plain; charset=utf-8",
                              b"default-graph-uri/named-graph-uri are not supported: the default graph is "
                              b"the union of the named graphs\n"))
            return
        self._send(self.pool.run(queries[0], self.headers.get("Accept") or "*/*"))

    def _refuse_update(self) -> None:
        self._send(Answer(403, "text/plain; charset=utf-8", b"this endpoint is read-only: updates are refused\n"))

    def _send(self, ans: Answer) -> None:
        self.send_response(ans.status)
        self.send_header("Content-Type", ans.content_type)
        self.send_header("Content-Length", str(len(ans.body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        if ans.truncated:
            self.send_header("X-TrialKG-Truncated", "true")
        self.end_headers()
        self.wfile.write(ans.body)


def make_server(options: ServeOptions) -> tuple[ThreadingHTTPServer, WorkerPool]:
    """The HTTP server and its worker pool (not yet serving); port 0 picks a free port."""
    if not (options.store / "CURRENT").exists() and not any(options.store.glob("*.sst")):
        raise FileNotFoundError(f"no Oxigraph store at {options.store}")
    pool = WorkerPool(options)
    handler = type("Handler", (_Handler,), {"pool": pool})
    server = ThreadingHTTPServer((options.host, options.port), handler)
    server.daemon_threads = True
    return server, pool


def serve(options: ServeOptions, ready: threading.Event | None = None) -> None:
    """Serve until interrupted; prints the endpoint's URL on stderr once listening."""
    server, pool = make_server(options)
    host, port = server.server_address[:2]
    print(json.dumps({"endpoint": f"http://{host}:{port}/sparql"}), file=sys.stderr, flush=True)
    if ready:
        ready.set()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        pool.close()
