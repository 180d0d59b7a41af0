"""PubMed efetch parsing (pure) and fetching against a real local HTTP server; MeSH lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.fetch.http import FetchError, RetryPolicy
from kg.fetch.pubmed import (
    MIN_INTERVAL_NO_KEY,
    MIN_INTERVAL_WITH_KEY,
    Article,
    Author,
    MeshHeading,
    MeshLookupClient,
    PubmedClient,
    normalize_orcid,
    parse_pubmed_xml,
)
from tests.httpserver import DATA_DIR, Reply, ScriptedServer, http_server  # noqa: F401 - fixture

EFETCH = "/eutils/efetch.fcgi"
NEJM = "pubmed/efetch_22663011.xml"
RATE_LIMIT = "pubmed/rate_limit.json"
BACKOFF = 0.01


def read(relative: str) -> bytes:
    return (DATA_DIR / relative).read_bytes()


def parse_one(relative: str, pmid: str | None = None) -> Article:
    """The article ``pmid`` (or the only article) of a stored reply."""
    articles = parse_pubmed_xml(read(relative))
    if pmid is None:
        (article,) = articles
        return article
    (article,) = [a for a in articles if a.pmid == pmid]
    return article


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def make_client(http_server: ScriptedServer, tmp_path: Path, waits: list[float]):  # noqa: F811
    def make(**kwargs) -> PubmedClient:
        kwargs.setdefault("cache_dir", tmp_path / "cache")
        kwargs.setdefault("min_interval", 0)
        kwargs.setdefault("api_key", "")
        retry = RetryPolicy(sleep=waits.append, backoff_base=BACKOFF, max_retries=3)
        return PubmedClient(f"{http_server.url}/eutils", email="dev@example.org", retry=retry, **kwargs)

    return make


# -- parsing -----------------------------------------------------------------------------------------


def test_article_fields_from_a_real_efetch_reply():
    article = parse_one(NEJM)
    assert article.pmid == "22663011"
    assert article.title == "Improved survival with MEK inhibition in BRAF-mutated melanoma."
    assert article.journal == "The New England journal of medicine"
    assert (article.pub_date, article.pub_date_precision) == ("2012-07-12", "day")
    assert article.doi == "10.1056/NEJMoa1203421"
    assert article.authors[0] == Author("Flaherty", "Keith T", "KT")
    assert MeshHeading("D000328", "Adult", False) in article.mesh_headings


def test_collective_author_is_kept_as_a_collective():
    authors = parse_one(NEJM).authors
    assert Author(collective_name="METRIC Study Group") in authors


def test_major_topic_comes_from_descriptor_or_qualifier():
    headings = {h.ui: h for h in parse_one("pubmed/efetch_36400559.xml", "36400559").mesh_headings}
    assert headings["D017116"].major_topic  # Low Back Pain, descriptor starred
    assert not headings["D006801"].major_topic  # Humans
    qualified = {h.ui: h for h in parse_one("pubmed/efetch_36400559.xml", "11446611").mesh_headings}
    assert qualified["D001416"].major_topic  # Back Pain: descriptor N, qualifier "diagnosis" Y


def test_orcid_url_form_is_normalised_to_the_bare_id():
    orcids = [a.orcid for a in parse_one("pubmed/efetch_29963580.xml").authors if a.orcid]
    assert orcids == ["0000-0002-4590-7461", "0000-0003-3525-2788"]


def test_bare_orcid_is_kept():
    orcids = [a.orcid for a in parse_one("pubmed/efetch_36400559.xml", "28786991").authors if a.orcid]
    assert orcids == ["0000-0002-5721-6764"]


def test_doi_is_the_articles_own_not_a_cited_works():
    assert parse_one("pubmed/efetch_36400559.xml", "36400559").doi == "10.1016/j.ncl.2022.07.002"


def test_a_multi_article_reply_keeps_the_order():
    pmids = [a.pmid for a in parse_pubmed_xml(read("pubmed/efetch_36400559.xml"))]
    assert pmids == ["36400559", "2930949", "11446611", "28786991"]


def test_month_precision_date():
    article = parse_one("pubmed/efetch_29963580.xml")
    assert (article.pub_date, article.pub_date_precision) == ("2018-04", "month")


def test_season_gives_year_precision():
    article = parse_one("pubmed/efetch_12091962.xml", "12091962")  # <Season>Spring</Season>
    assert (article.pub_date, article.pub_date_precision) == ("1990", "year")


def test_medline_citation_set_with_medline_date_and_elocation_doi():
    first, second = parse_pubmed_xml(read("pubmed/medline_citationset_2.xml"))
    assert (first.pmid, second.pmid) == ("17942999", "18621939")
    assert (second.pub_date, second.pub_date_precision) == ("2008", "year")  # MedlineDate "2008 Jul-Aug"
    assert second.doi == "10.1176/appi.psy.49.4.332"
    assert second.journal == "Psychosomatics"


def test_external_entities_are_not_resolved():
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
        b"<ArticleTitle>a &x; b</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    (article,) = parse_pubmed_xml(xml)
    assert "root:" not in (article.title or "")


def test_the_real_error_reply_raises_with_its_message():
    with pytest.raises(FetchError, match="Neither query_key nor id specified"):
        parse_pubmed_xml(read("pubmed/eutils_error.xml"))


def test_truncated_xml_is_a_value_error():
    with pytest.raises(ValueError, match="not well-formed"):
        parse_pubmed_xml(read(NEJM)[:5000])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://orcid.org/0000-0002-4590-7461", "0000-0002-4590-7461"),
        ("http://orcid.org/0000-0002-1694-233X", "0000-0002-1694-233X"),
        ("0000000216942 33x".replace(" ", ""), "0000-0002-1694-233X"),
        ("0000-0002-4590-7462", None),  # bad check digit
        ("not an orcid", None),
        ("", None),
    ],
)
def test_normalize_orcid(raw, expected):
    assert normalize_orcid(raw) == expected


# -- efetch client -----------------------------------------------------------------------------------


def test_small_batch_uses_get_with_the_eutils_parameters(http_server, make_client):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.file(NEJM))
    client = make_client()
    assert [a.pmid for a in client.fetch_articles(["22663011"])] == ["22663011"]
    (request,) = http_server.requests
    expected = {
        "db": "pubmed",
        "retmode": "xml",
        "id": "22663011",
        "tool": "trialkg",
        "email": "dev@example.org",
    }
    assert {k: request.param(k) for k in expected} == expected
    assert client.missing == []


def test_pmids_missing_from_the_reply_are_reported(http_server, make_client):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.file(NEJM))
    client = make_client()
    articles = list(client.fetch_articles(["22663011", "99999999"]))
    assert [a.pmid for a in articles] == ["22663011"]
    assert client.missing == ["99999999"]


def test_more_than_200_ids_are_posted(http_server, make_client):  # noqa: F811
    http_server.add("POST", EFETCH, Reply.file(NEJM))
    pmids = ["22663011"] + [str(n) for n in range(1000, 1249)]
    client = make_client()
    list(client.fetch_articles(pmids, batch_size=250))
    (request,) = http_server.requests
    assert request.method == "POST"
    assert request.query == {}
    assert request.form["id"][0].split(",") == pmids
    assert len(client.missing) == 249


def test_default_batches_of_200_use_get(http_server, make_client):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.file(NEJM), repeat_last=True)
    list(make_client().fetch_articles([str(n) for n in range(1, 251)]))
    assert [len(r.param("id").split(",")) for r in http_server.requests] == [200, 50]
    assert {r.method for r in http_server.requests} == {"GET"}


def test_rate_limit_body_with_status_200_is_retried_and_not_cached(http_server, make_client, waits):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.file(RATE_LIMIT), Reply.file(NEJM))
    assert [a.pmid for a in make_client().fetch_articles(["22663011"])] == ["22663011"]
    assert waits == [1.0]
    assert [a.pmid for a in make_client().fetch_articles(["22663011"])] == ["22663011"]  # from the cache
    assert len(http_server.requests) == 2


def test_rate_limit_with_status_429_is_retried(http_server, make_client):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.file(RATE_LIMIT, status=429), Reply.file(NEJM))
    assert [a.pmid for a in make_client().fetch_articles(["22663011"])] == ["22663011"]


def test_persistent_rate_limit_ends_in_a_clear_error(http_server, make_client):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.file(RATE_LIMIT), repeat_last=True)
    with pytest.raises(FetchError, match="API rate limit exceeded"):
        list(make_client().fetch_articles(["22663011"]))
    assert len(http_server.requests) == 4


def test_truncated_xml_reply_is_retried(http_server, make_client):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.file(NEJM, truncate_to=4000), Reply.file(NEJM))
    assert [a.pmid for a in make_client().fetch_articles(["22663011"])] == ["22663011"]


def test_error_reply_with_status_200_raises(http_server, make_client):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.file("pubmed/eutils_error.xml"))
    with pytest.raises(FetchError, match="Neither query_key nor id specified"):
        list(make_client().fetch_articles(["22663011"]))


def test_400_raises_with_the_api_message(http_server, make_client):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.json({"error": "Invalid uid 0abc at position=0"}, status=400))
    with pytest.raises(FetchError, match="Invalid uid") as info:
        list(make_client().fetch_articles(["22663011"]))
    assert info.value.status == 400


def test_refresh_goes_back_to_the_server(http_server, make_client):  # noqa: F811
    http_server.add("GET", EFETCH, Reply.file(NEJM), repeat_last=True)
    list(make_client().fetch_articles(["22663011"]))
    list(make_client(refresh=True).fetch_articles(["22663011"]))
    assert len(http_server.requests) == 2


def test_invalid_pmids_are_rejected_before_any_request(http_server, make_client):  # noqa: F811
    with pytest.raises(ValueError, match="invalid PMID"):
        list(make_client().fetch_articles(["22663011", "PMC123"]))
    assert http_server.requests == []


def test_api_key_raises_the_rate_and_is_sent(http_server, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NCBI_API_KEY", "k3y")
    http_server.add("GET", EFETCH, Reply.file(NEJM))
    client = PubmedClient(f"{http_server.url}/eutils", cache_dir=tmp_path)
    assert client.session.limiter.min_interval == MIN_INTERVAL_WITH_KEY
    list(client.fetch_articles(["22663011"]))
    assert http_server.requests[0].param("api_key") == "k3y"
    monkeypatch.delenv("NCBI_API_KEY")
    assert PubmedClient(cache_dir=tmp_path).session.limiter.min_interval == MIN_INTERVAL_NO_KEY


# -- MeSH lookup -------------------------------------------------------------------------------------

LOOKUP = "/mesh/lookup/descriptor"


@pytest.fixture
def mesh(http_server: ScriptedServer, tmp_path: Path) -> MeshLookupClient:  # noqa: F811
    return MeshLookupClient(f"{http_server.url}/mesh", cache_dir=tmp_path / "cache", min_interval=0)


def test_exact_label_gives_the_descriptor_ui_and_is_cached(http_server, mesh):  # noqa: F811
    http_server.add("GET", LOOKUP, Reply.file("mesh/lookup_descriptor_melanoma.json"))
    assert mesh.lookup_descriptor("Melanoma") == "D008545"
    assert mesh.lookup_descriptor("Melanoma") == "D008545"
    (request,) = http_server.requests
    assert (request.param("label"), request.param("match"), request.param("limit")) == (
        "Melanoma",
        "exact",
        "2",
    )


@pytest.mark.parametrize(
    "reply",
    [
        [],
        [
            {"resource": "http://id.nlm.nih.gov/mesh/D000001", "label": "X"},
            {"resource": "http://id.nlm.nih.gov/mesh/D000002", "label": "X"},
        ],
    ],
)
def test_no_match_or_an_ambiguous_match_gives_none(http_server, mesh, reply):  # noqa: F811
    http_server.add("GET", LOOKUP, Reply.json(reply))
    assert mesh.lookup_descriptor("X") is None
