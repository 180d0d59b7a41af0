"""Property-based: for generated and mutated real records, the output always parses and is deterministic."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyoxigraph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.build import BuildOptions, build
from kg.mesh import default_index

BASE = json.loads((Path(__file__).parent / "data" / "ctgov_v2" / "studies" / "NCT01151631.json").read_text())
OPTIONS = BuildOptions(mesh=default_index())

# Any JSON value, with text drawn from all of Unicode (control characters and surrogates included).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:2]):
            out += _paths(v, prefix + (i,))
    return out


PATHS = [p for p in _paths(BASE) if p[0] != "resultsSection" and p != ("protocolSection",)]


def _set(obj: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _build_text(tmp: Path, record: Any) -> str:
    out = tmp / "g.nt"
    build(studies=[record], output=out, options=OPTIONS)
    return out.read_text(encoding="utf-8")


def _parses(text: str) -> None:
    list(pyoxigraph.parse(text.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=6))
def test_mutated_real_record_always_gives_valid_deterministic_rdf(tmp_path_factory: Any, mutations: list) -> None:
    record = copy.deepcopy(BASE)
    for path, value in mutations:
        try:
            _set(record, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced the parent
    tmp = tmp_path_factory.mktemp("prop")
    first = _build_text(tmp, record)
    _parses(first)
    assert _build_text(tmp, record) == first


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=json_values)
def test_any_json_value_gives_valid_rdf(tmp_path_factory: Any, record: Any) -> None:
    _parses(_build_text(tmp_path_factory.mktemp("prop"), record))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1), nct=st.from_regex(r"NCT\d{8}", fullmatch=True))
def test_generated_names_and_ids(tmp_path_factory: Any, name: str, nct: str) -> None:
    record = copy.deepcopy(BASE)
    record["protocolSection"]["identificationModule"]["nctId"] = nct
    record["protocolSection"]["sponsorCollaboratorsModule"]["leadSponsor"]["name"] = name
    record["protocolSection"]["contactsLocationsModule"]["locations"][0]["facility"] = name
    record["protocolSection"]["referencesModule"] = {"seeAlsoLinks": [{"url": name, "label": name}]}
    text = _build_text(tmp_path_factory.mktemp("prop"), record)
    _parses(text)
    assert f"<https://clinicaltrials.gov/study/{nct}>" in text


@given(st.text())
def test_literal_escaping_round_trips(text: str) -> None:
    """What the readers of spooled N-Triples (MeSH import, resolution, build validation) unescape is what the
    writer escaped (lone surrogates excepted: they cannot be written, so they become U+FFFD)."""
    from kg.rdfterms import escape_literal, unescape_literal

    expected = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    assert unescape_literal(escape_literal(text)) == expected


def test_every_character_is_escaped_as_the_json_string_encoder_escapes_it() -> None:
    """rdfterms.string is orjson's JSON string encoder: a release that escaped another way (non-ASCII as \\uXXXX,
    U+2028, DEL) would change every output. Each character but the surrogates, in blocks."""
    from json.encoder import encode_basestring

    from kg.rdfterms import string

    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    size = 1 << 16
    for start in range(0, len(chars), size):
        block = "".join(chars[start:start + size])
        assert string(block) == encode_basestring(block)


@given(st.text())
def test_any_text_is_a_literal_pyoxigraph_reads_back(text: str) -> None:
    """The escaping (the JSON string encoder's, in C) is valid N-Triples for every text, and means the same."""
    from kg.rdfterms import string

    expected = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    line = f"<http://example.org/s> <http://example.org/p> {string(text)} .\n".encode()
    [quad] = pyoxigraph.parse(line, format=pyoxigraph.RdfFormat.N_TRIPLES)
    assert quad.object.value == expected
