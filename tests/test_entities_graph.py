"""The entities graph: names and keys of shared nodes (canonical organisations and people, site locations)
are written to {base}graph/entities, each record graph keeps their types and its links to them, validation
checks them with the record that names them, and the trial-level shortcuts agree with the long paths."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pyoxigraph as ox

from kg.build import BuildOptions, build
from kg.validate import validate_file, validate_store
from tests.conftest import V2_STUDIES
from tests.helpers import load, select

ENTITIES = "https://w3id.org/trialkg/graph/entities"
SHARED_PREDICATES = ("skos:altLabel", "tkg:normalisedKey")


def test_names_of_shared_nodes_are_in_the_entities_graph_only(sample_nq: Path) -> None:
    store = load(sample_nq)
    for pred in SHARED_PREDICATES:
        in_records = select(store, f"SELECT ?g ?x WHERE {{ GRAPH ?g {{ ?x {pred} ?v . ?x a ?c }} "
                                   "FILTER(?c IN (tkg:Organization, tkg:Person)) }")
        assert in_records == [], in_records
    # Every organisation, person and location a record names has its names in the entities graph.
    unnamed = select(store, f"""SELECT DISTINCT ?x WHERE {{ GRAPH ?g {{ ?x a ?c }}
        FILTER(?c IN (tkg:Organization, tkg:Person))
        FILTER NOT EXISTS {{ GRAPH <{ENTITIES}> {{ ?x skos:altLabel ?n }} }}
    }}""")
    assert unnamed == []
    located = select(store, f"""SELECT DISTINCT ?loc WHERE {{ ?s schema:location ?loc
        FILTER NOT EXISTS {{ GRAPH <{ENTITIES}> {{ ?loc a tkg:Location ; schema:name|schema:addressLocality ?n }} }}
    }}""")
    assert located == []
    # Types stay in the record graphs: each one stands alone (sh:class checks, per-record resolution).
    orgs = select(store, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?t schema:sponsor ?o . "
                         "?o a tkg:Organization } }")
    assert int(orgs[0][0]) >= 10


def _study(nct: str, new_id: str | None = None) -> dict:
    study = json.loads((V2_STUDIES / f"{nct}.json").read_text(encoding="utf-8"))
    if new_id:
        study["protocolSection"]["identificationModule"]["nctId"] = new_id
    return study


def _sponsor(study: dict) -> dict:
    return study["protocolSection"]["sponsorCollaboratorsModule"]["leadSponsor"]


def test_a_store_holds_each_shared_name_once(tmp_path: Path) -> None:
    studies = [_study("NCT00458770"), _study("NCT00458770", "NCT99999901"), _study("NCT00458770", "NCT99999902")]
    build(studies=studies, store=tmp_path / "store")
    store = ox.Store.read_only(str(tmp_path / "store"))
    name = ox.Literal(_sponsor(studies[0])["name"])
    quads = list(store.quads_for_pattern(None, ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel"), name))
    assert [q.graph_name for q in quads] == [ox.NamedNode(ENTITIES)]  # named by three records, described once
    typed = select(store, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?t schema:sponsor ?o . "
                          "?o a tkg:Organization } }")
    assert typed == [("3",)]


def test_names_of_a_superseded_version_are_left_out(tmp_path: Path) -> None:
    old = _study("NCT00458770")
    _sponsor(old)["name"] = "Old Sponsor Name Foundation"
    new = copy.deepcopy(old)
    new["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"] = {"date": "2099-01-01", "type": "ACTUAL"}
    _sponsor(new)["name"] = "Renamed Sponsor Foundation"
    out = tmp_path / "g.nq"
    report = build(studies=[new, old], output=out)  # the older one last: input order does not decide
    assert report.records_superseded == 1
    store = load(out)
    names = {r[0] for r in select(store, f"SELECT ?n WHERE {{ GRAPH <{ENTITIES}> {{ ?o skos:altLabel ?n }} }}")}
    assert "Renamed Sponsor Foundation" in names
    assert "Old Sponsor Name Foundation" not in names


def _drop_entity_quads(src: Path, dst: Path, needle: str) -> int:
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not (line.rstrip().endswith(f"<{ENTITIES}> .") and needle in line)]
    dst.write_text("".join(kept), encoding="utf-8")
    return len(lines) - len(kept)


def test_validation_checks_shared_names_with_the_record(sample_nq: Path, tmp_path: Path) -> None:
    assert validate_file(sample_nq).conforms
    broken = tmp_path / "broken.nq"
    # Every name of one organisation (two spellings, from two records) dropped from the entities graph.
    names = "/org/dartmouth-hitchcock-medical-center> <http://www.w3.org/2004/02/skos/core#altLabel>"
    assert _drop_entity_quads(sample_nq, broken, names) == 2
    report = validate_file(broken)
    found = [v for v in report.violations if v.shape.endswith("Organization-altLabel")]
    assert found and all(v.focus.endswith("/org/dartmouth-hitchcock-medical-center") for v in found)
    assert len({v.trial for v in found}) == 2  # each record that mentions it is named
    # The same check on a store: the record graph is read with what the entities graph says of its nodes.
    store_dir = tmp_path / "store"
    ox.Store(str(store_dir)).bulk_load(path=str(broken), format=ox.RdfFormat.N_QUADS)
    from_store = validate_store(store_dir)
    assert sorted((v.trial, v.focus) for v in from_store.violations if v.shape.endswith("Organization-altLabel")) \
        == sorted((v.trial, v.focus) for v in found)
    assert validate_store(tmp_path / "store").records == report.records


def test_trial_shortcuts_agree_with_the_long_paths(sample_nq: Path) -> None:
    store = load(sample_nq)
    short = set(select(store, "SELECT ?t ?loc WHERE { ?t tkg:siteLocation ?loc }"))
    long = set(select(store, "SELECT ?t ?loc WHERE { ?t tkg:site/schema:location ?loc }"))
    assert short == long and len(short) > 50
    short = set(select(store, "SELECT ?t ?c WHERE { ?t tkg:leadSponsorClass ?c }"))
    long = set(select(store, "SELECT ?t ?c WHERE { ?t tkg:participation ?p . ?p tkg:role "
                             "<https://w3id.org/trialkg/code/role/LEAD_SPONSOR> ; tkg:agencyClass ?c }"))
    assert short == long and len(short) >= 10


def test_sites_at_one_place_share_its_location(sample_nq: Path) -> None:
    store = load(sample_nq)
    rows = select(store, """SELECT ?loc (COUNT(DISTINCT ?s) AS ?sites) (SAMPLE(?name) AS ?n) WHERE {
        ?s schema:location ?loc . ?loc schema:name ?name } GROUP BY ?loc HAVING (COUNT(DISTINCT ?s) > 1)""")
    assert rows  # e.g. one hospital registered by several sample trials
    # The location is keyed by facility, city and country exactly as registered: its labels are the sites'.
    mismatched = select(store, """SELECT ?s WHERE { ?s schema:location ?loc .
        { ?s schema:name ?a . ?loc schema:name ?b }
        UNION { ?s schema:addressLocality ?a . ?loc schema:addressLocality ?b }
        UNION { ?s schema:addressCountry ?a . ?loc schema:addressCountry ?b } FILTER(?a != ?b) }""")
    assert mismatched == []


def test_entities_graph_follows_the_base_option(tmp_path: Path) -> None:
    out = tmp_path / "g.nq"
    build([V2_STUDIES / "NCT00458770.json"], out, options=BuildOptions(base="http://example.org/kg/"))
    graphs = {q.graph_name.value for q in load(out)}
    assert "http://example.org/kg/graph/entities" in graphs and ENTITIES not in graphs
