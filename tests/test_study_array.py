"""The website's ctg-studies.json array: read an element at a time, whole or in parts shared by workers, with the same
graph and the same problems either way; a broken array costs only what is broken, and each problem names the element.

Arrays are made here from the real v2 studies in data/ctgov_v2/studies, laid out as the website writes its download
(``[``, one compact study a line, ``,`` at the line's end, ``]`` alone on the last line: checked on downloads kept in
public repositories, e.g. koy570/herniated_disc and dgg32/clinical-trials-public ``ctg-studies.json``), and in other
valid layouts. A small part size cuts an array of a few studies into several parts.
"""

from __future__ import annotations

import codecs
import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kg.build
from kg.build import BuildOptions, build
from kg.inputs import ArrayChain, ArrayPart, Payload, array_parts, iter_payloads
from kg.report import Report
from kg.sources.study_array import ArrayPosition, array_objects, element_start

STUDIES = Path(__file__).parent / "data" / "ctgov_v2" / "studies"
# The real studies but the 1.1 MB one (a part of its own at any part size used here).
RECORDS = [json.loads(p.read_text()) for p in sorted(STUDIES.glob("*.json")) if p.stem != "NCT02513394"]
SMALL_PARTS = 20_000  # ~10 parts for these 13 studies (~400 KB compact)


def _compact(record: object) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


LAYOUTS: dict[str, Callable[[list], str]] = {
    "website": lambda rs: "[\n" + ",\n".join(map(_compact, rs)) + "\n]",
    "one line": lambda rs: json.dumps(rs, ensure_ascii=False),
    "indented": lambda rs: json.dumps(rs, ensure_ascii=False, indent=2),
    "BOM, CRLF and tabs": lambda rs: "\ufeff \r\n[\t" + " ,\r\n\t".join(map(_compact, rs)) + "\r\n]\r\n",
}


def _website(records: list) -> bytes:
    return LAYOUTS["website"](records).encode()


def _build(src: Path, out: Path, jobs: int = 1) -> tuple[list[bytes], Report, bytes]:
    """Sorted N-Triples, the report, and the --report JSON of one build."""
    report = build([src], out, options=BuildOptions(jobs=jobs))
    report.write_json(out.with_suffix(".json"))
    return sorted(out.read_bytes().splitlines()), report, out.with_suffix(".json").read_bytes()


def _stand_ins(src: Path) -> int:
    """How many parts of ``src`` are read again in the parent, in place of a part cut at a wrong place (ArrayChain)."""
    chain, count = ArrayChain(), 0
    for cut in iter_payloads([src], [], kg.build.PARTS, SMALL_PARTS):
        payload = chain.part(cut)
        if payload is None:
            continue
        count += payload is not cut
        assert isinstance(payload.part, ArrayPart)
        at = ArrayPosition(payload.part.start, payload.part.first)
        list(array_objects(payload.read_bytes([]) or b"", "f", [], at, payload.part.start == 0, payload.part.last))
        chain.read(at.offset, at.index, at.done, at.need)
    return count


def _whole_and_parts(tmp_path: Path, data: bytes, monkeypatch: pytest.MonkeyPatch, in_order: bool = True
                     ) -> tuple[Report, int]:
    """The file built whole (one part: it is under the part size) and in small parts with one and two processes:
    asserts the same graph, the same report and the same problems in the same order (``in_order``: else the same
    problems); returns the report and how many parts were read again in the parent."""
    src = tmp_path / "ctg-studies.json"
    src.write_bytes(data)
    whole = _build(src, tmp_path / "whole.nt")
    monkeypatch.setattr(kg.build, "PART_BYTES", SMALL_PARTS)
    payloads = list(iter_payloads([src], [], kg.build.PARTS, SMALL_PARTS))
    assert len(payloads) > 3 and all(isinstance(p.part, ArrayPart) for p in payloads)
    one = _build(src, tmp_path / "parts1.nt", 1)
    two = _build(src, tmp_path / "parts2.nt", 2)
    assert one[0] == two[0] == whole[0]
    assert one[2] == two[2] and one[1].problems == two[1].problems  # the same order with one process or two
    if in_order:
        assert one[2] == whole[2]
    else:
        assert sorted(map(str, one[1].problems)) == sorted(map(str, whole[1].problems))
    return one[1], _stand_ins(src)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_big_array_is_built_in_parts_as_it_is_built_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             layout: str) -> None:
    records = json.loads(json.dumps(RECORDS))
    records[1]["protocolSection"]["identificationModule"]["briefTitle"] = 'x},{"protocolSection": {"y": 1}} z'
    records.insert(5, records[0])  # a record given twice: a note, in the same place either way
    parts, stand_ins = _whole_and_parts(tmp_path, LAYOUTS[layout](records).encode(), monkeypatch)
    assert parts.records_built == len(RECORDS) and parts.skipped == 0 and stand_ins == 0
    assert any("given twice" in p.message for p in parts.problems)


def test_an_array_read_whole_gives_what_json_parses(tmp_path: Path) -> None:
    # The whole array parsed by orjson at once (as it was before it was cut) and element by element: the same studies
    # in the same order, numbered as elements of the array, in every layout.
    for layout, write in LAYOUTS.items():
        data = write(RECORDS).encode()
        problems: list = []
        got = list(array_objects(data, "f", problems, ArrayPosition(0, 0)))
        assert got == [(f"f[{i}]", r) for i, r in enumerate(RECORDS)] and problems == [], layout


@pytest.mark.parametrize("block", [97, 4096, 1 << 20])
def test_array_parts_cut_where_a_study_opens_and_count_the_elements(tmp_path: Path, block: int) -> None:
    for layout, write in LAYOUTS.items():
        src = tmp_path / "a.json"
        src.write_text(write(RECORDS), encoding="utf-8")
        data = src.read_bytes()
        parts = array_parts(src, SMALL_PARTS, element_start, block)
        assert parts[0].start == 0 and parts[-1].end == len(data) and [p.last for p in parts][-1], layout
        assert not any(p.last for p in parts[:-1])
        for a, b in zip(parts, parts[1:], strict=False):
            assert a.end == b.start and a.end - a.start >= SMALL_PARTS
            assert data.startswith(b"{", b.start) and data[b.start + 1:].lstrip().startswith(b'"protocolSection"')
        starts = [0] + [element_start(data, 0)]  # element 0 opens after "[", the others after ","
        while (nxt := element_start(data, starts[-1] + 1)) != -1:
            starts.append(nxt)
        assert [p.first for p in parts[1:]] == [starts.index(p.start) for p in parts[1:]]


@pytest.mark.parametrize("size", [1, 3000, SMALL_PARTS, 10**9])
def test_a_gzip_stream_is_cut_where_the_file_would_be(tmp_path: Path, size: int) -> None:
    import io

    from kg.inputs import ElementCuts, gzip_parts

    for layout, write in LAYOUTS.items():
        src = tmp_path / "a.json"
        src.write_text(write(RECORDS), encoding="utf-8")
        stream = io.BytesIO(src.read_bytes())
        streamed = list(gzip_parts("x", stream.read(size + 1), stream, size, ElementCuts(element_start)))
        assert [p.part for p in streamed] == array_parts(src, size, element_start), layout
        assert b"".join(p.data or b"" for p in streamed) == src.read_bytes()


def _studies_at(data: bytes) -> list[int]:
    return [i for i in range(len(data)) if data.startswith(b'{"protocolSection"', i)]


@pytest.mark.parametrize(("lost", "why"), [(b":", "Expecting ':' delimiter"), (b'"', "")])
def test_a_broken_element_costs_only_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lost: bytes, why: str
                                            ) -> None:
    # Before, the array was given up from the broken element on. Now the studies after it are read too, whole or in
    # parts, and the problem names the element: a byte lost at its start, or in its middle.
    data = _website(RECORDS)
    start, end = _studies_at(data)[6:8]
    at = data.index(lost, start + (end - start) // 2 if lost == b'"' else start)
    parts, _ = _whole_and_parts(tmp_path, data[:at] + data[at + 1:], monkeypatch)
    src = str(tmp_path / "ctg-studies.json")
    [broken] = [p for p in parts.problems if p.severity != "note"]
    assert (broken.file, broken.severity) == (f"{src}[6]", "skipped") and "not valid JSON (" in broken.message
    assert why in broken.message
    assert parts.records_built == len(RECORDS) - 1


def test_elements_between_commas_that_are_not_studies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Elements that do not open like a study (an element of another kind; "protocolSection" not the first key) throw
    # the parts' counting of elements off: the parts after them are read again, in order, and every problem names
    # the right element.
    odd = json.loads(json.dumps(RECORDS))
    odd[3] = {"derivedSection": odd[3].pop("derivedSection"), **odd[3]}  # protocolSection not first
    odd[8]["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = "many"  # a problem in a later element
    odd[2:2] = [5, None, {"nctId": "NCT00000000"}]
    parts, stand_ins = _whole_and_parts(tmp_path, _website(odd), monkeypatch)
    src = str(tmp_path / "ctg-studies.json")
    assert stand_ins > 0
    assert [(p.file, p.field) for p in parts.problems if p.severity != "note"] == [
        (f"{src}[2]", None), (f"{src}[3]", None), (f"{src}[4]", "protocolSection"),
        (f"{src}[11]", "protocolSection.designModule.enrollmentInfo.count")]
    assert parts.records_built == len(RECORDS)


def test_a_nested_list_of_study_like_objects_is_no_place_to_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    # "protocolSection" keys after commas inside an element look like elements opening: the cut there is a guess
    # that fails, the part before reads on, and no object inside the element is taken for a study.
    nested = json.loads(json.dumps(RECORDS))
    inner = [{"protocolSection": {"identificationModule": {"nctId": f"NCT1111111{i}"}}} for i in range(3)]
    nested[4]["derivedSection"]["odd"] = inner * 200  # ~20 KB: a part is cut inside it
    parts, stand_ins = _whole_and_parts(tmp_path, _website(nested), monkeypatch)
    assert parts.records_built == len(RECORDS) and stand_ins > 0
    assert "NCT11111110" not in (tmp_path / "parts2.nt").read_text()


@pytest.mark.parametrize("keep", [0.999, 0.73, 0.41])
def test_an_array_cut_short_keeps_every_whole_element(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      keep: float) -> None:
    data = _website(RECORDS)
    cut = data[:int(len(data) * keep)]
    parts, _ = _whole_and_parts(tmp_path, cut, monkeypatch)
    src = str(tmp_path / "ctg-studies.json")
    n = sum(1 for s in _studies_at(data) if s < len(cut)) - 1  # the element the cut is in
    assert [(p.file, p.message) for p in parts.problems if p.severity != "note"] == [
        (f"{src}[{n}]", "the file ends inside this element (cut short): not read")]
    assert parts.records_built == n


def test_an_array_without_its_closing_bracket_keeps_all_its_elements(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    data = _website(RECORDS)
    parts, _ = _whole_and_parts(tmp_path, data[:-2], monkeypatch)  # "}" was the last byte read
    assert [p.message for p in parts.problems if p.severity != "note"] == [
        f"the array has no closing ]: the file ends before element {len(RECORDS)} (it may be cut short)"]
    assert parts.records_built == len(RECORDS)


def test_bytes_that_are_not_utf8_are_replaced_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = json.loads(json.dumps(RECORDS))
    records[7]["protocolSection"]["identificationModule"]["briefTitle"] = "Étude à Zürich"
    data = _website(records).replace("Étude".encode(), b"\xff\xfetude")
    # Reported by the part that holds the bytes, so after the problems of the parts before it.
    parts, _ = _whole_and_parts(tmp_path, data, monkeypatch, in_order=False)
    [bad] = [p for p in parts.problems if p.severity != "note"]
    assert "not valid UTF-8" in bad.message and bad.severity == "dropped"
    assert parts.records_built == len(RECORDS)
    assert "\ufffd\ufffdtude à Zürich" in (tmp_path / "parts1.nt").read_text()


def test_text_between_elements_that_is_not_a_comma(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _website(RECORDS)
    at = _studies_at(data)[9]
    parts, _ = _whole_and_parts(tmp_path, data[:at - 2] + data[at - 1:], monkeypatch)  # "},\n{" -> "}\n{"
    src = str(tmp_path / "ctg-studies.json")
    assert [(p.file, p.message) for p in parts.problems if p.severity != "note"] == [
        (f"{src}[9]", "not valid JSON: a , or ] expected after element 8: not read")]
    assert parts.records_built == len(RECORDS) - 1


def test_text_after_the_closing_bracket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _website(RECORDS)
    parts, _ = _whole_and_parts(tmp_path, data + b"\n" + data, monkeypatch)  # two downloads in one file
    assert [p.message for p in parts.problems if p.severity != "note"] == ["text after the array's closing ]: not read"]
    assert parts.records_built == len(RECORDS)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_big_gzip_of_an_array_is_built_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    # Decompressed as a stream into parts, as a gzip file of JSON Lines is: the same graph and problems as read whole;
    # a part read again (its cut was a guess that failed) is decompressed again up to it.
    records = json.loads(json.dumps(RECORDS))
    records[4]["derivedSection"]["odd"] = [{"protocolSection": {"n": i}} for i in range(3)] * 200
    records[2:2] = [5]
    src = tmp_path / "in" / "ctg-studies.json.gz"
    src.parent.mkdir()
    src.write_bytes(gzip.compress(_website(records), mtime=0))
    whole = _build(src, tmp_path / "whole.nt")
    monkeypatch.setattr(kg.build, "PART_BYTES", SMALL_PARTS)
    payloads = list(iter_payloads([src], [], kg.build.PARTS, SMALL_PARTS))
    assert len(payloads) > 3 and all(isinstance(p.part, ArrayPart) and p.data for p in payloads)
    parts = _build(src, tmp_path / "parts.nt", jobs)
    assert parts[0] == whole[0] and parts[1].problems == whole[1].problems and parts[2] == whole[2]
    assert [p.file for p in parts[1].problems if p.severity == "skipped"] == [f"{src}!gunzip[2]"]
    assert parts[1].records_built == len(RECORDS)


def test_a_gzip_of_an_array_cut_short_keeps_what_came_before_the_cut(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    packed = gzip.compress(_website(RECORDS), mtime=0)
    src = tmp_path / "cut.json.gz"
    src.write_bytes(packed[:int(len(packed) * 0.8)])
    monkeypatch.setattr(kg.build, "PART_BYTES", SMALL_PARTS)
    one = build([src], tmp_path / "one.nt", options=BuildOptions(jobs=1))
    two = build([src], tmp_path / "two.nt", options=BuildOptions(jobs=2))
    assert one.problems == two.problems and (tmp_path / "one.nt").read_bytes() == (tmp_path / "two.nt").read_bytes()
    *element, cut = [(p.file, p.message.split(" (")[0]) for p in one.problems if p.severity == "skipped"]
    assert cut == (str(src), "gzip file cut short")
    [(file, message)] = element
    n = int(file.removeprefix(f"{src}!gunzip[").removesuffix("]"))
    assert message == "the file ends inside this element" and one.records_built == n > 3


def test_a_bom_is_read_only_at_the_start_of_the_file() -> None:
    problems: list = []
    assert len(list(array_objects(codecs.BOM_UTF8 + _website(RECORDS[:2]), "f", problems, ArrayPosition(0, 0)))) == 2
    assert problems == []
    assert list(array_objects(b"[" + codecs.BOM_UTF8 + _compact(RECORDS[0]).encode() + b"]", "f", problems,
                              ArrayPosition(0, 0))) == []
    assert [(p.file, p.message.split(" (")[0]) for p in problems] == [
        ("f[0]", "not valid JSON")]


def _read_in_parts(src: Path, size: int, problems: list | None = None) -> tuple[list, list]:
    """What the build reads from ``src`` cut into parts of ``size`` (parts read in turn, as ArrayChain has them)."""
    data, chain, out = src.read_bytes(), ArrayChain(), []
    problems = [] if problems is None else problems
    for part in array_parts(src, size, element_start, block=256):
        payload = chain.part(Payload("f", path=src, part=part))
        if payload is None:
            continue
        assert isinstance(payload.part, ArrayPart)
        at = ArrayPosition(payload.part.start, payload.part.first)
        chunk = payload.read_bytes([]) or b""
        assert chunk == data[payload.part.start:payload.part.end]
        out += array_objects(chunk, "f", problems, at, payload.part.start == 0, payload.part.last)
        chain.read(at.offset, at.index, at.done, at.need)
    return out, problems


_STUDY_LIKE = [{"protocolSection": {"identificationModule": {"nctId": f"NCT0000000{i}"}, "n": "x" * 40 * i}}
               for i in range(4)]
_ELEMENTS = st.sampled_from(_STUDY_LIKE) | st.sampled_from([
    None, 5, "protocolSection", {"a": 1}, {"derivedSection": {}, "protocolSection": {}},
    {"protocolSection": {"n": [{"protocolSection": 1}, {"protocolSection": {"x": [2]}}, {"protocolSection": 3}]}},
    {"protocolSection": {"t": 'x},{"protocolSection": {"y": 1}} \\'}}])
_SNIPPETS = [b"", b"\xff", b",", b"{", b"}", b"]", b'"', b"\\", b' ,{"protocolSection": ', b'{"protocolSection": 1}, ']


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(elements=st.lists(_ELEMENTS, max_size=12), layout=st.sampled_from(sorted(LAYOUTS)),
       cut=st.one_of(st.none(), st.floats(0, 1)), drop=st.integers(0, 3), snippet=st.sampled_from(_SNIPPETS),
       size=st.sampled_from([1, 60, 500]))
def test_any_array_reads_the_same_whole_or_in_parts(tmp_path_factory: pytest.TempPathFactory, elements: list,
                                                    layout: str, cut: float | None, drop: int, snippet: bytes,
                                                    size: int) -> None:
    # Valid or not: the same elements and problems whole as in parts of any size; a valid array, what json parses.
    data = LAYOUTS[layout](elements).encode()
    if cut is not None:  # a byte lost or text put in (snippet) at a place in the array, or the array cut there
        at = int(cut * len(data))
        data = data[:at] if drop == 3 else data[:at] + snippet + data[at + drop:]
    src = tmp_path_factory.mktemp("array") / "a.json"
    src.write_bytes(data)
    problems: list = []
    whole = list(array_objects(data, "f", problems, ArrayPosition(0, 0)))
    parts, part_problems = _read_in_parts(src, size)
    assert parts == whole and part_problems == problems
    try:
        valid = json.loads(data.decode("utf-8-sig"))
    except ValueError:
        return
    if isinstance(valid, list):
        assert [obj for _, obj in whole] == valid and all(p.severity == "note" for p in problems)


class _FewProblems(list):
    """A problems list that fails a reading that reports without end (a reader that does not move on)."""

    def append(self, problem: object) -> None:
        assert len(self) < 20, "problems without end: the reader does not move on"
        super().append(problem)


def test_an_element_nested_too_deep_is_skipped_and_reading_moves_on(tmp_path: Path) -> None:
    # Deeper than json's recursion and orjson's limit: json's parser breaks at the element's start. Before, reading
    # went on at that same place, for ever.
    deep = '{"protocolSection": {}, "x": ' + "[" * 5000 + "]" * 5000 + "}"
    data = ("[\n" + ",\n".join([_compact(_STUDY_LIKE[0]), deep, _compact(_STUDY_LIKE[1])]) + "\n]\n").encode()
    src = tmp_path / "deep.json"
    src.write_bytes(data)
    problems: list = _FewProblems()
    whole = list(array_objects(data, "f", problems, ArrayPosition(0, 0)))
    assert [o for o, _ in whole] == ["f[0]", "f[2]"]
    assert [(p.file, p.message) for p in problems] == [("f[1]", "not valid JSON (nested too deep): not read")]
    for size in (1, 60, 500):
        assert _read_in_parts(src, size, _FewProblems()) == (whole, problems)


def test_an_element_that_never_closes_costs_only_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its "]" lost: json's parser takes the studies after it into its list, to the end of the file. Before, they were
    # all lost ("cut short"), and in parts each part was read again from the element on (the last read: the file).
    lines = [_compact(r) for r in RECORDS]
    lines[5] = lines[5][:-1] + ',"x":[1'  # its list and itself never closed
    data = ("[\n" + ",\n".join(lines) + "\n]").encode()
    parts, _ = _whole_and_parts(tmp_path, data, monkeypatch)
    src = str(tmp_path / "ctg-studies.json")
    assert [(p.file, p.message) for p in parts.problems if p.severity != "note"] == [
        (f"{src}[5]", "not valid JSON (it does not end before the next study opens): not read")]
    assert parts.records_built == len(RECORDS) - 1


def test_an_element_that_never_closes_is_read_again_only_a_few_times(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # A part that cannot finish such an element asks for twice the bytes (ArrayPosition.need), up to _MAX_ELEMENT:
    # the parts between are passed over, so the bytes read again stay linear and no read holds much more than that.
    import kg.sources.study_array as study_array

    monkeypatch.setattr(study_array, "_MAX_ELEMENT", 1 << 17)
    lines = [_compact(dict(_STUDY_LIKE[i % 4], n=i)) for i in range(8000)]  # ~800 KB
    lines[3] = lines[3][:-1] + ',"x":[1'  # never closed
    data = ("[\n" + ",\n".join(lines) + "\n]").encode()
    src = tmp_path / "a.json"
    src.write_bytes(data)
    problems: list = []
    whole = list(array_objects(data, "f", problems, ArrayPosition(0, 0)))
    assert [(p.file, p.message) for p in problems] == [
        ("f[3]", "not valid JSON (it does not end within 131,072 bytes): not read")]
    reads: list[int] = []
    original = Payload.read_bytes

    def read_bytes(self: Payload, problems: list) -> bytes | None:
        data = original(self, problems)
        reads.append(len(data or b""))
        return data

    monkeypatch.setattr(Payload, "read_bytes", read_bytes)
    assert _read_in_parts(src, 2000, []) == (whole, problems)
    assert len(whole) == len(lines) - 1
    assert sum(reads) < 2 * len(data) and max(reads) < (1 << 17) + 3 * 2000


def test_an_array_that_cannot_be_cut_is_parsed_whole_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Keys sorted (jq -S): no study opens with "protocolSection", so no element's end can be guessed. Read whole, the
    # array is one orjson parse, as before; element by element (a broken one), no piece runs to the end of the file.
    import kg.sources.ctgov_v2 as ctgov_v2
    import kg.sources.study_array as study_array

    data = json.dumps(RECORDS, sort_keys=True).encode()
    pieces: list[int] = []
    parsed = study_array._parsed

    def measured(view: memoryview, start: int, stop: int) -> object:
        pieces.append(stop - start)
        return parsed(view, start, stop)

    monkeypatch.setattr(study_array, "_parsed", measured)
    problems: list = []
    got = list(array_objects(data, "f", problems, ArrayPosition(0, 0)))
    assert got == [(f"f[{i}]", r) for i, r in enumerate(RECORDS)] and problems == []
    assert max(pieces, default=0) <= max(len(json.dumps(r)) for r in RECORDS) * 2

    def unused(*args: object) -> None:
        raise AssertionError("read element by element")

    monkeypatch.setattr(ctgov_v2, "array_objects", unused)
    read = list(ctgov_v2.iter_study_objects(data.decode(), "f", problems, data))
    assert read == [(f"f[{i}]", r) for i, r in enumerate(RECORDS)] and problems == []


def test_bytes_that_are_not_utf8_are_reported_once_when_a_part_is_read_again(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The cut inside element 4's list of study-like objects fails: the part from element 4 on is read again, and
    # the bad bytes before the list, reported by the part before, are not reported again.
    records = json.loads(json.dumps(RECORDS))
    records[4]["protocolSection"]["identificationModule"]["briefTitle"] = "Étude"
    records[4]["derivedSection"]["odd"] = [{"protocolSection": {"n": i}} for i in range(3)] * 200
    data = _website(records).replace("Étude".encode(), b"\xfftude")
    parts, stand_ins = _whole_and_parts(tmp_path, data, monkeypatch, in_order=False)
    assert stand_ins > 0
    assert [p.severity for p in parts.problems if "UTF-8" in p.message] == ["dropped"]


def test_a_broken_element_with_bytes_that_are_not_utf8_says_the_same_whole_and_in_parts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before, the whole file counted the byte where the JSON breaks in its text re-encoded (U+FFFD: 3 bytes).
    data = _website(RECORDS)
    start = _studies_at(data)[6]
    at = data.index(b'"', start + 200)
    data = data[:start + 100] + b"\xff" + data[start + 100:at] + b"\x01" + data[at:]
    parts, _ = _whole_and_parts(tmp_path, data, monkeypatch, in_order=False)
    assert [p.file.rsplit("[", 1)[-1] for p in parts.problems if p.severity == "skipped"] == ["6]"]
