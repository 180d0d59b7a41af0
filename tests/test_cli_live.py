"""kg fetch / kg build --fetch-dir / kg enrich end to end, against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.helpers import load, select
from tests.httpserver import DATA_DIR, Reply, ScriptedServer, http_server  # noqa: F401 - fixture

STUDY = json.loads((DATA_DIR / "ctgov" / "study_NCT01359631.json").read_text())


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))


def _cited_graph(tmp_path: Path, pmids: list[str]) -> Path:
    record = json.loads(json.dumps(STUDY))
    record["protocolSection"]["referencesModule"] = {
        "references": [{"pmid": p, "type": "RESULT", "citation": f"Article {p}"} for p in pmids]}
    src = tmp_path / "study.json"
    src.write_text(json.dumps(record))
    out = tmp_path / "g.nq"
    assert CliRunner().invoke(main, ["build", str(src), "-o", str(out)]).exit_code == 0
    return out


def test_build_fetches_then_builds(http_server: ScriptedServer, tmp_path: Path) -> None:  # noqa: F811
    http_server.add("GET", "/studies", Reply.json({"studies": [STUDY]}), repeat_last=True)
    out, raw = tmp_path / "g.ttl", tmp_path / "raw"
    result = CliRunner().invoke(main, ["build", "--fetch", "NCT01359631", "--fetch-dir", str(raw), "-o", str(out),
                                       "--ctgov-api", http_server.url])
    assert result.exit_code == 0, result.output
    assert (raw / "NCT01359631.json").exists()
    assert select(load(out), "SELECT ?id WHERE { ?t tkg:nctId ?id }") == [("NCT01359631",)]
    assert http_server.requests[0].param("filter.ids") == "NCT01359631"


def test_fetch_reports_the_api_error_message(http_server: ScriptedServer, tmp_path: Path) -> None:  # noqa: F811
    http_server.add("GET", "/studies", Reply(status=400, body=b"unknown parameter: filter.bogus",
                                             content_type="text/plain"))
    result = CliRunner().invoke(main, ["fetch", "--cond", "x", "-o", str(tmp_path / "raw"),
                                       "--ctgov-api", http_server.url])
    assert result.exit_code == 1
    assert "unknown parameter: filter.bogus" in result.output


def test_fetch_needs_something_to_fetch(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["fetch", "-o", str(tmp_path / "raw")])
    assert result.exit_code == 2


def test_enrich_adds_pubmed_graph_and_reports_missing(http_server: ScriptedServer, tmp_path: Path) -> None:  # noqa: F811
    graph = _cited_graph(tmp_path, ["22663011", "99999999"])
    http_server.add("GET", "/efetch.fcgi", Reply.file("pubmed/efetch_22663011.xml"))
    out = tmp_path / "enriched.nq"
    result = CliRunner().invoke(main, ["enrich", str(graph), "-o", str(out), "--eutils-api", http_server.url])
    assert result.exit_code == 1  # one cited PMID is not in PubMed's reply: said, not hidden
    assert "99999999" in result.output
    store = load(out)
    rows = select(store, "SELECT ?title ?journal ?date WHERE { GRAPH <https://w3id.org/trialkg/graph/pubmed> { "
                         "<https://pubmed.ncbi.nlm.nih.gov/22663011> dcterms:title ?title ; tkg:journalTitle ?journal ;"
                         " schema:datePublished ?date } }")
    assert rows == [("Improved survival with MEK inhibition in BRAF-mutated melanoma.",
                     "The New England journal of medicine", "2012-07-12")]
    assert select(store, "SELECT ?id WHERE { ?t tkg:nctId ?id }") == [("NCT01359631",)]  # trial graphs kept


def test_mesh_lookup_resolves_a_name_the_local_index_lacks(http_server: ScriptedServer, tmp_path: Path) -> None:  # noqa: F811
    xml = (Path(__file__).parent / "data" / "ctgov_xml" / "NCT02513394.xml").read_text(encoding="utf-8")
    assert "<mesh_term>Palbociclib</mesh_term>" in xml
    src = tmp_path / "study.xml"
    src.write_text(xml.replace("<mesh_term>Palbociclib</mesh_term>", "<mesh_term>Melanoma look-up</mesh_term>"))
    http_server.add("GET", "/mesh/lookup/descriptor", Reply.file("mesh/lookup_descriptor_melanoma.json"))
    out = tmp_path / "g.nt"
    offline = CliRunner().invoke(main, ["build", str(src), "-o", str(out), "--no-validate"])
    assert offline.exit_code == 0, offline.output
    assert '#unresolvedMeshTerm> "Melanoma look-up"' in out.read_text()  # kept as text, never guessed
    assert not http_server.requests  # nothing online unless asked
    result = CliRunner().invoke(main, ["build", str(src), "-o", str(out), "--no-validate", "--mesh-lookup",
                                       "--mesh-api", f"{http_server.url}/mesh"])
    assert result.exit_code == 0, result.output
    assert "<http://id.nlm.nih.gov/mesh/D008545>" in out.read_text()
    assert http_server.requests[0].param("label") == "Melanoma look-up"
