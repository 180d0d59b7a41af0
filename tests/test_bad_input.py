"""Bad input: a clear problem naming file, record and field; the rest still built; output always valid RDF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.build import build
from kg.report import Report
from tests.helpers import load, select

STUDIES = Path(__file__).parent / "data" / "ctgov_v2" / "studies"
GOOD = STUDIES / "NCT00458770.json"


def _record() -> dict:
    return json.loads((STUDIES / "NCT01151631.json").read_text())


def _build(tmp_path: Path, *files: Path) -> tuple[Report, set[str]]:
    out = tmp_path / "out.nq"
    report = build([GOOD, *files], out)
    ids = {r[0] for r in select(load(out), "SELECT ?id WHERE { ?t tkg:nctId ?id }")}  # parses: valid RDF
    return report, ids


def test_file_that_is_not_a_record(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("shopping list: eggs, milk\n")
    report, ids = _build(tmp_path, junk)
    assert ids == {"NCT00458770"}
    [p] = report.problems
    assert (p.file, p.severity) == (str(junk), "skipped") and "not a trial record" in p.message


def test_truncated_json(tmp_path: Path) -> None:
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(_record())[:5000])
    report, ids = _build(tmp_path, cut)
    assert ids == {"NCT00458770"}
    assert [(p.file, p.severity) for p in report.problems] == [(str(cut), "skipped")]
    assert "truncated" in report.problems[0].message


def test_record_without_nct_id(tmp_path: Path) -> None:
    record = _record()
    del record["protocolSection"]["identificationModule"]["nctId"]
    src = tmp_path / "noid.json"
    src.write_text(json.dumps(record))
    report, ids = _build(tmp_path, src)
    assert ids == {"NCT00458770"}
    [p] = report.problems
    assert p.field == "protocolSection.identificationModule.nctId" and p.severity == "skipped"


def test_wrong_type_in_a_field_drops_only_that_value(tmp_path: Path) -> None:
    record = _record()
    record["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = "many"
    record["protocolSection"]["conditionsModule"]["keywords"] = {"not": "a list"}
    src = tmp_path / "wrongtype.json"
    src.write_text(json.dumps(record))
    report, ids = _build(tmp_path, src)
    assert ids == {"NCT00458770", "NCT01151631"}
    fields = {(p.record, p.field, p.severity) for p in report.problems}
    assert ("NCT01151631", "protocolSection.designModule.enrollmentInfo.count", "dropped") in fields
    assert ("NCT01151631", "protocolSection.conditionsModule.keywords", "dropped") in fields
    assert report.skipped == 0


def test_impossible_date_is_reported_never_written(tmp_path: Path) -> None:
    record = _record()
    record["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2020-13"
    src = tmp_path / "baddate.json"
    src.write_text(json.dumps(record))
    report, _ = _build(tmp_path, src)
    [p] = [p for p in report.problems if p.record == "NCT01151631"]
    assert p.field == "protocolSection.statusModule.startDateStruct.date" and "2020-13" in p.message
    assert "2020-13" not in (tmp_path / "out.nq").read_text()


@pytest.mark.parametrize("name", [
    'Hospital "Quoted" <script>alert(1)</script>',
    "Line one\nLine two\r\tTabbed",
    "Control \x00\x01\x1f\x7f chars",
    "Lone surrogate \ud800 here",
    "Back\\slash and {braces} and `ticks`",
])
def test_hostile_names_still_give_valid_rdf(tmp_path: Path, name: str) -> None:
    record = _record()
    record["protocolSection"]["sponsorCollaboratorsModule"]["leadSponsor"]["name"] = name
    record["protocolSection"]["identificationModule"]["briefTitle"] = name
    out = tmp_path / "out.ttl"
    report = build(studies=[record], output=out)
    assert report.skipped == 0
    store = load(out)
    titles = select(store, "SELECT ?n WHERE { ?p tkg:role <https://w3id.org/trialkg/code/role/LEAD_SPONSOR> ; "
                           "tkg:nameAsRegistered ?n }")
    assert titles == [(name.replace("\ud800", "\ufffd"),)]


def test_exit_status_is_non_zero_only_when_something_was_skipped(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    junk = tmp_path / "junk.json"
    junk.write_text("{ not json")
    runner = CliRunner()
    ok = runner.invoke(main, ["build", str(GOOD), "-o", str(tmp_path / "a.nt")])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["build", str(GOOD), str(junk), "-o", str(tmp_path / "b.nt"),
                               "--report", str(tmp_path / "r.json")])
    assert bad.exit_code == 1
    assert "junk.json" in bad.output and "1 skipped" in bad.output
    problems = json.loads((tmp_path / "r.json").read_text())["problems"]
    assert problems[0]["file"] == str(junk) and problems[0]["severity"] == "skipped"
    assert (tmp_path / "b.nt").read_text().count("NCT00458770") > 0
