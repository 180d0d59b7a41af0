"""The canned query library: headers, safe parameter binding, output formats, and each query's expected
answer on the graph of the real sample records (tests/data/ctgov_v2/studies).

Expected answers are SPARQL TSV results in tests/data/queries/expected/NAME.tsv (exact RDF terms, rows in
the query's own order). After an intended change of the mapping or a query, rewrite them with
``TRIALKG_UPDATE_EXPECTED=1 python -m pytest tests/test_queries.py`` and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg import query as kq
from kg.build import build
from kg.cli import main

EXPECTED = Path(__file__).parent / "data" / "queries" / "expected"
UPDATE = os.environ.get("TRIALKG_UPDATE_EXPECTED") == "1"
QUERIES = kq.canned_queries()
NAMES = [q.name for q in QUERIES]
# The questions the issue asks the library to answer, by query name.
REQUIRED = {
    "trial-card", "trials-for-mesh-descriptor", "trials-for-intervention", "sponsor-portfolio",
    "sponsor-collaborator-pairs", "investigator-trials", "sites-for-condition", "stopped-trials",
    "publications-per-trial", "completed-results-no-publication", "intervention-condition-highest-phase",
    "interventions-for-two-conditions", "trial-starts-per-year", "enrollment-by-phase", "data-quality-gaps",
    "org-name-variants",
}


@pytest.fixture(scope="module")
def store(sample_store: Path) -> ox.Store:
    return kq.open_store(sample_store)


@pytest.fixture(scope="module")
def turtle_store(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    """The same records exported as Turtle: one default graph, no named graphs."""
    out = tmp_path_factory.mktemp("ttl") / "sample.ttl"
    build([Path(__file__).parent / "data" / "ctgov_v2" / "studies"], out)
    return kq.load_file(out)


def _tsv(table: kq.Table) -> str:
    lines = ["\t".join(f"?{v}" for v in table.variables)]
    lines += ["\t".join(cell.replace("\t", "\\t") for cell in row) for row in table.as_strings()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ the library
def test_the_library_answers_every_question_the_issue_asks() -> None:
    assert REQUIRED <= set(NAMES)


@pytest.mark.parametrize("query", QUERIES, ids=NAMES)
def test_every_query_has_a_header_and_defaults_for_all_parameters(query: kq.CannedQuery) -> None:
    assert query.title and query.answers and query.kind in kq.QUERY_KINDS
    terms = kq.bindings(query)
    assert set(terms) == {p.name for p in query.params}


@pytest.mark.parametrize("query", QUERIES, ids=NAMES)
def test_every_query_orders_its_rows_by_every_output_column(query: kq.CannedQuery) -> None:
    order_by = query.text.rsplit("ORDER BY", 1)[1]
    table = kq.Table.of(kq.execute(query, ox.Store()))
    for var in table.variables:
        assert f"?{var}" in order_by, f"{query.name}: ?{var} is not in ORDER BY, so row order may vary"


@pytest.mark.parametrize("query", QUERIES, ids=NAMES)
def test_expected_results_on_the_sample_records(query: kq.CannedQuery, store: ox.Store) -> None:
    got = _tsv(kq.run_query(query, store))
    path = EXPECTED / f"{query.name}.tsv"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert got.count("\n") > 1, f"{query.name} finds nothing with its defaults on the sample"
    assert got == path.read_text(encoding="utf-8"), f"{query.name}: results differ from {path}"


@pytest.mark.parametrize("query", QUERIES, ids=NAMES)
def test_same_answer_on_the_nquads_store_and_the_turtle_export(
    query: kq.CannedQuery, store: ox.Store, turtle_store: ox.Store
) -> None:
    assert kq.run_query(query, turtle_store).as_strings() == kq.run_query(query, store).as_strings()


def test_no_expected_file_without_its_query() -> None:
    assert {p.stem for p in EXPECTED.glob("*.tsv")} == set(NAMES)


# ------------------------------------------------------------------------------------------ parameters
def test_a_value_with_quotes_and_braces_stays_one_string(store: ox.Store) -> None:
    hostile = 'NCT00356603" } } SELECT * WHERE { ?s ?p ?o } #'
    q = kq.get_query("trial-card")
    text = kq.with_values(q.text, kq.bindings(q, {"nct": hostile}))
    assert '(\"NCT00356603\\\" } } SELECT * WHERE { ?s ?p ?o } #\")' in text  # one escaped literal
    assert kq.run_query(q, store, {"nct": hostile}).rows == []


def test_a_parameter_changes_the_answer(store: ox.Store) -> None:
    q = kq.get_query("trial-card")
    rows = kq.run_query(q, store, {"nct": "NCT00356603"}).as_strings()
    assert ("\"trial\"", "<https://clinicaltrials.gov/study/NCT00356603>") in rows


def test_an_iri_parameter_takes_a_prefixed_name_a_bare_iri_or_angle_brackets() -> None:
    q = kq.get_query("trials-for-mesh-descriptor")
    want = ox.NamedNode("http://id.nlm.nih.gov/mesh/D003027")
    for value in ("mesh:D003027", "http://id.nlm.nih.gov/mesh/D003027", "<http://id.nlm.nih.gov/mesh/D003027>"):
        assert kq.bindings(q, {"descriptor": value})["descriptor"] == want


@pytest.mark.parametrize(("kind", "value", "term"), [
    ("integer", " 42", '"42"^^<http://www.w3.org/2001/XMLSchema#integer>'),
    ("date", "2015-08-01", '"2015-08-01"^^<http://www.w3.org/2001/XMLSchema#date>'),
    ("string", 'a "b" {c}', '"a \\"b\\" {c}"'),
])
def test_values_are_bound_as_terms_of_their_kind(kind: str, value: str, term: str) -> None:
    assert str(kq.bind_value(kq.Param("x", kind, "", ""), value, {})) == term


@pytest.mark.parametrize(("kind", "value"), [("integer", "4x"), ("date", "2015-13-01"), ("iri", "a b>")])
def test_a_value_not_of_its_kind_is_refused(kind: str, value: str) -> None:
    with pytest.raises(kq.QueryError, match="not a valid"):
        kq.bind_value(kq.Param("x", kind, "", ""), value, {})


def test_an_unknown_parameter_is_refused() -> None:
    with pytest.raises(kq.QueryError, match="has no parameter"):
        kq.bindings(kq.get_query("trial-card"), {"nctid": "NCT00356603"})


def test_values_open_the_outer_group_past_comments_strings_and_iris() -> None:
    text = ('PREFIX a: <http://x/a#b> # a comment { with a brace\n'
            'SELECT ?s (IF(1 < 2, "{", \'\'\'}\'\'\') AS ?x) WHERE { ?s ?p ?o }')
    out = kq.with_values(text, {"s": ox.NamedNode("http://e/s")})
    assert out.endswith('WHERE {\n  VALUES (?s) { (<http://e/s>) }\n ?s ?p ?o }')


@pytest.mark.parametrize("header", [
    "# title: x\n# answers: y\n# kind: lookup\n# param: n number 3 -- bad kind\nSELECT ?n WHERE { ?n ?p ?o }",
    "# title: x\n# answers: y\n# kind: sometimes\nSELECT * WHERE { ?s ?p ?o }",
    "# title: x\n# kind: lookup\nSELECT * WHERE { ?s ?p ?o }",
    "# title: x\n# answers: y\n# kind: lookup\n# param: absent string z -- not used\nSELECT * WHERE { ?s ?p ?o }",
    "# title: x\n# answers: y\n# kind: lookup\n# param: d date 2015-99-01 -- bad default\nSELECT * WHERE { ?d ?p ?o }",
])
def test_a_malformed_header_is_an_error(header: str) -> None:
    with pytest.raises(kq.QueryError):
        kq.parse_query(header, "bad")


# ------------------------------------------------------------------------------------------ the command
def test_kg_query_list_shows_every_query_and_parameter() -> None:
    result = CliRunner().invoke(main, ["query", "--list"])
    assert result.exit_code == 0
    for q in QUERIES:
        assert q.name in result.output
        for p in q.params:
            assert f"--param {p.name}=<{p.kind}>" in result.output


def test_kg_query_json_is_the_sparql_results_json_format(sample_nq: Path) -> None:
    result = CliRunner().invoke(main, ["query", "trials-for-mesh-descriptor", str(sample_nq), "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout_bytes)
    assert data["head"]["vars"] == ["trial", "nct", "title", "condition", "conditionLabel"]
    assert {"type": "uri", "value": "https://clinicaltrials.gov/study/NCT00356603"} in [
        b["trial"] for b in data["results"]["bindings"]]


def test_kg_query_csv_is_the_sparql_results_csv_format(sample_store: Path) -> None:
    result = CliRunner().invoke(main, ["query", "sponsor-portfolio", "--store", str(sample_store), "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"role,phase,status,trials\r\n")
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode())))
    assert rows[1] == ["LEAD_SPONSOR", "PHASE2/PHASE3", "RECRUITING", "1"]


def test_kg_query_table_with_a_parameter(sample_nq: Path) -> None:
    result = CliRunner().invoke(main, ["query", "trial-card", str(sample_nq), "--param", "nct=NCT01298921"])
    assert result.exit_code == 0, result.output
    assert "PI left Geisinger" in result.output


@pytest.mark.parametrize("args", [
    ["query", "no-such-query", "--store", "."],
    ["query", "trial-card"],
    ["query", "trial-card", "--param", "nct"],
])
def test_kg_query_usage_errors_exit_2(args: list[str], sample_store: Path) -> None:
    args = [str(sample_store) if a == "." else a for a in args]
    if args[-1] == "nct":
        args += ["--store", str(sample_store)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2


def test_kg_query_runs_a_users_own_rq_file_on_a_gzipped_graph(tmp_path: Path, sample_nq: Path) -> None:
    import gzip

    mine = tmp_path / "count.rq"
    mine.write_text("PREFIX tkg: <https://w3id.org/trialkg/ontology#>\n"
                    "SELECT (COUNT(*) AS ?n) WHERE { ?t tkg:nctId ?id }\n", encoding="utf-8")
    graph = tmp_path / "sample.nq.gz"
    graph.write_bytes(gzip.compress(sample_nq.read_bytes()))
    result = CliRunner().invoke(main, ["query", str(mine), str(graph), "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"n\r\n14\r\n"


def test_values_also_open_each_sub_select_that_uses_a_parameter() -> None:
    text = ("SELECT ?a ?n WHERE { ?a ?p ?o . { SELECT ?a (COUNT(*) AS ?n) WHERE { ?a ?q ?x } GROUP BY ?a } "
            "{ SELECT ?o WHERE { ?o ?r ?y } } }")
    out = kq.with_values(text, {"x": ox.Literal("v")})
    assert out.count('VALUES (?x) { ("v") }') == 2  # the outer group and the sub-select using ?x only



def test_values_open_a_sub_select_that_names_the_parameter_only_in_its_having() -> None:
    text = ("SELECT ?t WHERE { { SELECT ?name ?t WHERE { ?i ?p ?t } GROUP BY ?name ?t "
            "HAVING(CONTAINS(STR(?t), ?name)) } }")
    out = kq.with_values(text, {"name": ox.Literal("x")})
    assert out.count('VALUES (?name) { ("x") }') == 2  # the outer group and the sub-select

# ------------------------------------------------------------------------------------------ resolved entities
ORG = "https://w3id.org/trialkg/org/"
PERSON = "https://w3id.org/trialkg/person/"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
NEURO_REP = f"{ORG}national-institute-of-neuroscience-budapest"  # the cluster's representative
NEURO_MEMBER = f"{ORG}national-institute-of-neuroscience"  # merged into it by kg build --resolve
PETERS_REP = f"{PERSON}christina-peters--st-anna-kinderspital-austria"
PETERS_MEMBER = f"{PERSON}christina-peters--st-anna-kinderspital-vienna-austria"


@pytest.fixture(scope="module")
def resolved(resolved_store: Path) -> ox.Store:
    return kq.open_store(resolved_store)


def test_the_resolved_fixture_holds_the_merges_the_tests_rely_on(resolved: ox.Store) -> None:
    same_as = ox.NamedNode(OWL_SAME_AS)
    for member, rep in ((NEURO_MEMBER, NEURO_REP), (PETERS_MEMBER, PETERS_REP)):
        assert list(resolved.quads_for_pattern(ox.NamedNode(member), same_as, ox.NamedNode(rep)))


def test_org_name_variants_lists_a_merged_cluster_under_its_representative(resolved: ox.Store) -> None:
    rows = kq.run_query(kq.get_query("org-name-variants"), resolved).as_strings()
    assert [v for o, v in rows if o == f"<{NEURO_REP}>"] == [
        '"National Institute of Neuroscience"', '"National Institute of Neuroscience, Budapest"']
    assert not any(o == f"<{NEURO_MEMBER}>" for o, _ in rows)  # one group, not one per merged key


def test_org_name_variants_without_resolution_keeps_the_merged_names_apart(store: ox.Store) -> None:
    rows = kq.run_query(kq.get_query("org-name-variants"), store).as_strings()
    assert not any(o in (f"<{NEURO_REP}>", f"<{NEURO_MEMBER}>") for o, _ in rows)


@pytest.mark.parametrize("sponsor", [NEURO_MEMBER, NEURO_REP])
def test_sponsor_portfolio_finds_the_whole_cluster_from_any_member(resolved: ox.Store, sponsor: str) -> None:
    rows = kq.run_query(kq.get_query("sponsor-portfolio"), resolved, {"sponsor": sponsor}).as_strings()
    assert rows == [('"COLLABORATOR"', '"PHASE3"', '"COMPLETED"', '"1"^^<http://www.w3.org/2001/XMLSchema#integer>')]


def test_sponsor_portfolio_of_a_member_finds_nothing_without_resolution(store: ox.Store) -> None:
    assert kq.run_query(kq.get_query("sponsor-portfolio"), store, {"sponsor": NEURO_MEMBER}).rows == []


@pytest.mark.parametrize("person", [PETERS_MEMBER, PETERS_REP])
def test_investigator_trials_finds_the_whole_cluster_from_any_member(resolved: ox.Store, person: str) -> None:
    rows = kq.run_query(kq.get_query("investigator-trials"), resolved, {"person": person}).as_strings()
    assert [(r[2], r[3]) for r in rows] == [('"RESPONSIBLE_PARTY"', '"Prof. Christina Peters"'),
                                            ('"STUDY_CHAIR"', '"Christina Peters, Prof. MD PhD"')]
    # The affiliation is the representative of the merged organisations, the registered text stays.
    assert {r[4] for r in rows} == {f"<{ORG}st-anna-kinderspital-austria>"}
    assert {r[5] for r in rows} == {'"St. Anna Kinderspital, Austria"', '"St. Anna Kinderspital, Vienna, Austria"'}


def test_investigator_trials_without_resolution_finds_only_that_key(store: ox.Store) -> None:
    rows = kq.run_query(kq.get_query("investigator-trials"), store, {"person": PETERS_MEMBER}).as_strings()
    assert [r[2] for r in rows] == ['"STUDY_CHAIR"']


def test_sponsor_collaborator_pairs_group_by_the_representative(resolved: ox.Store, tmp_path: Path) -> None:
    """No organisation merged by the sample's resolution is a sponsor or collaborator under its own key, so
    one more link is added to a copy of the resolved graph: a second collaborator of NCT01151631 merged into
    the cluster of the first makes one pair, its trial counted once, and its own key disappears."""
    pairs = kq.get_query("sponsor-collaborator-pairs")
    before = [(r[0], r[2], r[4]) for r in kq.run_query(pairs, resolved).as_strings()]  # without the names
    assert all(f"<{NEURO_MEMBER}>" not in row for row in before)
    sponsors = {r[0] for r in before if r[1] == f"<{NEURO_REP}>"}
    assert len(sponsors) == 1
    sponsor = next(iter(sponsors))
    others = sorted(r[1] for r in before if r[0] == sponsor and r[1] != f"<{NEURO_REP}>")
    assert others, "the fixture's sponsor has another collaborator"
    copy = ox.Store()
    copy.extend(resolved.quads_for_pattern(None, None, None, None))
    graph = ox.NamedNode("https://w3id.org/trialkg/graph/resolution")
    copy.add(ox.Quad(ox.NamedNode(others[0][1:-1]), ox.NamedNode(OWL_SAME_AS), ox.NamedNode(NEURO_REP), graph))
    after = kq.run_query(pairs, copy).as_strings()
    merged = [r for r in after if r[0] == sponsor and r[2] == f"<{NEURO_REP}>"]
    # counted once, named by the representative's own registered name
    rep_names = sorted(str(q.object.value) for q in copy.quads_for_pattern(
        ox.NamedNode(NEURO_REP), ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel"), None, None))
    assert [(r[2], r[3], r[4]) for r in merged] == [
        (f"<{NEURO_REP}>", f'"{rep_names[0]}"', '"1"^^<http://www.w3.org/2001/XMLSchema#integer>')]
    assert all(r[2] != others[0] for r in after)


@pytest.mark.parametrize("query", QUERIES, ids=NAMES)
def test_resolution_changes_only_the_queries_that_follow_it(query: kq.CannedQuery, store: ox.Store,
                                                            resolved: ox.Store) -> None:
    follows = {"org-name-variants", "sponsor-portfolio", "sponsor-collaborator-pairs", "investigator-trials"}
    same = kq.run_query(query, resolved).as_strings() == kq.run_query(query, store).as_strings()
    assert same or query.name in follows
