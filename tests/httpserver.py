"""A real threaded HTTP server on 127.0.0.1 that tests script reply by reply, and that records requests.

Usage (the ``http_server`` fixture; import it into a test module or a conftest)::

    def test_x(http_server):
        http_server.add("GET", "/studies", Reply.json_file("ctgov/page1.json"), query={"pageToken": None})
        http_server.add("GET", "/studies", Reply(status=503), Reply.json_file("ctgov/page2.json"))
        ... client pointed at http_server.url ...
        assert http_server.requests[1].param("pageToken") == "NF0g5JaGmg"

Each :meth:`ScriptedServer.add` is one route: a method, a path, an optional query matcher and a queue of
:class:`Reply` objects answered in order (the last one repeats when ``repeat_last``). A request no route
matches gets ``418`` with ``unscripted request`` so a test fails loudly, never by accident. Replies can be
slow (``delay``), truncated (``truncate_to``: the full Content-Length is announced, fewer bytes are sent,
then the connection closes), or carry any status and headers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

DATA_DIR = Path(__file__).parent / "data" / "http"
UNSCRIPTED_STATUS = 418
HOST = "127.0.0.1"
POLL_INTERVAL = 0.02


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a slow server)."""
    truncate_to: int | None = None
    """Send only this many body bytes after announcing the full Content-Length, then close."""

    @classmethod
    def file(cls, relative: str, content_type: str | None = None, **kwargs: Any) -> Reply:
        """A reply whose body is ``tests/data/http/{relative}``."""
        path = DATA_DIR / relative
        if content_type is None:
            content_type = "text/xml; charset=UTF-8" if path.suffix == ".xml" else "application/json"
        return cls(body=path.read_bytes(), content_type=content_type, **kwargs)

    @classmethod
    def json(cls, payload: Any, **kwargs: Any) -> Reply:
        return cls(body=json.dumps(payload).encode(), content_type="application/json", **kwargs)

    @classmethod
    def text(cls, text: str, status: int, **kwargs: Any) -> Reply:
        return cls(status=status, body=text.encode(), content_type="text/plain", **kwargs)


@dataclass(frozen=True)
class RecordedRequest:
    """What the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]

    def param(self, name: str) -> str | None:
        """A query parameter's (single) value, or None when absent."""
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def form(self) -> dict[str, list[str]]:
        """The body parsed as ``application/x-www-form-urlencoded``."""
        return parse_qs(self.body.decode(), keep_blank_values=True)


QueryMatcher = Mapping[str, str | None] | Callable[[RecordedRequest], bool] | None


@dataclass
class _Route:
    method: str
    path: str
    query: QueryMatcher
    replies: list[Reply]
    repeat_last: bool
    served: int = 0

    def matches(self, request: RecordedRequest) -> bool:
        if request.method != self.method or request.path != self.path:
            return False
        if self.served >= len(self.replies) and not self.repeat_last:
            return False
        if self.query is None:
            return True
        if callable(self.query):
            return self.query(request)
        for name, expected in self.query.items():
            if request.param(name) != expected:
                return False
        return True

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class ScriptedServer:
    """The scripted server: routes with reply queues, and the list of requests received."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._httpd = ThreadingHTTPServer((HOST, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name="scripted-http",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(
        self, method: str, path: str, *replies: Reply, query: QueryMatcher = None, repeat_last: bool = False
    ) -> None:
        """Answer ``method path`` (and ``query``: name -> value, None meaning absent) with ``replies``."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self._routes.append(_Route(method.upper(), path, query, list(replies), repeat_last))

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def unserved(self) -> list[str]:
        """Routes whose scripted replies were not all used (handy to assert a script ran to its end)."""
        return [f"{r.method} {r.path} {r.query}" for r in self._routes if r.served < len(r.replies)]

    def _dispatch(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            for route in self._routes:
                if route.matches(request):
                    return route.next_reply()
        return Reply.text(f"unscripted request: {request.method} {request.path} {request.query}", UNSCRIPTED_STATUS)


def _make_handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the access log
            pass

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorded = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                body=body,
                headers={k: v for k, v in self.headers.items()},
            )
            reply = server._dispatch(recorded)
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (timeout): nothing to do

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.truncate_to is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if reply.truncate_to is not None:
                self.wfile.write(reply.body[: reply.truncate_to])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(reply.body)

        do_GET = _handle  # noqa: N815 - http.server's naming
        do_POST = _handle  # noqa: N815

    return Handler


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    """A started :class:`ScriptedServer` on an ephemeral port, stopped after the test."""
    server = ScriptedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
