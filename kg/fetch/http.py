"""One polite HTTP session for every online source: cache, rate limit, retries and clear errors.

Everything that talks to ClinicalTrials.gov, PubMed or the MeSH lookup API goes through
:class:`PoliteSession` (built by :func:`make_session`):

- responses are cached in SQLite (requests-cache) under :func:`default_cache_dir`; searches expire after a
  day, single records after longer; ``refresh=True`` bypasses the cache and overwrites it;
- a :class:`RateLimiter` keeps a minimum interval between requests that reach the network (cache hits are
  free, because the limiter sits in the transport adapter, below the cache);
- 429 (honouring ``Retry-After`` in seconds or as an HTTP date), 408, 5xx, timeouts, connection errors and
  truncated or invalid bodies are retried with exponential backoff, up to a per-request and a per-session
  retry limit;
- any other 4xx raises :class:`FetchError` carrying the API's own message and the URL.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import requests
import requests_cache
from requests.adapters import HTTPAdapter

from kg import __version__
from kg.datacache import default_cache_dir

log = logging.getLogger(__name__)

CACHE_FILE_NAME = "http-cache.sqlite"

SEARCH_EXPIRE = timedelta(days=1)
"""Search pages change daily (CT.gov updates once a day)."""
RECORD_EXPIRE = timedelta(days=7)
"""A single study record: refreshed weekly unless ``refresh`` is asked for."""
ARTICLE_EXPIRE = timedelta(days=30)
"""PubMed efetch replies and MeSH lookups change rarely."""

DEFAULT_TIMEOUT = 60.0
DEFAULT_MIN_INTERVAL = 1.0
USER_AGENT = f"trialkg/{__version__} (+https://w3id.org/trialkg/; python-requests/{requests.__version__})"

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
CACHEABLE_METHODS = ("GET", "HEAD", "POST")
MAX_ERROR_MESSAGE_CHARS = 500

Params = Mapping[str, Any] | None


class FetchError(RuntimeError):
    """A request that failed for good: an HTTP error reply, or retries exhausted.

    ``api_message`` is the server's own explanation (the text/plain body of a CT.gov 400, NCBI's
    ``{"error": ...}``), ``url`` the request URL, ``status`` the HTTP status when there was a reply.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        api_message: str | None = None,
    ) -> None:
        self.url = url
        self.status = status
        self.api_message = api_message
        parts = [message]
        if status is not None:
            parts.append(f"HTTP {status}")
        if api_message:
            parts.append(f"server said: {api_message}")
        if url:
            parts.append(f"url: {url}")
        super().__init__(" | ".join(parts))


class RetryableBodyError(Exception):
    """A reply whose body is unusable but may be fine next time (truncated, invalid JSON, rate-limit text).

    Raised by response validators; the session deletes the cached copy and retries with backoff.
    ``retry_after`` (seconds) is an optional server hint.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


Validator = Callable[[requests.Response], None]
"""Checks a 200 reply's body: raise :class:`RetryableBodyError` to retry, :class:`FetchError` to fail."""


class RateLimiter:
    """Keeps at least ``min_interval`` seconds between the starts of consecutive calls to :meth:`wait`.

    Thread-safe. ``clock`` and ``sleep`` are injectable so tests need not wait. ``calls`` counts the
    requests that went to the network.
    """

    def __init__(
        self,
        min_interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min_interval < 0:
            raise ValueError(f"min_interval must be >= 0, got {min_interval}")
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_allowed: float | None = None
        self.calls = 0

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if self._next_allowed is not None and now < self._next_allowed:
                self._sleep(self._next_allowed - now)
                now = self._next_allowed
            self._next_allowed = now + self.min_interval
            self.calls += 1


class _RateLimitedAdapter(HTTPAdapter):
    """Transport adapter that waits for the rate limiter before each real network request."""

    def __init__(self, limiter: RateLimiter) -> None:
        super().__init__(max_retries=0)
        self.limiter = limiter

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.limiter.wait()
        return super().send(request, *args, **kwargs)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. ``sleep`` is injectable so tests can record waits instead."""

    max_retries: int = 5
    """Retries per request (so at most ``max_retries + 1`` attempts)."""
    total_retries: int = 100
    """Retries per session, across all requests: a flaky server cannot keep a long fetch going forever."""
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 600.0
    """A ``Retry-After`` longer than this is an error rather than a wait."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def backoff(self, attempt: int) -> float:
        """Wait before retry number ``attempt`` (1-based): base, 2*base, 4*base ... capped."""
        return min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def api_error_message(response: requests.Response) -> str:
    """The server's own explanation in an error reply: a JSON ``error``/``message`` or the text body."""
    text = response.text.strip()
    if text.startswith("{"):
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            for key in ("error", "message", "ERROR"):
                if isinstance(payload.get(key), str):
                    return payload[key]
    if len(text) > MAX_ERROR_MESSAGE_CHARS:
        text = text[:MAX_ERROR_MESSAGE_CHARS] + "..."
    return text


def check_content_length(response: requests.Response) -> None:
    """Raise :class:`RetryableBodyError` when an uncompressed body is shorter than its Content-Length."""
    declared = response.headers.get("Content-Length")
    if declared is None or response.headers.get("Content-Encoding") or getattr(response, "from_cache", False):
        return
    try:
        expected = int(declared)
    except ValueError:
        return
    if len(response.content) != expected:
        raise RetryableBodyError(f"truncated body: {len(response.content)} of {expected} bytes")


def expect_json(response: requests.Response) -> None:
    """Validator for JSON endpoints: a body that does not parse is treated as truncated and retried."""
    try:
        json.loads(response.content)
    except ValueError as exc:
        raise RetryableBodyError(f"invalid JSON body ({exc})") from exc


class PoliteSession:
    """A requests session with cache, rate limit, retries and :class:`FetchError` (see module docstring).

    Use :func:`make_session` to build one. ``network_requests`` counts requests that reached the server.
    """

    def __init__(
        self,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        refresh: bool = False,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        rate_limiter: RateLimiter | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        user_agent: str = USER_AGENT,
        default_expire: timedelta = SEARCH_EXPIRE,
    ) -> None:
        self.refresh = refresh
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limiter = rate_limiter or RateLimiter(min_interval)
        self.retries_used = 0
        self.cache_path: Path | None = None
        if use_cache:
            try:
                directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
                directory.mkdir(parents=True, exist_ok=True)
            except (OSError, RuntimeError, KeyError) as e:  # RuntimeError, KeyError: no home directory to be found
                log.warning("no HTTP cache: no cache folder can be used (%s); KG_CACHE_DIR names one", e)
                use_cache = False
        if use_cache:
            self.cache_path = directory / CACHE_FILE_NAME
            self.session: requests.Session = requests_cache.CachedSession(
                str(self.cache_path),
                backend="sqlite",
                expire_after=default_expire,
                allowable_methods=CACHEABLE_METHODS,
                allowable_codes=(200,),
                stale_if_error=False,
            )
        else:
            self.session = requests.Session()
        adapter = _RateLimitedAdapter(self.limiter)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent

    @property
    def network_requests(self) -> int:
        return self.limiter.calls

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> PoliteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        params: Params = None,
        expire_after: timedelta | None = None,
        refresh: bool | None = None,
        validate: Validator | None = None,
    ) -> requests.Response:
        return self.request("GET", url, params=params, expire_after=expire_after, refresh=refresh, validate=validate)

    def post(
        self,
        url: str,
        *,
        data: Params = None,
        expire_after: timedelta | None = None,
        refresh: bool | None = None,
        validate: Validator | None = None,
    ) -> requests.Response:
        return self.request("POST", url, data=data, expire_after=expire_after, refresh=refresh, validate=validate)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Params = None,
        data: Params = None,
        expire_after: timedelta | None = None,
        refresh: bool | None = None,
        validate: Validator | None = None,
    ) -> requests.Response:
        """Send one request, retrying transient failures; return a 200 reply that passed ``validate``."""
        force_refresh = self.refresh if refresh is None else refresh
        attempt = 0
        while True:
            failure: str
            wait: float | None = None
            last_status: int | None = None
            last_message: str | None = None
            try:
                response = self._send(method, url, params, data, expire_after, force_refresh)
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                failure = f"{type(exc).__name__}: {exc}"
                failed_url = _full_url(url, params)
            else:
                failed_url = response.url
                status = response.status_code
                if status == 200:
                    try:
                        check_content_length(response)
                        if validate is not None:
                            validate(response)
                    except RetryableBodyError as exc:
                        self._forget(response)
                        failure, wait = str(exc), exc.retry_after
                        force_refresh = True
                    except FetchError:
                        self._forget(response)
                        raise
                    else:
                        return response
                elif status in RETRYABLE_STATUS:
                    failure = f"HTTP {status}"
                    last_status, last_message = status, api_error_message(response)
                    wait = parse_retry_after(response.headers.get("Retry-After"))
                    if wait is not None and wait > self.retry.max_retry_after:
                        raise FetchError(
                            f"server asked to wait {wait:.0f} s (limit {self.retry.max_retry_after:.0f} s)",
                            url=failed_url,
                            status=status,
                            api_message=api_error_message(response),
                        )
                else:
                    raise FetchError(
                        f"{method} request failed",
                        url=failed_url,
                        status=status,
                        api_message=api_error_message(response),
                    )
            attempt += 1
            if attempt > self.retry.max_retries or self.retries_used >= self.retry.total_retries:
                raise FetchError(
                    f"giving up after {attempt} attempts; last failure: {failure}",
                    url=failed_url,
                    status=last_status,
                    api_message=last_message,
                )
            self.retries_used += 1
            delay = wait if wait is not None else self.retry.backoff(attempt)
            log.warning("%s %s: %s; retry %d in %.1f s", method, failed_url, failure, attempt, delay)
            self.retry.sleep(delay)

    def _send(
        self,
        method: str,
        url: str,
        params: Params,
        data: Params,
        expire_after: timedelta | None,
        force_refresh: bool,
    ) -> requests.Response:
        kwargs: dict[str, Any] = {"params": params, "data": data, "timeout": self.timeout}
        if isinstance(self.session, requests_cache.CachedSession):
            if expire_after is not None:
                kwargs["expire_after"] = expire_after
            kwargs["force_refresh"] = force_refresh
        return self.session.request(method, url, **kwargs)

    def _forget(self, response: requests.Response) -> None:
        """Drop a bad reply from the cache so a retry (or the next run) does not read it again."""
        key = getattr(response, "cache_key", None)
        if key and isinstance(self.session, requests_cache.CachedSession):
            self.session.cache.delete(key)


def _full_url(url: str, params: Params) -> str:
    if not params:
        return url
    return requests.Request("GET", url, params=params).prepare().url or url


def make_session(
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    refresh: bool = False,
    min_interval: float = DEFAULT_MIN_INTERVAL,
    rate_limiter: RateLimiter | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    retry: RetryPolicy | None = None,
    user_agent: str = USER_AGENT,
) -> PoliteSession:
    """The session factory every client uses. See :class:`PoliteSession` for the parameters."""
    return PoliteSession(
        cache_dir=cache_dir,
        use_cache=use_cache,
        refresh=refresh,
        min_interval=min_interval,
        rate_limiter=rate_limiter,
        timeout=timeout,
        retry=retry,
        user_agent=user_agent,
    )


_Client = TypeVar("_Client", bound="ServiceClient")


class ServiceClient:
    """What every service client shares: a base URL (the argument, else an environment variable, else the
    public service) and one polite session, closed with the client."""

    def __init__(
        self,
        base_url: str | None,
        env_var: str,
        default_url: str,
        *,
        session: PoliteSession | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        refresh: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = (base_url or os.environ.get(env_var) or default_url).rstrip("/")
        self.session = session or make_session(
            cache_dir=cache_dir, use_cache=use_cache, refresh=refresh, timeout=timeout,
            min_interval=min_interval, rate_limiter=rate_limiter, retry=retry,
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self: _Client) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
