"""ClinicalTrials.gov fetching against a real local HTTP server: paging, failures, cache, resume."""

from __future__ import annotations

import email.utils
import json
import os
import time
from pathlib import Path

import pytest

from kg.fetch import ctgov
from kg.fetch.ctgov import CtgovClient, FetchProgress, build_search_params, validate_nct_id, write_study
from kg.fetch.http import FetchError, RateLimiter, RetryPolicy, default_cache_dir, parse_retry_after
from tests.httpserver import DATA_DIR, Reply, ScriptedServer, http_server  # noqa: F401 - fixture

STUDIES = "/api/v2/studies"
PAGE1 = "ctgov/search_page1_cyanheads.json"
PAGE2 = "ctgov/search_page2_cyanheads.json"
LAST = "ctgov/search_last_page_aact.json"
TOKEN1 = "NF0g5JaGmg"
TOKEN2 = "NF0g5JCG"
CHAIN_IDS = ["NCT05147467", "NCT00184067", "NCT03934567", "NCT03281889"]
BACKOFF = 0.01


def script_chain(server: ScriptedServer, *, repeat: bool = False) -> None:
    """The three real pages, chained by their real tokens."""
    server.add("GET", STUDIES, Reply.file(PAGE1), query={"pageToken": None}, repeat_last=repeat)
    server.add("GET", STUDIES, Reply.file(PAGE2), query={"pageToken": TOKEN1}, repeat_last=repeat)
    server.add("GET", STUDIES, Reply.file(LAST), query={"pageToken": TOKEN2}, repeat_last=repeat)


@pytest.fixture
def waits() -> list[float]:
    """Backoff waits the session asked for (recorded instead of slept)."""
    return []


@pytest.fixture
def make_client(http_server: ScriptedServer, tmp_path: Path, waits: list[float]):  # noqa: F811
    def make(**kwargs) -> CtgovClient:
        retry = RetryPolicy(sleep=waits.append, backoff_base=BACKOFF, max_retries=kwargs.pop("max_retries", 3))
        kwargs.setdefault("cache_dir", tmp_path / "cache")
        kwargs.setdefault("min_interval", 0)
        kwargs.setdefault("timeout", 5)
        return CtgovClient(f"{http_server.url}/api/v2", retry=retry, **kwargs)

    return make


def ids(studies) -> list[str]:
    return [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]


def json_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- paging ------------------------------------------------------------------------------------------


def test_search_follows_the_token_chain_to_the_page_without_token(http_server, make_client):  # noqa: F811
    script_chain(http_server)
    assert ids(make_client().iter_search(cond="diabetes")) == CHAIN_IDS
    assert [r.param("pageToken") for r in http_server.requests] == [None, TOKEN1, TOKEN2]


def test_every_search_parameter_is_repeated_on_later_pages(http_server, make_client):  # noqa: F811
    script_chain(http_server)
    search = dict(cond="lung cancer", term="EGFR", sponsor="Pfizer", status=["RECRUITING", "completed"])
    list(make_client().iter_search(**search, since="2024-01-01", page_size=50))
    first, *later = http_server.requests
    assert first.param("query.cond") == "lung cancer"
    assert first.param("query.spons") == "Pfizer"
    assert first.param("filter.overallStatus") == "RECRUITING,COMPLETED"
    assert first.param("filter.advanced") == "AREA[LastUpdatePostDate]RANGE[2024-01-01,MAX]"
    assert first.param("pageSize") == "50"
    assert first.param("countTotal") == "true"
    expected = {k: v for k, v in first.query.items() if k != "countTotal"}
    for request in later:
        assert {k: v for k, v in request.query.items() if k != "pageToken"} == expected


def script_phelan(server: ScriptedServer) -> None:
    """The real biomcp chain (page 1 -> its token -> page 2), then a real last page for page 2's token."""
    tokens = [json.loads((DATA_DIR / f"ctgov/phelan_page{n}.json").read_text())["nextPageToken"] for n in (1, 2)]
    server.add("GET", STUDIES, Reply.file("ctgov/phelan_page1.json"), query={"pageToken": None})
    server.add("GET", STUDIES, Reply.file("ctgov/phelan_page2.json"), query={"pageToken": tokens[0]})
    server.add("GET", STUDIES, Reply.file(LAST), query={"pageToken": tokens[1]})


def test_real_page_chain_is_fetched_completely(http_server, make_client):  # noqa: F811
    script_phelan(http_server)
    found = ids(make_client().iter_search(cond="Phelan-McDermid"))
    assert len(found) == len(set(found)) == 11


def test_empty_page_that_still_has_a_token_is_not_the_end(http_server, make_client):  # noqa: F811
    http_server.add("GET", STUDIES, Reply.file(PAGE1), query={"pageToken": None})
    http_server.add("GET", STUDIES, Reply.json({"studies": [], "nextPageToken": "EMPTY1"}), query={"pageToken": TOKEN1})
    http_server.add("GET", STUDIES, Reply.file(LAST), query={"pageToken": "EMPTY1"})
    assert ids(make_client().iter_search()) == ["NCT05147467", "NCT03281889"]


def test_repeated_page_token_raises_instead_of_looping(http_server, make_client):  # noqa: F811
    http_server.add("GET", STUDIES, Reply.file(PAGE1), query={"pageToken": None})
    http_server.add("GET", STUDIES, Reply.file(PAGE1), query={"pageToken": TOKEN1})  # hands back TOKEN1 again
    with pytest.raises(FetchError, match=TOKEN1):
        list(make_client().iter_search())
    assert len(http_server.requests) == 2


def test_page_token_that_leads_nowhere_raises_with_the_api_message(http_server, make_client):  # noqa: F811
    http_server.add("GET", STUDIES, Reply.file(PAGE1), query={"pageToken": None})
    message = "pageToken: invalid or expired page token"
    http_server.add("GET", STUDIES, Reply.text(message, 400), query={"pageToken": TOKEN1})
    with pytest.raises(FetchError) as info:
        list(make_client().iter_search())
    assert info.value.api_message == message


# -- failures and retries ----------------------------------------------------------------------------


def test_429_waits_the_retry_after_seconds_then_gets_everything(http_server, make_client, waits):  # noqa: F811
    http_server.add(
        "GET",
        STUDIES,
        Reply(status=429, headers={"Retry-After": "7"}),
        Reply.file(PAGE1),
        query={"pageToken": None},
    )
    http_server.add("GET", STUDIES, Reply.file(PAGE2), query={"pageToken": TOKEN1})
    http_server.add("GET", STUDIES, Reply.file(LAST), query={"pageToken": TOKEN2})
    assert ids(make_client().iter_search()) == CHAIN_IDS
    assert waits == [7.0]


def test_429_retry_after_as_http_date_is_honoured(http_server, make_client, waits):  # noqa: F811
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    http_server.add("GET", STUDIES, Reply(status=429, headers={"Retry-After": when}), Reply.file(LAST))
    assert ids(make_client().iter_search()) == ["NCT03281889"]
    assert 27 < waits[0] <= 30


def test_retry_after_longer_than_the_limit_is_an_error(http_server, make_client):  # noqa: F811
    http_server.add("GET", STUDIES, Reply(status=429, headers={"Retry-After": "86400"}))
    with pytest.raises(FetchError, match="asked to wait"):
        list(make_client().iter_search())


def test_503_then_success_backs_off_and_continues(http_server, make_client, waits):  # noqa: F811
    http_server.add("GET", STUDIES, Reply(status=503), Reply(status=503), Reply.file(LAST))
    assert ids(make_client().iter_search()) == ["NCT03281889"]
    assert waits == [BACKOFF, 2 * BACKOFF]


def test_slow_response_past_the_timeout_is_retried(http_server, make_client):  # noqa: F811
    http_server.add("GET", STUDIES, Reply.file(LAST, delay=1.0), Reply.file(LAST))
    assert ids(make_client(timeout=0.2).iter_search()) == ["NCT03281889"]
    assert len(http_server.requests) == 2


def test_truncated_body_is_retried_and_never_cached(http_server, make_client):  # noqa: F811
    http_server.add("GET", STUDIES, Reply.file(LAST, truncate_to=2000), Reply.file(LAST))
    assert ids(make_client().iter_search()) == ["NCT03281889"]
    assert ids(make_client().iter_search()) == ["NCT03281889"]  # second run: from the cache
    assert len(http_server.requests) == 2


def test_invalid_json_with_a_matching_length_is_retried(http_server, make_client):  # noqa: F811
    http_server.add("GET", STUDIES, Reply(body=b'{"studies": [{"protocolSection": '), Reply.file(LAST))
    assert ids(make_client().iter_search()) == ["NCT03281889"]


def test_retries_are_limited_and_end_in_a_clear_error(http_server, make_client):  # noqa: F811
    http_server.add("GET", STUDIES, Reply(status=503), repeat_last=True)
    with pytest.raises(FetchError, match="giving up after 3 attempts") as info:
        list(make_client(max_retries=2).iter_search(cond="x"))
    assert info.value.status == 503
    assert "/api/v2/studies" in info.value.url
    assert len(http_server.requests) == 3


def test_400_raises_with_the_api_message_and_url_without_retrying(http_server, make_client):  # noqa: F811
    message = "filter.advanced: unexpected token at position 5"
    http_server.add("GET", STUDIES, Reply.text(message, 400))
    with pytest.raises(FetchError) as info:
        list(make_client().iter_search(cond="x"))
    assert (info.value.status, info.value.api_message) == (400, message)
    assert "query.cond=x" in info.value.url
    assert message in str(info.value)
    assert len(http_server.requests) == 1


def test_get_study_404_raises_with_the_api_message(http_server, make_client):  # noqa: F811
    http_server.add("GET", f"{STUDIES}/NCT09999999", Reply.text("Study not found: NCT09999999", 404))
    with pytest.raises(FetchError, match="Study not found") as info:
        make_client().get_study("NCT09999999")
    assert info.value.status == 404
    assert info.value.url.endswith("/studies/NCT09999999?format=json")


def test_get_study_returns_the_record(http_server, make_client):  # noqa: F811
    http_server.add("GET", f"{STUDIES}/NCT03934567", Reply.file("ctgov/study_NCT03934567.json"))
    study = make_client().get_study("nct03934567")
    assert study["protocolSection"]["identificationModule"]["nctId"] == "NCT03934567"


@pytest.mark.parametrize("bad", ["NCT123", "12345678", "NCT1234567890", "NCTABCDEFGH", ""])
def test_invalid_nct_ids_are_rejected_before_any_request(http_server, make_client, bad):  # noqa: F811
    with pytest.raises(ValueError, match="invalid NCT id"):
        make_client().get_study(bad)
    with pytest.raises(ValueError, match="invalid NCT id"):
        make_client().fetch_to_dir("unused", nct_ids=["NCT03281889", bad])
    assert http_server.requests == []


def test_unknown_status_and_bad_since_are_usage_errors():
    with pytest.raises(ValueError, match="unknown overall status"):
        build_search_params(status=["RECRUTING"])
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        build_search_params(since="last week")


def test_user_agent_names_trialkg(http_server, make_client):  # noqa: F811
    http_server.add("GET", STUDIES, Reply.file(LAST))
    list(make_client().iter_search())
    assert http_server.requests[0].headers["User-Agent"].startswith("trialkg/")


# -- fetch into a folder -----------------------------------------------------------------------------


def test_fetch_to_dir_writes_each_study_once_as_nct_json(http_server, make_client, tmp_path):  # noqa: F811
    script_chain(http_server)
    summary = make_client().fetch_to_dir(tmp_path / "out", cond="x")
    assert (summary.written, summary.unchanged, summary.missing) == (4, 0, [])
    assert json_files(tmp_path / "out") == sorted(f"{i}.json" for i in CHAIN_IDS)
    page = json.loads((DATA_DIR / LAST).read_text())["studies"][0]
    assert json.loads((tmp_path / "out/NCT03281889.json").read_text()) == page


def test_rerun_is_served_from_the_cache_and_writes_nothing(http_server, make_client, tmp_path):  # noqa: F811
    script_chain(http_server)
    out = tmp_path / "out"
    make_client().fetch_to_dir(out, cond="x")
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    summary = make_client().fetch_to_dir(out, cond="x")
    assert len(http_server.requests) == 3
    assert (summary.written, summary.unchanged, summary.network_requests) == (0, 4, 0)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_refresh_bypasses_the_cache(http_server, make_client, tmp_path):  # noqa: F811
    script_chain(http_server, repeat=True)
    make_client().fetch_to_dir(tmp_path / "out")
    summary = make_client(refresh=True).fetch_to_dir(tmp_path / "out")
    assert len(http_server.requests) == 6
    assert summary.unchanged == 4


def test_cache_hits_are_not_rate_limited(http_server, make_client, tmp_path):  # noqa: F811
    script_chain(http_server)
    limiter = RateLimiter(0)
    make_client(rate_limiter=limiter).fetch_to_dir(tmp_path / "out")
    make_client(rate_limiter=limiter).fetch_to_dir(tmp_path / "out")
    assert limiter.calls == 3


def test_interrupted_fetch_resumes_without_rewriting(http_server, make_client, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    http_server.add("GET", STUDIES, Reply.file(PAGE1), query={"pageToken": None})
    http_server.add("GET", STUDIES, Reply(status=503), Reply(status=503), query={"pageToken": TOKEN1})
    with pytest.raises(FetchError):
        make_client(max_retries=1).fetch_to_dir(out)
    assert json_files(out) == ["NCT05147467.json"]
    first_write = (out / "NCT05147467.json").stat().st_mtime_ns
    (out / ".NCT00184067.json.x1y2.tmp").write_bytes(b'{"protocolSection": {"identific')  # killed mid-write

    # the server recovers; page 1 now comes from the cache
    http_server.add("GET", STUDIES, Reply.file(PAGE2), query={"pageToken": TOKEN1})
    http_server.add("GET", STUDIES, Reply.file(LAST), query={"pageToken": TOKEN2})
    summary = make_client().fetch_to_dir(out)
    assert (summary.written, summary.unchanged, summary.network_requests) == (3, 1, 2)
    assert json_files(out) == sorted(f"{i}.json" for i in CHAIN_IDS)
    assert (out / "NCT05147467.json").stat().st_mtime_ns == first_write


def test_a_failed_write_leaves_no_json_and_no_temp_file(tmp_path, monkeypatch):
    study = json.loads((DATA_DIR / LAST).read_text())["studies"][0]

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(ctgov.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_study(tmp_path, study)
    assert list(tmp_path.iterdir()) == []


def test_a_newer_last_update_replaces_the_file(tmp_path):
    study = json.loads((DATA_DIR / LAST).read_text())["studies"][0]
    assert write_study(tmp_path, study) == "written"
    assert write_study(tmp_path, study) == "unchanged"
    study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2030-01-01"
    assert write_study(tmp_path, study) == "written"
    assert "2030-01-01" in (tmp_path / "NCT03281889.json").read_text()


def test_fetch_by_ids_reports_the_ids_not_returned(http_server, make_client, tmp_path):  # noqa: F811
    http_server.add("GET", STUDIES, Reply.file(LAST))
    summary = make_client().fetch_to_dir(tmp_path / "out", nct_ids=["NCT03281889", "nct09999999"])
    assert http_server.requests[0].param("filter.ids") == "NCT03281889,NCT09999999"
    assert (summary.written, summary.missing) == (1, ["NCT09999999"])


def test_many_ids_are_searched_in_chunks(http_server, make_client, tmp_path):  # noqa: F811
    http_server.add("GET", STUDIES, Reply.file(LAST), repeat_last=True)
    wanted = [f"NCT{n:08d}" for n in range(1, 151)]
    summary = make_client().fetch_to_dir(tmp_path / "out", nct_ids=wanted)
    chunks = [r.param("filter.ids").split(",") for r in http_server.requests]
    assert [len(c) for c in chunks] == [ctgov.IDS_PER_SEARCH, 150 - ctgov.IDS_PER_SEARCH]
    assert summary.written == 1  # the same study in both replies is written once
    assert len(summary.missing) == 150


def test_progress_callback_sees_each_study_with_the_total(http_server, make_client, tmp_path):  # noqa: F811
    script_phelan(http_server)
    events: list[FetchProgress] = []
    make_client().fetch_to_dir(tmp_path / "out", cond="Phelan", progress=events.append)
    assert [e.done for e in events] == list(range(1, 12))
    assert {e.total for e in events} == {21}
    assert {e.outcome for e in events} == {"written"}


def test_progress_true_shows_a_tqdm_bar(http_server, make_client, tmp_path, capsys):  # noqa: F811
    script_chain(http_server)
    make_client().fetch_to_dir(tmp_path / "out", progress=True)
    assert "4study" in capsys.readouterr().err.replace(" ", "")


# -- building blocks ---------------------------------------------------------------------------------


def test_rate_limiter_keeps_the_minimum_interval():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(1.0, clock=lambda: now[0], sleep=sleep)
    limiter.wait()
    limiter.wait()
    now[0] += 0.25
    limiter.wait()
    now[0] += 5
    limiter.wait()
    assert slept == [1.0, 0.75]
    assert limiter.calls == 4


def test_parse_retry_after_handles_seconds_dates_and_junk():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_validate_nct_id_normalises_case_and_space():
    assert validate_nct_id(" nct03281889 ") == "NCT03281889"


def test_environment_sets_base_url_and_cache_dir(monkeypatch, tmp_path, http_server):  # noqa: F811
    monkeypatch.setenv("KG_CTGOV_API", f"{http_server.url}/api/v2/")
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "envcache"))
    assert default_cache_dir() == tmp_path / "envcache"
    http_server.add("GET", STUDIES, Reply.file(LAST))
    client = CtgovClient(min_interval=0)
    assert ids(client.iter_search()) == ["NCT03281889"]
    assert (tmp_path / "envcache").is_dir() and os.listdir(tmp_path / "envcache")


def test_no_usable_cache_folder_fetches_uncached(monkeypatch, tmp_path, http_server, caplog):  # noqa: F811
    # KG_CACHE_DIR naming a file (or no home directory to find one in): a warning, and the fetch goes on
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KG_CACHE_DIR", str(blocker))
    http_server.add("GET", STUDIES, Reply.file(LAST), repeat_last=True)
    client = CtgovClient(f"{http_server.url}/api/v2", min_interval=0)
    assert ids(client.iter_search()) == ["NCT03281889"]
    assert client.session.cache_path is None and "no HTTP cache" in caplog.text
