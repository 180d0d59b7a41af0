"""Two renderings of one trial agree in the graph: each fact family both hold is the same.

Two pairs, each built separately with :func:`kg.build.build` and read back with an independent parser:

* seeds 001 (a third-party page) and 002 (API v2 printed as a Python dict): one trial, NCT04288102;
* NCT02513394 as API v2 JSON (a 2023 snapshot) and as legacy XML (a 2020 snapshot).

``FAMILIES`` is the table of (fact family, SPARQL); each pair has a table saying, for every family, whether
the two renderings agree, which rendering lacks it, or (the XML pair) how the older snapshot differs. A
failure names the family and prints both sides. The shipped MeSH index is used, not one the user imported.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph
import pytest
from lxml import etree

from kg import mesh
from kg.build import BuildOptions, build
from tests.helpers import CODE, TKG, load, select

DATA = Path(__file__).parent / "data"
SEED_001 = DATA / "seeds" / "001_fdc323ab30377e81.txt"
SEED_002 = DATA / "seeds" / "002_a224f28b0d59d797.txt"
V2_JSON = DATA / "ctgov_v2" / "studies" / "NCT02513394.json"
LEGACY_XML = DATA / "ctgov_xml" / "NCT02513394.xml"
PAGE, V2, XML = "thirdparty-page", "ctgov-v2", "ctgov-xml"
XSD = "http://www.w3.org/2001/XMLSchema#"
MESH = "http://id.nlm.nih.gov/mesh/"

Row = tuple[str, ...]
Rows = frozenset[Row]

# ------------------------------------------------------------------------------------------ fact families
TRIAL = "?t a tkg:ClinicalStudy ."


def _role(role: str) -> str:
    return f"<{CODE}role/{role}>"


def _party(role: str, *columns: str) -> str:
    """Participations of one role: (name as registered, and the optional columns asked for)."""
    optional = {
        "class": "OPTIONAL { ?p tkg:agencyClass ?class }",
        "aff": "OPTIONAL { ?p tkg:affiliationAsRegistered ?aff }",
        "title": "OPTIONAL { ?p schema:jobTitle ?title }",
    }
    return (f"SELECT ?name {' '.join('?' + c for c in columns)} WHERE {{ {TRIAL} ?t tkg:participation ?p . "
            f"?p tkg:role {_role(role)} ; tkg:nameAsRegistered ?name . "
            f"{' '.join(optional[c] for c in columns)} }}")


def _values(predicate: str) -> str:
    return f"SELECT ?x WHERE {{ {TRIAL} ?t {predicate} ?x }}"


OFFICIAL_ROLES = ", ".join(_role(r) for r in ("STUDY_CHAIR", "STUDY_DIRECTOR", "PRINCIPAL_INVESTIGATOR"))
# Date kinds as the ontology names them (tkg:{kind}Date); those the registry also types ACTUAL/ESTIMATED.
DATE_KINDS = ("start", "primaryCompletion", "completion", "firstSubmitted", "firstPosted", "lastUpdateSubmitted",
              "lastUpdatePosted", "resultsFirstSubmitted", "resultsFirstPosted", "statusVerified")
TYPED_DATE_KINDS = ("start", "primaryCompletion", "completion", "firstPosted", "lastUpdatePosted",
                    "resultsFirstPosted")

FAMILIES: dict[str, str] = {
    "nct id": _values("tkg:nctId"),
    "org study id": _values("tkg:orgStudyId"),
    "secondary ids": f"SELECT ?v WHERE {{ {TRIAL} ?t tkg:secondaryId/schema:value ?v }}",
    "secondary id types": (f"SELECT ?v ?type ?domain WHERE {{ {TRIAL} ?t tkg:secondaryId ?i . ?i schema:value ?v ; "
                           "tkg:identifierType ?type OPTIONAL { ?i tkg:identifierDomain ?domain } }"),
    "brief title": _values("schema:name"),
    "official title": _values("tkg:officialTitle"),
    "acronym": _values("tkg:acronym"),
    "overall status": _values("tkg:overallStatus"),
    "study type": _values("tkg:studyType"),
    "phases": _values("tkg:phase"),
    "enrollment count": _values("tkg:enrollment"),
    "enrollment type": _values("tkg:enrollmentType"),
    "has results": _values("tkg:hasResults"),
    "keywords": _values("schema:keywords"),
    "lead sponsor": _party("LEAD_SPONSOR", "class"),
    "collaborators": _party("COLLABORATOR"),
    "collaborator agency classes": _party("COLLABORATOR", "class"),
    "registering organisation": _party("STUDY_ORGANIZATION", "class"),
    "officials": (f"SELECT ?name ?role ?aff WHERE {{ {TRIAL} ?t tkg:participation ?p . ?p tkg:role ?role ; "
                  f"tkg:nameAsRegistered ?name . FILTER(?role IN ({OFFICIAL_ROLES})) "
                  "FILTER NOT EXISTS { ?p tkg:atSite ?site } OPTIONAL { ?p tkg:affiliationAsRegistered ?aff } }"),
    "responsible party": (f"SELECT ?type ?name ?title WHERE {{ {TRIAL} ?t tkg:responsiblePartyType ?type . "
                          f"OPTIONAL {{ ?t tkg:participation ?p . ?p tkg:role {_role('RESPONSIBLE_PARTY')} ; "
                          "tkg:nameAsRegistered ?name OPTIONAL { ?p schema:jobTitle ?title } } }"),
    "responsible party affiliation": _party("RESPONSIBLE_PARTY", "aff").replace(
        "OPTIONAL { ?p tkg:affiliationAsRegistered ?aff }", "?p tkg:affiliationAsRegistered ?aff ."),
    "sites": (f"SELECT ?facility ?city ?country WHERE {{ {TRIAL} ?t tkg:site ?s . "
              "OPTIONAL { ?s schema:name ?facility } OPTIONAL { ?s schema:addressLocality ?city } "
              "OPTIONAL { ?s schema:addressCountry ?country } }"),
    "references": (f"SELECT ?pmid ?type ?citation WHERE {{ {TRIAL} ?t tkg:reference ?r . "
                   "OPTIONAL { ?r tkg:article/tkg:pmid ?pmid } OPTIONAL { ?r tkg:referenceType ?type } "
                   "OPTIONAL { ?r dcterms:bibliographicCitation ?citation } }"),
    "arms": (f"SELECT ?label ?type ?description WHERE {{ {TRIAL} ?t tkg:arm ?a . ?a schema:name ?label . "
             "OPTIONAL { ?a tkg:armType ?type } OPTIONAL { ?a schema:description ?description } }"),
    "interventions": (f"SELECT ?name ?type ?description WHERE {{ {TRIAL} ?t tkg:intervention ?i . "
                      "?i skos:prefLabel ?name . OPTIONAL { ?i tkg:interventionType ?type } "
                      "OPTIONAL { ?i schema:description ?description } }"),
    "intervention other names": (f"SELECT ?name ?other WHERE {{ {TRIAL} ?t tkg:intervention ?i . "
                                 "?i skos:prefLabel ?name ; skos:altLabel ?other }"),
    "interventions in arms": (f"SELECT ?name ?arm WHERE {{ {TRIAL} ?t tkg:intervention ?i . "
                              "?i skos:prefLabel ?name ; tkg:inArm/schema:name ?arm }"),
    "conditions": _values("tkg:conditionText"),
    "condition MeSH": _values("tkg:conditionMesh"),
    "condition MeSH ancestors": _values("tkg:conditionMeshAncestor"),
    "intervention MeSH": _values("tkg:interventionMesh"),
    "intervention MeSH ancestors": _values("tkg:interventionMeshAncestor"),
    "unresolved MeSH names": _values("tkg:unresolvedMeshTerm"),
}
for _kind in DATE_KINDS:  # the value with its datatype: xsd:date, xsd:gYearMonth or xsd:gYear is the precision
    FAMILIES[f"date {_kind}"] = (f"SELECT ?value ?datatype WHERE {{ {TRIAL} ?t tkg:{_kind}Date ?d . "
                                 "BIND(STR(?d) AS ?value) BIND(DATATYPE(?d) AS ?datatype) }")
for _kind in TYPED_DATE_KINDS:
    FAMILIES[f"date type {_kind}"] = _values(f"tkg:{_kind}DateType")


def short(value: str) -> str:
    for prefix, short in ((CODE, ""), (XSD, "xsd:"), (TKG, "tkg:"), (MESH, "mesh:")):
        if value.startswith(prefix):
            return short + value[len(prefix):]
    return value


def rows(store: pyoxigraph.Store, family: str) -> Rows:
    """The rows of one fact family in a graph, code and datatype IRIs shortened (``status/COMPLETED``)."""
    return frozenset(tuple(short(v) for v in row) for row in select(store, FAMILIES[family]))


# ------------------------------------------------------------------------------------------ expectations
@dataclass(frozen=True)
class Agree:
    """Both renderings hold this family, with the same rows."""


@dataclass(frozen=True)
class Lacks:
    """One rendering does not hold this family at all; the other does."""

    rendering: str
    why: str


@dataclass(frozen=True)
class Neither:
    """Neither rendering holds this family (so agreement would say nothing; noticed if it appears)."""

    why: str


@dataclass(frozen=True)
class Changed:
    """The older snapshot holds other rows than the newer: the rows only each one holds (or their count)."""

    older_only: Rows | int
    newer_only: Rows | int
    why: str


Expectation = Agree | Lacks | Neither | Changed
AGREE = Agree()


def check(family: str, expect: Expectation, sides: dict[str, pyoxigraph.Store], older: str = "") -> None:
    """Assert one row of a pair's table; on failure the message names the family and shows both sides."""
    got = {name: rows(store, family) for name, store in sides.items()}
    shown = "\n".join(f"  {name}: {sorted(r)}" for name, r in got.items())
    (a, rows_a), (b, rows_b) = got.items()
    if isinstance(expect, Agree):
        assert rows_a and rows_b, f"{family}: expected in both renderings\n{shown}"
        assert rows_a == rows_b, (f"{family}: the renderings disagree\n  only in {a}: {sorted(rows_a - rows_b)}\n"
                                  f"  only in {b}: {sorted(rows_b - rows_a)}\n{shown}")
    elif isinstance(expect, Lacks):
        other = b if expect.rendering == a else a
        assert not got[expect.rendering], f"{family}: {expect.rendering} now holds it ({expect.why})\n{shown}"
        assert got[other], f"{family}: expected in {other}\n{shown}"
    elif isinstance(expect, Neither):
        assert not rows_a and not rows_b, f"{family}: now in a rendering ({expect.why})\n{shown}"
    else:
        newer = b if older == a else a
        older_only, newer_only = got[older] - got[newer], got[newer] - got[older]
        for name, want, have in ((older, expect.older_only, older_only), (newer, expect.newer_only, newer_only)):
            ok = len(have) == want if isinstance(want, int) else have == want
            assert ok, f"{family}: rows only in {name} should be {want!r}, are {sorted(have)}\n{shown}"


# ------------------------------------------------------------------------------------------ builds
@cache
def shipped_mesh() -> mesh.MeshIndex:
    return mesh.load_index(None)


def _build(path: Path, out_dir: Path) -> pyoxigraph.Store:
    out = out_dir / f"{path.stem}.nq"
    report = build([path], out, options=BuildOptions(mesh=shipped_mesh()))
    assert report.skipped == 0 and report.records_built == 1, report.problems
    return load(out)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pyoxigraph.Store]:
    tmp = tmp_path_factory.mktemp("seeds")
    return {PAGE: _build(SEED_001, tmp), V2: _build(SEED_002, tmp)}


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pyoxigraph.Store]:
    tmp = tmp_path_factory.mktemp("snapshots")
    return {XML: _build(LEGACY_XML, tmp), V2: _build(V2_JSON, tmp)}


def _sources(store: pyoxigraph.Store) -> list[tuple[str, str]]:
    return sorted(select(store, "SELECT ?g ?source WHERE { ?g tkg:sourceFormat ?source }"))


def test_each_rendering_is_its_own_named_graph_of_one_trial(
    seeds: dict[str, pyoxigraph.Store], snapshots: dict[str, pyoxigraph.Store]
) -> None:
    for nct, pair in (("NCT04288102", seeds), ("NCT02513394", snapshots)):
        for source, store in pair.items():
            assert _sources(store) == [(f"https://w3id.org/trialkg/graph/{nct}/{source}", source)]
            assert select(store, "SELECT ?t WHERE { ?t a tkg:ClinicalStudy }") == [
                (f"https://clinicaltrials.gov/study/{nct}",)]


# ------------------------------------------------------------------------------------------ seeds 001 and 002
PAGE_NO_TYPES = "the page prints dates without ACTUAL/ESTIMATED"
NO_RESULTS = "no results are posted for this trial"
SEED_PAIR: dict[str, Expectation] = {
    "nct id": AGREE,
    "org study id": AGREE,
    "secondary ids": Neither("the trial has no secondary ids"),
    "secondary id types": Neither("the trial has no secondary ids"),
    "brief title": AGREE,
    "official title": Lacks(PAGE, "the page shows the brief title only"),
    "acronym": Neither("the trial has no acronym"),
    "overall status": AGREE,
    "study type": AGREE,
    "phases": AGREE,
    "enrollment count": AGREE,
    "enrollment type": Lacks(PAGE, "the page prints '100 participants' without ACTUAL/ESTIMATED"),
    "has results": AGREE,
    "keywords": Neither("the trial has no keywords"),
    "lead sponsor": AGREE,
    "collaborators": AGREE,
    "collaborator agency classes": AGREE,
    "registering organisation": Lacks(PAGE, "the page has no 'organization' (identificationModule) line"),
    "officials": AGREE,
    "responsible party": AGREE,
    "responsible party affiliation": Lacks(PAGE, "the page prints the investigator's name and title only"),
    "sites": AGREE,
    "references": AGREE,
    "arms": AGREE,
    "interventions": AGREE,
    "intervention other names": Neither("no intervention has other names"),
    "interventions in arms": AGREE,
    "conditions": AGREE,
    "condition MeSH": Neither("the dict has no derivedSection browse modules and the condition "
                              "'Corona Virus Disease 2019(COVID-19)' is no MeSH name"),
    "condition MeSH ancestors": Neither("no browse modules"),
    "intervention MeSH": Neither("no browse modules"),
    "intervention MeSH ancestors": Neither("no browse modules"),
    "unresolved MeSH names": Neither("no MeSH names given"),
    "date start": AGREE,
    "date type start": Lacks(PAGE, PAGE_NO_TYPES),
    "date primaryCompletion": Lacks(PAGE, "the page prints start and completion dates only"),
    "date type primaryCompletion": Lacks(PAGE, PAGE_NO_TYPES),
    "date completion": AGREE,
    "date type completion": Lacks(PAGE, PAGE_NO_TYPES),
    "date firstSubmitted": Lacks(PAGE, "the page prints no submission dates"),
    "date firstPosted": Lacks(PAGE, "the page prints no first-posted date"),
    "date type firstPosted": Lacks(PAGE, PAGE_NO_TYPES),
    "date lastUpdateSubmitted": Lacks(PAGE, "the page prints no submission dates"),
    "date lastUpdatePosted": AGREE,  # the page's "Last Updated: 2020-08-19"
    "date type lastUpdatePosted": Lacks(PAGE, PAGE_NO_TYPES),
    "date resultsFirstSubmitted": Neither(NO_RESULTS),
    "date resultsFirstPosted": Neither(NO_RESULTS),
    "date type resultsFirstPosted": Neither(NO_RESULTS),
    "date statusVerified": Lacks(PAGE, "the page prints no verification date"),
}


@pytest.mark.parametrize(("family", "expect"), SEED_PAIR.items(), ids=list(SEED_PAIR))
def test_seed_001_and_002_agree(family: str, expect: Expectation, seeds: dict[str, pyoxigraph.Store]) -> None:
    check(family, expect, seeds)


# Outside the families: every (subject, predicate) both graphs hold has the same objects, except these.
SEED_PAIR_DIFFERENCES = {
    ("https://clinicaltrials.gov/study/NCT04288102", f"{TKG}investigator"):
        "the responsible party's person is keyed by affiliation, which the page lacks",
    ("https://w3id.org/trialkg/trial/NCT04288102/responsible-party/1", f"{TKG}resolvesTo"):
        "the same person, keyed without the affiliation the page lacks",
    ("https://w3id.org/trialkg/person/fu-sheng-wang--beijing-302-hospital",
     "http://www.w3.org/2004/02/skos/core#altLabel"):
        "the v2 responsible party (same affiliation) adds the spelling 'Fu-Sheng Wang' to the official",
    ("https://clinicaltrials.gov/study/NCT04288102", f"{TKG}participation"):
        "the v2 dict adds the registering organisation's participation",
    ("https://w3id.org/trialkg/trial/NCT04288102/eligibility/1", f"{TKG}criteria"):
        "the page prints 'Inclusion Criteria' without the colon (checked below)",
}


# Parts minted from a rendering other than v2 carry it in their key (site/thirdparty-page-3); for this
# comparison part n of one rendering stands for part n of the other.
_RENDERING_PART = re.compile(r"/([a-z-]+)/(?:ctgov-xml|ctgov-page|thirdparty-page|intel-card)-(\d+)")


def _by_subject_predicate(store: pyoxigraph.Store) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for q in store:
        s, o = _RENDERING_PART.sub(r"/\1/\2", q.subject.value), _RENDERING_PART.sub(r"/\1/\2", str(q.object))
        out[(s, q.predicate.value)].add(o)
    return out


def test_seed_001_and_002_agree_on_every_other_shared_fact(seeds: dict[str, pyoxigraph.Store]) -> None:
    page, v2 = _by_subject_predicate(seeds[PAGE]), _by_subject_predicate(seeds[V2])
    differ = {k: (sorted(page[k]), sorted(v2[k])) for k in page.keys() & v2.keys() if page[k] != v2[k]}
    assert set(differ) == set(SEED_PAIR_DIFFERENCES), differ


def test_seed_001_criteria_differ_from_002_only_by_the_colons(seeds: dict[str, pyoxigraph.Store]) -> None:
    query = FAMILIES["brief title"].replace("schema:name", "tkg:eligibility/tkg:criteria")
    [(page,)], [(v2,)] = select(seeds[PAGE], query), select(seeds[V2], query)
    assert page != v2
    assert page == v2.replace("Inclusion Criteria:", "Inclusion Criteria").replace(
        "Exclusion Criteria:", "Exclusion Criteria")


# ------------------------------------------------------------------------------------------ NCT02513394 v2 / XML
# The XML is the older snapshot: last update posted 2020-03-09 (snapshot of 2020-08-18); the v2 record's is
# 2023-06-15 (versionHolder 2023-10-06). What the registry changed in between is a Changed row, with both values.
XML_POSTED, V2_POSTED = "2020-03-09", "2023-06-15"
OLDER = f"the XML snapshot (last update {XML_POSTED}) is older than the v2 one ({V2_POSTED})"
SNAPSHOT_PAIR: dict[str, Expectation] = {
    "nct id": AGREE,
    "org study id": AGREE,
    "secondary ids": AGREE,
    "secondary id types": Lacks(XML, "legacy XML gives secondary ids without type or issuing domain"),
    "brief title": AGREE,
    "official title": AGREE,
    "acronym": AGREE,
    "overall status": AGREE,
    "study type": AGREE,
    "phases": AGREE,
    "enrollment count": AGREE,
    "enrollment type": AGREE,
    "has results": Changed(frozenset({("false",)}), frozenset({("true",)}), f"results posted 2022-04-13; {OLDER}"),
    "keywords": AGREE,
    "lead sponsor": AGREE,
    "collaborators": AGREE,
    # Legacy XML knows the agency classes NIH, U.S. Fed, Industry and Other only; v2 (2023) calls two NETWORK.
    "collaborator agency classes": Changed(
        frozenset({("Austrian Breast & Colorectal Cancer Study Group", "agency-class/OTHER"),
                   ("NSABP Foundation Inc", "agency-class/OTHER")}),
        frozenset({("Austrian Breast & Colorectal Cancer Study Group", "agency-class/NETWORK"),
                   ("NSABP Foundation Inc", "agency-class/NETWORK")}),
        "legacy XML has no NETWORK agency class"),
    "registering organisation": AGREE,  # XML: <source>
    "officials": Changed(
        frozenset({("Monica Bertagnolli, MD", "role/PRINCIPAL_INVESTIGATOR", "Alliance Foundation Trials, LLC.")}),
        frozenset({("Suzanne George, MD", "role/PRINCIPAL_INVESTIGATOR", "Alliance Foundation Trials, LLC.")}),
        f"the sponsor's principal investigator was replaced; the other three agree; {OLDER}"),
    "responsible party": AGREE,
    "responsible party affiliation": Neither("the responsible party is the sponsor"),
    "sites": Changed(118, 322, f"sites were added, renamed and re-geocoded; 115 agree (see test below); {OLDER}"),
    "references": Lacks(XML, f"the four DERIVED PubMed links were added after 2020; {OLDER}"),
    "arms": AGREE,
    "interventions": AGREE,
    "intervention other names": Neither("no intervention has other names"),
    "interventions in arms": AGREE,
    "conditions": AGREE,
    "condition MeSH": AGREE,  # XML: the name 'Breast Neoplasms' resolved; v2: the UI D000001943, normalised
    "condition MeSH ancestors": Lacks(XML, "legacy XML lists browse leaves, not ancestors"),
    "intervention MeSH": Lacks(XML, "XML names 'Palbociclib', a supplementary concept the shipped index lacks"),
    "intervention MeSH ancestors": Lacks(XML, "legacy XML lists browse leaves, not ancestors"),
    "unresolved MeSH names": Lacks(V2, "v2 gives UIs; the XML's name 'Palbociclib' did not resolve"),
    "date start": AGREE,  # '2015-08' as xsd:gYearMonth on both sides
    "date type start": Neither("neither snapshot types the start date"),
    "date primaryCompletion": Changed(frozenset({("2020-09", "xsd:gYearMonth")}),
                                      frozenset({("2020-11", "xsd:gYearMonth")}), OLDER),
    "date type primaryCompletion": Changed(frozenset({("date-type/ESTIMATED",)}),
                                           frozenset({("date-type/ACTUAL",)}), OLDER),
    "date completion": AGREE,
    "date type completion": AGREE,
    "date firstSubmitted": AGREE,
    "date firstPosted": AGREE,
    "date type firstPosted": AGREE,
    "date lastUpdateSubmitted": Changed(frozenset({("2020-03-06", "xsd:date")}),
                                        frozenset({("2023-06-13", "xsd:date")}), OLDER),
    "date lastUpdatePosted": Changed(frozenset({(XML_POSTED, "xsd:date")}),
                                     frozenset({(V2_POSTED, "xsd:date")}), OLDER),
    "date type lastUpdatePosted": AGREE,
    "date resultsFirstSubmitted": Lacks(XML, f"results were first submitted 2022-02-01; {OLDER}"),
    "date resultsFirstPosted": Lacks(XML, f"results were first posted 2022-04-13; {OLDER}"),
    "date type resultsFirstPosted": Lacks(XML, f"results were first posted 2022-04-13; {OLDER}"),
    "date statusVerified": Changed(frozenset({("2019-12", "xsd:gYearMonth")}),
                                   frozenset({("2023-04", "xsd:gYearMonth")}), OLDER),
}


@pytest.mark.parametrize(("family", "expect"), SNAPSHOT_PAIR.items(), ids=list(SNAPSHOT_PAIR))
def test_nct02513394_v2_and_xml_agree(
    family: str, expect: Expectation, snapshots: dict[str, pyoxigraph.Store]
) -> None:
    check(family, expect, snapshots, older=XML)


def test_xml_snapshot_is_the_older_one(snapshots: dict[str, pyoxigraph.Store]) -> None:
    """The evidence behind every Changed row: both versions' last-update dates and snapshot dates."""
    query = ("SELECT ?modified ?holder WHERE { ?g tkg:sourceFormat ?source ; dcterms:modified ?modified ; "
             "tkg:versionHolder ?holder }")
    assert select(snapshots[XML], query) == [(XML_POSTED, "2020-08-18")]
    assert select(snapshots[V2], query) == [(V2_POSTED, "2023-10-06")]


def test_nct02513394_sites_are_each_files_own_locations(snapshots: dict[str, pyoxigraph.Store]) -> None:
    """The site sets differ only because the files do: each graph holds exactly its file's locations."""
    study = json.loads(V2_JSON.read_text(encoding="utf-8"))
    v2_locations = study["protocolSection"]["contactsLocationsModule"]["locations"]
    xml_locations = etree.parse(str(LEGACY_XML)).getroot().findall("location")
    assert (len(v2_locations), len(xml_locations)) == (437, 233)
    from_json = {(x["facility"], x["city"], x["country"]) for x in v2_locations}
    from_xml = {tuple(loc.findtext(p) for p in ("facility/name", "facility/address/city", "facility/address/country"))
                for loc in xml_locations}
    assert rows(snapshots[V2], "sites") == from_json
    assert rows(snapshots[XML], "sites") == from_xml
    assert len(from_json & from_xml) == 115
    # Europe (12 countries) joined after the 2020 snapshot; no XML country is missing from v2.
    v2_countries = {c for _, _, c in from_json}
    xml_countries = {c for _, _, c in from_xml}
    assert xml_countries < v2_countries
    assert {"Austria", "Germany", "Spain", "United Kingdom"} <= v2_countries - xml_countries


def test_xml_mesh_names_resolve_to_the_v2_uis(snapshots: dict[str, pyoxigraph.Store]) -> None:
    """The XML gives MeSH names, v2 gives UIs: the names the shipped index resolves give v2's UIs; the one it
    cannot resolve is a supplementary concept (the shipped index holds descriptors only), kept as text."""
    xml_text = LEGACY_XML.read_text(encoding="utf-8")
    names = re.findall(r"<mesh_term>([^<]+)</mesh_term>", xml_text)
    assert names == ["Breast Neoplasms", "Palbociclib"]
    resolved = {name: shipped_mesh().resolve(name) for name in names}
    assert resolved == {"Breast Neoplasms": "D001943", "Palbociclib": None}
    mesh_families = ("condition MeSH", "intervention MeSH")
    xml_uis = set().union(*(rows(snapshots[XML], f) for f in mesh_families))
    v2_uis = set().union(*(rows(snapshots[V2], f) for f in mesh_families))
    assert xml_uis == {("mesh:D001943",)}
    assert v2_uis - xml_uis == {("mesh:C000500026",)}  # v2's UI for Palbociclib
    assert rows(snapshots[XML], "unresolved MeSH names") == {("Palbociclib",)}


@pytest.mark.parametrize("table", [SEED_PAIR, SNAPSHOT_PAIR], ids=["seeds 001/002", "NCT02513394 v2/XML"])
def test_every_family_is_judged(table: dict[str, Expectation]) -> None:
    assert set(table) == set(FAMILIES)
