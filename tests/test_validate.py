"""Validation of built graphs: files, stores, single records, sparse records, and the `kg validate` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.build import build
from kg.cli import main
from kg.validate import RecordValidator, trial_of, validate_file, validate_store

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
    with CliRunner().isolated_filesystem(temp_dir=tmp_path):
        Path("x.nq").write_text("", encoding="utf-8")
        assert CliRunner().invoke(main, ["validate", *args]).exit_code == 2


def test_cli_unknown_format_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "graph.rdf"
    f.write_text("<a> <b> <c> .", encoding="utf-8")
    assert CliRunner().invoke(main, ["validate", str(f)]).exit_code == 2


# ------------------------------------------------------------------------------------------ the build hook
def test_build_validates_as_it_goes_and_names_what_sparse_records_lack(tmp_path: Path, data_dir: Path) -> None:
    from kg.build import BuildOptions

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
