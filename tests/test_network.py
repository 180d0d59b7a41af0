"""The sponsor and collaborator network, built through SPARQL from graphs of real records in tests/data."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner

from kg.build import BuildOptions, build
from kg.cli import main
from kg.network import (
    COLLABORATOR,
    LEAD,
    LIST_SEP,
    Filters,
    NetworkOptions,
    betweenness,
    build_networks,
    extract,
    open_graph,
    pagerank,
    same_as,
    write_outputs,
)

DATA = Path(__file__).parent / "data"
STUDIES = DATA / "ctgov_v2" / "studies"
SEED_002 = DATA / "seeds" / "002_a224f28b0d59d797.txt"  # NCT04288102: 1 lead sponsor + 4 collaborators
CELGENE_ALONE = DATA / "ctgov_v2" / "network" / "NCT04789655.json"  # lead "Celgene", nobody else
CELGENE_CORP = DATA / "ctgov_v2" / "network" / "NCT05282459.json"  # collaborator "Celgene Corporation"
# No two sponsor/collaborator registrations in the shared corpus differ only by case, "The" or punctuation
# (registrations that do are sites: see the Dartmouth test), so the pair is made from two real records:
# NCT05282459 with its collaborator registered in the style real records show ("The ...", capitals).
CELGENE_VARIANT = "The CELGENE"
NO_PICTURE = NetworkOptions(picture=False)


def _celgene_variant() -> dict[str, Any]:
    study = json.loads(CELGENE_CORP.read_text(encoding="utf-8"))
    study["protocolSection"]["sponsorCollaboratorsModule"]["collaborators"][0]["name"] = CELGENE_VARIANT
    return study


def _graph_file(tmp_path_factory: pytest.TempPathFactory, name: str, *paths: Path,
                studies: tuple[dict[str, Any], ...] = (), resolve: bool = False) -> Path:
    out = tmp_path_factory.mktemp(name) / "graph.nq"
    report = build(list(paths), out, studies=studies, options=BuildOptions(resolve=resolve))
    assert report.skipped == 0, report.problems
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 14 sample records, seed 002 and the two Celgene records (one renamed), as one N-Quads file."""
    return _graph_file(tmp_path_factory, "network", STUDIES, SEED_002, CELGENE_ALONE, studies=(_celgene_variant(),))


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same records built with ``--resolve``: the graph gains {base}graph/resolution and its owl:sameAs."""
    return _graph_file(tmp_path_factory, "resolved", STUDIES, SEED_002, CELGENE_ALONE,
                       studies=(_celgene_variant(),), resolve=True)


@pytest.fixture(scope="module")
def nets(corpus: Path):  # type: ignore[no-untyped-def]
    return build_networks(open_graph(corpus), Filters(), NO_PICTURE)


@pytest.fixture(scope="module")
def outputs(nets, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("out")
    write_outputs(nets, out, NetworkOptions(top=10))
    return out


def _node(g: nx.Graph, registered_name: str) -> str:
    """The node whose registered names include ``registered_name`` (IRIs depend on the normaliser's version)."""
    found = [u for u, d in g.nodes(data=True) if registered_name in d["name_variants"].split(LIST_SEP)]
    assert len(found) == 1, (registered_name, found)
    return found[0]


def _trials_of(corpus: Path, filters: Filters) -> set[str]:
    return set(extract(open_graph(corpus), filters).trial_orgs)


# ------------------------------------------------------------------------------------------ the network
def test_seed_002_lead_sponsor_is_linked_to_its_four_collaborators(nets) -> None:  # type: ignore[no-untyped-def]
    g = nets.orgs
    lead = _node(g, "Beijing 302 Hospital")
    names = ("Huoshenshan Hospital", "Maternal and Child Health Hospital of Hubei Province",
             "The General Hospital of Central Theater Command", "Vcanbio Cell and Gene Engineering Corp., Ltd.")
    collaborators = {_node(g, n) for n in names}
    assert set(g[lead]) == collaborators
    for c in collaborators:
        assert g.edges[lead, c]["trials"] == "NCT04288102"
        assert g.edges[lead, c]["weight"] == 1
    assert g.nodes[lead]["trials_as_lead"] == 1
    assert g.nodes[_node(g, "Vcanbio Cell and Gene Engineering Corp., Ltd.")]["agency_class"] == "INDUSTRY"


def test_collaborators_of_one_trial_are_linked_to_each_other(nets) -> None:  # type: ignore[no-untyped-def]
    g = nets.orgs
    assert g.has_edge(_node(g, "Huoshenshan Hospital"), _node(g, "Vcanbio Cell and Gene Engineering Corp., Ltd."))


def test_single_sponsor_trial_adds_a_node_and_no_edge(tmp_path_factory: pytest.TempPathFactory) -> None:
    g = build_networks(open_graph(_graph_file(tmp_path_factory, "alone", CELGENE_ALONE)), Filters(), NO_PICTURE).orgs
    assert list(g.nodes) == [_node(g, "Celgene")]
    assert g.number_of_edges() == 0
    assert (g.nodes[_node(g, "Celgene")]["trials_as_lead"], g.nodes[_node(g, "Celgene")]["degree"]) == (1, 0)


def test_name_variants_of_one_organisation_are_one_node(nets) -> None:  # type: ignore[no-untyped-def]
    celgene = nets.orgs.nodes[_node(nets.orgs, "Celgene")]
    assert _node(nets.orgs, CELGENE_VARIANT) == _node(nets.orgs, "Celgene")
    assert celgene["name_variants"].split(LIST_SEP) == ["Celgene", CELGENE_VARIANT]
    assert (celgene["trials_as_lead"], celgene["trials_as_collaborator"], celgene["trials"]) == (1, 1, 2)


def test_site_spelling_variant_joins_the_sponsor_node(corpus: Path) -> None:
    # NCT00000410's lead sponsor "Dartmouth-Hitchcock Medical Center" is a site of NCT02513394 spelled
    # "Dartmouth Hitchcock Medical Center": with --sites both are the one canonical node.
    options = NetworkOptions(sites=True, betweenness_samples=20, picture=False)
    g = build_networks(open_graph(corpus), Filters(), options).orgs
    node = g.nodes[_node(g, "Dartmouth-Hitchcock Medical Center")]
    assert {"Dartmouth-Hitchcock Medical Center", "Dartmouth Hitchcock Medical Center"} <= set(
        node["name_variants"].split(LIST_SEP))
    assert node["trials_as_lead"] >= 1 and node["trials_as_site"] >= 1


def test_sites_are_left_out_unless_asked_for(nets) -> None:  # type: ignore[no-untyped-def]
    assert all("trials_as_site" not in d for _, d in nets.orgs.nodes(data=True))


def test_node_attributes_hold_countries_and_trial_counts(nets) -> None:  # type: ignore[no-untyped-def]
    node = nets.orgs.nodes[_node(nets.orgs, "Beijing 302 Hospital")]
    assert node["countries"] == "China"
    assert node["trials"] == 1


def test_measures_and_communities_on_every_node(nets) -> None:  # type: ignore[no-untyped-def]
    for _, d in nets.orgs.nodes(data=True):
        assert {"degree", "weighted_degree", "betweenness", "pagerank", "component", "community",
                "articulation_point"} <= d.keys()
    counts = nets.summary["counts"]
    assert counts["organisations"] == nets.orgs.number_of_nodes()
    assert counts["components"] == nx.number_connected_components(nets.orgs)
    assert sum(c["size"] for c in nets.summary["communities"]) <= counts["organisations"]


def test_community_mix_counts_industry_and_academia(nets) -> None:  # type: ignore[no-untyped-def]
    lead = nets.orgs.nodes[_node(nets.orgs, "Beijing 302 Hospital")]["community"]
    mix = next(c for c in nets.summary["communities"] if c["id"] == lead)
    assert mix["sectors"]["industry"] >= 1 and mix["sectors"]["academic"] >= 1
    assert mix["mix"] == "industry-academic"


def test_pagerank_is_a_distribution_and_uniform_on_a_cycle() -> None:
    ranks = pagerank(nx.cycle_graph(5))
    assert sum(ranks.values()) == pytest.approx(1.0)
    assert all(r == pytest.approx(0.2) for r in ranks.values())


def test_bipartite_views(nets) -> None:  # type: ignore[no-untyped-def]
    to, lead = nets.trial_org, _node(nets.orgs, "Beijing 302 Hospital")
    assert to.edges["NCT04288102", lead]["roles"] == LEAD
    assert to.edges["NCT04288102", _node(nets.orgs, "Huoshenshan Hospital")]["roles"] == COLLABORATOR
    people = [u for u, d in nets.org_investigator.nodes(data=True) if d["kind"] == "person"]
    assert any(nets.org_investigator.has_edge(lead, p) for p in people)


# ------------------------------------------------------------------------------------------ measures
@pytest.fixture(scope="module")
def site_network(corpus: Path) -> nx.Graph:
    """The larger network of the real records with their sites (~860 organisations), measures computed."""
    return build_networks(open_graph(corpus), Filters(), NetworkOptions(sites=True, picture=False)).orgs


def test_sampled_betweenness_is_reproducible_and_says_how(site_network: nx.Graph) -> None:
    first, how = betweenness(site_network, 50, 3)
    again, _ = betweenness(site_network, 50, 3)
    assert how == {"method": "sampled", "samples": 50, "seed": 3}
    assert first == again and max(first.values()) > 0


def test_bridges_and_articulation_points_are_marked(site_network: nx.Graph) -> None:
    bridge = next((a, b) for a, b, d in site_network.edges(data=True) if d["bridge"])
    cut = next(u for u, d in site_network.nodes(data=True) if d["articulation_point"])
    components = nx.number_connected_components(site_network)
    without_bridge = site_network.copy()
    without_bridge.remove_edge(*bridge)
    without_cut = site_network.copy()
    without_cut.remove_node(cut)
    assert nx.number_connected_components(without_bridge) == components + 1
    assert nx.number_connected_components(without_cut) > components


# ------------------------------------------------------------------------------------------ resolution
def test_a_graph_with_no_resolution_graph_has_no_merges(corpus: Path, nets) -> None:  # type: ignore[no-untyped-def]
    assert same_as(open_graph(corpus)) == {}  # the trial aliases' owl:sameAs are not merges
    assert all("members" not in d for _, d in nets.orgs.nodes(data=True))


def test_merged_sites_of_two_trials_are_one_node(corpus: Path, resolved: Path) -> None:
    # NCT01949129 registers the site "HUG Hôpitaux Universitaire de Genève", NCT02513394 "Hôpitaux
    # Universitaires de Genève": two normaliser keys, one cluster of the resolution graph.
    options = NetworkOptions(sites=True, picture=False)
    a, b = "HUG Hôpitaux Universitaire de Genève", "Hôpitaux Universitaires de Genève"
    plain = build_networks(open_graph(corpus), Filters(), options)
    assert _node(plain.orgs, a) != _node(plain.orgs, b)
    nets = build_networks(open_graph(resolved), Filters(), options)
    node = _node(nets.orgs, a)
    assert _node(nets.orgs, b) == node
    attrs = nets.orgs.nodes[node]
    assert {a, b} <= set(attrs["name_variants"].split(LIST_SEP))
    assert attrs["trials_as_site"] == 2 and len(attrs["members"].split(LIST_SEP)) == 2
    assert {t for t in nets.trial_org[node]} == {"NCT01949129", "NCT02513394"}
    assert nets.orgs.number_of_nodes() < plain.orgs.number_of_nodes()


def test_two_members_of_one_cluster_on_one_trial_give_no_self_loop(corpus: Path, resolved: Path) -> None:
    # NCT04288102: collaborator "Huoshenshan Hospital" and site "Wuhan Huoshenshan Hospital", merged.
    options = NetworkOptions(sites=True, picture=False)
    collaborator, site = "Huoshenshan Hospital", "Wuhan Huoshenshan Hospital"
    plain = build_networks(open_graph(corpus), Filters(), options).orgs
    assert plain.has_edge(_node(plain, collaborator), _node(plain, site))
    g = build_networks(open_graph(resolved), Filters(), options).orgs
    node = _node(g, collaborator)
    assert _node(g, site) == node and nx.number_of_selfloops(g) == 0
    attrs = g.nodes[node]
    assert (attrs["trials"], attrs["trials_as_collaborator"], attrs["trials_as_site"]) == (1, 1, 1)
    assert g.has_edge(node, _node(g, "Beijing 302 Hospital"))
    assert g.degree(node) == plain.degree(_node(plain, collaborator)) + plain.degree(_node(plain, site)) - 2 - \
        len(set(plain[_node(plain, collaborator)]) & set(plain[_node(plain, site)]))


def test_sponsor_network_without_merged_sponsors_is_unchanged(nets, resolved: Path) -> None:  # type: ignore[no-untyped-def]
    # No two lead sponsors or collaborators of these records are merged: the resolution graph changes nothing.
    g = build_networks(open_graph(resolved), Filters(), NO_PICTURE).orgs
    assert sorted(g.nodes(data=True)) == sorted(nets.orgs.nodes(data=True))
    assert sorted(g.edges(data=True)) == sorted(nets.orgs.edges(data=True))


def test_person_merge_joins_investigators(corpus: Path, resolved: Path) -> None:
    # NCT01949129 names "Christina Peters, Prof. MD PhD" (St. Anna Kinderspital, Vienna, Austria) as official
    # and "Prof. Christina Peters" (St. Anna Kinderspital, Austria) as responsible party: merged people.
    names = {"Christina Peters, Prof. MD PhD", "Prof. Christina Peters"}

    def people(path: Path) -> dict[str, dict[str, Any]]:
        g = build_networks(open_graph(path), Filters(), NO_PICTURE).org_investigator
        return {u: d for u, d in g.nodes(data=True)
                if d["kind"] == "person" and names & set(d["name_variants"].split(LIST_SEP))}

    assert len(people(corpus)) == 2
    merged = people(resolved)
    assert len(merged) == 1
    (person, attrs), = merged.items()
    assert set(attrs["name_variants"].split(LIST_SEP)) == names and len(attrs["members"].split(LIST_SEP)) == 2
    inv = build_networks(open_graph(resolved), Filters(), NO_PICTURE).org_investigator
    assert len(inv[person]) == 1  # the two affiliations are one merged organisation too
    (org,) = inv[person]
    assert inv.edges[org, person]["trials"] == "NCT01949129"


# ------------------------------------------------------------------------------------------ outputs
def test_graphml_reads_back_with_attributes(outputs: Path) -> None:
    g = nx.read_graphml(outputs / "network.graphml")
    node = g.nodes[_node(g, "Celgene")]
    assert node["name_variants"] == "Celgene|The CELGENE"
    assert isinstance(node["community"], int) and isinstance(node["pagerank"], float)
    assert g.edges[_node(g, "Beijing 302 Hospital"), _node(g, "Huoshenshan Hospital")]["trials"] == "NCT04288102"


def test_gexf_reads_back_with_attributes(outputs: Path) -> None:
    g = nx.read_gexf(outputs / "network.gexf")
    node = g.nodes[_node(g, "Celgene")]
    assert (node["label"], node["name_variants"]) == ("Celgene", "Celgene|The CELGENE")
    assert "lastmodifieddate" not in (outputs / "network.gexf").read_text()


def test_csv_json_and_picture_are_written(outputs: Path, nets) -> None:  # type: ignore[no-untyped-def]
    with (outputs / "nodes.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == nets.orgs.number_of_nodes()
    with (outputs / "edges.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == nets.orgs.number_of_edges()
    summary = json.loads((outputs / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["top"]) == {"degree", "weighted_degree", "betweenness", "pagerank", "trials"}
    assert (outputs / "network.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for view in ("org-investigator.graphml", "trial-org.graphml", "trial-org.gexf"):
        assert nx.read_graphml(outputs / view) if view.endswith("graphml") else nx.read_gexf(outputs / view)


def test_same_graph_gives_the_same_files(corpus: Path, tmp_path: Path) -> None:
    for run in ("a", "b"):
        write_outputs(build_networks(open_graph(corpus), Filters(), NetworkOptions(betweenness_samples=5)),
                      tmp_path / run, NO_PICTURE)
    for name in ("network.graphml", "network.gexf", "nodes.csv", "edges.csv", "summary.json", "top.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


# ------------------------------------------------------------------------------------------ filters
def test_phase_filter(corpus: Path) -> None:
    assert _trials_of(corpus, Filters(phases=("PHASE1",))) == {"NCT01298921", "NCT04789655", "NCT05282459"}


def test_status_filter(corpus: Path) -> None:
    assert _trials_of(corpus, Filters(statuses=("TERMINATED",))) == {"NCT00458770", "NCT01298921"}


def test_intervention_type_filter(corpus: Path) -> None:
    assert _trials_of(corpus, Filters(intervention_types=("DEVICE",))) == {"NCT01151631"}


def test_start_date_range_takes_day_and_month_precision(corpus: Path) -> None:
    # NCT02513394 starts 2015-08 (month precision), NCT02552212 2015-09; "2015" as the end takes all of 2015.
    assert _trials_of(corpus, Filters(start_from="2015-01-01", start_to="2015")) == {"NCT02513394", "NCT02552212"}
    assert _trials_of(corpus, Filters(start_from="2021")) == {"NCT04789655", "NCT05282459"}


def test_mesh_filter_includes_narrower_descriptors(corpus: Path) -> None:
    # No trial names "Neoplasms" (D009369) itself: every match comes through a narrower descriptor.
    assert _trials_of(corpus, Filters(mesh=("D009369",))) == {
        "NCT00716976", "NCT00831909", "NCT01174615", "NCT01949129", "NCT02513394", "NCT04789655", "NCT05282459"}
    assert _trials_of(corpus, Filters(mesh=("D007951",))) == {"NCT04789655", "NCT05282459"}


def test_agency_class_filter_keeps_only_that_class(corpus: Path) -> None:
    g = build_networks(open_graph(corpus), Filters(agency_classes=("INDUSTRY",)), NO_PICTURE).orgs
    assert g.number_of_nodes() > 0
    assert {d["agency_class"] for _, d in g.nodes(data=True)} == {"INDUSTRY"}


def test_unknown_filter_value_is_refused() -> None:
    with pytest.raises(ValueError, match="phase"):
        Filters(phases=("PHASE9",))
    with pytest.raises(ValueError, match="start-from"):
        Filters(start_from="March 2020")


# ------------------------------------------------------------------------------------------ command
def test_network_command_writes_the_folder(corpus: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["network", str(corpus), "-o", str(tmp_path / "net"), "--phase", "phase2",
                                       "--no-picture"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "net" / "network.graphml").exists()
    assert "organisations" in result.output


def test_network_command_needs_one_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["network", "-o", str(tmp_path / "net")])
    assert result.exit_code == 2


def test_network_command_reads_a_store(sample_store: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["network", "--store", str(sample_store), "-o", str(tmp_path / "net"),
                                       "--no-picture"])
    assert result.exit_code == 0, result.output
