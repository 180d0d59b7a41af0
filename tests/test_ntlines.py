"""kg.ntlines reads kg's N-Triples and N-Quads lines itself, and must give what pyoxigraph's parse gives for any
input: the same records in the same order, up to the same error with the same words. Differential tests on real
lines of a build, mutated; a named test for each kind of line it leaves to pyoxigraph."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kg.ntlines as ntlines
from kg.ntlines import read_records
from kg.validate import group_records, iter_file_records, validate_file

NQ, NT = ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES


@pytest.fixture(scope="module")
def real_lines(sample_nq: Path) -> dict[ox.RdfFormat, list[bytes]]:
    """The sample build's N-Quads lines, and the same without their graph: the N-Triples kg writes."""
    quads = sample_nq.read_bytes().splitlines(keepends=True)
    return {NQ: quads, NT: [line.rsplit(b" ", 2)[0] + b" .\n" for line in quads]}


def outcome(records: Any) -> tuple[list[tuple[Any, Any]], str | None]:
    """The records read (label, triples), then the syntax error's words, if any."""
    found = []
    try:
        for record in records:
            found.append((record.label, record.triples))
    except SyntaxError as e:
        return found, str(e)
    return found, None


def by_pyoxigraph(data: bytes, fmt: ox.RdfFormat) -> tuple[list[tuple[Any, Any]], str | None]:
    return outcome(group_records(ox.parse(data, format=fmt), fmt))


def by_lines(data: bytes, fmt: ox.RdfFormat) -> tuple[list[tuple[Any, Any]], str | None]:
    return outcome(read_records(io.BytesIO(data), fmt))


@pytest.fixture
def left_to_pyoxigraph(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What the reader hands pyoxigraph: a line's bytes, or the source for the rest of it."""
    handed: list[Any] = []
    parsed = ntlines._parsed

    def spy(data: Any, *args: Any) -> Any:
        handed.append(data)
        return parsed(data, *args)

    monkeypatch.setattr(ntlines, "_parsed", spy)
    return handed


@pytest.mark.parametrize("fmt", [NQ, NT], ids=["nq", "nt"])
def test_kg_output_is_read_here_as_pyoxigraph_reads_it(fmt: ox.RdfFormat, real_lines: dict[Any, list[bytes]],
                                                       left_to_pyoxigraph: list[Any]) -> None:
    data = b"".join(real_lines[fmt])
    here = by_lines(data, fmt)
    assert here == by_pyoxigraph(data, fmt)
    assert len(here[0]) >= 14 and here[1] is None
    assert left_to_pyoxigraph == []  # every line of kg's was read here, none by pyoxigraph


# ------------------------------------------------------------------------------------------ mutations
# Bytes that change what a line means: separators, term delimiters, escapes, line ends, bytes that are not UTF-8,
# characters an IRI may not hold; and snippets that make a valid line of another form or an invalid one.
TRICKY = [b" ", b"\t", b"<", b">", b'"', b"\\", b"\r", b"\n", b"#", b".", b"@", b"^", b"_", b":", b"{", b"%", b"/",
          b"\x00", b"\x01", b"\x7f", b"\xff", b"\xc3", "é".encode(), "\ue000".encode(), "\ufeff".encode(),
          "\ufffe".encode()]
SNIPPETS = [b"\\u0041", b"\\u00e9", b"\\u000A", b"\\ud800", b"\\uDFFF", b"\\U0001F600", b"\\U00110000", b"\\'",
            b'\\"', b"\\\\", b"\\/", b"\\x", b"\\u00", b"@en", b"@EN-us", b"@en-a", b"@en--ltr", b"@abcdefghijk",
            b"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#langString>",
            b"^^<http://www.w3.org/2001/XMLSchema#string>", b"^^<http://www.w3.org/2001/XMLSchema#integer>",
            b"_:b1", b"_:b1 ", b" # a comment", b"%zz", b"%41", b"  ", b"\r\n", b" .", b"<NCT00763412>",
            b"<http://[::1/x>", b"<https://example.org/\\u0041>", b'"x" ', b" <https://example.org/g>"]


@st.composite
def mutated(draw: Any, lines: list[bytes]) -> bytes:
    """A window of real lines, up to four times changed at a random place."""
    start = draw(st.integers(0, len(lines) - 1))
    window = list(lines[start:start + draw(st.integers(1, 12))])
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(window) - 1))
        line = window[i]
        at = draw(st.integers(0, len(line)))
        kind = draw(st.sampled_from(["replace", "insert", "delete", "end", "swap"]))
        if kind == "replace":
            line = line[:at] + draw(st.sampled_from(TRICKY)) + line[at + 1:]
        elif kind == "insert":
            line = line[:at] + draw(st.sampled_from(SNIPPETS + TRICKY)) + line[at:]
        elif kind == "delete":
            line = line[:at] + line[at + draw(st.integers(1, 3)):]
        elif kind == "end":
            line = line.rstrip(b"\n") + draw(st.sampled_from([b"", b"\r\n", b"\r", b"\n\n", b" # c\n", b"\n\t\n"]))
        else:  # a term of one line in the place of another's: a literal as subject, an IRI as graph ...
            other = window[draw(st.integers(0, len(window) - 1))].split(b" ")
            parts = line.split(b" ")
            parts[draw(st.integers(0, len(parts) - 1))] = other[draw(st.integers(0, len(other) - 1))]
            line = b" ".join(parts)
        window[i] = line
    return b"".join(window)


@pytest.mark.parametrize("fmt", [NQ, NT], ids=["nq", "nt"])
@given(data=st.data())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_mutated_lines_give_pyoxigraph_s_records_or_error(fmt: ox.RdfFormat, real_lines: dict[Any, list[bytes]],
                                                           data: st.DataObject) -> None:
    text = data.draw(mutated(real_lines[fmt]))
    assert by_lines(text, fmt) == by_pyoxigraph(text, fmt)


@given(st.lists(st.sampled_from(["http:", "https://", "urn:", "a+b.c-d:", "1a:", ":", "", "HTTP://", "x:/", "a",
                                 "b", ":", "/", "?", "#", "[", "]", "@", "!", "$", "&", "'", "(", ")", "*", "+",
                                 ",", ";", "=", "%", "%41", "%zz", "-", ".", "_", "~", "0", "9", "é", "\ue000",
                                 "\ufffe", "\U0001f600", "\xa0", "\ufdd0", "[::1]", ":80",
                                 # what N-Triples forbids in an IRI
                                 "<", ">", '"', "{", "}", "|", "^", "`", "\\", " ", "\t", "\x00", "\x1f", "\x7f"]),
                max_size=10))
@settings(max_examples=500, deadline=None)
def test_a_named_node_is_made_of_exactly_the_iris_the_parser_reads(parts: list[str]) -> None:
    """The reader checks IRIs with pyoxigraph's NamedNode: it must refuse what the N-Triples parser refuses."""
    iri = "".join(parts)
    try:
        made = ox.NamedNode(iri).value
    except ValueError:
        made = None
    try:
        read = next(iter(ox.parse(f"<{iri}> <https://example.org/p> <https://example.org/o> .".encode(),
                                  format=NT))).subject.value
    except SyntaxError:
        read = None
    assert made == read


# ------------------------------------------------------------------------------------------ named cases
NAME = b"<https://schema.org/name>"


def _object(line: bytes, term: bytes) -> bytes:
    """The line with its literal object (kg's ``schema:name`` lines have one) replaced by ``term``."""
    start = line.index(b' "') + 1
    return line[:start] + term + line[line.rindex(b'"') + 1:]


# (what, how the line changes, valid), for N-Quads and N-Triples alike
CASES: list[tuple[str, Any, bool]] = [
    ("relative IRI", lambda ln: ln.replace(b"<https://clinicaltrials.gov/study/", b"<", 1), False),
    ("bad percent-encoding in an IRI", lambda ln: ln.replace(b"/study/", b"/st%zzudy/", 1), False),
    ("escape in an IRI", lambda ln: ln.replace(b"<https://schema.org/name>", b"<https://schema.org/n\\u0061me>"),
     True),
    ("bad escape in a literal", lambda ln: _object(ln, b'"a\\xb"'), False),
    ("\\u escape of a surrogate", lambda ln: _object(ln, b'"\\ud800"'), False),
    ("\\U escape", lambda ln: _object(ln, b'"\\U0001F600"'), True),
    ("\\U escape beyond Unicode", lambda ln: _object(ln, b'"\\U00110000"'), False),
    ("raw quote in a literal", lambda ln: _object(ln, b'"a"b"'), False),
    ("raw CR in a literal", lambda ln: _object(ln, b'"a\rb"'), False),
    ("language tag", lambda ln: _object(ln, b'"x"@EN-us'), True),
    ("bad language tag", lambda ln: _object(ln, b'"x"@en-a'), False),
    ("rdf:langString datatype",
     lambda ln: _object(ln, b'"x"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#langString>'), False),
    ("blank node subject", lambda ln: b"_:b1" + ln[ln.index(b" "):], True),
    ("literal subject", lambda ln: b'"x"' + ln[ln.index(b" "):], False),
    ("tab between terms", lambda ln: ln.replace(b" ", b"\t", 1), True),
    ("two spaces between terms", lambda ln: ln.replace(b" ", b"  ", 1), True),
    ("no space before the dot", lambda ln: ln[:-3] + b".\n", True),
    ("CRLF line end", lambda ln: ln[:-1] + b"\r\n", True),
    ("lone CR before the next statement", lambda ln: ln[:-1] + b"\r" + ln, True),
    ("comment after the statement", lambda ln: ln[:-1] + b" # a comment\n", True),
    ("comment line", lambda ln: b"# a comment\n" + ln, True),
    ("blank lines", lambda ln: b"\n \t\n" + ln, True),
    ("bytes that are not UTF-8 in a literal", lambda ln: _object(ln, b'"a\xffb"'), False),
    ("bytes that are not UTF-8 in a comment", lambda ln: ln[:-1] + b" # \xff\n", True),
    ("byte order mark", lambda ln: "\ufeff".encode() + ln, False),
    ("two statements on a line", lambda ln: ln[:-1] + b" " + ln, False),
    ("statement across two lines", lambda ln: ln.replace(b" ", b"\n", 1), False),
]
QUAD_CASES: list[tuple[str, Any, bool]] = [
    ("default graph", lambda ln: ln.rsplit(b" ", 2)[0] + b" .\n", True),
    ("blank node graph", lambda ln: (ln.rsplit(b" ", 2)[0] + b" _:g .\n") * 2, True),
    ("default graph, then DEFAULT as a graph name",
     lambda ln: ln.rsplit(b" ", 2)[0] + b" .\n" + ln.rsplit(b" ", 2)[0] + b" DEFAULT .\n", False),
    ("relative graph IRI", lambda ln: ln.rsplit(b" ", 2)[0] + b" <graph/NCT00763412> .\n", False),
    ("literal graph", lambda ln: ln.rsplit(b" ", 2)[0] + b' "g" .\n', False),
]
TRIPLE_CASES: list[tuple[str, Any, bool]] = [
    ("a quad", lambda ln: ln[:-3] + b" <https://example.org/g> .\n", False),
]


def _with_changed_name_line(lines: list[bytes], change: Any) -> bytes:
    """The lines, the title line of the second record changed: the records before an error are compared too."""
    titles = [i for i, line in enumerate(lines)
              if line.startswith(b"<https://clinicaltrials.gov/study/") and b" " + NAME + b' "' in line]
    i = titles[1]
    return b"".join(lines[:i] + [change(lines[i])] + lines[i + 1:])


NAMED = [(fmt, *case) for fmt in (NQ, NT) for case in CASES] + [(NQ, *case) for case in QUAD_CASES] + [
    (NT, *case) for case in TRIPLE_CASES]


@pytest.mark.parametrize(("fmt", "what", "change", "valid"), NAMED,
                         ids=[f"{fmt.file_extension}: {what}" for fmt, what, _, _ in NAMED])
def test_lines_of_other_forms_are_left_to_pyoxigraph(fmt: ox.RdfFormat, what: str, change: Any, valid: bool,
                                                     real_lines: dict[Any, list[bytes]], tmp_path: Path,
                                                     left_to_pyoxigraph: list[Any]) -> None:
    data = _with_changed_name_line(real_lines[fmt], change)
    here = by_lines(data, fmt)
    assert here == by_pyoxigraph(data, fmt)
    assert (here[1] is None) == valid, here[1]
    assert left_to_pyoxigraph and all(isinstance(d, bytes) for d in left_to_pyoxigraph)  # that line, alone
    path = tmp_path / f"changed.{fmt.file_extension}"
    path.write_bytes(data)
    if valid:
        assert validate_file(path).records == len(here[0])
    else:  # named with the file, line and column pyoxigraph gives
        with pytest.raises(SyntaxError) as read:
            list(iter_file_records(path))
        assert str(read.value) == f"{path}: {here[1]}"
        assert "line " in str(read.value) and "column" in str(read.value)


@pytest.mark.parametrize("fmt", [NQ, NT], ids=["nq", "nt"])
def test_a_file_of_another_layout_is_read_by_pyoxigraph_after_some_lines(
        fmt: ox.RdfFormat, real_lines: dict[Any, list[bytes]], left_to_pyoxigraph: list[Any]) -> None:
    """CRLF line ends on every line: a few lines are parsed one at a time, then the rest of the source at once."""
    data = b"".join(real_lines[fmt]).replace(b"\n", b"\r\n")
    assert by_lines(data, fmt) == by_pyoxigraph(data, fmt)
    lines = [d for d in left_to_pyoxigraph if isinstance(d, bytes)]
    assert len(lines) == ntlines.OTHERS_IN_A_ROW - 1 and len(left_to_pyoxigraph) == len(lines) + 1


def test_an_error_after_the_switch_to_pyoxigraph_names_its_line(real_lines: dict[Any, list[bytes]],
                                                                tmp_path: Path) -> None:
    lines = [line.replace(b"\n", b"\r\n") for line in real_lines[NQ]]
    lines[300] = lines[300].replace(b"<https://", b"<https:// ", 1)
    path = tmp_path / "crlf.nq"
    path.write_bytes(b"".join(lines))
    with pytest.raises(SyntaxError) as read:
        list(iter_file_records(path))
    assert str(read.value) == f"{path}: {by_pyoxigraph(b''.join(lines), NQ)[1]}"


@pytest.mark.parametrize("fmt", [NQ, NT], ids=["nq", "nt"])
def test_a_file_without_line_feeds_is_not_held_whole(fmt: ox.RdfFormat, real_lines: dict[Any, list[bytes]],
                                                     left_to_pyoxigraph: list[Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines ended by CR alone are one line to a reader that splits at line feeds: it reads MAX_LINE bytes of it,
    then pyoxigraph streams the source from there (as it would have the whole file)."""
    monkeypatch.setattr(ntlines, "MAX_LINE", 4096)
    data = b"".join(real_lines[fmt][:2000]).replace(b"\n", b"\r")
    assert len(data) > 50 * ntlines.MAX_LINE
    assert by_lines(data, fmt) == by_pyoxigraph(data, fmt)
    assert len(left_to_pyoxigraph) == 1 and not isinstance(left_to_pyoxigraph[0], bytes)  # the source, at once


def test_a_line_longer_than_max_line_hands_the_rest_to_pyoxigraph(real_lines: dict[Any, list[bytes]],
                                                                   left_to_pyoxigraph: list[Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ntlines, "MAX_LINE", 4096)
    lines = list(real_lines[NQ][:200])
    at = next(i for i, line in enumerate(lines) if i > 50 and b' "' in line)
    lines[at] = _object(lines[at], b'"' + b"long text " * 1000 + b'"')
    data = b"".join(lines)
    assert by_lines(data, NQ) == by_pyoxigraph(data, NQ)
    assert len(left_to_pyoxigraph) == 1 and not isinstance(left_to_pyoxigraph[0], bytes)


@pytest.mark.parametrize("broken", [False, True], ids=["valid", "syntax-error"])
def test_a_named_pipe_is_read_by_pyoxigraph(real_lines: dict[Any, list[bytes]], tmp_path: Path, broken: bool) -> None:
    """A pipe cannot be read twice or rewound: the line reader needs that, pyoxigraph's streaming parse does not."""
    import os
    import threading

    lines = [line.replace(b"\n", b"\r\n") for line in real_lines[NQ][:3000]]  # CRLF: the reader would rewind
    if broken:
        lines[10] = lines[10].replace(b"<https://", b"<https:// ", 1)
    data = b"".join(lines)
    path = tmp_path / "pipe.nq"
    os.mkfifo(path)
    def write() -> None:
        try:
            path.write_bytes(data)
        except BrokenPipeError:  # the reader stopped at the error and closed its end
            pass

    writer = threading.Thread(target=write)
    writer.start()
    try:
        read = outcome(iter_file_records(path))
    finally:
        writer.join(timeout=30)
    expected = by_pyoxigraph(data, NQ)
    assert read[0] == expected[0]
    if broken:
        assert read[1] == f"{path}: {expected[1]}" and "line 11" in read[1]
    else:
        assert read[1] is None and len(read[0]) > 3
