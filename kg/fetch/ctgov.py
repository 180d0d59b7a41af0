"""Download raw study records from the ClinicalTrials.gov API v2 into a folder, one ``{NCT}.json`` each.

Only this module knows the API's URLs, parameters and page-token protocol. It does not interpret the
records (that is :mod:`kg.sources`); it fetches them completely or fails loudly:

- a search follows ``nextPageToken`` with every other parameter repeated, goes on past an empty page that
  still carries a token, stops only at a page without one, and raises :class:`FetchError` when a token
  comes back twice (a loop);
- :meth:`CtgovClient.fetch_to_dir` writes each study atomically and skips studies whose file already holds
  the same ``lastUpdatePostDate``, so an interrupted fetch resumes and a re-run writes nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from kg.fetch.http import (
    DEFAULT_TIMEOUT,
    RECORD_EXPIRE,
    SEARCH_EXPIRE,
    FetchError,
    PoliteSession,
    RateLimiter,
    RetryPolicy,
    ServiceClient,
    expect_json,
)
from kg.files import written_whole

BASE_URL_ENV = "KG_CTGOV_API"
DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
CTGOV_MIN_INTERVAL = 1.0
"""Seconds between network requests: CT.gov asks for about one request a second at most."""

MAX_PAGE_SIZE = 1000
IDS_PER_SEARCH = 100
"""NCT ids sent per ``filter.ids`` search, keeping the URL well under common length limits."""

NCT_ID_RE = re.compile(r"NCT\d{8}")
STATUSES = frozenset(
    {
        "ACTIVE_NOT_RECRUITING",
        "COMPLETED",
        "ENROLLING_BY_INVITATION",
        "NOT_YET_RECRUITING",
        "RECRUITING",
        "SUSPENDED",
        "TERMINATED",
        "WITHDRAWN",
        "AVAILABLE",
        "NO_LONGER_AVAILABLE",
        "TEMPORARILY_NOT_AVAILABLE",
        "APPROVED_FOR_MARKETING",
        "WITHHELD",
        "UNKNOWN",
    }
)
"""``filter.overallStatus`` values (the ``Status`` enum of the API's OpenAPI spec 2.0.5)."""

STUDY_FILE_SUFFIX = ".json"
TEMP_SUFFIX = ".tmp"

WRITTEN = "written"
UNCHANGED = "unchanged"


def validate_nct_id(value: str) -> str:
    """Return the id upper-cased and stripped, or raise ValueError if it is not ``NCT`` + 8 digits."""
    candidate = value.strip().upper() if isinstance(value, str) else value
    if not isinstance(candidate, str) or not NCT_ID_RE.fullmatch(candidate):
        raise ValueError(f"invalid NCT id {value!r}: expected 'NCT' followed by 8 digits, e.g. NCT01234567")
    return candidate


def study_nct_id(study: dict[str, Any]) -> str | None:
    try:
        return study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None


def study_aliases(study: dict[str, Any]) -> list[str]:
    try:
        return list(study["protocolSection"]["identificationModule"].get("nctIdAliases") or [])
    except (KeyError, TypeError, AttributeError):
        return []


def last_update_post_date(study: dict[str, Any]) -> str | None:
    try:
        return study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"]
    except (KeyError, TypeError):
        return None


@dataclass(frozen=True)
class SearchPage:
    """One ``/studies`` reply: its studies, the token of the next page, and ``totalCount`` if asked for."""

    studies: list[dict[str, Any]]
    next_page_token: str | None
    total_count: int | None


@dataclass(frozen=True)
class FetchProgress:
    """Reported after each study handled by :meth:`CtgovClient.fetch_to_dir`."""

    nct_id: str
    outcome: str
    """``written`` or ``unchanged``."""
    done: int
    total: int | None


ProgressCallback = Callable[[FetchProgress], None]


@dataclass
class FetchSummary:
    """What a fetch did. ``missing``: requested NCT ids that the API did not return."""

    written: int = 0
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)
    network_requests: int = 0

    @property
    def total(self) -> int:
        return self.written + self.unchanged


def _since_text(since: date | datetime | str) -> str:
    if isinstance(since, datetime):
        return since.date().isoformat()
    if isinstance(since, date):
        return since.isoformat()
    try:
        return date.fromisoformat(since.strip()).isoformat()
    except (ValueError, AttributeError):
        raise ValueError(f"invalid --since date {since!r}: expected YYYY-MM-DD") from None


def _statuses(status: str | Iterable[str]) -> list[str]:
    values = [status] if isinstance(status, str) else list(status)
    out: list[str] = []
    for value in values:
        for part in re.split(r"[,|]", value):
            code = part.strip().upper().replace(" ", "_")
            if not code:
                continue
            if code not in STATUSES:
                raise ValueError(f"unknown overall status {part.strip()!r}; expected one of {sorted(STATUSES)}")
            out.append(code)
    return out


def build_search_params(
    *,
    cond: str | None = None,
    term: str | None = None,
    sponsor: str | None = None,
    status: str | Iterable[str] | None = None,
    since: date | datetime | str | None = None,
    ids: Iterable[str] | None = None,
    page_size: int = MAX_PAGE_SIZE,
) -> dict[str, str]:
    """The ``/studies`` query parameters for a search (without ``pageToken``/``countTotal``)."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    params: dict[str, str] = {"format": "json"}
    if cond:
        params["query.cond"] = cond
    if term:
        params["query.term"] = term
    if sponsor:
        params["query.spons"] = sponsor
    if status:
        codes = _statuses(status)
        if codes:
            params["filter.overallStatus"] = ",".join(codes)
    if since is not None:
        params["filter.advanced"] = f"AREA[LastUpdatePostDate]RANGE[{_since_text(since)},MAX]"
    if ids is not None:
        params["filter.ids"] = ",".join(validate_nct_id(i) for i in ids)
    params["pageSize"] = str(page_size)
    return params


class CtgovClient(ServiceClient):
    """ClinicalTrials.gov API v2 client: searches, single studies, and fetching into a folder.

    ``base_url`` defaults to ``$KG_CTGOV_API`` or the public API. Pass ``session`` to share or inject a
    :class:`~kg.fetch.http.PoliteSession`; otherwise one is made from the other arguments.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        session: PoliteSession | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        refresh: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        min_interval: float = CTGOV_MIN_INTERVAL,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            base_url, BASE_URL_ENV, DEFAULT_BASE_URL, session=session, cache_dir=cache_dir, use_cache=use_cache,
            refresh=refresh, timeout=timeout, min_interval=min_interval, rate_limiter=rate_limiter, retry=retry,
        )

    # -- search -------------------------------------------------------------------------------------

    def iter_pages(self, params: dict[str, str]) -> Iterator[SearchPage]:
        """Follow the page-token chain of one search, ``params`` repeated on every page."""
        url = f"{self.base_url}/studies"
        seen_tokens: set[str] = set()
        token: str | None = None
        while True:
            page_params = dict(params)
            if token is None:
                page_params["countTotal"] = "true"
            else:
                page_params["pageToken"] = token
            response = self.session.get(url, params=page_params, expire_after=SEARCH_EXPIRE, validate=expect_json)
            page = _parse_page(response.content, response.url)
            yield page
            token = page.next_page_token
            if token is None:
                return
            if token in seen_tokens:
                raise FetchError(
                    f"the API returned page token {token!r} a second time; stopping instead of looping",
                    url=response.url,
                )
            seen_tokens.add(token)

    def iter_search(
        self,
        cond: str | None = None,
        term: str | None = None,
        sponsor: str | None = None,
        status: str | Iterable[str] | None = None,
        since: date | datetime | str | None = None,
        ids: Iterable[str] | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Yield every study matching the search, each once, as the raw API JSON object."""
        for _total, study in self._search(cond, term, sponsor, status, since, ids, page_size):
            yield study

    def _search(
        self,
        cond: str | None,
        term: str | None,
        sponsor: str | None,
        status: str | Iterable[str] | None,
        since: date | datetime | str | None,
        ids: Iterable[str] | None,
        page_size: int,
    ) -> Iterator[tuple[int | None, dict[str, Any]]]:
        """Yield ``(totalCount of the current search or None, study)``; ids are searched in chunks."""
        id_list = None if ids is None else list(dict.fromkeys(validate_nct_id(i) for i in ids))
        chunks: list[list[str] | None] = (
            [None]
            if id_list is None
            else [id_list[i : i + IDS_PER_SEARCH] for i in range(0, len(id_list), IDS_PER_SEARCH)]
        )
        seen: set[str] = set()
        for chunk in chunks:
            params = build_search_params(
                cond=cond,
                term=term,
                sponsor=sponsor,
                status=status,
                since=since,
                ids=chunk,
                page_size=page_size,
            )
            total: int | None = None
            for page in self.iter_pages(params):
                if page.total_count is not None:
                    total = page.total_count
                for study in page.studies:
                    nct_id = study_nct_id(study)
                    if nct_id is not None:
                        if nct_id in seen:
                            continue
                        seen.add(nct_id)
                    yield total, study

    # -- single study -------------------------------------------------------------------------------

    def get_study(self, nct_id: str) -> dict[str, Any]:
        """One full study record (``/studies/{nctId}``); FetchError with the API's message if absent."""
        nct_id = validate_nct_id(nct_id)
        url = f"{self.base_url}/studies/{nct_id}"
        response = self.session.get(url, params={"format": "json"}, expire_after=RECORD_EXPIRE, validate=expect_json)
        study = orjson.loads(response.content)
        if not isinstance(study, dict) or study_nct_id(study) is None:
            raise FetchError(
                "reply is not a study record (no protocolSection.identificationModule.nctId)",
                url=response.url,
            )
        return study

    # -- fetch into a folder ------------------------------------------------------------------------

    def fetch_to_dir(
        self,
        out_dir: str | os.PathLike[str],
        nct_ids: Iterable[str] | None = None,
        *,
        progress: bool | ProgressCallback | None = None,
        cond: str | None = None,
        term: str | None = None,
        sponsor: str | None = None,
        status: str | Iterable[str] | None = None,
        since: date | datetime | str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> FetchSummary:
        """Write every matching study to ``{out_dir}/{NCT}.json``; return counts and missing ids.

        ``nct_ids`` (validated up front) restricts the search to those trials; with no search terms it
        fetches exactly them. Files already holding the same ``lastUpdatePostDate`` are left untouched.
        ``progress=True`` shows a tqdm bar; a callable receives a :class:`FetchProgress` per study.
        """
        requested = None if nct_ids is None else list(dict.fromkeys(validate_nct_id(i) for i in nct_ids))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        _remove_stale_temp_files(out)
        summary = FetchSummary()
        start_requests = self.session.network_requests
        returned: set[str] = set()
        report, finish = _progress_reporter(progress, len(requested) if requested is not None else None)
        try:
            for total, study in self._search(cond, term, sponsor, status, since, requested, page_size):
                nct_id = study_nct_id(study)
                if nct_id is None or not NCT_ID_RE.fullmatch(nct_id):
                    raise FetchError(f"search returned a study without a valid nctId ({nct_id!r})")
                returned.add(nct_id)
                returned.update(study_aliases(study))
                outcome = write_study(out, study)
                if outcome == WRITTEN:
                    summary.written += 1
                else:
                    summary.unchanged += 1
                report(
                    FetchProgress(nct_id, outcome, summary.total, len(requested) if requested is not None else total)
                )
        finally:
            finish()
            summary.network_requests = self.session.network_requests - start_requests
        if requested is not None:
            summary.missing = [i for i in requested if i not in returned]
        return summary


def _parse_page(content: bytes, url: str) -> SearchPage:
    payload = orjson.loads(content)
    if not isinstance(payload, dict) or not isinstance(payload.get("studies", []), list):
        raise FetchError("reply is not a /studies page (expected an object with a 'studies' list)", url=url)
    token = payload.get("nextPageToken") or None
    total = payload.get("totalCount")
    return SearchPage(
        studies=payload.get("studies", []),
        next_page_token=str(token) if token is not None else None,
        total_count=int(total) if isinstance(total, int) else None,
    )


def write_study(out_dir: Path, study: dict[str, Any]) -> str:
    """Write one study as ``{NCT}.json`` atomically unless the file already has its lastUpdatePostDate.

    Returns ``written`` or ``unchanged``. The new content goes to a temp file in the same folder that is
    renamed over the target (``os.replace``), so a crash never leaves a half-written ``.json``.
    """
    nct_id = study_nct_id(study)
    if nct_id is None:
        raise ValueError("study has no protocolSection.identificationModule.nctId")
    target = out_dir / f"{nct_id}{STUDY_FILE_SUFFIX}"
    data = orjson.dumps(study)
    if target.exists() and _same_version(target, study, data):
        return UNCHANGED
    with written_whole(target, f".{nct_id}{STUDY_FILE_SUFFIX}.", TEMP_SUFFIX) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return WRITTEN


def _same_version(path: Path, study: dict[str, Any], data: bytes) -> bool:
    try:
        existing_bytes = path.read_bytes()
        existing = orjson.loads(existing_bytes)
    except (OSError, orjson.JSONDecodeError):
        return False
    new_date = last_update_post_date(study)
    if new_date is not None:
        return last_update_post_date(existing) == new_date
    return existing_bytes == data


def _remove_stale_temp_files(out_dir: Path) -> None:
    """Delete temp files an interrupted earlier run left behind (they never carry the .json suffix)."""
    for stale in out_dir.glob(f".NCT*{STUDY_FILE_SUFFIX}.*{TEMP_SUFFIX}"):
        stale.unlink(missing_ok=True)


def _progress_reporter(
    progress: bool | ProgressCallback | None, total: int | None
) -> tuple[ProgressCallback, Callable[[], None]]:
    if progress is None or progress is False:
        return (lambda _event: None), (lambda: None)
    if callable(progress):
        return progress, (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="study", desc="fetch")

    def report(event: FetchProgress) -> None:
        if event.total is not None and bar.total != event.total:
            bar.total = event.total
            bar.refresh()
        bar.update(1)
        bar.set_postfix_str(event.nct_id, refresh=False)

    return report, bar.close
