"""Real triple stores: every canned query gives the same answer on a real Oxigraph server (loaded with the
Turtle export over the Graph Store Protocol) as on the embedded store, and ``kg serve`` answers the SPARQL
1.1 Protocol to real client libraries (requests, SPARQLWrapper).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from kg import query as kq
from kg.build import build
from kg.serve import ServeOptions, make_server
from tests.httpserver import Reply, ScriptedServer, http_server  # noqa: F401 - fixture

V2_STUDIES = Path(__file__).parent / "data" / "ctgov_v2" / "studies"
OXIGRAPH = shutil.which("oxigraph") or (str(Path(sys.executable).parent / "oxigraph")
                                        if (Path(sys.executable).parent / "oxigraph").exists() else None)
STARTUP_SECONDS = 20
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # a cube of the sample


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"no server at {url} after {STARTUP_SECONDS} s")


# ------------------------------------------------------------------------------------------ Oxigraph server
@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if OXIGRAPH is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    tmp = tmp_path_factory.mktemp("oxigraph-server")
    ttl = tmp / "sample.ttl"
    build([V2_STUDIES], ttl)
    port = _free_port()
    proc = subprocess.Popen(
        [OXIGRAPH, "serve", "--location", str(tmp / "db"), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/", proc)
        r = requests.put(base + "/store?default", data=ttl.read_bytes(),
                         headers={"Content-Type": "text/turtle"}, timeout=60)
        assert r.status_code in (200, 201, 204), r.text
        yield base + "/query"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def embedded(sample_store: Path) -> ox.Store:
    return kq.open_store(sample_store)


@pytest.mark.parametrize("query", kq.canned_queries(), ids=[q.name for q in kq.canned_queries()])
def test_oxigraph_server_gives_the_embedded_answer(query: kq.CannedQuery, oxigraph_server: str,
                                                   embedded: ox.Store) -> None:
    remote = kq.run_query(query, kq.Endpoint(oxigraph_server, timeout=30))
    assert remote.as_strings() == kq.run_query(query, embedded).as_strings()
    assert remote.rows


def test_oxigraph_server_with_a_parameter_holding_quotes(oxigraph_server: str, embedded: ox.Store) -> None:
    q = kq.get_query("trials-for-intervention")
    for value in ("OXYGEN", 'a"} UNION { ?x ?y ?z } #'):
        remote = kq.run_query(q, kq.Endpoint(oxigraph_server), {"name": value}).as_strings()
        assert remote == kq.run_query(q, embedded, {"name": value}).as_strings()


def test_kg_query_endpoint_reports_a_dead_endpoint() -> None:
    with pytest.raises(kq.QueryError, match="endpoint"):
        kq.run_query(kq.get_query("trial-card"), kq.Endpoint(f"http://127.0.0.1:{_free_port()}/sparql", 2))


# ------------------------------------------------------------------------------------------ kg serve
@pytest.fixture(scope="module")
def endpoint(sample_store: Path) -> Iterator[str]:
    server, pool = make_server(ServeOptions(sample_store, port=0, timeout=2.0, limit=50, workers=1))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}/sparql"
    finally:
        server.shutdown()
        server.server_close()
        pool.close()


def test_kg_query_refuses_an_answer_the_endpoint_cut_short(endpoint: str) -> None:
    # The endpoint's limit is 50 rows; a partial table must never pass for the whole answer.
    many = kq.parse_query("SELECT ?s WHERE { ?s a ?type }", "many", strict=False)
    with pytest.raises(kq.QueryError, match="cut the results short"):
        kq.run_query(many, kq.Endpoint(endpoint))


def test_kg_query_reads_booleans_in_any_lexical_form(http_server: ScriptedServer) -> None:  # noqa: F811
    boolean = "http://www.w3.org/2001/XMLSchema#boolean"
    http_server.add("POST", "/sparql", Reply.json({"head": {"vars": ["b"]}, "results": {"bindings": [
        {"b": {"type": "literal", "datatype": boolean, "value": "1"}},  # as Virtuoso 7 writes them
        {"b": {"type": "literal", "datatype": boolean, "value": "false"}}]}}))
    q = kq.parse_query("SELECT ?b WHERE { ?s ?p ?b }", "booleans", strict=False)
    rows = kq.run_query(q, kq.Endpoint(http_server.url + "/sparql")).as_strings()
    assert rows == [(f'"true"^^<{boolean}>',), (f'"false"^^<{boolean}>',)]


def test_serve_answers_sparqlwrapper_in_json(endpoint: str) -> None:
    sw = pytest.importorskip("SPARQLWrapper")
    client = sw.SPARQLWrapper(endpoint)
    client.setQuery("PREFIX tkg: <https://w3id.org/trialkg/ontology#> "
                    "SELECT ?nct WHERE { ?t tkg:nctId ?nct } ORDER BY ?nct LIMIT 2")
    client.setReturnFormat(sw.JSON)
    data = client.query().convert()
    assert [b["nct"]["value"] for b in data["results"]["bindings"]] == ["NCT00000410", "NCT00356603"]


def test_serve_union_default_graph_matches_kg_query(endpoint: str, embedded: ox.Store) -> None:
    q = kq.get_query("trial-card")
    assert kq.run_query(q, kq.Endpoint(endpoint)).as_strings() == kq.run_query(q, embedded).as_strings()


@pytest.mark.parametrize(("accept", "ctype", "start"), [
    ("text/csv", "text/csv", b"n\r\n"),
    ("text/tab-separated-values", "text/tab-separated-values", b"?n\n"),
    ("application/sparql-results+xml", "application/sparql-results+xml", b"<?xml"),
    ("application/sparql-results+json;q=0.5, text/csv;q=0.9", "text/csv", b"n\r\n"),
])
def test_serve_negotiates_the_results_format(endpoint: str, accept: str, ctype: str, start: bytes) -> None:
    r = requests.post(endpoint, data={"query": "SELECT ?n WHERE { VALUES ?n { 1 } }"},
                      headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(ctype)
    assert r.content.startswith(start)


def test_serve_takes_a_sparql_query_body(endpoint: str) -> None:
    r = requests.post(endpoint, data="ASK { ?s ?p ?o }", headers={"Content-Type": "application/sparql-query"},
                      timeout=10)
    assert r.status_code == 200 and r.json()["boolean"] is True


def test_serve_answers_construct_as_ntriples(endpoint: str) -> None:
    r = requests.get(endpoint, params={"query": "CONSTRUCT { ?s a ?o } WHERE { ?s a ?o } LIMIT 3"}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/n-triples")
    assert len(list(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES))) == 3


def test_serve_refuses_a_bad_query_with_400(endpoint: str) -> None:
    r = requests.get(endpoint, params={"query": "SELEKT * WHERE { ?s ?p ?o }"}, timeout=10)
    assert r.status_code == 400


@pytest.mark.parametrize("how", ["form", "body", "as-query"])
def test_serve_refuses_updates(endpoint: str, how: str) -> None:
    update = "INSERT DATA { <http://e/s> <http://e/p> <http://e/o> }"
    if how == "form":
        r = requests.post(endpoint, data={"update": update}, timeout=10)
        assert r.status_code == 403
    elif how == "body":
        r = requests.post(endpoint, data=update, headers={"Content-Type": "application/sparql-update"}, timeout=10)
        assert r.status_code == 403
    else:
        r = requests.post(endpoint, data={"query": update}, timeout=10)
        assert r.status_code == 400
    ask = requests.get(endpoint, params={"query": "ASK { <http://e/s> ?p ?o }"}, timeout=10)
    assert ask.json()["boolean"] is False


def test_serve_cuts_results_at_the_limit(endpoint: str) -> None:
    r = requests.get(endpoint, params={"query": "SELECT ?s WHERE { ?s ?p ?o }"}, timeout=10)
    assert len(r.json()["results"]["bindings"]) == 50
    assert r.headers.get("X-TrialKG-Truncated") == "true"


def test_serve_stops_a_query_at_the_timeout_and_keeps_serving(endpoint: str) -> None:
    started = time.monotonic()
    r = requests.get(endpoint, params={"query": SLOW_QUERY}, timeout=30)
    assert r.status_code == 503 and time.monotonic() - started < 10
    after = requests.get(endpoint, params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    assert after.status_code == 200 and after.json()["boolean"] is True


def test_kg_serve_listens_on_127_0_0_1_by_default(sample_store: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "serve", "--store", str(sample_store),
                             "--port", str(port), "--workers", "1"], stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert json.loads(line) == {"endpoint": f"http://127.0.0.1:{port}/sparql"}
        r = requests.get(f"http://127.0.0.1:{port}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        assert r.json()["boolean"] is True
    finally:
        proc.terminate()
        proc.wait(10)
