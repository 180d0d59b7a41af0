"""kg build on ClinicalTrials.gov API v2 records: every container form, the facts of seed 002, versions."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kg.build import BuildOptions, build
from tests.helpers import CODE, load, select

DATA = Path(__file__).parent / "data"
STUDIES = DATA / "ctgov_v2" / "studies"
SEED_002 = DATA / "seeds" / "002_a224f28b0d59d797.txt"
NCT = "https://clinicaltrials.gov/study/"


def _nct_ids(path: Path) -> set[str]:
    store = load(path)
    return {r[0] for r in select(store, "SELECT ?id WHERE { ?t tkg:nctId ?id }")}


def _records(*names: str) -> list[dict]:
    return [json.loads((STUDIES / f"{n}.json").read_text()) for n in names]


@pytest.fixture
def two_records() -> list[dict]:
    return _records("NCT00458770", "NCT01151631")


def test_single_study_file(tmp_path: Path) -> None:
    out = tmp_path / "g.nt"
    report = build([STUDIES / "NCT00458770.json"], out)
    assert report.records_built == 1 and report.skipped == 0
    assert _nct_ids(out) == {"NCT00458770"}


def test_website_array(tmp_path: Path, two_records: list[dict]) -> None:
    src = tmp_path / "ctg-studies.json"
    src.write_text(json.dumps(two_records))
    build([src], tmp_path / "g.nt")
    assert _nct_ids(tmp_path / "g.nt") == {"NCT00458770", "NCT01151631"}


def test_api_search_page(tmp_path: Path) -> None:
    page = DATA / "ctgov_v2" / "api_pages" / "aact__NCT03281889.json"
    expected = {s["protocolSection"]["identificationModule"]["nctId"] for s in json.loads(page.read_text())["studies"]}
    build([page], tmp_path / "g.nt")
    assert _nct_ids(tmp_path / "g.nt") == expected


def test_json_lines(tmp_path: Path, two_records: list[dict]) -> None:
    src = tmp_path / "studies.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in two_records) + "\n")
    build([src], tmp_path / "g.nt")
    assert _nct_ids(tmp_path / "g.nt") == {"NCT00458770", "NCT01151631"}


def test_json_lines_split_on_newlines_only(tmp_path: Path, two_records: list[dict]) -> None:
    # JSON allows a raw LINE SEPARATOR (U+2028) inside a string; str.splitlines() would cut the record there.
    two_records[0]["protocolSection"]["identificationModule"]["briefTitle"] = "Part one\u2028part two"
    src = tmp_path / "studies.jsonl"
    src.write_text("\r\n".join(json.dumps(r, ensure_ascii=False) for r in two_records) + "\r\n", encoding="utf-8")
    report = build([src], tmp_path / "g.nt")
    assert report.skipped == 0
    titles = select(load(tmp_path / "g.nt"), "SELECT ?n WHERE { ?t tkg:nctId 'NCT00458770' ; schema:name ?n }")
    assert titles == [("Part one\u2028part two",)]


def test_json_lines_from_bytes_and_from_text_agree(tmp_path: Path, two_records: list[dict]) -> None:
    # A plain file's JSON Lines are parsed from its bytes; a gzip member's from its text. With a BOM, non-ASCII
    # text and a raw U+2028, and again with a byte of broken UTF-8 (decoded with replacement and reported),
    # both give the same graph and the same problems.
    two_records[0]["protocolSection"]["identificationModule"]["briefTitle"] = "Étude à Zürich \u2028 北京"
    lines = [json.dumps(r, ensure_ascii=False).encode("utf-8") for r in two_records]
    clean = b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n"
    broken = clean.replace("Étude".encode(), b"\xff\xfetude", 1)
    for n, data in enumerate((clean, broken)):
        plain, packed = tmp_path / f"plain{n}", tmp_path / f"gz{n}"
        plain.mkdir()
        packed.mkdir()
        (plain / "s.jsonl").write_bytes(data)
        (packed / "s.jsonl").write_bytes(gzip.compress(data, mtime=0))
        from_bytes = build([plain], tmp_path / f"plain{n}.nt")
        from_text = build([packed], tmp_path / f"gz{n}.nt")
        assert (tmp_path / f"plain{n}.nt").read_bytes() == (tmp_path / f"gz{n}.nt").read_bytes()
        assert [(p.field, p.message, p.severity) for p in from_bytes.problems] == \
            [(p.field, p.message, p.severity) for p in from_text.problems]
        assert from_bytes.records_built == 2 and from_bytes.skipped == 0
        assert any("not valid UTF-8" in p.message for p in from_bytes.problems) == (data is broken)
    titles = select(load(tmp_path / "plain0.nt"), "SELECT ?n WHERE { ?t tkg:nctId 'NCT00458770' ; schema:name ?n }")
    assert titles == [("Étude à Zürich \u2028 北京",)]


@pytest.mark.parametrize("broken", [False, True], ids=["utf8", "not-utf8"])
def test_one_study_as_a_file_a_zip_member_and_a_gzip_file_agree(tmp_path: Path, two_records: list[dict],
                                                                 broken: bool) -> None:
    # A study document is parsed from its bytes when they are clean UTF-8 (not from its text, which orjson would
    # encode again), from a plain file, a zip member or a gzip file alike; bytes that are not UTF-8 are replaced
    # and reported the same way by each.
    two_records[0]["protocolSection"]["identificationModule"]["briefTitle"] = "Étude à Zürich \u2028 北京"
    data = b"\xef\xbb\xbf" + json.dumps(two_records[0], ensure_ascii=False, indent=2).encode("utf-8")
    if broken:
        data = data.replace("Étude".encode(), b"\xff\xfetude", 1)
    forms = {"plain": tmp_path / "plain" / "s.json", "zip": tmp_path / "zip" / "s.zip",
             "gzip": tmp_path / "gzip" / "s.json.gz"}
    for path in forms.values():
        path.parent.mkdir()
    forms["plain"].write_bytes(data)
    with zipfile.ZipFile(forms["zip"], "w") as z:
        z.writestr("NCT00458770.json", data)
    forms["gzip"].write_bytes(gzip.compress(data, mtime=0))
    outputs, problems = set(), []
    for name, path in forms.items():
        report = build([path.parent], tmp_path / f"{name}.nt")
        assert report.records_built == 1 and report.skipped == 0
        outputs.add((tmp_path / f"{name}.nt").read_bytes())
        problems.append([(p.field, p.message, p.severity) for p in report.problems])
    assert len(outputs) == 1 and problems[0] == problems[1] == problems[2]
    assert any("not valid UTF-8" in m for _, m, _ in problems[0]) == broken
    title = "\ufffd\ufffdtude" if broken else "Étude"
    assert select(load(tmp_path / "plain.nt"), "SELECT ?n WHERE { ?t tkg:nctId 'NCT00458770' ; schema:name ?n }") == \
        [(f"{title} à Zürich \u2028 北京",)]


def _all_studies_as_json_lines(path: Path, extra: dict[int, str] | None = None) -> Path:
    """The real test studies as one JSON Lines file (~1.7 MB), with ``extra`` lines inserted (line number: text)."""
    lines = [json.dumps(json.loads(p.read_text()), ensure_ascii=False) for p in sorted(STUDIES.glob("*.json"))]
    for n, text in sorted((extra or {}).items()):
        lines.insert(n - 1, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("size", [1, 50_000, 400_000, 10**9])
@pytest.mark.parametrize("block", [7, 4096, 1 << 20])
def test_line_parts_cut_after_line_breaks_and_number_the_lines(tmp_path: Path, size: int, block: int) -> None:
    from kg.inputs import line_parts

    src = _all_studies_as_json_lines(tmp_path / "all.jsonl")
    src.write_bytes(src.read_bytes().rstrip(b"\n"))  # the last line without a line break
    data = src.read_bytes()
    parts = line_parts(src, size, block)
    assert parts[0].start == 0 and parts[-1].end == len(data)
    if size >= len(data):
        assert len(parts) == 1
    if size == 1:
        assert len(parts) == data.count(b"\n") + 1  # a part per line
    for a, b in zip(parts, parts[1:], strict=False):
        assert a.end == b.start and data[a.end - 1:a.end] == b"\n" and a.end - a.start >= size
    assert [p.first_line for p in parts] == [1 + data.count(b"\n", 0, p.start) for p in parts]


def test_only_json_lines_or_arrays_of_studies_are_read_in_parts(tmp_path: Path) -> None:
    import kg.build
    from kg.inputs import ArrayPart, FilePart, file_parts

    studies = _all_studies_as_json_lines(tmp_path / "studies.jsonl")
    events = tmp_path / "events.jsonl"  # JSON Lines, but not of studies: one problem for the file, as before
    events.write_text("".join(json.dumps({"event": i, "pad": "x" * 100}) + "\n" for i in range(2000)))
    array = tmp_path / "ctg-studies.json"  # one JSON text on one line: cut where its elements open
    array.write_text(json.dumps([json.loads(p.read_text()) for p in sorted(STUDIES.glob("*.json"))]))
    page = tmp_path / "page.json"  # a search page: one JSON text, never cut
    page.write_text(json.dumps({"studies": [json.loads(p.read_text()) for p in sorted(STUDIES.glob("*.json"))]}))
    rules = (kg.build.PARTS, 50_000, kg.build.SNIFF_BYTES)
    assert len(lines := file_parts(studies, *rules)) > 5 and all(isinstance(p, FilePart) for p in lines)
    assert len(elements := file_parts(array, *rules)) > 5 and all(isinstance(p, ArrayPart) for p in elements)
    assert file_parts(events, *rules) == [] and file_parts(page, *rules) == []
    report = build([events], tmp_path / "e.nt", options=BuildOptions(jobs=1))
    assert [p.message for p in report.problems] == ["not a trial record in any rendering TrialKG reads"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_big_json_lines_file_is_built_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    # Parts of a JSON Lines file give the same graph bytes and the same problems, in the same order, as the file
    # read whole: a broken line in a late part named by its line in the whole file, a record given twice, and
    # a line that starts with U+FEFF (a BOM is allowed only at the start of a file, never at a part's).
    import kg.build
    from kg.inputs import iter_payloads

    first = json.loads((STUDIES / "NCT00458770.json").read_text())
    src = _all_studies_as_json_lines(tmp_path / "in" / "all.jsonl", {
        6: json.dumps(first), 9: "\ufeff" + json.dumps(first), 13: '{"protocolSection": {broken'})
    whole = build([src], tmp_path / "whole.nq")
    monkeypatch.setattr(kg.build, "PART_BYTES", 50_000)  # a part per record or two
    assert len(list(iter_payloads([src], [], kg.build.PARTS, kg.build.PART_BYTES))) > 5
    parts = build([src], tmp_path / "parts.nq", options=BuildOptions(jobs=jobs))
    assert (tmp_path / "parts.nq").read_bytes() == (tmp_path / "whole.nq").read_bytes()
    assert parts.problems == whole.problems
    assert [p.file for p in parts.problems if p.severity == "skipped"] == [f"{src}:9", f"{src}:13"]
    assert any("given twice" in p.message for p in parts.problems)
    assert parts.records_built == len(list(STUDIES.glob("*.json")))


@pytest.mark.parametrize("jobs", [1, 2])
def test_bytes_that_are_not_utf8_in_a_big_json_lines_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          jobs: int) -> None:
    # A part's UTF-8 is checked by orjson as it parses each line (no decoding of the part first): a line that is
    # not UTF-8 is decoded with replacement, as the whole file is, and the part reports its first bad byte once,
    # where the reading meets it. Same graph as the file read whole; the other problems the same, in order.
    import kg.build
    from kg.inputs import line_parts

    src = _all_studies_as_json_lines(tmp_path / "in" / "all.jsonl", {13: '{"protocolSection": {broken \u00e9'})
    lines = src.read_bytes().splitlines(keepends=True)
    for n in (2, 3, 9, 13):  # two lines of one part, one of another, and a broken line of a third
        lines[n - 1] = lines[n - 1].replace("é".encode(), b"\xff\xfe", 1) if "é".encode() in lines[n - 1] else \
            lines[n - 1].replace(b'"briefTitle": "', b'"briefTitle": "\xc3(', 1)
    data = b"\xef\xbb\xbf" + b"".join(lines)
    src.write_bytes(data)
    whole = build([src], tmp_path / "whole.nq")
    monkeypatch.setattr(kg.build, "PART_BYTES", 50_000)
    parts = build([src], tmp_path / "parts.nq", options=BuildOptions(jobs=jobs))
    assert (tmp_path / "parts.nq").read_bytes() == (tmp_path / "whole.nq").read_bytes()
    assert "\ufffd" in (tmp_path / "parts.nq").read_text(encoding="utf-8")

    def utf8(report: Any) -> list[str]:
        return [p.message for p in report.problems if "not valid UTF-8" in p.message]

    assert [p for p in parts.problems if "not valid UTF-8" not in p.message] == \
        [p for p in whole.problems if "not valid UTF-8" not in p.message]
    expected = []
    for part in line_parts(src, 50_000):
        try:
            data[part.start:part.end].decode("utf-8-sig" if part.start == 0 else "utf-8")
        except UnicodeDecodeError as e:
            at = part.start + e.start + (3 if part.start == 0 else 0)
            expected.append(f"not valid UTF-8 ({e.reason} at byte {at}); undecodable bytes replaced with U+FFFD")
    assert len(expected) >= 2 and utf8(parts) == expected
    assert [p.file for p in parts.problems if p.severity == "skipped"] == [f"{src}:13"]
    assert parts.records_built == whole.records_built == len(list(STUDIES.glob("*.json")))
    # reported where met: just before the problems of the first record with such bytes in its part
    first = next(i for i, p in enumerate(parts.problems) if "not valid UTF-8" in p.message)
    assert all(p.file in (str(src), f"{src}:1") for p in parts.problems[:first])


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_big_gzip_of_json_lines_is_built_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    # A gzip file of JSON Lines is decompressed as a stream into parts (no process holds it all): the same
    # graph bytes and problems, lines named as in the whole content, as reading it whole.
    import kg.build

    first = json.loads((STUDIES / "NCT00458770.json").read_text())
    plain = _all_studies_as_json_lines(tmp_path / "all.jsonl", {
        6: json.dumps(first), 9: "\ufeff" + json.dumps(first), 13: '{"protocolSection": {broken'})
    src = tmp_path / "in" / "all.jsonl.gz"
    src.parent.mkdir()
    src.write_bytes(gzip.compress(plain.read_bytes(), mtime=0))
    whole = build([src], tmp_path / "whole.nq")
    monkeypatch.setattr(kg.build, "PART_BYTES", 50_000)
    payloads = list(kg.inputs.iter_payloads([src], [], kg.build.PARTS, 50_000))
    longest = max(len(line) for line in plain.read_bytes().splitlines(keepends=True))
    assert len(payloads) > 5 and all(p.data is not None and len(p.data) <= 50_000 + longest for p in payloads)
    parts = build([src], tmp_path / "parts.nq", options=BuildOptions(jobs=jobs))
    assert (tmp_path / "parts.nq").read_bytes() == (tmp_path / "whole.nq").read_bytes()
    assert parts.problems == whole.problems
    assert [p.file for p in parts.problems if p.severity == "skipped"] == [f"{src}!gunzip:9", f"{src}!gunzip:13"]
    assert parts.records_built == len(list(STUDIES.glob("*.json")))


def _truncated_gzip(plain: bytes, path: Path, keep: float) -> int:
    """``plain`` gzipped and cut short at ``keep`` of its bytes; returns the number of whole lines that survive."""
    import zlib

    packed = gzip.compress(plain, mtime=0)[: int(len(gzip.compress(plain, mtime=0)) * keep)]
    path.write_bytes(packed)
    return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(packed).count(b"\n")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_gzip_of_json_lines_cut_short_keeps_every_line_before_the_cut(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       jobs: int) -> None:
    import kg.build

    plain = _all_studies_as_json_lines(tmp_path / "all.jsonl", {3: '{"protocolSection": {broken'}).read_bytes()
    src = tmp_path / "cut.jsonl.gz"
    whole_lines = _truncated_gzip(plain, src, 2 / 3)  # a download cut short
    whole = build([src], tmp_path / "whole.nt")
    assert whole.records_built == 0 and [p.message.split(":")[0] for p in whole.problems] == ["broken gzip file"]
    monkeypatch.setattr(kg.build, "PART_BYTES", 50_000)
    parts = build([src], tmp_path / "parts.nt", options=BuildOptions(jobs=jobs))
    *lines, cut = [(p.file, p.message.split(" (")[0].split(":")[0]) for p in parts.problems
                   if p.severity == "skipped"]
    assert cut == (str(src), "gzip file cut short")
    assert f"its first {whole_lines:,} lines were read" in parts.problems[-1].message
    assert lines == [(f"{src}!gunzip:3", "invalid JSON line"), (f"{src}!gunzip:{whole_lines + 1}", "invalid JSON line")]
    assert parts.records_built == whole_lines - 1  # every whole line but the broken one; the cut line reported
    if jobs == 2:  # the same problems in the same order as one process
        one = build([src], tmp_path / "one.nt", options=BuildOptions(jobs=1))
        assert one.problems == parts.problems


def test_a_gzip_of_json_lines_that_fails_its_check_is_not_built(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Stored (uncompressed) gzip with one flipped byte: every part would decompress, only the CRC at the end
    # tells; nothing is built, as when the file is read whole.
    import kg.build

    plain = _all_studies_as_json_lines(tmp_path / "all.jsonl").read_bytes()
    packed = bytearray(gzip.compress(plain, compresslevel=0, mtime=0))
    at = packed.index(b"briefTitle") + len('briefTitle": "') + 1
    packed[at] ^= 0x20
    src = tmp_path / "flipped.jsonl.gz"
    src.write_bytes(bytes(packed))
    monkeypatch.setattr(kg.build, "PART_BYTES", 50_000)
    report = build([src], tmp_path / "out.nt", options=BuildOptions(jobs=1))
    assert report.records_built == 0
    assert [(p.file, p.message.split(":")[0]) for p in report.problems] == [(str(src), "broken gzip file")]


def test_a_line_of_non_json_space_is_a_broken_line_read_whole_or_in_parts(tmp_path: Path) -> None:
    # Only space, tab, CR and LF make a JSON Lines line blank; U+00A0 is not JSON white space (str.strip took it).
    from kg.sources import ctgov_v2

    for text in ("{}\n\u00a0\n \t\r\n", b"{}\n\xc2\xa0\n \t\r\n"):
        problems: list = []
        assert [origin for origin, _ in ctgov_v2._iter_json_lines(text, "f", problems)] == ["f:1"]
        assert [p.file for p in problems] == ["f:2"]


@pytest.mark.parametrize("size", [1, 50_000, 10**9])
def test_gzip_line_parts_cut_after_line_breaks_and_number_the_lines(tmp_path: Path, size: int) -> None:
    import io

    from kg.inputs import LineCuts, gzip_parts

    data = _all_studies_as_json_lines(tmp_path / "all.jsonl").read_bytes().rstrip(b"\n")  # no final line break
    stream = io.BytesIO(data)
    parts = list(gzip_parts("x", stream.read(size + 1), stream, size, LineCuts()))
    assert b"".join(p.data or b"" for p in parts) == data
    assert [p.part.start for p in parts] == [sum(len(q.data or b"") for q in parts[:i]) for i in range(len(parts))]
    assert all((p.data or b"").endswith(b"\n") for p in parts[:-1])
    assert [p.part.first_line for p in parts] == [1 + data.count(b"\n", 0, p.part.start) for p in parts]
    if size == 1:
        assert len(parts) == data.count(b"\n") + 1  # a part per line
    if size >= len(data):
        assert len(parts) == 1


def test_one_process_hands_on_each_record_as_it_is_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A file's records are spooled one by one, not mapped all first: that would hold a whole file's graph.
    import kg.build
    from kg.report import Report

    mapped: list[str] = []
    real = kg.build.map_trial
    monkeypatch.setattr(kg.build, "map_trial", lambda trial, *a: mapped.append(trial.nct_id) or real(trial, *a))
    records = kg.build.iter_records([_all_studies_as_json_lines(tmp_path / "all.jsonl")], BuildOptions(), Report())
    first = next(records)
    assert mapped == [first.label]
    assert len([first, *records]) == len(mapped) == len(list(STUDIES.glob("*.json")))


def test_fields_outside_the_v2_data_model_are_noted_not_ignored(tmp_path: Path, two_records: list[dict]) -> None:
    record = two_records[0]
    contacts = record["protocolSection"].setdefault("contactsLocationsModule", {})
    contacts["locations_nested"] = contacts.get("locations", [])  # a repository's own addition (real variants)
    record["extraSection"] = {}
    src = tmp_path / "study.json"
    src.write_text(json.dumps(record))
    report = build([src], tmp_path / "g.nt")
    [note] = [p for p in report.problems if "data model" in p.message]
    assert note.severity == "note" and note.record == "NCT00458770"
    assert "extraSection" in note.message and "protocolSection.contactsLocationsModule.locations_nested" in note.message


def test_bulk_zip_read_without_unpacking(tmp_path: Path, two_records: list[dict]) -> None:
    src = tmp_path / "ctg-studies.json.zip"
    with zipfile.ZipFile(src, "w") as z:
        for r in two_records:
            z.writestr(r["protocolSection"]["identificationModule"]["nctId"] + ".json", json.dumps(r))
    build([src], tmp_path / "g.nt")
    assert _nct_ids(tmp_path / "g.nt") == {"NCT00458770", "NCT01151631"}


def test_gzip_detected_by_content_not_name(tmp_path: Path, two_records: list[dict]) -> None:
    src = tmp_path / "studies.data"  # no .gz in the name
    src.write_bytes(gzip.compress(json.dumps(two_records).encode()))
    build([src], tmp_path / "g.nt")
    assert _nct_ids(tmp_path / "g.nt") == {"NCT00458770", "NCT01151631"}


def test_folder_is_read_recursively(tmp_path: Path) -> None:
    out = tmp_path / "g.nt"
    report = build([DATA / "ctgov_v2"], out)
    assert "NCT02576665" in _nct_ids(out)  # from api_pages_fields_filtered/, two levels down
    # The folders' SOURCES.md notes are not records: each reported by name, everything else built.
    assert report.problems
    # (Newer records carry derivedSection.miscInfoModule.modelPredictions, newer than the shipped API spec: noted.)
    assert {(p.file.rsplit("/", 1)[-1], p.severity) for p in report.problems
            if "data model" not in p.message} == {("SOURCES.md", "skipped")}


def test_seed_002_python_dict_rendering(tmp_path: Path) -> None:
    """Seed 002: the lead sponsor, four collaborators, the study chair, 3 sites, 2 arms, 2 interventions, 4 PMIDs."""
    out = tmp_path / "seed.ttl"
    build([SEED_002], out)
    store = load(out)
    t = f"<{NCT}NCT04288102>"
    parties = select(store, f"SELECT ?role ?name WHERE {{ {t} tkg:participation ?p . ?p tkg:role ?role ; "
                            "tkg:nameAsRegistered ?name }")
    by_role: dict[str, set[str]] = {}
    for role, name in parties:
        by_role.setdefault(role.removeprefix(CODE + "role/"), set()).add(name)
    assert by_role["LEAD_SPONSOR"] == {"Beijing 302 Hospital"}
    assert by_role["COLLABORATOR"] == {
        "Vcanbio Cell and Gene Engineering Corp., Ltd.", "Maternal and Child Health Hospital of Hubei Province",
        "Huoshenshan Hospital", "The General Hospital of Central Theater Command",
    }
    assert by_role["STUDY_CHAIR"] == {"Fu-Sheng Wang, MD, PhD"}
    assert len(select(store, f"SELECT ?s WHERE {{ {t} tkg:site ?s }}")) == 3
    assert len(select(store, f"SELECT ?a WHERE {{ {t} tkg:arm ?a }}")) == 2
    assert len(select(store, f"SELECT ?i WHERE {{ {t} tkg:intervention ?i }}")) == 2
    pmids = {r[0] for r in select(store, f"SELECT ?a WHERE {{ {t} schema:citation ?a }}")}
    assert pmids == {f"https://pubmed.ncbi.nlm.nih.gov/{p}" for p in ("33568628", "34963099", "37149930", "40001244")}
    collaborators = select(store, f"SELECT ?o WHERE {{ {t} tkg:collaborator ?o }}")
    assert len(collaborators) == 4


def test_dates_keep_their_precision(tmp_path: Path) -> None:
    out = tmp_path / "g.nt"
    build([SEED_002], out)
    text = out.read_text()
    assert '"2020-08"^^<http://www.w3.org/2001/XMLSchema#gYearMonth>' in text  # statusVerifiedDate
    assert '"2020-03-05"^^<http://www.w3.org/2001/XMLSchema#date>' in text  # start date
    assert "2020-08-01" not in text  # never padded


def test_zero_padded_mesh_ids_are_normalised(tmp_path: Path) -> None:
    raw = (STUDIES / "NCT00763412.json").read_text()
    assert "D0000" in raw  # the snapshot writes padded UIs such as D000000163
    out = tmp_path / "g.nt"
    build([STUDIES / "NCT00763412.json"], out)
    meshes = [r[0] for r in select(load(out), "SELECT ?m WHERE { ?t tkg:conditionMesh|tkg:conditionMeshAncestor ?m }")]
    assert meshes and all(len(m.rsplit("/", 1)[1]) in (7, 10) for m in meshes)
    assert not any(m.rsplit("/", 1)[1].startswith("D000000") for m in meshes)


def test_mesh_hierarchy_is_in_the_graph(tmp_path: Path) -> None:
    out = tmp_path / "g.nq"
    build([STUDIES / "NCT01151631.json"], out)
    store = load(out)
    rows = select(store, "SELECT DISTINCT ?label WHERE { ?t tkg:conditionMesh ?m . ?m meshv:broaderDescriptor+ ?b . "
                         "?b rdfs:label ?label }")
    assert len(rows) > 1  # broader descriptors with labels, without going online


def test_condition_names_resolve_to_mesh_only_when_exact(tmp_path: Path) -> None:
    """Without a conditionBrowseModule, a condition that is exactly a MeSH heading gets its UI; others stay text."""
    record = _records("NCT00458770")[0]
    del record["derivedSection"]["conditionBrowseModule"]
    record["protocolSection"]["conditionsModule"]["conditions"] = ["covid-19", "Corona Virus Disease 2019(COVID-19)"]
    out = tmp_path / "g.nt"
    build(studies=[record], output=out)
    rows = select(load(out), "SELECT ?m WHERE { ?t tkg:conditionMesh ?m }")
    assert rows == [("http://id.nlm.nih.gov/mesh/D000086382",)]


@pytest.mark.parametrize("first_newest", [True, False])
def test_newest_version_wins_in_either_order(tmp_path: Path, first_newest: bool) -> None:
    older = DATA / "ctgov_v2" / "variants" / "NCT02552212__aact.json"
    newer = STUDIES / "NCT02552212.json"
    assert json.loads(older.read_text())["derivedSection"]["miscInfoModule"]["versionHolder"] < \
        json.loads(newer.read_text())["derivedSection"]["miscInfoModule"]["versionHolder"]
    out = tmp_path / "g.nq"
    report = build([newer, older] if first_newest else [older, newer], out)
    assert report.records_built == 1 and report.records_superseded == 1
    only_new = tmp_path / "new.nq"
    build([newer], only_new)
    assert sorted(out.read_text().splitlines()) == sorted(only_new.read_text().splitlines())


@pytest.mark.parametrize("name", ["g.nt", "g.nq", "g.ttl", "g.trig", "g.nt.gz", "g.nq.gz", "g.ttl.gz", "g.trig.gz"])
def test_every_output_format_parses_to_the_same_triples(tmp_path: Path, name: str) -> None:
    from tests.helpers import triples

    reference = tmp_path / "ref.nt"
    build([STUDIES / "NCT01151631.json", SEED_002], reference)
    out = tmp_path / name
    build([STUDIES / "NCT01151631.json", SEED_002], out)
    assert triples(load(out)) == triples(load(reference))


def test_named_graph_per_record_with_source_and_version(tmp_path: Path) -> None:
    out = tmp_path / "g.nq"
    build([STUDIES / "NCT01151631.json"], out)
    rows = select(load(out), "SELECT ?g ?src ?mod ?vh WHERE { GRAPH ?g { ?g tkg:sourceFormat ?src ; "
                             "dcterms:modified ?mod ; tkg:versionHolder ?vh } }")
    assert rows == [("https://w3id.org/trialkg/graph/NCT01151631/ctgov-v2", "ctgov-v2", rows[0][2], rows[0][3])]


@pytest.mark.parametrize("suffix", [".nq", ".nt.gz"])
def test_same_input_gives_byte_identical_output(tmp_path: Path, suffix: str) -> None:
    # gzip: no time and no (temporary) file name in the header
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    build([STUDIES], a)
    build([STUDIES], b)
    assert a.read_bytes() == b.read_bytes()


def test_parallel_build_gives_the_same_output(tmp_path: Path) -> None:
    a, b = tmp_path / "a.nq", tmp_path / "b.nq"
    variants = DATA / "ctgov_v2" / "variants"  # older snapshots, read by other workers than the newest
    build([STUDIES, variants], a)
    report = build([STUDIES, variants], b, options=BuildOptions(jobs=2))
    assert a.read_bytes() == b.read_bytes()
    assert report.records_superseded > 0
    # Workers spool record text in segment files beside the output; none is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nq", "b.nq"]
    # N-Triples with one process is the spool file itself, moved into place: the same bytes as -j 2's copy.
    build([STUDIES], tmp_path / "a.nt")
    build([STUDIES], tmp_path / "b.nt", options=BuildOptions(jobs=2))
    assert (tmp_path / "a.nt").read_bytes() == (tmp_path / "b.nt").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nq", "a.nt", "b.nq", "b.nt"]


def test_base_option_moves_every_minted_iri(tmp_path: Path) -> None:
    out = tmp_path / "g.nt"
    build([SEED_002], out, options=BuildOptions(base="http://example.org/kg/"))
    text = out.read_text()
    assert "http://example.org/kg/org/" in text and "w3id.org/trialkg/org/" not in text
    assert "w3id.org/trialkg/ontology#" in text  # the ontology's own IRIs stay


def test_store_keeps_the_newest_version_across_builds(tmp_path: Path) -> None:
    import pyoxigraph

    older = DATA / "ctgov_v2" / "variants" / "NCT02552212__aact.json"
    newer = STUDIES / "NCT02552212.json"
    store_dir = tmp_path / "store"
    build([newer], store=store_dir)
    report = build([older], store=store_dir)  # an older snapshot later must not replace the newer graph
    assert any("newer version" in p.message for p in report.problems)
    reference = tmp_path / "new.nq"
    build([newer], reference)
    store = pyoxigraph.Store(str(store_dir))
    held = {str(q) for q in store.quads_for_pattern(None, None, None, None)}
    assert held == {str(q) for q in load(reference).quads_for_pattern(None, None, None, None)}
    del store
    build([newer], store=store_dir)  # the same version again replaces the graph, never duplicates it
    assert {str(q) for q in pyoxigraph.Store(str(store_dir))} == held


def test_two_renderings_of_one_trial_never_share_a_part_iri(tmp_path: Path) -> None:
    """Regression: v2 and XML of NCT02513394 both minted trial/NCT02513394/site/3, mixing their facts."""
    out = tmp_path / "g.nq"
    build([STUDIES / "NCT02513394.json", DATA / "ctgov_xml" / "NCT02513394.xml"], out)
    rows = select(load(out), "SELECT ?site (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?t tkg:site ?site } } "
                             "GROUP BY ?site HAVING (COUNT(DISTINCT ?g) > 1)")
    assert rows == []
    sites = select(load(out), "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?t tkg:site ?s }")
    assert int(sites[0][0]) == 437 + 233


def test_dash_writes_ntriples_to_stdout(tmp_path: Path) -> None:
    import pyoxigraph
    from click.testing import CliRunner

    from kg.cli import main

    result = CliRunner().invoke(main, ["build", str(SEED_002), "--output", "-", "--no-validate"])
    assert result.exit_code == 0
    text = result.stdout
    quads = list(pyoxigraph.parse(text.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert len(quads) > 300 and "<https://clinicaltrials.gov/study/NCT04288102>" in text


def test_bad_values_of_a_site_are_reported_in_field_order() -> None:
    """The v2 reader takes a site's fields in bulk for speed: each bad value is still reported, in field order, and a
    site contact's bad affiliation too although the contact is affiliated with the site's facility."""
    from kg.model import PersonMention, Site
    from kg.sources import ctgov_v2

    study = _records("NCT00458770")[0]
    study["protocolSection"]["contactsLocationsModule"]["locations"] = [
        {"facility": " Clinic ", "city": ["x"], "state": True, "zip": {"a": 1}, "country": "France",
         "geoPoint": {"lat": "north", "lon": float("inf")}, "status": "OPEN",
         "contacts": [{"name": " Dr A ", "role": "CHAIR", "affiliation": []}, {"name": {}, "role": "NONE"}]},
        {"zip": "75001", "contacts": "none"},
    ]
    problems: list = []
    trial = ctgov_v2.parse_study(study, "s.json", problems)
    at = "protocolSection.contactsLocationsModule.locations"
    assert [(p.field, p.message) for p in problems if p.field and p.field.startswith(at)] == [
        (f"{at}[0].contacts[0].role", "unknown role value 'CHAIR'"),
        (f"{at}[0].contacts[0].affiliation", "expected text, got list"),
        (f"{at}[0].contacts[1].name", "expected text, got dict"),
        (f"{at}[0].city", "expected text, got list"),
        (f"{at}[0].state", "expected text, got bool"),
        (f"{at}[0].zip", "expected text, got dict"),
        (f"{at}[0].geoPoint.lat", "expected a number, got 'north'"),
        (f"{at}[0].geoPoint.lon", "expected a number, got inf"),
        (f"{at}[0].status", "unknown site-status value 'OPEN'"),
        (f"{at}[1].contacts", "expected a list, got str"),
        (f"{at}[1].facility", "site without facility, city or country left out"),
    ]
    assert trial.sites == (
        Site("Clinic", None, None, None, "France", None, None, None, (PersonMention("Dr A", None, "Clinic"),)),
    )
