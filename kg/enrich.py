"""Enrichment: the PubMed articles a graph cites, fetched with E-utilities, as a named graph of their own.

Adds title, journal, publication date (precision kept), DOI, authors (ORCID IRIs where PubMed gives one)
and the article's MeSH headings to ``{base}graph/pubmed``; the trial graphs are not touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from kg import rdfterms as t
from kg.fetch.pubmed import Article, PubmedClient
from kg.identity import Iris, mesh_iri, pubmed_iri
from kg.vocab import DCTERMS, FABIO, RDF, SCHEMA, TKG

Triple = tuple[str, str, str]
PMID_QUERY = "SELECT DISTINCT ?pmid WHERE { ?a <https://w3id.org/trialkg/ontology#pmid> ?pmid }"
_FORMATS = {".nt": pyoxigraph.RdfFormat.N_TRIPLES, ".nq": pyoxigraph.RdfFormat.N_QUADS,
            ".ttl": pyoxigraph.RdfFormat.TURTLE, ".trig": pyoxigraph.RdfFormat.TRIG}


@dataclass
class EnrichSummary:
    cited: int = 0
    added: int = 0
    missing: list[str] = field(default_factory=list)
    triples: int = 0


def rdf_format(path: Path) -> pyoxigraph.RdfFormat:
    if path.suffix not in _FORMATS:
        raise ValueError(f"unknown RDF format for {path}: use .nt, .nq, .ttl or .trig")
    return _FORMATS[path.suffix]


def cited_pmids(store: pyoxigraph.Store) -> list[str]:
    rows = store.query(PMID_QUERY, use_default_graph_as_union=True)
    return sorted({row[0].value for row in rows}, key=int)


def article_triples(article: Article, iris: Iris) -> Iterator[Triple]:
    s = t.iri(pubmed_iri(article.pmid))
    yield s, RDF.type, FABIO.JournalArticle
    yield s, TKG.pmid, t.string(article.pmid)
    if article.title:
        yield s, DCTERMS.title, t.string(article.title)
    if article.journal:
        yield s, TKG.journalTitle, t.string(article.journal)
    if article.pub_date and article.pub_date_precision:
        yield s, SCHEMA.datePublished, t.date(article.pub_date, article.pub_date_precision)
    if article.doi:
        yield s, TKG.doi, t.string(article.doi)
    for n, author in enumerate(article.authors, start=1):
        listing = t.iri(f"{iris.base}pubmed/{article.pmid}/author/{n}")
        name = author.collective_name or " ".join(x for x in (author.fore_name, author.last_name) if x)
        yield s, TKG.authorship, listing
        yield listing, RDF.type, TKG.Authorship
        yield listing, TKG.authorPosition, t.integer(n)
        if name:
            yield listing, SCHEMA.name, t.string(name)
        if author.orcid:  # only an ORCID identifies a person across articles
            person = t.iri(f"https://orcid.org/{author.orcid}")
            yield s, SCHEMA.author, person
            yield listing, TKG.resolvesTo, person
            yield person, RDF.type, SCHEMA.Person
            if author.last_name:
                yield person, SCHEMA.familyName, t.string(author.last_name)
            if author.fore_name:
                yield person, SCHEMA.givenName, t.string(author.fore_name)
    for heading in article.mesh_headings:
        m = t.iri(mesh_iri(heading.ui))
        yield s, SCHEMA.about, m
        if heading.major_topic:
            yield s, TKG.majorTopic, m


def enrich_store(store: pyoxigraph.Store, client: PubmedClient, iris: Iris) -> EnrichSummary:
    """Fetch every article the store's graphs cite and (re)write the PubMed graph in the store."""
    pmids = cited_pmids(store)
    summary = EnrichSummary(cited=len(pmids))
    graph = pyoxigraph.NamedNode(f"{iris.base}graph/pubmed")
    lines = []
    for article in client.fetch_articles(pmids):
        summary.added += 1
        lines.extend(f"{s} {p} {o} .\n" for s, p, o in dict.fromkeys(article_triples(article, iris)))
    summary.missing = sorted(client.missing, key=int)
    summary.triples = len(lines)
    store.clear_graph(graph)
    store.load("".join(lines).encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=graph)
    return summary


def enrich_file(source: Path, output: Path, client: PubmedClient, iris: Iris) -> EnrichSummary:
    """Read a graph file, add the PubMed graph, write the union (named graphs kept in .nq/.trig)."""
    out_format = rdf_format(output)
    store = pyoxigraph.Store()
    store.load(path=str(source), format=rdf_format(source))
    summary = enrich_store(store, client, iris)
    quads: Iterable[pyoxigraph.Quad] = store
    with output.open("wb") as f:
        if out_format in (pyoxigraph.RdfFormat.N_QUADS, pyoxigraph.RdfFormat.TRIG):
            pyoxigraph.serialize(quads, f, format=out_format)
        else:
            pyoxigraph.serialize((pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in quads), f,
                                 format=out_format)
    return summary
