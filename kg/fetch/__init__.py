"""Online sources: fetch raw ClinicalTrials.gov records and PubMed/MeSH metadata over polite HTTP.

``http`` holds the one session factory (cache, rate limit, retries, :class:`FetchError`); ``ctgov`` and
``pubmed`` are the clients. Nothing here maps to RDF.
"""

from kg.fetch.ctgov import CtgovClient, FetchProgress, FetchSummary, validate_nct_id
from kg.fetch.http import FetchError, PoliteSession, RateLimiter, RetryPolicy, default_cache_dir, make_session
from kg.fetch.pubmed import Article, Author, MeshHeading, MeshLookupClient, PubmedClient, parse_pubmed_xml

__all__ = [
    "Article",
    "Author",
    "CtgovClient",
    "FetchError",
    "FetchProgress",
    "FetchSummary",
    "MeshHeading",
    "MeshLookupClient",
    "PoliteSession",
    "PubmedClient",
    "RateLimiter",
    "RetryPolicy",
    "default_cache_dir",
    "make_session",
    "parse_pubmed_xml",
    "validate_nct_id",
]
