"""Validation of built graphs: files, stores, single records, sparse records, the `kg validate` command, and
the compiled shapes agreeing with pyshacl (the reference) on real, odd and mutated records."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import astuple
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.build import BuildOptions, build
from kg.cli import main
from kg.validate import (
    RecordTriples,
    RecordValidator,
    Violation,
    iter_file_records,
    load_shapes,
    trial_of,
    validate_file,
    validate_records,
    validate_store,
)
from tests.helpers import assert_pass_tests_agree

SHAPE_CASES = Path(__file__).parent / "data" / "shapes"
TITLE = "<https://schema.org/name>"


@pytest.fixture(scope="module")
def sample_report(sample_nq: Path):  # type: ignore[no-untyped-def]
    return validate_file(sample_nq)


@pytest.fixture(scope="module")
def sparse_nq(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """Records fetched with `fields=` (biomcp, tests/data/ctgov_v2/api_pages_fields_filtered)."""
    out = tmp_path_factory.mktemp("sparse") / "sparse.nq"
    report = build([data_dir / "ctgov_v2" / "api_pages_fields_filtered"], out)
    assert report.skipped == 0 and report.records_built > 0
    return out


def test_sample_graph_has_no_violation(sample_report) -> None:  # type: ignore[no-untyped-def]
    assert sample_report.conforms, [str(v) for v in sample_report.violations if v.severity == "Violation"]
    assert sample_report.records >= 14


def test_sparse_records_conform_and_warnings_name_what_they_lack(sparse_nq: Path) -> None:
    report = validate_file(sparse_nq)
    assert report.conforms
    lacking = {v.shape.rsplit("#", 1)[1] for v in report.violations if v.severity == "Warning"}
    assert {"ClinicalStudy-conditionMesh-missing", "Participation-agencyClass-missing",
            "RecordGraph-modified-missing"} <= lacking
    assert all(v.trial and v.trial.startswith("NCT") for v in report.violations)


def test_store_gives_the_same_results_as_the_file(tmp_path: Path, sparse_nq: Path, data_dir: Path) -> None:
    store = tmp_path / "store"
    build([data_dir / "ctgov_v2" / "api_pages_fields_filtered"], store=store)
    from_file, from_store = validate_file(sparse_nq), validate_store(store)
    assert from_store.records == from_file.records
    assert sorted((v.trial, v.focus, v.shape) for v in from_store.violations) == sorted(
        (v.trial, v.focus, v.shape) for v in from_file.violations)


def test_turtle_file_is_grouped_per_trial(tmp_path: Path, sparse_nq: Path, data_dir: Path) -> None:
    out = tmp_path / "sparse.ttl"
    build([data_dir / "ctgov_v2" / "api_pages_fields_filtered"], out)
    from_ttl, from_nq = validate_file(out), validate_file(sparse_nq)
    assert from_ttl.conforms
    assert sorted((v.trial, v.focus, v.shape) for v in from_ttl.violations) == sorted(
        (v.trial, v.focus, v.shape) for v in from_nq.violations)


def test_record_validator_checks_one_record_text() -> None:
    text = (SHAPE_CASES / "ClinicalStudy-name" / "violates.ttl").read_text(encoding="utf-8")
    import rdflib

    nt = rdflib.Graph().parse(data=text, format="turtle").serialize(format="nt")
    found = RecordValidator().check(nt, "NCT00763412")
    assert "ClinicalStudy-name" in {v.shape.rsplit("#", 1)[1] for v in found if v.severity == "Violation"}
    assert {v.trial for v in found} == {"NCT00763412"}


def test_two_renderings_of_one_trial_are_never_merged_into_one_batch() -> None:
    trial = "<https://clinicaltrials.gov/study/NCT00763412>"
    one = (f"{trial} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
           "<https://w3id.org/trialkg/ontology#ClinicalStudy> .\n")
    found = RecordValidator().check_many([(one + f'{trial} {TITLE} "Title A" .\n', "NCT00763412"),
                                          (one + f'{trial} {TITLE} "Title B" .\n', "NCT00763412")])
    assert not any(v.shape.endswith("ClinicalStudy-name") for v in found)


def test_trial_of_reads_the_minted_iris() -> None:
    assert trial_of("https://clinicaltrials.gov/study/NCT00763412") == "NCT00763412"
    assert trial_of("https://w3id.org/trialkg/trial/NCT00763412/site/3") == "NCT00763412"
    assert trial_of("https://w3id.org/trialkg/trial/acme/x-1/site/3") == "acme/x-1"
    assert trial_of("https://w3id.org/trialkg/graph/NCT00763412/ctgov-v2") == "NCT00763412"
    assert trial_of("https://w3id.org/trialkg/org/pfizer") is None


# ------------------------------------------------------------------------------------------ the command
def test_cli_exits_0_on_a_graph_with_warnings_only(sparse_nq: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(sparse_nq), "--max", "3"])
    assert result.exit_code == 0, result.output
    assert "0 records do not conform" in result.output and "tkgs:RecordGraph-modified-missing" in result.output


def test_cli_exits_1_and_names_the_violation(tmp_path: Path) -> None:
    bad = SHAPE_CASES / "ClinicalStudy-overallStatus" / "violates.ttl"
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1, result.output
    assert "NCT00763412" in result.output and "tkgs:ClinicalStudy-overallStatus" in result.output
    assert "code:bogus/NOT_A_CODE" in result.output  # the offending value, shortened


def test_cli_json_output(tmp_path: Path) -> None:
    bad = SHAPE_CASES / "ClinicalStudy-overallStatus" / "violates.ttl"
    result = CliRunner().invoke(main, ["validate", str(bad), "--format", "json"])
    data = json.loads(result.output)
    assert data["conforms"] is False and data["records_not_conforming"] == 1
    v = next(v for v in data["violations"] if v["severity"] == "Violation")
    assert set(v) >= {"trial", "focus", "path", "value", "message", "severity", "shape"}
    assert data["summary"][0]["count"] >= 1


@pytest.mark.parametrize("args", [[], ["x.nq", "--store", "."]])
def test_cli_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "x.nq").write_text("", encoding="utf-8")
    args = [a if a.startswith("--") else str(tmp_path / a) for a in args]  # absolute: no change of directory
    assert CliRunner().invoke(main, ["validate", *args]).exit_code == 2


def test_cli_unknown_format_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "graph.rdf"
    f.write_text("<a> <b> <c> .", encoding="utf-8")
    assert CliRunner().invoke(main, ["validate", str(f)]).exit_code == 2


# Terms the N-Quads grammar lets through but RFC 3987 / BCP 47 do not: kg validate refuses the file as
# pyoxigraph's strict parse does, naming the file, line and column.
_GOOD = "<https://clinicaltrials.gov/study/NCT00763412>"
_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_STUDY = "<https://w3id.org/trialkg/ontology#ClinicalStudy>"
_GRAPH = "<https://w3id.org/trialkg/graph/NCT00763412/ctgov-v2>"
_BAD_LINES = {
    "relative subject IRI": f"<NCT00763412> {_TYPE} {_STUDY}",
    "bad percent-encoding in a predicate": f"{_GOOD} <https://schema.org/na%zzme> {_STUDY}",
    "bad host in an object IRI": f"{_GOOD} <https://schema.org/url> <http://[::1/x>",
    "bad datatype IRI": f'{_GOOD} <https://schema.org/name> "x"^^<xsd:str%ing>',
    "language tag longer than 8 letters": f'{_GOOD} <https://schema.org/name> "x"@abcdefghijk',
    "relative graph IRI": f"{_GOOD} {_TYPE} {_STUDY} <graph/NCT00763412>",
}


@pytest.mark.parametrize(("what", "suffix"), [(what, suffix) for what in sorted(_BAD_LINES)
                                               for suffix in (".nq", ".nt", ".ttl") if "graph" not in what or
                                               suffix == ".nq"])
def test_a_file_with_an_invalid_iri_or_tag_is_refused_naming_file_and_line(tmp_path: Path, what: str,
                                                                           suffix: str) -> None:
    graph = f" {_GRAPH}" if suffix == ".nq" and "graph" not in what else ""
    f = tmp_path / f"bad{suffix}"
    f.write_text(f"{_GOOD} {_TYPE} {_STUDY}{graph} .\n{_BAD_LINES[what]}{graph} .\n", encoding="utf-8")
    with pytest.raises(SyntaxError, match=f"^{re.escape(str(f))}: .*line 2"):
        validate_file(f)
    result = CliRunner().invoke(main, ["validate", str(f)])
    assert result.exit_code == 2 and str(f) in result.output


def test_a_gz_file_that_is_not_gzip_or_is_corrupt_is_refused_naming_it(tmp_path: Path, sample_nq: Path) -> None:
    fake, corrupt = tmp_path / "fake.nq.gz", tmp_path / "corrupt.nq.gz"
    fake.write_text(f"{_GOOD} {_TYPE} {_STUDY} .\n", encoding="utf-8")
    data = bytearray(gzip.compress(sample_nq.read_bytes(), mtime=0))
    data[10] ^= 0xFF  # the first byte of the deflate stream: zlib.error, not OSError
    corrupt.write_bytes(bytes(data))
    for f in (fake, corrupt):
        result = CliRunner().invoke(main, ["validate", str(f)])
        assert result.exit_code == 2 and f"{f}: cannot read" in result.output, result.output


def test_validation_counts_records_on_stderr_when_asked(sample_nq: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quiet = validate_file(sample_nq)
    assert "records" not in capsys.readouterr().err
    shown = validate_file(sample_nq, progress=True)
    err = capsys.readouterr().err
    assert f"{quiet.records}" in err and "records" in err and "rec/s" in err
    assert shown.violations == quiet.violations and shown.records == quiet.records


# ------------------------------------------------------------------------------------------ the build hook
def test_build_validates_as_it_goes_and_names_what_sparse_records_lack(tmp_path: Path, data_dir: Path) -> None:
    report = build([data_dir / "ctgov_v2" / "api_pages_fields_filtered"], tmp_path / "g.nq",
                   options=BuildOptions(validate=True))
    notes = [p for p in report.problems if "SHACL warning: RecordGraph-modified-missing" in p.message]
    assert notes and all(p.record and p.severity == "note" for p in notes)
    assert report.records_invalid == 0


def test_build_counts_records_that_do_not_conform() -> None:
    from kg.report import Problem
    from kg.validate import not_conforming, record_problems

    bad = (SHAPE_CASES / "ClinicalStudy-overallStatus" / "violates.ttl").read_text(encoding="utf-8")
    import rdflib

    nt = rdflib.Graph().parse(data=bad, format="turtle").serialize(format="nt")
    problems = record_problems([(nt, "NCT00763412")], "x.json")
    assert not_conforming(problems) == 1
    assert not_conforming([Problem("x.json", "NCT1", None, "SHACL warning: ...", "note")]) == 0


# ------------------------------------------------------------------------------------------ compiled vs pyshacl
TKG = "https://w3id.org/trialkg/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
TRIAL = "https://clinicaltrials.gov/study/NCT00763412"
PART = "https://w3id.org/trialkg/trial/NCT00763412/"


def results(found: list[Violation]) -> list[tuple[str, ...]]:
    """Every field of every result, in a fixed order (pyshacl's order among equal sort keys is arbitrary)."""
    return sorted(tuple(repr(x) for x in astuple(v)) for v in found)


def assert_engines_agree(record: RecordTriples) -> list[Violation]:
    assert_pass_tests_agree(record)
    compiled = validate_records([record]).violations
    assert results(compiled) == results(validate_records([record], engine="pyshacl").violations)
    return compiled


def nt_record(text: str, label: str | None = "NCT00763412") -> RecordTriples:
    return RecordTriples(label, [(t.subject, t.predicate, t.object)
                                 for t in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)])


def test_compiled_shapes_agree_with_pyshacl_on_the_sample_records(sample_nq: Path) -> None:
    records = list(iter_file_records(sample_nq))
    assert len(records) >= 14
    for record in records:
        assert_engines_agree(record)


def test_compiled_shapes_agree_with_pyshacl_on_sparse_records(sparse_nq: Path) -> None:
    found = [v for record in iter_file_records(sparse_nq) for v in assert_engines_agree(record)]
    assert any(v.severity == "Warning" for v in found)


# Literals rdflib parses, normalises or rejects in its own ways ("007" is shown as "7", "banana"^^xsd:gYear
# passes since rdflib 7.6 does not parse gYear), each on a property whose shape checks its datatype or range.
ODD = {
    "startDate": ['"2021-02-30"^^<{x}date>', '"0000-01-01"^^<{x}date>', '"2021-3-5"^^<{x}date>',
                  '"banana"^^<{x}gYear>', '"2021-13"^^<{x}gYearMonth>', '"2021"^^<{x}date>', '"2021"',
                  '"2021"@en', '<https://example.org/2021>', '"2021-03-15Z"^^<{x}date>', '"2021-03"^^<{x}gYear>'],
    "enrollment": ['"007"^^<{x}integer>', '"-1"^^<{x}integer>', '"+5"^^<{x}integer>', '"1.5"^^<{x}decimal>',
                   '"x"^^<{x}integer>', '"5"', '"7.0"^^<{x}integer>', '"12345678901234567890"^^<{x}integer>'],
    "hasResults": ['"TRUE"^^<{x}boolean>', '"1"^^<{x}boolean>', '"yes"^^<{x}boolean>', '"true"'],
}
ODD_SITE = ['"91"^^<{x}decimal>', '"1e5"^^<{x}decimal>', '"-90.0"^^<{x}decimal>',
            '"+45.50"^^<{x}decimal>', '"45"^^<{x}integer>', '"45"', '"90.0000000000000000000001"^^<{x}decimal>',
            '" 12.5"^^<{x}decimal>', '"-180"^^<{x}decimal>']


@pytest.mark.parametrize("prop", sorted(ODD))
def test_compiled_shapes_agree_with_pyshacl_on_odd_trial_literals(prop: str) -> None:
    lines = [f"<{TRIAL}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}ClinicalStudy> .",
             f'<{TRIAL}> <https://schema.org/name> "A title" .']
    lines += [f"<{TRIAL}> <{TKG}{prop}> {value.format(x=XSD)} ." for value in ODD[prop]]
    found = assert_engines_agree(nt_record("\n".join(lines) + "\n"))
    assert any(v.constraint in ("DatatypeConstraintComponent", "OrConstraintComponent") for v in found)


@pytest.mark.parametrize("value", ['"banana"^^<{x}gYear>', '"2021-13"^^<{x}gYearMonth>', '"2021-03"^^<{x}gYear>',
                                   '"21"^^<{x}gYear>', '"2021-00"^^<{x}gYearMonth>'])
def test_a_date_with_an_impossible_lexical_form_is_a_violation(value: str) -> None:
    lines = [f"<{TRIAL}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}ClinicalStudy> .",
             f"<{TRIAL}> <{TKG}startDate> {value.format(x=XSD)} ."]
    found = assert_engines_agree(nt_record("\n".join(lines) + "\n"))
    assert any(v.shape.endswith("#ClinicalStudy-dates") and v.severity == "Violation" for v in found), found


def test_compiled_shapes_agree_with_pyshacl_on_odd_coordinates() -> None:
    lines = []
    for i, value in enumerate(ODD_SITE):
        site = f"<{PART}site/{i + 1}>"
        lines += [f"{site} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}Site> .",
                  f'{site} <https://schema.org/addressCountry> "France" .',
                  f"{site} <https://schema.org/latitude> {value.format(x=XSD)} .",
                  f"{site} <https://schema.org/longitude> {value.format(x=XSD)} ."]
    found = assert_engines_agree(nt_record("\n".join(lines) + "\n"))
    assert {"MaxInclusiveConstraintComponent", "DatatypeConstraintComponent"} <= {v.constraint for v in found}


def test_a_decimal_nan_coordinate_is_out_of_range() -> None:
    """pyshacl 0.40 raises on it (decimal.InvalidOperation); the compiled shapes report it."""
    site = f"<{PART}site/1>"
    record = nt_record(f"{site} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}Site> .\n"
                       f'{site} <https://schema.org/addressCountry> "France" .\n'
                       f'{site} <https://schema.org/latitude> "NaN"^^<{XSD}decimal> .\n')
    found = validate_records([record]).violations
    assert {v.constraint for v in found} == {"MinInclusiveConstraintComponent", "MaxInclusiveConstraintComponent"}
    assert {v.value for v in found} == {"NaN"}


def test_values_that_passed_are_remembered_only_where_the_value_alone_decides() -> None:
    """Shapes judging a value alone (typed literals, patterns, ranges) remember values that passed: dates,
    coordinates and codes recur in every record. Shapes that look at the graph around a value (sh:class, node
    shapes, nested property shapes) remember nothing, and a failing value is reported every time."""
    shapes = {s.iri.rsplit("#", 1)[-1]: s for s in load_shapes().compiled.shapes}
    assert shapes["Site-latitude"].passed is not None and shapes["ClinicalStudy-dates"].passed is not None
    assert shapes["Site-facility"].passed is None  # sh:class
    assert shapes["SiteShape"].passed is None  # a node shape: its value is a node minted for one record
    site = f"<{PART}site/1>"
    head = (f"{site} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}Site> .\n"
            f'{site} <https://schema.org/addressCountry> "France" .\n')
    good, bad = f'"45.5"^^<{XSD}decimal>', f'"95.5"^^<{XSD}decimal>'
    for _ in range(2):
        assert not assert_engines_agree(nt_record(head + f"{site} <https://schema.org/latitude> {good} .\n"))
        found = assert_engines_agree(nt_record(head + f"{site} <https://schema.org/latitude> {good} .\n"
                                               f"{site} <https://schema.org/latitude> {bad} .\n"))
        assert {(v.constraint, v.value) for v in found} == {("MaxCountConstraintComponent", None),
                                                             ("MaxInclusiveConstraintComponent", "95.5")}
    assert ox.Literal("45.5", datatype=ox.NamedNode(XSD + "decimal")) in shapes["Site-latitude"].passed


def test_quick_pass_tests_leave_every_failure_to_the_full_check() -> None:
    """The checker asks each shape a quick yes/no first and runs the full check only on a no: a value too many,
    a value missing, a wrong class and a node IRI of the wrong form must each still be reported."""
    study, site = f"<{TRIAL}>", f"<{PART}site/1>"
    record = nt_record(f"{study} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}ClinicalStudy> .\n"
                       f'{study} <https://schema.org/name> "a" .\n{study} <https://schema.org/name> "b" .\n'
                       f"{site} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}Site> .\n"
                       f"{study} <https://schema.org/location> {site} .\n"
                       f"<https://example.org/x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}Site> .\n")
    assert assert_pass_tests_agree(record) > 10
    found = {(v.shape_name, v.constraint) for v in assert_engines_agree(record)}
    assert {("ClinicalStudy-name", "MaxCountConstraintComponent"),
            ("ClinicalStudy-overallStatus", "MinCountConstraintComponent")} <= found
    assert any(shape.startswith("Site") and c == "PatternConstraintComponent" for shape, c in found)


# Terms a mutation puts in place of an object: odd literals, a code from no list, IRIs of other kinds.
POOL = [ox.Literal("x"), ox.Literal("2021", datatype=ox.NamedNode(XSD + "gYear")),
        ox.Literal("-3", datatype=ox.NamedNode(XSD + "integer")), ox.Literal("x", language="en"),
        ox.NamedNode("https://w3id.org/trialkg/code/bogus/NOT_A_CODE"), ox.NamedNode(TRIAL),
        ox.NamedNode("https://w3id.org/trialkg/org/pfizer"), ox.NamedNode("http://id.nlm.nih.gov/mesh/D000000163"),
        ox.NamedNode(TKG + "Site"), ox.NamedNode(TKG + "Organization")]


@pytest.fixture(scope="module")
def base_record(sample_nq: Path) -> RecordTriples:
    return next(r for r in iter_file_records(sample_nq) if r.label == "NCT00763412")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(["drop", "replace", "add", "move"]), st.integers(0, 10_000),
                                st.integers(0, len(POOL) - 1)), min_size=1, max_size=6))
def test_compiled_shapes_agree_with_pyshacl_on_mutated_records(base_record: RecordTriples,
                                                               edits: list[tuple[str, int, int]]) -> None:
    """A real record with triples dropped, objects replaced or added, properties moved to another subject."""
    triples = list(base_record.triples)
    for op, i, j in edits:
        s, p, o = triples[i % len(triples)]
        if op == "drop":
            triples.remove((s, p, o))
        elif op == "replace":
            triples[i % len(triples)] = (s, p, POOL[j])
        elif op == "add":
            triples.append((s, p, POOL[j]))
        else:
            triples.append((triples[j % len(triples)][0], p, o))
    assert_engines_agree(RecordTriples(base_record.label, triples))


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine"):
        validate_records([], engine="rudof")


def test_shapes_the_compiler_cannot_read_are_checked_by_pyshacl(tmp_path: Path) -> None:
    closed = tmp_path / "closed.ttl"
    closed.write_text(f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
<https://example.org/shapes#Closed> a sh:NodeShape ; sh:targetClass <{TKG}ClinicalStudy> ;
    sh:closed true ; sh:message "No other properties." .
""", encoding="utf-8")
    shapes = load_shapes(str(closed))
    assert shapes.compiled is None and "closed" in shapes.unsupported
    record = nt_record(f"<{TRIAL}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}ClinicalStudy> .\n")
    found = validate_records([record], shapes).violations
    assert [v.constraint for v in found] == ["ClosedConstraintComponent"]


def test_each_record_is_checked_on_its_own_graph() -> None:
    """An organisation typed in one record does not satisfy sh:class in another (batches once let it)."""
    org = "https://w3id.org/trialkg/org/acme"
    typed = nt_record(f"<{org}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}Organization> .\n"
                      f'<{org}> <http://www.w3.org/2004/02/skos/core#altLabel> "Acme" .\n'
                      f'<{org}> <{TKG}normalisedKey> "acme" .\n', "NCT00000001")
    other = f"<{TRIAL}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TKG}ClinicalStudy> .\n"
    found = validate_records([typed, nt_record(other + f"<{TRIAL}> <https://schema.org/sponsor> <{org}> .\n")])
    assert [v.trial for v in found.violations if v.shape.endswith("#ClinicalStudy-sponsor")] == ["NCT00763412"]


def test_build_validation_of_term_strings_equals_validation_of_the_text(data_dir: Path) -> None:
    """kg build checks the mapping's term strings directly; the results must be those of the N-Triples text."""
    from kg.identity import Iris
    from kg.mapping import map_trial
    from kg.sinks import ntriples
    from kg.sources import ctgov_v2
    from kg.validate import RecordValidator

    validator = RecordValidator()
    paths = sorted((data_dir / "ctgov_v2" / "studies").glob("*.json"))[:6]
    assert paths
    for path in paths:
        trial = next(ctgov_v2.read(path.read_text(encoding="utf-8"), str(path), []))
        # Escapes of every kind the N-Triples writer makes, in a literal the shapes check (the title).
        trial.brief_title = 'Quote " backslash \\ tab \t newline \n bell \x07 surrogate \ud800 é 中'
        triples = map_trial(trial, Iris()).triples
        by_terms = validator.check_terms(triples, trial.nct_id)
        assert results(by_terms) == results(validator.check(ntriples(triples), trial.nct_id))
    trial.overall_status = None  # a record that does not conform: the two paths still agree
    triples = map_trial(trial, Iris()).triples
    found = validator.check_terms(triples, trial.nct_id)
    assert found and results(found) == results(validator.check(ntriples(triples), trial.nct_id))


def test_a_validator_failure_costs_no_record(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kg.validate

    def broken(*_args: object) -> list[object]:
        raise RuntimeError("validator bug")

    monkeypatch.setattr(kg.validate, "record_term_problems", broken)
    report = build([data_dir / "ctgov_v2" / "studies" / "NCT00458770.json"], tmp_path / "g.nt",
                   options=BuildOptions(validate=True))
    assert report.records_built == 1 and report.skipped == 0
    assert any("could not validate record: RuntimeError: validator bug" in p.message for p in report.problems)


def test_a_validating_build_sets_the_garbage_collector_up_once(data_dir: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # gc.get_freeze_count walks every frozen object: asked once per record, a validating build of 100,000
    # records became quadratic (the per-record validator entered the streaming GC block again).
    import gc

    calls = []
    count = gc.get_freeze_count
    monkeypatch.setattr(gc, "get_freeze_count", lambda: calls.append(1) or count())
    paths = sorted((data_dir / "ctgov_v2" / "studies").glob("*.json"))[:5]
    report = build(paths, tmp_path / "g.nt", options=BuildOptions(validate=True))
    assert report.records_built == 5
    assert len(calls) == 1


def test_streaming_jobs_restore_the_garbage_collector(sample_nq: Path, tmp_path: Path) -> None:
    # build and validate run with rare young-generation passes and their long-lived objects frozen
    # (kg.gcpolicy); the caller's settings come back afterwards, also when the job fails.
    import gc

    from kg.gcpolicy import YOUNG_GC_THRESHOLD, streaming_gc

    before = gc.get_threshold()
    with streaming_gc():
        assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD and gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    validate_file(sample_nq)
    build([], tmp_path / "empty.nt")
    with pytest.raises(ValueError):
        validate_file(tmp_path / "not-rdf.txt")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_kg_command_leaves_what_it_froze_frozen(tmp_path: Path, data_dir: Path) -> None:
    # The kg command's process ends with its job: a full collection of everything the build kept, only to exit,
    # is skipped (kg.gcpolicy.process_ends_with_job). Run in a process of its own: this one must stay thawed.
    import subprocess
    import sys

    study = sorted((data_dir / "ctgov_v2" / "studies").glob("*.json"))[0]
    script = (
        "import gc, sys\n"
        "from kg import cli, gcpolicy\n"
        "sys.argv = ['kg', 'build', sys.argv[1], '-o', sys.argv[2], '--no-progress']\n"
        "try:\n"
        "    cli.run()\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print(gc.get_freeze_count(), gc.get_threshold()[0])\n"
        "with gcpolicy.gc_paused():\n"
        "    kept = [[] for _ in range(1000)]\n"
        "print(gc.get_freeze_count())\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(study), str(tmp_path / "g.nt")], capture_output=True,
                         text=True, check=True).stdout.split()
    frozen_after_build, threshold, frozen_after_load = map(int, out)
    assert frozen_after_build > 100_000  # the MeSH index and the build's own long-lived objects
    assert threshold == 700  # young passes as usual again
    assert frozen_after_load >= frozen_after_build + 1000  # a bulk load is frozen straight away
