"""Fetch PubMed article metadata with NCBI E-utilities efetch and parse it into :class:`Article` records.

Three parts, each with one job:

- :func:`parse_pubmed_xml`: pure function, efetch ``PubmedArticleSet`` XML (or a MEDLINE
  ``MedlineCitationSet``) -> :class:`Article` list; lxml, no DTD loading, no entity resolution;
- :class:`PubmedClient`: polite batched efetch (GET for small batches, POST above 200 ids; 3 requests/s,
  10 with an API key), recognising NCBI's rate-limit error even when it comes with HTTP 200, and
  reporting requested PMIDs missing from the reply in ``missing``;
- :class:`MeshLookupClient`: opt-in exact-label lookup of a MeSH descriptor UI on NLM's MeSH API.

The RDF mapping of articles lives elsewhere; this module only fetches and parses.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import requests
from lxml import etree

from kg.fetch.http import (
    ARTICLE_EXPIRE,
    DEFAULT_TIMEOUT,
    FetchError,
    PoliteSession,
    RateLimiter,
    RetryableBodyError,
    RetryPolicy,
    ServiceClient,
    expect_json,
)

BASE_URL_ENV = "KG_EUTILS_API"
DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
API_KEY_ENV = "NCBI_API_KEY"
DEFAULT_TOOL = "trialkg"

MIN_INTERVAL_NO_KEY = 1 / 3
"""NCBI: at most 3 requests per second without an API key ..."""
MIN_INTERVAL_WITH_KEY = 1 / 10
"""... and 10 per second with one."""
MAX_GET_IDS = 200
"""NCBI asks for POST when a request carries more than about 200 UIDs."""
DEFAULT_BATCH_SIZE = 200
RATE_LIMIT_ERROR = "API rate limit exceeded"
RATE_LIMIT_RETRY_AFTER = 1.0
"""Seconds to wait after NCBI's rate-limit error (it sends no Retry-After)."""

MESH_BASE_URL_ENV = "KG_MESH_API"
MESH_DEFAULT_BASE_URL = "https://id.nlm.nih.gov/mesh"
MESH_MIN_INTERVAL = 0.25
MESH_IRI_PREFIX = "http://id.nlm.nih.gov/mesh/"
MESH_DESCRIPTOR_UI_RE = re.compile(r"D\d{6,9}")

PMID_RE = re.compile(r"\d{1,9}")
ORCID_RE = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])")
MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
YEAR_RE = re.compile(r"\b(\d{4})\b")

PRECISION_YEAR = "year"
PRECISION_MONTH = "month"
PRECISION_DAY = "day"

_PARSER = etree.XMLParser(
    resolve_entities=False, load_dtd=False, no_network=True, huge_tree=True, remove_blank_text=False
)


# -- records -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    """An author as listed: a person (names, ORCID) or a collective (``collective_name``)."""

    last_name: str | None = None
    fore_name: str | None = None
    initials: str | None = None
    collective_name: str | None = None
    orcid: str | None = None
    """Bare ``0000-0000-0000-000X`` form, checksum-verified; None when absent or invalid."""


class MeshHeading(NamedTuple):
    """A MeSH heading: descriptor UI, descriptor name, and whether it is a major topic.

    ``major_topic`` is true when the descriptor or any of its qualifiers is starred (``MajorTopicYN="Y"``),
    which is what PubMed's ``[majr]`` search means.
    """

    ui: str
    name: str
    major_topic: bool


@dataclass(frozen=True)
class Article:
    """PubMed metadata for one article, as far as the knowledge graph needs it."""

    pmid: str
    title: str | None
    journal: str | None
    pub_date: str | None
    """ISO partial date: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
    pub_date_precision: str | None
    """``year``, ``month`` or ``day``."""
    doi: str | None
    authors: tuple[Author, ...] = ()
    mesh_headings: tuple[MeshHeading, ...] = ()


# -- parsing -----------------------------------------------------------------------------------------


def parse_pubmed_xml(data: bytes) -> list[Article]:
    """Parse efetch XML (``PubmedArticleSet``; also ``MedlineCitationSet``) into articles, in order.

    Raises :class:`FetchError` for an E-utilities error document (``<ERROR>``) and ValueError for bytes
    that are not well-formed XML.
    """
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed PubMed XML: {exc}") from exc
    error = root.find("ERROR")
    if error is not None:
        raise FetchError("E-utilities returned an error", api_message=_text(error))
    articles: list[Article] = []
    for element in root:
        if element.tag == "PubmedArticle":
            articles.append(_article(element.find("MedlineCitation"), element.find("PubmedData")))
        elif element.tag == "MedlineCitation":
            articles.append(_article(element, None))
        elif element.tag == "PubmedBookArticle":
            articles.append(_book_article(element))
    return articles


def _text(element: etree._Element | None) -> str | None:
    """All text inside an element (inline markup such as <i> kept as text), whitespace-collapsed."""
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _article(citation: etree._Element | None, pubmed_data: etree._Element | None) -> Article:
    if citation is None:
        raise ValueError("PubmedArticle without MedlineCitation")
    pmid = _text(citation.find("PMID"))
    if pmid is None:
        raise ValueError("MedlineCitation without PMID")
    article = citation.find("Article")
    journal = article.find("Journal") if article is not None else None
    pub_date, precision = parse_pub_date(journal.find("JournalIssue/PubDate") if journal is not None else None)
    return Article(
        pmid=pmid,
        title=_text(article.find("ArticleTitle")) if article is not None else None,
        journal=_text(journal.find("Title")) if journal is not None else None,
        pub_date=pub_date,
        pub_date_precision=precision,
        doi=_doi(pubmed_data, article),
        authors=_authors(article.find("AuthorList") if article is not None else None),
        mesh_headings=_mesh_headings(citation.find("MeshHeadingList")),
    )


def _book_article(element: etree._Element) -> Article:
    document = element.find("BookDocument")
    if document is None:
        raise ValueError("PubmedBookArticle without BookDocument")
    pmid = _text(document.find("PMID"))
    if pmid is None:
        raise ValueError("BookDocument without PMID")
    book = document.find("Book")
    pub_date, precision = parse_pub_date(book.find("PubDate") if book is not None else None)
    title = _text(document.find("ArticleTitle")) or (_text(book.find("BookTitle")) if book is not None else None)
    doi = None
    for article_id in element.iterfind("PubmedBookData/ArticleIdList/ArticleId"):
        if article_id.get("IdType") == "doi":
            doi = _text(article_id)
            break
    author_list = next((a for a in document.iterfind("AuthorList") if a.get("Type") != "editors"), None)
    return Article(
        pmid=pmid,
        title=title,
        journal=None,
        pub_date=pub_date,
        pub_date_precision=precision,
        doi=doi,
        authors=_authors(author_list),
    )


def parse_pub_date(pub_date: etree._Element | None) -> tuple[str | None, str | None]:
    """``PubDate`` -> (ISO partial date, precision). Seasons and ``MedlineDate`` ranges give the year only."""
    if pub_date is None:
        return None, None
    year = _text(pub_date.find("Year"))
    if year is None:
        medline = _text(pub_date.find("MedlineDate"))
        match = YEAR_RE.search(medline or "")
        return (match.group(1), PRECISION_YEAR) if match else (None, None)
    if not re.fullmatch(r"\d{4}", year):
        return None, None
    month = _month_number(_text(pub_date.find("Month")))
    if month is None:
        return year, PRECISION_YEAR
    day_text = _text(pub_date.find("Day"))
    if day_text and day_text.isdigit() and 1 <= int(day_text) <= 31:
        return f"{year}-{month:02d}-{int(day_text):02d}", PRECISION_DAY
    return f"{year}-{month:02d}", PRECISION_MONTH


def _month_number(month: str | None) -> int | None:
    if not month:
        return None
    if month.isdigit():
        number = int(month)
        return number if 1 <= number <= 12 else None
    return MONTHS.get(month[:3].lower())


def _doi(pubmed_data: etree._Element | None, article: etree._Element | None) -> str | None:
    # Direct children only: ReferenceList/Reference/ArticleIdList holds the DOIs of *cited* works.
    if pubmed_data is not None:
        for article_id in pubmed_data.iterfind("ArticleIdList/ArticleId"):
            if article_id.get("IdType") == "doi":
                return _text(article_id)
    if article is not None:
        for location in article.iterfind("ELocationID"):
            if location.get("EIdType") == "doi" and location.get("ValidYN", "Y") == "Y":
                return _text(location)
    return None


def _authors(author_list: etree._Element | None) -> tuple[Author, ...]:
    if author_list is None:
        return ()
    authors = []
    for author in author_list.iterfind("Author"):
        if author.get("ValidYN", "Y") != "Y":
            continue
        orcid = None
        for identifier in author.iterfind("Identifier"):
            if identifier.get("Source") == "ORCID":
                orcid = normalize_orcid(_text(identifier))
                break
        authors.append(
            Author(
                last_name=_text(author.find("LastName")),
                fore_name=_text(author.find("ForeName")),
                initials=_text(author.find("Initials")),
                collective_name=_text(author.find("CollectiveName")),
                orcid=orcid,
            )
        )
    return tuple(authors)


def normalize_orcid(value: str | None) -> str | None:
    """``https://orcid.org/0000-0002-4590-7461``, ``0000000245907461`` ... -> ``0000-0002-4590-7461``.

    Returns None unless the value holds exactly one ORCID iD with a valid ISO 7064 11-2 check digit.
    """
    if not value:
        return None
    cleaned = re.sub(r"^\s*(https?://)?(www\.)?orcid\.org/", "", value.strip(), flags=re.IGNORECASE)
    match = ORCID_RE.fullmatch(cleaned.strip().upper())
    if match is None:
        return None
    digits = "".join(match.groups())
    total = 0
    for char in digits[:-1]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    if digits[-1] != ("X" if check == 10 else str(check)):
        return None
    return "-".join(match.groups())


def _mesh_headings(heading_list: etree._Element | None) -> tuple[MeshHeading, ...]:
    if heading_list is None:
        return ()
    headings = []
    for heading in heading_list.iterfind("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        if descriptor is None or not descriptor.get("UI"):
            continue
        major = descriptor.get("MajorTopicYN") == "Y" or any(
            q.get("MajorTopicYN") == "Y" for q in heading.iterfind("QualifierName")
        )
        headings.append(MeshHeading(descriptor.get("UI"), _text(descriptor) or "", major))
    return tuple(headings)


# -- efetch client -----------------------------------------------------------------------------------


def _validate_efetch(response: requests.Response) -> None:
    """An efetch 200 reply must be XML; NCBI's rate-limit JSON (sometimes sent with 200) is retried."""
    body = response.content.lstrip()
    if body.startswith(b"{"):
        try:
            payload: Any = json.loads(body)
        except ValueError as exc:
            raise RetryableBodyError(f"truncated JSON error body ({exc})") from exc
        message = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(message, str) and RATE_LIMIT_ERROR.lower() in message.lower():
            raise RetryableBodyError(message, retry_after=RATE_LIMIT_RETRY_AFTER)
        raise FetchError(
            "E-utilities returned an error",
            url=response.url,
            status=response.status_code,
            api_message=message if isinstance(message, str) else body[:500].decode(errors="replace"),
        )
    try:
        root = etree.fromstring(response.content, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise RetryableBodyError(f"incomplete or invalid XML ({exc})") from exc
    error = root.find("ERROR")
    if error is not None:
        raise FetchError(
            "E-utilities returned an error",
            url=response.url,
            status=response.status_code,
            api_message=_text(error),
        )


def _validate_pmid(value: str | int) -> str:
    text = str(value).strip()
    if not PMID_RE.fullmatch(text) or int(text) == 0:
        raise ValueError(f"invalid PMID {value!r}: expected a positive integer")
    return str(int(text))


class PubmedClient(ServiceClient):
    """Batched efetch of PubMed records. ``missing`` lists PMIDs the last fetch asked for but did not get.

    ``base_url`` defaults to ``$KG_EUTILS_API`` or NCBI's E-utilities; ``api_key`` to ``$NCBI_API_KEY``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        tool: str = DEFAULT_TOOL,
        email: str | None = None,
        api_key: str | None = None,
        *,
        session: PoliteSession | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        refresh: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        min_interval: float | None = None,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.tool = tool
        self.email = email
        self.api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
        if min_interval is None:
            min_interval = MIN_INTERVAL_WITH_KEY if self.api_key else MIN_INTERVAL_NO_KEY
        super().__init__(
            base_url, BASE_URL_ENV, DEFAULT_BASE_URL, session=session, cache_dir=cache_dir, use_cache=use_cache,
            refresh=refresh, timeout=timeout, min_interval=min_interval, rate_limiter=rate_limiter, retry=retry,
        )
        self.missing: list[str] = []

    def _params(self, pmids: list[str]) -> dict[str, str]:
        params = {"db": "pubmed", "retmode": "xml", "id": ",".join(pmids), "tool": self.tool}
        if self.email:
            params["email"] = self.email
        if self.api_key:
            params["api_key"] = self.api_key
        return params

    def fetch_batch(self, pmids: list[str]) -> list[Article]:
        """One efetch request for ``pmids`` (GET up to 200 ids, POST above)."""
        url = f"{self.base_url}/efetch.fcgi"
        params = self._params(pmids)
        if len(pmids) > MAX_GET_IDS:
            response = self.session.post(url, data=params, expire_after=ARTICLE_EXPIRE, validate=_validate_efetch)
        else:
            response = self.session.get(url, params=params, expire_after=ARTICLE_EXPIRE, validate=_validate_efetch)
        try:
            return parse_pubmed_xml(response.content)
        except FetchError as exc:
            raise FetchError("efetch failed", url=response.url, api_message=exc.api_message) from exc

    def fetch_articles(self, pmids: Iterable[str | int], batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[Article]:
        """Yield the article of each distinct PMID, batch by batch; afterwards ``missing`` lists the rest.

        PMIDs are validated up front (ValueError). Articles the reply holds that were not asked for
        (none in practice) are not yielded.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        wanted = list(dict.fromkeys(_validate_pmid(p) for p in pmids))
        self.missing = []
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start : start + batch_size]
            found: set[str] = set()
            for article in self.fetch_batch(batch):
                if article.pmid in found or article.pmid not in batch:
                    continue
                found.add(article.pmid)
                yield article
            self.missing.extend(p for p in batch if p not in found)


# -- MeSH lookup -------------------------------------------------------------------------------------


class MeshLookupClient(ServiceClient):
    """Opt-in lookup of a MeSH descriptor UI by its exact label on NLM's MeSH API (cached by the session).

    ``base_url`` defaults to ``$KG_MESH_API`` or ``https://id.nlm.nih.gov/mesh``.
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
        min_interval: float = MESH_MIN_INTERVAL,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            base_url, MESH_BASE_URL_ENV, MESH_DEFAULT_BASE_URL, session=session, cache_dir=cache_dir,
            use_cache=use_cache, refresh=refresh, timeout=timeout, min_interval=min_interval,
            rate_limiter=rate_limiter, retry=retry,
        )

    def lookup_descriptor(self, label: str) -> str | None:
        """The UI (``D008545``) of the one descriptor whose label is exactly ``label``; None if 0 or 2+."""
        label = label.strip()
        if not label:
            return None
        response = self.session.get(
            f"{self.base_url}/lookup/descriptor",
            params={"label": label, "match": "exact", "limit": "2"},
            expire_after=ARTICLE_EXPIRE,
            validate=expect_json,
        )
        results = response.json()
        if not isinstance(results, list) or len(results) != 1 or not isinstance(results[0], dict):
            return None
        resource = str(results[0].get("resource", ""))
        ui = resource.removeprefix(MESH_IRI_PREFIX).removeprefix(MESH_IRI_PREFIX.replace("http:", "https:"))
        return ui if MESH_DESCRIPTOR_UI_RE.fullmatch(ui) else None
