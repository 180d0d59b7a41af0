"""The three page sources on the real seed pages: the facts each page shows, cut pages, and format sniffing."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from kg import mesh
from kg.model import MeshTerm, OrgMention, PartialDate, PersonMention, Provenance, Trial
from kg.report import Problem
from kg.sources import ctgov_page, ctgov_v2, intel_card, third_party_page
from kg.sources.pagetext import parse_date, phases

SEEDS = Path(__file__).parent / "data" / "seeds"
CTGOV_000 = "000_98a7c7b08d69e518.txt"
THIRD_PARTY_001 = "001_fdc323ab30377e81.txt"
V2_DICT_002 = "002_a224f28b0d59d797.txt"
CTGOV_003 = "003_4e9697fa340a4ff6.txt"
CARD_004 = "004_aaa2d4630459445b.txt"
OWN_SEEDS = {ctgov_page: {CTGOV_000, CTGOV_003}, third_party_page: {THIRD_PARTY_001}, intel_card: {CARD_004}}
ALL_SEEDS = (CTGOV_000, THIRD_PARTY_001, V2_DICT_002, CTGOV_003, CARD_004)


@cache
def seed(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


@cache
def _fixture_index() -> mesh.MeshIndex:
    return mesh.load_index(SEEDS / "mesh_index_pages.tsv")


@pytest.fixture(autouse=True)
def small_mesh_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page tests split MeSH lines with the small real-MeSH subset in tests/data/seeds."""
    monkeypatch.setattr(mesh, "default_index", _fixture_index)


def read_all(module: ModuleType, text: str, origin: str = "page.txt") -> tuple[list[Trial], list[Problem]]:
    problems: list[Problem] = []
    return list(module.read(text, origin, problems)), problems


def read_one(module: ModuleType, name: str) -> tuple[Trial, list[Problem]]:
    trials, problems = read_all(module, seed(name), name)
    assert len(trials) == 1
    return trials[0], problems


def cut_before(text: str, marker: str) -> str:
    return text[: text.index(marker)]


# ------------------------------------------------------------------------------------------ shared helpers
@pytest.mark.parametrize(("printed", "expected"), [
    ("April 2, 2020", PartialDate("2020-04-02", "day")),
    ("January 2020", PartialDate("2020-01", "month")),
    ("2020-03-05", PartialDate("2020-03-05", "day")),
    ("2020", PartialDate("2020", "year")),
    ("February 30, 2020", None),
])
def test_parse_date_keeps_precision(printed: str, expected: PartialDate | None) -> None:
    assert parse_date(printed) == expected


@pytest.mark.parametrize(("printed", "expected"), [
    ("Phase 1 Phase 2", ("PHASE1", "PHASE2")),
    ("PHASE1/PHASE2", ("PHASE1", "PHASE2")),
    ("Early phase I", ("EARLY_PHASE1",)),
    ("Not Applicable", ("NA",)),
])
def test_phases_in_every_printed_form(printed: str, expected: tuple[str, ...]) -> None:
    assert phases(printed) == expected


# ------------------------------------------------------------------------------------------ sniffing
@pytest.mark.parametrize("module", list(OWN_SEEDS), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
@pytest.mark.parametrize("name", ALL_SEEDS)
def test_looks_like_only_its_own_pages(module: ModuleType, name: str) -> None:
    assert module.looks_like(seed(name)) is (name in OWN_SEEDS[module])


@pytest.mark.parametrize("module", list(OWN_SEEDS), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
@pytest.mark.parametrize("text", [
    '{"protocolSection": {"identificationModule": {"nctId": "NCT04288102"}}}',
    "<?xml version='1.0'?>\n<clinical_study><id_info><nct_id>NCT04288102</nct_id></id_info></clinical_study>",
    "just some text mentioning NCT04288102 and ClinicalTrials.gov Identifier: NCT04288102",
    "",
], ids=["v2-json", "xml", "prose", "empty"])
def test_looks_like_rejects_other_formats(module: ModuleType, text: str) -> None:
    assert module.looks_like(text) is False


# ------------------------------------------------------------------------------------------ classic page 000
def test_ctgov_000_identity_and_status() -> None:
    t, _ = read_one(ctgov_page, CTGOV_000)
    assert t.nct_id == "NCT04331613"
    assert t.brief_title == "Safety and Efficacy of CAStem for Severe COVID-19 Associated With/Without ARDS"
    assert t.official_title.startswith("Safety and Efficacy Study of Human Embryonic Stem Cells")
    assert (t.overall_status, t.last_known_status) == ("UNKNOWN", "RECRUITING")
    assert t.org_study_id == "ChineseASZQ-006"
    assert t.provenance.source == "ctgov-page"
    assert t.provenance.last_update_posted == "2020-04-02"
    assert t.has_results is False


def test_ctgov_000_dates_keep_precision_and_type() -> None:
    t, _ = read_one(ctgov_page, CTGOV_000)
    assert t.dates["start"] == PartialDate("2020-01-27", "day", "ACTUAL")
    assert t.dates["primary_completion"] == PartialDate("2020-12", "month", "ESTIMATED")
    assert t.dates["completion"] == PartialDate("2020-12", "month", "ESTIMATED")
    assert t.dates["first_posted"] == PartialDate("2020-04-02", "day")
    assert t.dates["last_update_posted"] == PartialDate("2020-04-02", "day")
    assert t.dates["status_verified"] == PartialDate("2020-01", "month")


def test_ctgov_000_design_phases_enrollment() -> None:
    t, _ = read_one(ctgov_page, CTGOV_000)
    assert t.study_type == "INTERVENTIONAL"
    assert t.phases == ("PHASE1", "PHASE2")
    assert (t.enrollment, t.enrollment_type) == (9, "ESTIMATED")
    d = t.design
    assert (d.allocation, d.intervention_model, d.masking, d.primary_purpose) == (
        "NA", "SINGLE_GROUP", "NONE", "TREATMENT")


def test_ctgov_000_condition_cell_stays_one_string() -> None:
    t, _ = read_one(ctgov_page, CTGOV_000)
    assert t.conditions == ("COVID-19 Acute Respiratory Distress Syndrome Virus; Pneumonia Acute Lung Injury",)


def test_ctgov_000_intervention_and_arm() -> None:
    t, _ = read_one(ctgov_page, CTGOV_000)
    (iv,) = t.interventions
    assert (iv.name, iv.type, iv.arm_labels) == ("CAStem", "BIOLOGICAL", ("CAStem",))
    assert iv.description == "CAStem will be administered intravenously."
    (arm,) = t.arms
    assert (arm.label, arm.type, arm.intervention_names) == ("CAStem", "EXPERIMENTAL", ("Biological: CAStem",))
    assert arm.description.startswith("A dose-escalation with 3 cohorts")


def test_ctgov_000_outcomes_with_time_frames() -> None:
    t, problems = read_one(ctgov_page, CTGOV_000)
    assert len(t.outcomes) == 17
    first = t.outcomes[0]
    assert (first.kind, first.measure, first.time_frame) == (
        "PRIMARY", "Adverse reaction (AE) and severe adverse reaction (SAE)", "Within 28 days after treatment")
    assert t.outcomes[-1].measure == "IL-8 (pg/mL)"
    assert t.outcomes[-1].description == "IL-8 in pg/mL"
    assert any(p.field == "outcomes" and p.severity == "note" for p in problems)


def test_ctgov_000_eligibility() -> None:
    e = read_one(ctgov_page, CTGOV_000)[0].eligibility
    assert (e.minimum_age, e.maximum_age, e.sex, e.healthy_volunteers) == ("18 Years", "70 Years", "ALL", False)
    assert e.std_ages == ("ADULT", "OLDER_ADULT")
    assert e.criteria.startswith("Inclusion criteria:\n- Chinese patients, aged 18 to 70 years old")
    assert e.criteria.endswith("significantly interfere with the clinical research results.")


def test_ctgov_000_contacts_site_and_official() -> None:
    t, _ = read_one(ctgov_page, CTGOV_000)
    assert [c.name for c in t.central_contacts] == ["Wang Liu, Doctor", "Hao Jie, Doctor"]
    (site,) = t.sites
    assert site.facility == "Beijing YouAn Hospital, Capital Medical University"
    assert (site.city, site.country, site.zip, site.status) == ("Beijing", "China", "100000", "RECRUITING")
    assert t.officials == (PersonMention("Zhou Qi, Doctor", "PRINCIPAL_INVESTIGATOR",
                                         "Institute of zoology, Chinese Academy of Sciences"),)


def test_ctgov_000_responsible_investigator_and_unknown_sponsor() -> None:
    t, problems = read_one(ctgov_page, CTGOV_000)
    rp = t.responsible_party.investigator
    assert (rp.name, rp.title, rp.affiliation) == (
        "Qi Zhou", "Director, Institute of Zoology, Chinese Academy of sciences", "Chinese Academy of Sciences")
    assert t.lead_sponsor is None
    assert any(p.field == "lead_sponsor" and p.severity == "note" for p in problems)


def test_ctgov_000_keyword_line_is_not_mesh() -> None:
    t, _ = read_one(ctgov_page, CTGOV_000)
    assert t.keywords == ("CAStem Stem Cells Cell Therapy IMRCs",)
    assert "Stem Cells" not in {m.term for m in t.mesh_terms}


def test_ctgov_000_mesh_lines_split_into_terms_and_ancestors() -> None:
    t, problems = read_one(ctgov_page, CTGOV_000)
    direct = [m.term for m in t.mesh_terms if not m.ancestor]
    ancestors = [m.term for m in t.mesh_terms if m.ancestor]
    assert direct == [
        "COVID-19", "Pneumonia, Viral", "Respiratory Distress Syndrome", "Respiratory Distress Syndrome, Newborn",
        "Acute Lung Injury", "Lung Injury", "Syndrome", "Disease", "Pathologic Processes", "Pneumonia",
        "Respiratory Tract Infections", "Infections",
    ]
    assert ancestors == [
        "Virus Diseases", "Coronavirus Infections", "Coronaviridae Infections", "Nidovirales Infections",
        "RNA Virus Infections", "Lung Diseases", "Respiratory Tract Diseases", "Respiration Disorders",
        "Infant, Premature, Diseases", "Infant, Newborn, Diseases", "Thoracic Injuries", "Wounds and Injuries",
    ]
    assert all(m.ui is None and m.branch == "condition" for m in t.mesh_terms)
    assert not [p for p in problems if p.field == "mesh_terms"]


def test_ctgov_unmatched_mesh_fragment_is_a_note() -> None:
    text = seed(CTGOV_000).replace("Lung Injury Syndrome Disease", "Lung Injury Zzyzx Fever Syndrome Disease")
    (t,), problems = read_all(ctgov_page, text)
    notes = [p for p in problems if p.field == "mesh_terms"]
    assert len(notes) == 1 and notes[0].severity == "note" and "'Zzyzx Fever'" in notes[0].message
    assert MeshTerm("Syndrome") in t.mesh_terms


def test_ctgov_mesh_with_shipped_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same split with the full index the package ships (when it is there)."""
    monkeypatch.undo()
    try:
        mesh.default_index()
    except (OSError, ValueError) as e:  # pragma: no cover - the index is built by another part of the project
        pytest.skip(f"no shipped MeSH index: {e}")
    t, problems = read_one(ctgov_page, CTGOV_003)
    assert [m.term for m in t.mesh_terms if not m.ancestor] == [
        "Pneumonia", "Coronavirus Infections", "Respiratory Tract Infections", "Infections", "Lung Diseases"]
    assert not [p for p in problems if p.field == "mesh_terms"]


# ------------------------------------------------------------------------------------------ classic page 003
def test_ctgov_003_sponsor_is_the_responsible_party() -> None:
    t, problems = read_one(ctgov_page, CTGOV_003)
    assert t.responsible_party.type == "SPONSOR"
    assert t.lead_sponsor == OrgMention("Ruijin Hospital")
    assert not [p for p in problems if p.severity != "note"]


def test_ctgov_003_facts() -> None:
    t, _ = read_one(ctgov_page, CTGOV_003)
    assert (t.nct_id, t.org_study_id, t.overall_status, t.last_known_status) == (
        "NCT04276987", "MEXCOVID", "COMPLETED", None)
    assert t.phases == ("PHASE1",)
    assert (t.enrollment, t.enrollment_type) == (24, "ACTUAL")
    assert t.dates["primary_completion"] == PartialDate("2020-05-31", "day", "ACTUAL")
    assert t.dates["status_verified"] == PartialDate("2020-09", "month")
    assert t.conditions == ("Coronavirus",)
    assert [(iv.name, iv.type) for iv in t.interventions] == [("MSCs-derived exosomes", "BIOLOGICAL")]
    assert t.arms[0].label == "MSCs-derived Exosomes Treatment Group"
    assert t.officials[0].name == "Jie-ming Qu, MD.,PhD."
    assert t.detailed_description.startswith("Since December 2019, SARS-CoV-2 infection")
    assert t.keywords == ("mesenchymal stem cells exosome nebulization SARS-CoV-2 novel coronavirus pneumonia",)
    assert [m.term for m in t.mesh_terms if m.ancestor][0] == "Respiratory Tract Diseases"


def test_ctgov_003_site_and_ipd() -> None:
    t, _ = read_one(ctgov_page, CTGOV_003)
    (site,) = t.sites
    assert site.facility == "Ruijin Hospital Shanghai Jiao Tong University School of Medicine"
    assert (site.city, site.state, site.country, site.zip, site.status) == (
        "Shanghai", "Shanghai", "China", "200025", None)
    assert t.ipd_sharing.sharing == "YES"
    assert t.ipd_sharing.info_types == ("STUDY_PROTOCOL", "SAP", "ICF", "CSR", "ANALYTIC_CODE")
    assert t.ipd_sharing.time_frame == "Starting 6 months after publication"


def test_ctgov_page_cut_short_keeps_what_is_before_the_cut() -> None:
    text = cut_before(seed(CTGOV_000), "Ages Eligible for Study")
    (t,), problems = read_all(ctgov_page, text, "cut.txt")
    (problem,) = [p for p in problems if p.field == "page"]
    assert problem.file == "cut.txt" and problem.severity == "dropped"
    assert "eligibility" in problem.message and "Other Study ID Numbers" in problem.message
    assert t.nct_id == "NCT04331613" and t.phases == ("PHASE1", "PHASE2")
    assert len(t.outcomes) == 17 and t.arms[0].label == "CAStem"
    assert t.eligibility is None and t.sites == () and t.mesh_terms == ()


def test_regression_condition_table_without_typed_intervention_does_not_crash() -> None:
    text = seed(CTGOV_000).replace("| Biological: CAStem | Phase 1 Phase 2 |", "| CAStem | Phase 1 Phase 2 |")
    (t,), _ = read_all(ctgov_page, text)
    assert [(iv.name, iv.type) for iv in t.interventions] == [("CAStem", "BIOLOGICAL")]  # from the arm table


def test_ctgov_page_without_nct_id_is_skipped() -> None:
    text = seed(CTGOV_000).replace("NCT04331613", "")
    trials, problems = read_all(ctgov_page, text)
    assert trials == []
    assert [p.severity for p in problems] == ["skipped"]


# ------------------------------------------------------------------------------------------ third-party page 001
def test_third_party_sponsors_with_role_and_class() -> None:
    t, problems = read_one(third_party_page, THIRD_PARTY_001)
    assert t.lead_sponsor == OrgMention("Beijing 302 Hospital", "OTHER")
    assert t.collaborators == (
        OrgMention("Huoshenshan Hospital", "OTHER"),
        OrgMention("Maternal and Child Health Hospital of Hubei Province", "OTHER"),
        OrgMention("The General Hospital of Central Theater Command", "OTHER"),
        OrgMention("Vcanbio Cell and Gene Engineering Corp., Ltd.", "INDUSTRY"),
    )
    assert problems == []


def test_third_party_people() -> None:
    t, _ = read_one(third_party_page, THIRD_PARTY_001)
    assert t.officials == (PersonMention("Fu-Sheng Wang, MD, PhD", "STUDY_CHAIR", "Beijing 302 Hospital"),)
    assert t.responsible_party.type == "PRINCIPAL_INVESTIGATOR"
    assert t.responsible_party.investigator.name == "Fu-Sheng Wang"
    assert t.responsible_party.investigator.title.startswith("Head of Treatment and Research Center")


def test_third_party_sites() -> None:
    t, _ = read_one(third_party_page, THIRD_PARTY_001)
    assert len(t.sites) == 3
    site = t.sites[2]
    assert (site.facility, site.city, site.state, site.country) == (
        "Wuhan Huoshenshan Hospital", "Wuhan", "Hubei", "China")


def test_third_party_arms_and_interventions() -> None:
    t, _ = read_one(third_party_page, THIRD_PARTY_001)
    assert [(a.label, a.type, a.intervention_names) for a in t.arms] == [
        ("Human Umbilical Cord-Mesenchymal Stem Cells (UC-MSCs)", "EXPERIMENTAL", ("Biological: UC-MSCs",)),
        ("Placebo", "PLACEBO_COMPARATOR",
         ("Biological: Saline containing 1% Human serum albumin(solution without UC-MSCs)",)),
    ]
    assert [(iv.name, iv.type, iv.arm_labels) for iv in t.interventions] == [
        ("UC-MSCs", "BIOLOGICAL", ("Human Umbilical Cord-Mesenchymal Stem Cells (UC-MSCs)",)),
        ("Saline containing 1% Human serum albumin(solution without UC-MSCs)", "BIOLOGICAL", ("Placebo",)),
    ]
    assert t.interventions[1].description == "3 does of placebo(intravenously at Day 0, Day 3, Day 6)"


def test_third_party_basic_information_and_design() -> None:
    t, _ = read_one(third_party_page, THIRD_PARTY_001)
    assert (t.nct_id, t.overall_status, t.study_type, t.phases, t.enrollment) == (
        "NCT04288102", "COMPLETED", "INTERVENTIONAL", ("PHASE2",), 100)
    assert t.dates["start"] == PartialDate("2020-03-05", "day")
    assert t.dates["completion"] == PartialDate("2020-07-09", "day")
    assert t.provenance.last_update_posted == "2020-08-19"
    assert t.design.masking == "QUADRUPLE"
    assert t.design.who_masked == ("PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR")
    assert t.design.intervention_model_description == "Randomized, double-blind, placebo-controlled study"
    assert t.conditions == ("Corona Virus Disease 2019(COVID-19)",)


def test_third_party_references_ids_and_eligibility() -> None:
    t, _ = read_one(third_party_page, THIRD_PARTY_001)
    assert [(r.pmid, r.type) for r in t.references] == [
        ("40001244", "DERIVED"), ("37149930", "DERIVED"), ("34963099", "DERIVED"), ("33568628", "DERIVED")]
    assert t.references[0].citation.startswith("Yuan MQ, Song L")
    assert t.org_study_id == "2020-013-D" and t.secondary_ids == ()
    e = t.eligibility
    assert (e.minimum_age, e.maximum_age, e.sex, e.healthy_volunteers) == ("18 Years", "75 Years", "ALL", False)
    assert e.criteria.startswith("Inclusion Criteria\n\n1. Male or female")


def test_third_party_related_trials_are_from_the_description_only() -> None:
    t, _ = read_one(third_party_page, THIRD_PARTY_001)
    assert t.related_nct_ids == ("NCT04252118",)  # NCT04355728 is the site's "More Related Trials" suggestion


def test_third_party_agrees_with_the_v2_rendering_of_the_same_trial() -> None:
    page, _ = read_one(third_party_page, THIRD_PARTY_001)
    (v2,), _ = read_all(ctgov_v2, seed(V2_DICT_002))
    for name in ("nct_id", "org_study_id", "brief_title", "overall_status", "study_type", "phases", "enrollment",
                 "lead_sponsor", "collaborators", "officials", "arms", "conditions"):
        assert getattr(page, name) == getattr(v2, name), name
    assert [(i.name, i.type, i.description, i.arm_labels) for i in page.interventions] == [
        (i.name, i.type, i.description, i.arm_labels) for i in v2.interventions]
    assert [(r.pmid, r.type) for r in page.references] == [(r.pmid, r.type) for r in v2.references]
    assert [(s.facility, s.city, s.state, s.country) for s in page.sites] == [
        (s.facility, s.city, s.state, s.country) for s in v2.sites]
    assert {k: d.value for k, d in page.dates.items()} == {k: v2.dates[k].value for k in page.dates}


def test_third_party_page_cut_short_keeps_what_is_before_the_cut() -> None:
    text = cut_before(seed(THIRD_PARTY_001), "\nSponsors\n")
    (t,), problems = read_all(third_party_page, text, "cut.txt")
    (problem,) = problems
    assert problem.file == "cut.txt" and problem.field == "page"
    assert "Sponsors" in problem.message and "Other Identifiers" in problem.message
    assert t.lead_sponsor is None and t.org_study_id is None
    assert t.eligibility.maximum_age == "75 Years" and len(t.arms) == 2


def test_third_party_identifier_cut_before_its_source_is_left_out() -> None:
    text = cut_before(seed(THIRD_PARTY_001), "Identifier Type: -")
    (t,), problems = read_all(third_party_page, text)
    assert t.org_study_id is None and t.secondary_ids == ()
    assert [(p.field, p.severity) for p in problems] == [("secondary_ids", "dropped")]
    assert "2020-013-D" in problems[0].message


def test_third_party_page_without_nct_id_is_skipped() -> None:
    text = seed(THIRD_PARTY_001).replace("NCT ID: NCT04288102", "NCT ID:")
    trials, problems = read_all(third_party_page, text)
    assert trials == [] and [p.severity for p in problems] == ["skipped"]


# ------------------------------------------------------------------------------------------ intelligence card 004
def test_card_identity_status_dates() -> None:
    t, _ = read_one(intel_card, CARD_004)
    assert (t.nct_id, t.org_study_id) == (None, "TJT2012")
    assert t.brief_title == "Mesenchymal Stromal Cell Therapy for Severe Covid-19 Infection"
    assert t.overall_status == "RECRUITING"
    assert t.dates["start"] == PartialDate("2020-06-12", "day")
    assert t.dates["primary_completion"] == PartialDate("2024-09-30", "day", "ESTIMATED")
    assert t.dates["completion"] == PartialDate("2024-09-30", "day")
    assert t.provenance == Provenance("intel-card", CARD_004, "2024-05-09")
    assert t.conditions == ("COVID-19",)


def test_card_phase_conflict_keeps_the_protocol_block_and_notes_it() -> None:
    t, problems = read_one(intel_card, CARD_004)
    assert t.phases == ("PHASE1", "PHASE2")
    (note,) = problems
    assert (note.field, note.severity, note.record) == ("phase", "note", "TJT2012")
    assert "Early phase I" in note.message and "PHASE1, PHASE2" in note.message


def test_card_protocol_block_design_and_size() -> None:
    t, _ = read_one(intel_card, CARD_004)
    assert t.study_type == "INTERVENTIONAL"
    assert (t.enrollment, t.enrollment_type) == (20, "ESTIMATED")
    assert (t.design.allocation, t.design.intervention_model, t.design.masking, t.design.primary_purpose) == (
        "NA", "SINGLE_GROUP", "NONE", "TREATMENT")
    assert t.organization is None  # neither the card nor its protocol block names the organisation


def test_card_treatment_arm_and_endpoints_once_each() -> None:
    t, _ = read_one(intel_card, CARD_004)
    (iv,) = t.interventions
    assert (iv.name, iv.other_names, iv.arm_labels) == (
        "Mesenchymal stromal cells", ("MSC",), ("MSC therapy for severe COVID-19 infection",))
    assert t.arms[0].intervention_names == ("Mesenchymal stromal cells",)
    assert [(o.kind, o.measure, o.time_frame) for o in t.outcomes] == [
        ("PRIMARY", "To evaluate the safety of intravenous infusion of MSC in patients with severe to critical "
                    "COVID-19 pneumonia", "Day 28"),
        ("PRIMARY", "To evaluate the efficacy of intravenous infusion of MSC in patients with severe to critical "
                    "COVID-19 pneumonia", "Day 28"),
    ]
    assert t.eligibility.criteria.startswith("COVID-19 patients Inclusion criteria * Male or female")


def test_card_organisation_from_the_protocol_block() -> None:
    text = seed(CARD_004).replace("{'studyType'", "{'organization': {'fullName': 'University of Liege', "
                                                  "'class': 'OTHER'}, 'studyType'")
    (t,), _ = read_all(intel_card, text)
    assert t.organization == OrgMention("University of Liege", "OTHER")


def test_card_cut_in_the_protocol_block() -> None:
    text = cut_before(seed(CARD_004), "'enrollmentInfo'")
    (t,), problems = read_all(intel_card, text, "cut.txt")
    assert {(p.field, p.severity) for p in problems} == {("protocol", "dropped"), ("page", "dropped")}
    (page,) = [p for p in problems if p.field == "page"]
    assert page.file == "cut.txt" and "Indication" in page.message
    assert t.org_study_id == "TJT2012" and t.overall_status == "RECRUITING"
    assert t.phases == ("EARLY_PHASE1",) and t.enrollment == 20 and len(t.outcomes) == 2


def test_card_without_name_is_skipped() -> None:
    text = seed(CARD_004).replace("Name\nTJT2012\n", "")
    trials, problems = read_all(intel_card, text)
    assert trials == [] and [p.severity for p in problems] == ["skipped"]
