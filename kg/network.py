"""Network: the sponsor and collaborator network of the trials in a graph, and the measures researchers report.

Who sponsored or collaborated on which trial comes out of the RDF through SPARQL (never from the source
records), with every filter applied inside the query. When the graph has a resolution graph (``kg build
--resolve``), organisations and people merged there by ``owl:sameAs`` are one node each. networkx holds the
organisation network and the organisation–investigator and trial–organisation views; the measures are degree,
betweenness, PageRank, components, Louvain communities, bridges and articulation points (networkx's algorithms,
ported to integer lists for speed); the writers give GraphML, GEXF, CSV and a JSON summary. The same graph
always gives the same files: nodes and edges are added in sorted order and every random step (Louvain,
betweenness sampling) has a fixed seed.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pyoxigraph

from kg.codes import SCHEMES, code_iri
from kg.identity import MESH_PREFIX, TRIAL_PREFIX
from kg.vocab import NAMESPACES

# Node roles in the networks; SITE only when sites are asked for.
LEAD, COLLABORATOR, SITE = "LEAD_SPONSOR", "COLLABORATOR", "SITE"
LIST_SEP = "|"  # GraphML and GEXF take scalar attributes only: lists are joined with this
DEFAULT_SEED = 42
DEFAULT_TOP = 30
TOP_IN_SUMMARY = 20
COMMUNITIES_IN_SUMMARY = 50  # the largest; every node still carries its community id
EXACT_BETWEENNESS_LIMIT = 1000  # nodes; above this betweenness is estimated from sampled sources
DEFAULT_BETWEENNESS_SAMPLES = 100  # the GUIDE measured k=100 at 10 s on a 22k-node sponsor network
PAGERANK_ALPHA, PAGERANK_TOL, PAGERANK_MAX_ITER = 0.85, 1.0e-9, 200
FLOAT_DIGITS = 8  # floats in the outputs are rounded, so a last-bit difference never changes a file
MEASURES = ("degree", "weighted_degree", "betweenness", "pagerank", "trials")

# ClinicalTrials.gov agency classes grouped into the sectors of the industry–academia mix. "OTHER" is the
# class the registry gives universities, hospitals and foundations.
SECTOR_OF_CLASS = {
    "INDUSTRY": "industry",
    "OTHER": "academic",
    "NIH": "government",
    "FED": "government",
    "OTHER_GOV": "government",
    "NETWORK": "network",
    "INDIV": "individual",
    "AMBIG": "unknown",
    "UNKNOWN": "unknown",
}
SECTORS = ("industry", "academic", "government", "network", "individual", "unknown")

_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_PREFIXES = "".join(f"PREFIX {p}: <{NAMESPACES[p]}>\n" for p in ("tkg", "schema", "meshv", "rdf"))


# ------------------------------------------------------------------------------------------ options
@dataclass(frozen=True)
class Filters:
    """Which trials (and which organisations) the network is built from; empty means no restriction."""

    mesh: tuple[str, ...] = ()  # MeSH descriptor UIs: trials with one of them or a narrower one
    intervention_types: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start_from: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    start_to: str | None = None  # inclusive: "2020" takes every start date in 2020
    agency_classes: tuple[str, ...] = ()  # keeps the organisations whose participation has one of these

    def __post_init__(self) -> None:
        for scheme, values in (("intervention-type", self.intervention_types), ("phase", self.phases),
                               ("status", self.statuses), ("agency-class", self.agency_classes)):
            unknown = sorted(set(values) - set(SCHEMES[scheme]))
            if unknown:
                raise ValueError(f"unknown {scheme} {unknown}: use one of {', '.join(SCHEMES[scheme])}")
        for name in ("start_from", "start_to"):
            value = getattr(self, name)
            if value is not None and not _DATE_RE.match(value):
                raise ValueError(f"{name.replace('_', '-')} must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
        object.__setattr__(self, "mesh", tuple(_mesh_ui(m) for m in self.mesh))

    def describe(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v}


def _mesh_ui(value: str) -> str:
    from kg.mesh import normalise_ui  # the index is only loaded when a MeSH filter is given

    ui = normalise_ui(value)
    if ui is None:
        raise ValueError(f"not a MeSH descriptor UI: {value!r} (give e.g. D003920)")
    return ui


@dataclass(frozen=True)
class NetworkOptions:
    sites: bool = False  # site facilities as nodes too, linked to the trial's sponsor and collaborators
    seed: int = DEFAULT_SEED
    top: int = DEFAULT_TOP  # organisations in the picture
    betweenness_samples: int | None = None  # None: exact up to EXACT_BETWEENNESS_LIMIT nodes, else sampled
    picture: bool = True


# ------------------------------------------------------------------------------------------ SPARQL
# Each triple pattern sits in a sub-SELECT of its own, so Oxigraph hash-joins whole predicates instead of
# looking every row up in the on-disk indexes one by one (5-6x faster on a 10k-trial store, same rows).
# The default graph is the union of the record graphs, so each pattern matches in any graph.
def _values(var: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{var} {{ {' '.join(f'<{i}>' for i in iris)} }}\n"


def _sub(select: str, where: str, optional: bool = False) -> str:
    return f"{'OPTIONAL ' if optional else ''}{{ SELECT {select} WHERE {{ {where} }} }}\n"


def trial_pattern(f: Filters) -> str:
    """The graph pattern binding ?t to the trials that pass the filters ("" when nothing is filtered)."""
    parts: list[str] = []
    if f.mesh:
        # Anchored on the given descriptor: Oxigraph walks broader* from the bound end, which is fast.
        alts = [f"{{ ?d meshv:broaderDescriptor* <{MESH_PREFIX}{ui}> }}" for ui in f.mesh]
        parts.append(" UNION ".join(alts) + "\n?t tkg:conditionMesh ?d .\n")
    if f.phases:
        parts.append(_values("phase", (code_iri("phase", p) for p in f.phases)) + "?t tkg:phase ?phase .\n")
    if f.statuses:
        parts.append(_values("status", (code_iri("status", s) for s in f.statuses))
                     + "?t tkg:overallStatus ?status .\n")
    if f.intervention_types:
        parts.append(_values("ivType", (code_iri("intervention-type", v) for v in f.intervention_types))
                     + "?iv tkg:interventionType ?ivType .\n?t tkg:intervention ?iv .\n")
    if f.start_from or f.start_to:
        # Dates are xsd:date, gYearMonth or gYear; comparing the same-length prefix of the lexical form
        # orders all three (a month-precision date counts from the month's first day).
        tests = []
        if f.start_from:
            tests.append(f'SUBSTR(STR(?start), 1, {len(f.start_from)}) >= "{f.start_from}"')
        if f.start_to:
            tests.append(f'SUBSTR(STR(?start), 1, {len(f.start_to)}) <= "{f.start_to}"')
        parts.append(f"?t tkg:startDate ?start . FILTER({' && '.join(tests)})\n")
    if not parts:
        return ""
    return "{ SELECT DISTINCT ?t WHERE {\n" + "".join(parts) + "?t a tkg:ClinicalStudy .\n} }\n"


def participation_query(f: Filters) -> str:
    """One row per lead-sponsor or collaborator mention on a filtered trial."""
    roles = _values("role", (code_iri("role", r) for r in (LEAD, COLLABORATOR)))
    if f.agency_classes:
        klass = _sub("?p ?class", _values("class", (code_iri("agency-class", c) for c in f.agency_classes))
                     + "?p tkg:agencyClass ?class")
    else:
        klass = _sub("?p ?class", "?p tkg:agencyClass ?class", optional=True)
    return (f"{_PREFIXES}SELECT ?t ?org ?role ?name ?class WHERE {{\n{trial_pattern(f)}"
            + _sub("?p ?role", f"{roles}?p tkg:role ?role") + _sub("?t ?p", "?t tkg:participation ?p")
            + _sub("?p ?org", "?p tkg:resolvesTo ?org") + _sub("?p ?name", "?p tkg:nameAsRegistered ?name")
            + klass + "}")


def site_query(f: Filters) -> str:
    return (f"{_PREFIXES}SELECT DISTINCT ?t ?org ?name WHERE {{\n{trial_pattern(f)}"
            + _sub("?t ?s", "?t tkg:site ?s") + _sub("?s ?org", "?s tkg:facility ?org")
            + _sub("?s ?name", "?s tkg:facility ?org ; schema:name ?name") + "}")


def country_query(f: Filters) -> str:
    return (f"{_PREFIXES}SELECT DISTINCT ?t ?country WHERE {{\n{trial_pattern(f)}"
            + _sub("?t ?s", "?t tkg:site ?s") + _sub("?s ?country", "?s schema:addressCountry ?country") + "}")


def investigator_query(f: Filters) -> str:
    return (f"{_PREFIXES}SELECT DISTINCT ?t ?person ?name ?org WHERE {{\n{trial_pattern(f)}"
            + _sub("?t ?p", "?t tkg:participation ?p") + _sub("?p ?person", "?p tkg:resolvesTo ?person")
            + _sub("?person ?org", "?person schema:affiliation ?org")
            + _sub("?p ?name", "?p tkg:nameAsRegistered ?name") + "}")


def trial_query(f: Filters) -> str:
    return (f"{_PREFIXES}SELECT ?t ?title ?status ?start ?phase WHERE {{\n{trial_pattern(f)}"
            + _sub("?t", "?t a tkg:ClinicalStudy") + _sub("?t ?title", "?t a tkg:ClinicalStudy ; schema:name ?title",
                                                         optional=True)
            + _sub("?t ?status", "?t tkg:overallStatus ?status", optional=True)
            + _sub("?t ?start", "?t tkg:startDate ?start", optional=True)
            + _sub("?t ?phase", "?t tkg:phase ?phase", optional=True) + "}")


_SAME_AS = pyoxigraph.NamedNode(NAMESPACES["owl"] + "sameAs")
_TYPE = pyoxigraph.NamedNode(NAMESPACES["rdf"] + "type")
_ENTITY_TYPES = tuple(pyoxigraph.NamedNode(NAMESPACES["tkg"] + t) for t in ("Organization", "Person"))


# ------------------------------------------------------------------------------------------ extraction
@dataclass
class OrgFacts:
    """What the graph says about one organisation (a resolution cluster when the graph has one)."""

    names: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    roles: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # role -> trial ids
    members: set[str] = field(default_factory=set)  # canonical IRIs registered on these trials


@dataclass
class Extract:
    """The rows the SPARQL queries gave, grouped: everything the networks are built from."""

    orgs: dict[str, OrgFacts] = field(default_factory=lambda: defaultdict(OrgFacts))
    trial_orgs: dict[str, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    countries: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # trial -> countries
    trials: dict[str, dict[str, str]] = field(default_factory=dict)  # trial -> title, status, start, phases
    people: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # person -> names
    person_members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    person_orgs: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    org_names_elsewhere: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    same_as: dict[str, str] = field(default_factory=dict)  # merged organisation or person -> representative


def trial_id(iri: str) -> str:
    """NCT id for a ClinicalTrials.gov trial IRI, else the minted trial path."""
    if iri.startswith(TRIAL_PREFIX):
        return iri[len(TRIAL_PREFIX):]
    return iri.split("/trial/", 1)[-1]


def _code(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _rows(store: pyoxigraph.Store, query: str) -> Iterator[Any]:
    yield from store.query(query, use_default_graph_as_union=True)  # type: ignore[misc]


def same_as(store: pyoxigraph.Store) -> dict[str, str]:
    """Each organisation or person merged by ``kg build --resolve`` -> its cluster's representative.

    The resolution graph links members to the representative in one hop; longer chains (graphs merged from
    several builds) are followed to their end, and of two targets the first in IRI order wins, so the answer
    never depends on row order.
    """
    # A direct scan of the few owl:sameAs quads (SPARQL started from the types: seconds on a large store);
    # trial aliases (owl:sameAs between trial IRIs) are left out by the type check.
    pairs = sorted({(q.subject, q.object) for q in store.quads_for_pattern(None, _SAME_AS, None, None)
                    if isinstance(q.subject, pyoxigraph.NamedNode) and isinstance(q.object, pyoxigraph.NamedNode)},
                   key=lambda ab: (ab[0].value, ab[1].value))
    links: dict[str, str] = {}
    for a, b in pairs:
        if a != b and any(next(store.quads_for_pattern(a, _TYPE, t, None), None) for t in _ENTITY_TYPES):
            links.setdefault(a.value, b.value)
    out = {}
    for a in links:
        seen, rep = {a}, links[a]
        while rep in links and links[rep] not in seen:
            seen.add(rep)
            rep = links[rep]
        if rep != a:
            out[a] = rep
    return out


def extract(store: pyoxigraph.Store, filters: Filters = Filters(), sites: bool = False) -> Extract:
    """Run all the network's SPARQL queries: the organisation network's, then the bipartite views'."""
    ex = extract_orgs(store, filters, sites)
    extract_views(store, filters, ex)
    return ex


def extract_orgs(store: pyoxigraph.Store, filters: Filters = Filters(), sites: bool = False) -> Extract:
    """Sponsors, collaborators (and sites) of the filtered trials, and their trials' countries."""
    ex = Extract(same_as=same_as(store))
    canon, orgs, trial_orgs = ex.same_as, ex.orgs, ex.trial_orgs
    tids: dict[str, str] = {}  # trial IRI -> id: each trial has several rows
    codes: dict[str, str] = {}
    for t, org_term, role_term, name, klass in _rows(store, participation_query(filters)):
        t = t.value
        tid = tids.get(t) or tids.setdefault(t, trial_id(t))
        member = org_term.value
        org = canon.get(member, member)
        role = codes.get(role_term.value) or codes.setdefault(role_term.value, _code(role_term.value))
        facts = orgs[org]
        facts.members.add(member)
        facts.roles[role].add(tid)
        facts.names[name.value] += 1
        if klass is not None:
            facts.classes[codes.get(klass.value) or codes.setdefault(klass.value, _code(klass.value))] += 1
        trial_orgs[tid][org].add(role)
    if sites and not filters.agency_classes:  # sites have no agency class, so a class filter leaves them out
        for t, org_term, name in _rows(store, site_query(filters)):
            tid = tids.get(t.value)
            if tid is None:
                continue  # a trial with no sponsor in the network gives its sites nobody to link to
            member = org_term.value
            org = canon.get(member, member)
            facts = orgs[org]
            facts.members.add(member)
            facts.roles[SITE].add(tid)
            facts.names[name.value] += 1
            trial_orgs[tid][org].add(SITE)
    for t, country in _rows(store, country_query(filters)):
        tid = tids.get(t.value)
        if tid is not None:
            ex.countries[tid].add(country.value)
    return ex


def extract_views(store: pyoxigraph.Store, filters: Filters, ex: Extract) -> None:
    """Add what the bipartite views need: the trials' titles, statuses, dates, phases and investigators."""
    phases: dict[str, set[str]] = defaultdict(set)
    values: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in _rows(store, trial_query(filters)):
        tid = trial_id(row[0].value)
        if tid not in ex.trial_orgs:
            continue
        info = values[tid]
        for i, key in enumerate(("title", "status", "start"), start=1):
            if row[i] is not None:
                info[key].add(_code(row[i].value) if key == "status" else row[i].value)
        if row[4] is not None:
            phases[tid].add(_code(row[4].value))
    for tid, info in values.items():
        # A trial in two renderings may have two titles: the first in order, so the choice is stable.
        ex.trials[tid] = {key: min(info[key], default="") for key in ("title", "status", "start")}
        ex.trials[tid]["phases"] = LIST_SEP.join(sorted(phases[tid]))
    canon = ex.same_as
    for t, person_term, name, org_term in _rows(store, investigator_query(filters)):
        tid = trial_id(t.value)
        if tid not in ex.trial_orgs:
            continue
        member = person_term.value
        person = canon.get(member, member)
        ex.people[person][name.value] += 1
        ex.person_members[person].add(member)
        ex.person_orgs[(person, canon.get(org_term.value, org_term.value))].add(tid)


# ------------------------------------------------------------------------------------------ networks
def _preferred(names: Counter[str]) -> str:
    """The most used registered name; ties go to the alphabetically first, so the choice is stable."""
    return min(names.items(), key=lambda kv: (-kv[1], kv[0]))[0] if names else ""


def _joined(values: Iterable[str]) -> str:
    return LIST_SEP.join(sorted(set(values)))


def org_network(ex: Extract) -> nx.Graph:
    """Organisations as nodes, an edge for every two that share a trial, weighted by shared trials.

    Sites (when extracted) are linked to the trial's lead sponsor and collaborators but not to each other:
    a 400-site trial would otherwise add an 80,000-edge clique of places that never worked together.
    """
    g = nx.Graph()
    for org in sorted(ex.orgs):
        facts = ex.orgs[org]
        trials = set().union(*facts.roles.values())
        countries = set().union(*(ex.countries.get(t, set()) for t in trials))
        attrs: dict[str, Any] = {
            "label": _preferred(facts.names),
            "name_variants": _joined(facts.names),
            "n_name_variants": len(facts.names),
            "agency_class": _preferred(facts.classes),
            "agency_classes": _joined(facts.classes),
            "sector": SECTOR_OF_CLASS.get(_preferred(facts.classes), "unknown"),
            "trials": len(trials),
            "trials_as_lead": len(facts.roles.get(LEAD, ())),
            "trials_as_collaborator": len(facts.roles.get(COLLABORATOR, ())),
            "countries": _joined(countries),
            "n_countries": len(countries),
        }
        if SITE in facts.roles:
            attrs["trials_as_site"] = len(facts.roles[SITE])
        if facts.members != {org}:  # a resolution cluster: the canonical organisations it merged
            attrs["members"] = _joined(facts.members)
        g.add_node(org, **attrs)
    shared: dict[tuple[str, str], set[str]] = defaultdict(set)
    for tid, members in ex.trial_orgs.items():
        orgs = sorted(members)
        for i, a in enumerate(orgs):
            for b in orgs[i + 1:]:
                if members[a] == {SITE} and members[b] == {SITE}:
                    continue
                shared[(a, b)].add(tid)
    for a, b in sorted(shared):
        trials = shared[(a, b)]
        g.add_edge(a, b, weight=len(trials), trials=_joined(trials))
    return g


def org_investigator_network(ex: Extract) -> nx.Graph:
    """Bipartite view: people and the organisations they are affiliated with, weighted by shared trials."""
    g = nx.Graph()
    orgs = sorted({org for _, org in ex.person_orgs})
    for org in orgs:
        facts = ex.orgs.get(org)
        label = _preferred(facts.names) if facts else org.rsplit("/", 1)[-1]
        g.add_node(org, label=label, kind="organisation", bipartite=0, in_org_network=facts is not None)
    for person in sorted(ex.people):
        members = ex.person_members[person]
        merged = {"members": _joined(members)} if members != {person} else {}
        g.add_node(person, label=_preferred(ex.people[person]), kind="person", bipartite=1,
                   name_variants=_joined(ex.people[person]), in_org_network=False, **merged)
    for person, org in sorted(ex.person_orgs):
        trials = ex.person_orgs[(person, org)]
        g.add_edge(org, person, weight=len(trials), trials=_joined(trials))
    return g


def trial_org_network(ex: Extract, orgs: nx.Graph) -> nx.Graph:
    """Bipartite view: trials and the organisations on them, the edge naming the roles."""
    g = nx.Graph()
    for org in orgs:
        g.add_node(org, label=orgs.nodes[org]["label"], kind="organisation", bipartite=0,
                   agency_class=orgs.nodes[org]["agency_class"])
    for tid in sorted(ex.trial_orgs):
        info = ex.trials.get(tid, {})
        g.add_node(tid, label=tid, kind="trial", bipartite=1, title=info.get("title", ""),
                   status=info.get("status", ""), start=info.get("start", ""), phases=info.get("phases", ""),
                   countries=_joined(ex.countries.get(tid, ())))
        for org in sorted(ex.trial_orgs[tid]):
            g.add_edge(tid, org, roles=_joined(ex.trial_orgs[tid][org]))
    return g


# ------------------------------------------------------------------------------------------ measures
def pagerank(g: nx.Graph, weight: str = "weight") -> dict[str, float]:
    """Weighted PageRank (networkx's, which runs on scipy's sparse matrices)."""
    if g.number_of_nodes() == 0:
        return {}
    return nx.pagerank(g, alpha=PAGERANK_ALPHA, max_iter=PAGERANK_MAX_ITER, tol=PAGERANK_TOL, weight=weight)


def betweenness(g: nx.Graph, samples: int | None, seed: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Exact betweenness for small graphs, else estimated from ``samples`` sources drawn with ``seed``."""
    n = g.number_of_nodes()
    k = samples if samples is not None else (None if n <= EXACT_BETWEENNESS_LIMIT else DEFAULT_BETWEENNESS_SAMPLES)
    if k is None or k >= n:
        return nx.betweenness_centrality(g, normalized=True), {"method": "exact"}
    return (nx.betweenness_centrality(g, k=k, normalized=True, seed=random.Random(seed)),
            {"method": "sampled", "samples": k, "seed": seed})


def _ranked_groups(groups: Iterable[Iterable[str]]) -> list[list[str]]:
    """Groups as sorted lists, largest first, ties by first member: stable ids for components and communities."""
    return sorted((sorted(c) for c in groups), key=lambda c: (-len(c), c[0]))


def analyse(g: nx.Graph, options: NetworkOptions = NetworkOptions()) -> dict[str, Any]:
    """Compute the measures, store them as node/edge attributes, and return the summary."""
    between, between_how = betweenness(g, options.betweenness_samples, options.seed)
    rank = pagerank(g)
    components = _ranked_groups(nx.connected_components(g))
    communities = _ranked_groups(nx.community.louvain_communities(g, weight="weight", seed=options.seed)) if g else []
    cuts = set(nx.articulation_points(g))
    bridges = {tuple(sorted(e)) for e in nx.bridges(g)}
    for i, comp in enumerate(components):
        for u in comp:
            g.nodes[u]["component"] = i
    for i, comm in enumerate(communities):
        for u in comm:
            g.nodes[u]["community"] = i
    adj = g._adj  # degree views cost a call per node: read the adjacency (no self-loops in these graphs)
    for u, data in g.nodes(data=True):
        data["degree"] = len(adj[u])
        data["weighted_degree"] = sum(d.get("weight", 1) for d in adj[u].values())
        data["betweenness"] = round(between.get(u, 0.0), FLOAT_DIGITS)
        data["pagerank"] = round(rank.get(u, 0.0), FLOAT_DIGITS)
        data["articulation_point"] = u in cuts
    for a, b, data in g.edges(data=True):
        data["bridge"] = tuple(sorted((a, b))) in bridges
    trials = {t for _, _, d in g.edges(data=True) for t in d["trials"].split(LIST_SEP)}
    return {
        "counts": {
            "organisations": g.number_of_nodes(),
            "edges": g.number_of_edges(),
            "trials_on_edges": len(trials),
            "isolated_organisations": sum(1 for u in g if not adj[u]),
            "components": len(components),
            "largest_component": len(components[0]) if components else 0,
            "communities": len(communities),
            "bridges": len(bridges),
            "articulation_points": len(cuts),
            "density": round(nx.density(g), FLOAT_DIGITS) if g.number_of_nodes() > 1 else 0.0,
        },
        "betweenness": between_how,
        "louvain": {"seed": options.seed, "weight": "weight",
                    "modularity": round(nx.community.modularity(g, communities, weight="weight"), FLOAT_DIGITS)
                    if g.number_of_edges() else 0.0},
        "top": top_table(g),
        "communities": community_mix(g, communities[:COMMUNITIES_IN_SUMMARY]),
    }


def top_table(g: nx.Graph, n: int = TOP_IN_SUMMARY) -> dict[str, list[dict[str, Any]]]:
    """The top ``n`` organisations on each measure (ties by IRI, so the order is stable)."""
    table = {}
    for measure in MEASURES:
        ranked = sorted(g.nodes(data=True), key=lambda nd: (-nd[1][measure], nd[0]))[:n]
        table[measure] = [{"org": u, "label": d["label"], "agency_class": d["agency_class"], "value": d[measure]}
                          for u, d in ranked]
    return table


def community_mix(g: nx.Graph, communities: list[list[str]], n_members: int = 5) -> list[dict[str, Any]]:
    """Each community's size, agency classes and industry–academia mix, with its most central members."""
    out = []
    for i, members in enumerate(communities):
        sectors = Counter(g.nodes[u]["sector"] for u in members)
        classes = Counter(g.nodes[u]["agency_class"] or "UNKNOWN" for u in members)
        size = len(members)
        top = sorted(members, key=lambda u: (-g.nodes[u]["pagerank"], u))[:n_members]
        industry, academic = sectors.get("industry", 0), sectors.get("academic", 0)
        out.append({
            "id": i,
            "size": size,
            "agency_classes": dict(sorted(classes.items())),
            "sectors": {s: sectors[s] for s in SECTORS if sectors.get(s)},
            "industry_share": round(industry / size, 4),
            "academic_share": round(academic / size, 4),
            "mix": _mix(industry, academic, size),
            "top": [g.nodes[u]["label"] for u in top],
        })
    return out


def _mix(industry: int, academic: int, size: int) -> str:
    if industry and academic:
        return "industry-academic"
    if industry:
        return "industry only" if industry == size else "industry and other"
    if academic:
        return "academic only" if academic == size else "academic and other"
    return "other"


# ------------------------------------------------------------------------------------------ writers
NODE_COLUMNS = ("org", "label", "agency_class", "sector", "trials", "trials_as_lead", "trials_as_collaborator",
                "trials_as_site", "degree", "weighted_degree", "betweenness", "pagerank", "component",
                "community", "articulation_point", "n_countries", "countries", "n_name_variants", "name_variants",
                "members")
EDGE_COLUMNS = ("source", "target", "source_label", "target_label", "weight", "bridge", "trials")
OUTPUT_FILES = {
    "graphml": "network.graphml", "gexf": "network.gexf", "nodes": "nodes.csv", "edges": "edges.csv",
    "top": "top.csv", "summary": "summary.json", "picture": "network.png",
    "org_investigator": "org-investigator.graphml", "trial_org": "trial-org.graphml",
    "trial_org_gexf": "trial-org.gexf", "org_investigator_gexf": "org-investigator.gexf",
}


def write_gexf(g: nx.Graph, path: Path) -> None:
    """GEXF without networkx's lastmodifieddate, so the same graph gives the same file on any day."""
    text = "\n".join(nx.generate_gexf(g))
    text = re.sub(r' lastmodifieddate="[^"]*"', "", text, count=1)
    path.write_text(text + "\n", encoding="utf-8")


def write_csvs(g: nx.Graph, out: Path) -> None:
    with (out / OUTPUT_FILES["nodes"]).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(NODE_COLUMNS)
        for u, d in g.nodes(data=True):
            w.writerow([u] + [d.get(c, 0 if c == "trials_as_site" else "") for c in NODE_COLUMNS[1:]])
    with (out / OUTPUT_FILES["edges"]).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(EDGE_COLUMNS)
        for a, b, d in g.edges(data=True):
            w.writerow([a, b, g.nodes[a]["label"], g.nodes[b]["label"], d["weight"], d["bridge"], d["trials"]])


def write_top(summary: dict[str, Any], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("measure", "rank", "org", "label", "agency_class", "value"))
        for measure, rows in summary["top"].items():
            for rank, r in enumerate(rows, start=1):
                w.writerow((measure, rank, r["org"], r["label"], r["agency_class"], r["value"]))


@dataclass
class Networks:
    orgs: nx.Graph
    org_investigator: nx.Graph
    trial_org: nx.Graph
    summary: dict[str, Any]


def build_networks(store: pyoxigraph.Store, filters: Filters = Filters(),
                   options: NetworkOptions = NetworkOptions()) -> Networks:
    """Extract, build the three graphs and analyse the organisation network."""
    ex = extract(store, filters, sites=options.sites)
    orgs = org_network(ex)
    summary: dict[str, Any] = {"filters": filters.describe(), "sites": options.sites}
    summary.update(analyse(orgs, options))
    summary["counts"]["trials"] = len(ex.trial_orgs)
    inv = org_investigator_network(ex)
    summary["counts"]["investigators"] = sum(1 for _, d in inv.nodes(data=True) if d["kind"] == "person")
    return Networks(orgs, inv, trial_org_network(ex, orgs), summary)


def write_outputs(nets: Networks, out: Path, options: NetworkOptions = NetworkOptions()) -> dict[str, Path]:
    """Every output file into the folder ``out``; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / v for k, v in OUTPUT_FILES.items()}
    nx.write_graphml(nets.orgs, paths["graphml"])
    write_gexf(nets.orgs, paths["gexf"])
    nx.write_graphml(nets.org_investigator, paths["org_investigator"])
    write_gexf(nets.org_investigator, paths["org_investigator_gexf"])
    nx.write_graphml(nets.trial_org, paths["trial_org"])
    write_gexf(nets.trial_org, paths["trial_org_gexf"])
    write_csvs(nets.orgs, out)
    write_top(nets.summary, paths["top"])
    paths["summary"].write_text(json.dumps(nets.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if options.picture:
        from kg.network_plot import draw  # matplotlib only when a picture is asked for

        draw(nets.orgs, paths["picture"], top=options.top, summary=nets.summary)
    else:
        del paths["picture"]
    return paths


# ------------------------------------------------------------------------------------------ input
_FILE_FORMATS = {
    ".nq": pyoxigraph.RdfFormat.N_QUADS, ".nt": pyoxigraph.RdfFormat.N_TRIPLES,
    ".ttl": pyoxigraph.RdfFormat.TURTLE, ".trig": pyoxigraph.RdfFormat.TRIG,
}


_QUAD_FORMATS = {pyoxigraph.RdfFormat.N_QUADS, pyoxigraph.RdfFormat.TRIG}
DEFAULT_GRAPH_NAME = "https://w3id.org/trialkg/graph/loaded-file"


def open_graph(file: Path | None = None, store: Path | None = None) -> pyoxigraph.Store:
    """An RDF file (.nq .nt .ttl .trig, optionally .gz) loaded in memory, or an Oxigraph store read-only."""
    if (file is None) == (store is None):
        raise ValueError("give an RDF file or a store folder, not both")
    if store is not None:
        if not Path(store).is_dir():
            raise ValueError(f"no Oxigraph store at {store}")
        return pyoxigraph.Store.read_only(str(store))
    assert file is not None
    gz = file.suffix == ".gz"
    suffix = Path(file.stem).suffix if gz else file.suffix
    if suffix not in _FILE_FORMATS:
        raise ValueError(f"unknown RDF format {file.name!r}: use .nq, .nt, .ttl or .trig (optionally .gz)")
    graph = pyoxigraph.Store()
    fmt = _FILE_FORMATS[suffix]
    # The queries match each trial inside its record's named graph (GRAPH ?g: faster than the union),
    # so triples of a format without graphs go into one named graph.
    into = {} if fmt in _QUAD_FORMATS else {"to_graph": pyoxigraph.NamedNode(DEFAULT_GRAPH_NAME)}
    if gz:
        with gzip.open(file, "rb") as f:
            graph.bulk_load(f, format=fmt, **into)
    else:
        graph.bulk_load(path=str(file), format=fmt, **into)
    return graph


def run(file: Path | None, store: Path | None, out: Path, filters: Filters = Filters(),
        options: NetworkOptions = NetworkOptions()) -> Networks:
    """What ``kg network`` does: open, extract, build, analyse, write."""
    nets = build_networks(open_graph(file, store), filters, options)
    write_outputs(nets, out, options)
    return nets
