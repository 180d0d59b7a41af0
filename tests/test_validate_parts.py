"""`kg validate FILE --jobs N`: a file cut into parts at record boundaries gives the results of one process."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.validate import iter_file_records, load_shapes, validate_file
from kg.validate_parts import _check_part, record_cuts, validate_file_in_parts

SMALL_PARTS = 48 * 1024  # many parts from a test-sized file


@pytest.fixture(scope="module")
def mixed_nq(tmp_path_factory: pytest.TempPathFactory, sample_nq: Path) -> Path:
    """The sample records, then the same records with an overall status no shape allows and, in every other
    record, no brief title: violations in many parts."""
    text = sample_nq.read_text(encoding="utf-8")
    bad, graphs = [], 0
    for line in text.replace("/code/status/", "/code/bogus/").splitlines(keepends=True):
        graphs += "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/trialkg/ontology#RecordGraph>" \
            in line
        if graphs % 2 and line.startswith("<https://clinicaltrials.gov/study/") and "<https://schema.org/name>" in line:
            continue
        bad.append(line)
    out = tmp_path_factory.mktemp("parts") / "mixed.nq"
    out.write_text(text + "".join(bad), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def mixed_nt(mixed_nq: Path) -> Path:
    out = mixed_nq.with_suffix(".nt")
    with mixed_nq.open("rb") as f:
        triples = [q.triple for q in ox.parse(f, format=ox.RdfFormat.N_QUADS)]
    out.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
    return out


@pytest.mark.parametrize("name", ["mixed_nq", "mixed_nt"])
def test_parts_give_the_results_of_one_process_in_its_order(name: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(name)
    one = validate_file(path)
    assert len(one.violations) > 20 and one.failed  # the fixture has something to find
    cuts = record_cuts(path, ox.RdfFormat.from_extension(path.suffix[1:]), SMALL_PARTS)
    assert len(cuts) > 5
    parts = validate_file_in_parts(path, 2, part_bytes=SMALL_PARTS)
    assert parts.violations == one.violations
    assert (parts.records, parts.failed) == (one.records, one.failed)


@pytest.mark.parametrize("name", ["mixed_nq", "mixed_nt"])
def test_every_cut_is_where_one_process_starts_a_record(name: str, request: pytest.FixtureRequest,
                                                        tmp_path: Path) -> None:
    path: Path = request.getfixturevalue(name)
    cuts = record_cuts(path, ox.RdfFormat.from_extension(path.suffix[1:]), SMALL_PARTS)
    data = path.read_bytes()
    assert cuts[0] == 0 and cuts[-1] == len(data) and cuts == sorted(set(cuts))
    assert all(data[cut - 1:cut] == b"\n" for cut in cuts[1:-1])
    whole = [(r.label, sorted(map(str, r.triples))) for r in iter_file_records(path)]
    pieces = []
    for i, (start, end) in enumerate(zip(cuts, cuts[1:], strict=False)):
        part = tmp_path / f"part{i}{path.suffix}"
        part.write_bytes(data[start:end])
        pieces += [(r.label, sorted(map(str, r.triples))) for r in iter_file_records(part)]
    assert pieces == whole


def test_a_syntax_error_deep_in_the_file_names_the_line_one_process_names(tmp_path: Path, mixed_nq: Path) -> None:
    lines = mixed_nq.read_text(encoding="utf-8").splitlines(keepends=True)
    at = len(lines) * 3 // 4
    lines[at] = lines[at].replace("<https://", "<https:// ", 1)  # a space inside an IRI
    bad = tmp_path / "bad.nq"
    bad.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SyntaxError) as one:
        validate_file(bad)
    with pytest.raises(SyntaxError) as parts:
        validate_file_in_parts(bad, 2, part_bytes=SMALL_PARTS)
    assert str(parts.value) == str(one.value)
    assert re.search(rf"\bline {at + 1}\b", str(one.value)) and str(bad) in str(one.value)


def test_a_file_with_no_record_boundary_is_one_part(tmp_path: Path) -> None:
    one_graph = tmp_path / "one.nq"
    line = '<https://example.org/s{0}> <https://example.org/p> "{0}" <https://example.org/g> .\n'
    one_graph.write_text("".join(line.format(i) for i in range(5000)), encoding="utf-8")
    assert record_cuts(one_graph, ox.RdfFormat.N_QUADS, 4096) == [0, one_graph.stat().st_size]
    assert validate_file_in_parts(one_graph, 2, part_bytes=4096).records == 1


def test_workers_check_with_the_shapes_they_are_given(tmp_path: Path, mixed_nq: Path) -> None:
    own = tmp_path / "own.ttl"
    own.write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
<https://example.org/shapes#Acronym> a sh:PropertyShape ;
    sh:targetClass <https://w3id.org/trialkg/ontology#ClinicalStudy> ;
    sh:path <https://w3id.org/trialkg/ontology#acronym> ; sh:minCount 1 ; sh:severity sh:Info ; sh:message "m" .
""", encoding="utf-8")
    shapes = load_shapes(str(own))
    assert shapes.compiled is not None  # else one process checks them (pyshacl), and no worker would be tested
    one = validate_file(mixed_nq, shapes=shapes)
    parts = validate_file_in_parts(mixed_nq, 2, shapes=shapes, part_bytes=SMALL_PARTS)
    assert one.violations and {(v.path, v.severity) for v in one.violations} == {
        ("https://w3id.org/trialkg/ontology#acronym", "Info")}
    assert parts.violations == one.violations


def test_pyshacl_is_one_process(tmp_path: Path, mixed_nq: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyshacl orders results within a batch of records; parts would cut the batches elsewhere."""
    small = tmp_path / "small.nq"
    small.write_bytes(mixed_nq.read_bytes()[:SMALL_PARTS * 4].rsplit(b"\n", 1)[0] + b"\n")
    monkeypatch.setattr("kg.validate_parts.record_cuts", lambda *a, **k: pytest.fail("cut for pyshacl"))
    one = validate_file(small, engine="pyshacl")
    assert validate_file_in_parts(small, 2, engine="pyshacl", part_bytes=SMALL_PARTS).violations == one.violations


def _cr_before_record_starts(data: bytes) -> bytes:
    """Each record's first quad on the line of the quad before it, after a lone CR (an N-Quads line end)."""
    out: list[bytes] = []
    previous = None
    for line in data.split(b"\n")[:-1]:
        graph = line.rsplit(b" ", 2)[-2]
        if out and graph != previous and b"/graph/entities>" not in graph:
            out[-1] += b"\r" + line
        else:
            out.append(line)
        previous = graph
    return b"\n".join(out) + b"\n"


def test_a_lone_cr_ends_a_line_for_the_cuts_too(tmp_path: Path, mixed_nq: Path) -> None:
    path = tmp_path / "cr.nq"
    path.write_bytes(_cr_before_record_starts(mixed_nq.read_bytes()))
    one = validate_file(path)
    parts = validate_file_in_parts(path, 2, part_bytes=SMALL_PARTS)
    assert (parts.records, parts.violations) == (one.records, one.violations)


@pytest.mark.parametrize("case", ["lone CR before the error", "unterminated string at the end of a part"])
def test_syntax_errors_read_as_one_process_words_them(case: str, tmp_path: Path, mixed_nq: Path) -> None:
    data = mixed_nq.read_bytes()
    cuts = record_cuts(mixed_nq, ox.RdfFormat.N_QUADS, SMALL_PARTS)
    if case.startswith("lone CR"):
        data = data.replace(b"\n", b"\r# a comment\n", 1)
        at = cuts[3] + len(b"\r# a comment")
        data = data[:at] + data[at:].replace(b"<https://", b"<https:// ", 1)
    else:  # the last line before a cut loses the quote that closes a string; strings follow in the next part
        before = data[:cuts[2] - 1]
        graph = before.rsplit(b"\n", 1)[-1].rsplit(b" ", 2)[-2]
        data = before + b'\n<https://example.org/s> <https://example.org/p> "unterminated ' + graph + b" .\n" + \
            data[cuts[2]:]
    bad = tmp_path / "bad.nq"
    bad.write_bytes(data)
    with pytest.raises(SyntaxError) as one:
        validate_file(bad)
    with pytest.raises(SyntaxError) as parts:
        validate_file_in_parts(bad, 2, part_bytes=SMALL_PARTS)
    assert str(parts.value) == str(one.value)


def _dies_past_the_first_part(task: tuple[str, str, int, int]) -> object:
    import os
    import signal

    if task[2] > 0:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer does
    return _check_part(task)


def test_a_worker_that_dies_is_an_error_not_a_hang(mixed_nq: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kg.validate_parts._check_part", _dies_past_the_first_part)  # forked workers see it
    with pytest.raises(ValueError, match="worker process died"):
        validate_file_in_parts(mixed_nq, 2, part_bytes=SMALL_PARTS)


def test_cuts_look_at_each_line_a_bounded_number_of_times(tmp_path: Path, mixed_nq: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny parts and a long last record: each scan for a record start went on to the end of the file, once
    per part_bytes after the last start (quadratic)."""
    import kg.validate_parts as parts

    line = '<https://example.org/s{0}> <https://example.org/p> "{0}" <https://example.org/g> .\n'
    path = tmp_path / "tail.nq"
    path.write_bytes(mixed_nq.read_bytes() + "".join(line.format(i) for i in range(3000)).encode())
    looked = []
    statements = parts._statements
    monkeypatch.setattr(parts, "_statements", lambda *a: looked.append(1) or statements(*a))
    cuts = parts.record_cuts(path, ox.RdfFormat.N_QUADS, 64)
    assert cuts == sorted(set(cuts)) and len(cuts) > 20
    assert len(looked) <= 2 * path.read_bytes().count(b"\n")


def test_cli_jobs_prints_what_one_process_prints(mixed_nq: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kg.validate_parts.PART_BYTES", SMALL_PARTS)
    one = CliRunner().invoke(main, ["validate", str(mixed_nq), "--max", "0"])
    two = CliRunner().invoke(main, ["validate", str(mixed_nq), "--max", "0", "-j", "2"])
    assert one.exit_code == two.exit_code == 1
    assert two.output == one.output


def test_cli_says_when_jobs_cannot_be_used(tmp_path: Path, mixed_nq: Path, sample_store: Path) -> None:
    turtle = tmp_path / "mixed.ttl"
    with mixed_nq.open("rb") as f:
        turtle.write_bytes(ox.serialize([q.triple for q in ox.parse(f, format=ox.RdfFormat.N_QUADS)],
                                        format=ox.RdfFormat.TURTLE))
    for args, said in (([str(turtle)], "a Turtle file is read by one process"),
                       (["--store", str(sample_store)], "a store is read by one process")):
        result = CliRunner().invoke(main, ["validate", *args, "-j", "2", "--max", "1"])
        assert result.exit_code in (0, 1) and f"-j 2: {said}" in result.output, result.output
    quiet = CliRunner().invoke(main, ["validate", str(mixed_nq), "-j", "2", "--max", "1"])
    assert "read by one process" not in quiet.output
