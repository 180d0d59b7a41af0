"""The legacy ClinicalTrials.gov XML source, on real records kept in tests/data/ctgov_xml (see SOURCES.md)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from kg.model import Link, MeshTerm, OrgMention, PartialDate, PersonMention, Trial
from kg.report import Problem
from kg.sources import ctgov_xml

DATA = Path(__file__).parent / "data" / "ctgov_xml"
FIXTURES = sorted(p.name for p in DATA.glob("*.xml"))
PALLAS = "NCT02513394.xml"  # also in the v2 set; 233 sites, 5 collaborators
SEA_BUCKTHORN = (
    "NCT00739713.xml"  # 7 collaborators, a reference and a results_reference, old responsible party
)
DUVELISIB = "NCT04372602.xml"  # site investigators and contacts, central contacts, triple masking
HENGRUI = "NCT05482568.xml"  # Phase 1/Phase 2
NASAL_POLYPS = "NCT00739921.xml"  # a "U.S. Fed" collaborator
DUKE_OLD = "NCT00513591__ctti-clinicaltrials.xml"  # 2016 format: one-line <study_design>, lastchanged_date
WUSM = "Washington University School of Medicine"
ID_MISMATCH = "ctti-clinicaltrials__NCT00980226-id-mismatch.xml"  # edited: file named after the nct_alias


def text_of(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def read_text(text: str, origin: str = "test.xml") -> tuple[list[Trial], list[Problem]]:
    problems: list[Problem] = []
    return list(ctgov_xml.read(text, origin, problems)), problems


@cache
def trial(name: str) -> Trial:
    trials, problems = read_text(text_of(name), name)
    assert problems == []
    assert len(trials) == 1
    return trials[0]


# --- every fixture --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_is_sniffed_and_read_without_problems(name: str) -> None:
    text = text_of(name)
    assert ctgov_xml.looks_like(text)
    trials, problems = read_text(text, name)
    assert problems == []
    assert [t.provenance.source for t in trials] == ["ctgov-xml"]
    assert trials[0].provenance.origin == name


def test_fixtures_are_all_there() -> None:
    assert len(FIXTURES) == 7


# --- looks_like -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel/></rss>',
        '{"protocolSection": {"identificationModule": {"nctId": "NCT02513394"}}}',
        "<html><body><clinical_study/></body></html>",
        "clinical_study",
        "",
    ],
)
def test_looks_like_rejects_other_content(text: str) -> None:
    assert not ctgov_xml.looks_like(text)


def test_looks_like_accepts_bom_comment_and_doctype_before_the_root() -> None:
    text = (
        '\ufeff<?xml version="1.0"?>\n<!-- comment -->\n<!DOCTYPE clinical_study>\n<clinical_study rank="1">'
    )
    assert ctgov_xml.looks_like(text)


# --- identity, titles, provenance -----------------------------------------------------------------
def test_ids_and_titles() -> None:
    t = trial(PALLAS)
    assert t.nct_id == "NCT02513394"
    assert t.org_study_id == "AFT-05"
    assert [i.value for i in t.secondary_ids] == ["ABCSG 42", "BIG 14-03", "2014-005181-30"]
    assert t.acronym == "PALLAS"
    assert t.brief_title == "PALbociclib CoLlaborative Adjuvant Study"
    assert t.official_title.startswith(
        "PALbociclib CoLlaborative Adjuvant Study: A Randomized Phase III Trial"
    )


def test_provenance_has_last_update_posted_and_download_date() -> None:
    p = trial(PALLAS).provenance
    assert (p.source, p.last_update_posted, p.version_holder) == ("ctgov-xml", "2020-03-09", "2020-08-18")


def test_nct_id_comes_from_the_record_not_the_file_name() -> None:
    t = trial(ID_MISMATCH)
    assert t.nct_id == "NCT00081588"
    assert t.nct_aliases == ("NCT00980226",)


# --- status, dates, design ------------------------------------------------------------------------
def test_status_type_phase_enrollment_results() -> None:
    t = trial(PALLAS)
    assert t.overall_status == "ACTIVE_NOT_RECRUITING"
    assert t.study_type == "INTERVENTIONAL"
    assert t.phases == ("PHASE3",)
    assert (t.enrollment, t.enrollment_type) == (5796, "ACTUAL")
    assert t.has_results is False


def test_combined_phase_is_two_phases() -> None:
    assert trial(HENGRUI).phases == ("PHASE1", "PHASE2")
    assert trial(NASAL_POLYPS).phases == ("NA",)


def test_dates_keep_precision_and_type() -> None:
    dates = trial(PALLAS).dates
    assert dates["start"] == PartialDate("2015-08", "month", None)
    assert dates["primary_completion"] == PartialDate("2020-09", "month", "ESTIMATED")
    assert dates["completion"] == PartialDate("2025-09", "month", "ESTIMATED")
    assert dates["first_submitted"] == PartialDate("2015-07-29", "day", None)
    assert dates["first_posted"] == PartialDate("2015-07-31", "day", "ESTIMATED")
    assert dates["last_update_posted"] == PartialDate("2020-03-09", "day", "ACTUAL")
    assert dates["status_verified"] == PartialDate("2019-12", "month", None)
    assert trial(DUVELISIB).dates["start"] == PartialDate("2020-10-12", "day", "ACTUAL")


def test_design_with_masking_and_who_masked() -> None:
    d = trial(DUVELISIB).design
    assert d is not None
    assert (d.allocation, d.intervention_model, d.primary_purpose) == (
        "RANDOMIZED",
        "SINGLE_GROUP",
        "TREATMENT",
    )
    assert d.masking == "TRIPLE"
    assert d.who_masked == ("PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR")
    assert (
        d.masking_description
        == "Blocks of 10 patients will be used to allocate patients to duvelisib or placebo"
    )


def test_old_record_one_line_study_design_and_old_date_names() -> None:
    t = trial(DUKE_OLD)
    assert t.study_type == "OBSERVATIONAL"
    assert t.design is not None
    assert (t.design.observational_model, t.design.time_perspective) == ("COHORT", "PROSPECTIVE")
    assert t.dates["first_submitted"] == PartialDate("2007-08-06", "day")  # firstreceived_date
    assert t.dates["last_update_submitted"] == PartialDate("2016-06-14", "day")  # lastchanged_date
    assert (t.provenance.last_update_posted, t.provenance.version_holder) == ("2016-06-14", "2016-06-27")


def test_old_double_blind_masking_with_old_role_names() -> None:
    old = "<study_design>Observational Model: Cohort, Time Perspective: Prospective</study_design>"
    new = (
        "<study_design>Allocation: Randomized, Endpoint Classification: Safety/Efficacy Study, "
        "Intervention Model: Parallel Assignment, Masking: Double Blind (Subject, Caregiver), "
        "Primary Purpose: Treatment</study_design>"
    )
    text = text_of(DUKE_OLD)
    assert old in text
    [t], problems = read_text(text.replace(old, new))
    assert problems == []
    assert t.design is not None
    assert (t.design.allocation, t.design.intervention_model, t.design.primary_purpose) == (
        "RANDOMIZED",
        "PARALLEL",
        "TREATMENT",
    )
    assert (t.design.masking, t.design.who_masked) == ("DOUBLE", ("PARTICIPANT", "CARE_PROVIDER"))


# --- organisations and people ---------------------------------------------------------------------
def test_every_collaborator_with_its_class() -> None:
    t = trial(PALLAS)
    assert t.lead_sponsor == OrgMention("Alliance Foundation Trials, LLC.", "OTHER")
    assert t.collaborators == (
        OrgMention("Austrian Breast & Colorectal Cancer Study Group", "OTHER"),
        OrgMention("NSABP Foundation Inc", "OTHER"),
        OrgMention("PrECOG, LLC.", "OTHER"),
        OrgMention("Breast International Group", "OTHER"),
        OrgMention("Pfizer", "INDUSTRY"),
    )


def test_seven_collaborators() -> None:
    assert trial(SEA_BUCKTHORN).collaborators == (
        OrgMention("Turku Municipal Health Department/evo-funding", "OTHER"),
        OrgMention("Turku University Hospital", "OTHER"),
        OrgMention("Finnsusp Ltd.", "INDUSTRY"),
        OrgMention("Aromtech Ltd.", "INDUSTRY"),
        OrgMention("Shiny Horse Ltd", "OTHER"),
        OrgMention("Valioravinto Ltd", "OTHER"),
        OrgMention("The Finnish Funding Agency for Technology and Innovation (TEKES)", "OTHER"),
    )


def test_us_fed_agency_class_is_fed() -> None:
    assert trial(NASAL_POLYPS).collaborators == (OrgMention("Environmental Protection Agency (EPA)", "FED"),)


def test_officials_with_role_and_affiliation() -> None:
    assert trial(PALLAS).officials == (
        PersonMention("Monica Bertagnolli, MD", "PRINCIPAL_INVESTIGATOR", "Alliance Foundation Trials, LLC."),
        PersonMention("Erica Mayer, MD", "PRINCIPAL_INVESTIGATOR", "Dana-Farber Cancer Institute"),
        PersonMention("Angela DeMichele, MD", "PRINCIPAL_INVESTIGATOR", "University of Pennsylvania"),
        PersonMention("Michael Gnant, MD", "PRINCIPAL_INVESTIGATOR", "ABCSG, Medical University Vienna"),
    )
    assert trial(ID_MISMATCH).officials[0].role == "STUDY_DIRECTOR"


def test_responsible_party_old_name_title_and_organization() -> None:
    rp = trial(SEA_BUCKTHORN).responsible_party
    assert rp is not None
    assert (rp.type, rp.old_name_title, rp.old_organization) == (
        None,
        "Matti Viitanen/ Professor",
        "University of Turku",
    )
    assert trial(PALLAS).responsible_party.type == "SPONSOR"


def test_central_contacts_are_names_only() -> None:
    assert trial(DUVELISIB).central_contacts == (
        PersonMention("John DiPersio, M.D., Ph.D.", "CONTACT"),
        PersonMention("Erik Dubberke, M.D., MSPH", "CONTACT_BACKUP"),
    )


# --- sites ----------------------------------------------------------------------------------------
def test_number_of_sites_and_an_address() -> None:
    sites = trial(PALLAS).sites
    assert len(sites) == 233
    first = sites[0]
    assert (first.facility, first.city, first.state, first.zip, first.country) == (
        "University of South Alabama Mitchell Cancer Institute",
        "Mobile",
        "Alabama",
        "36604",
        "United States",
    )
    assert sum(s.country == "Switzerland" for s in sites) == 13


def test_site_status_investigators_and_contacts() -> None:
    site = trial(DUVELISIB).sites[1]
    facility = WUSM
    assert (site.facility, site.status) == (facility, "RECRUITING")
    assert site.people == (
        PersonMention("John DiPersio, M.D., Ph.D.", "PRINCIPAL_INVESTIGATOR", facility),
        PersonMention("Erik Dubberke, M.D., MSPH", "SUB_INVESTIGATOR", facility),
        PersonMention("Mark Fiala, MSW", "SUB_INVESTIGATOR", facility),
        PersonMention("John DiPersio, M.D., Ph.D.", "CONTACT", facility),
        PersonMention("Erik Dubberke, M.D., MSPH", "CONTACT_BACKUP", facility),
    )
    assert trial(DUVELISIB).sites[0].status == "NOT_YET_RECRUITING"


# --- conditions, interventions, arms, outcomes, eligibility ---------------------------------------
def test_mesh_terms_by_name_with_branch() -> None:
    assert trial(PALLAS).mesh_terms == (
        MeshTerm("Breast Neoplasms", None, "condition"),
        MeshTerm("Palbociclib", None, "intervention"),
    )


def test_interventions_and_arms_are_linked_by_label() -> None:
    t = trial(DUVELISIB)
    duvelisib, blood_draw, _placebo = t.interventions
    assert (duvelisib.name, duvelisib.type, duvelisib.other_names) == ("Duvelisib", "DRUG", ("Copiktra",))
    assert (blood_draw.type, blood_draw.arm_labels) == ("PROCEDURE", ("Duvelisib", "Placebo"))
    assert (
        blood_draw.description
        == "First 10 patients enrolled\nScreening, Day 2, Day 4, Day 8, Day 10, Day 15, and Day 29"
    )
    assert [(a.label, a.type, a.intervention_names) for a in t.arms] == [
        ("Duvelisib", "EXPERIMENTAL", ("Duvelisib", "Peripheral blood draw")),
        ("Placebo", "SHAM_COMPARATOR", ("Peripheral blood draw", "Placebo")),
    ]


def test_outcomes() -> None:
    outcomes = trial(DUVELISIB).outcomes
    assert (outcomes[0].kind, outcomes[0].measure, outcomes[0].time_frame) == (
        "PRIMARY",
        "Overall survival",
        "Through 28 days",
    )
    assert [o.kind for o in outcomes].count("SECONDARY") == len(outcomes) - 1


def test_eligibility() -> None:
    e = trial(PALLAS).eligibility
    assert e is not None
    assert (e.sex, e.minimum_age, e.maximum_age, e.healthy_volunteers) == ("ALL", "18 Years", None, False)
    assert e.criteria.startswith(
        "Inclusion Criteria:\n\n- Signed informed consent prior to study specific procedures."
    )
    assert trial(DUKE_OLD).eligibility.sex == "FEMALE"


def test_textblock_lines_are_joined_and_paragraphs_kept() -> None:
    summary = trial(PALLAS).brief_summary
    assert summary.startswith(
        "This is a prospective, two arm, international, multicenter, randomized, open-label Phase III study"
    )
    assert summary.count("\n\n") == 1 and "\n" not in summary.replace("\n\n", "")
    assert "\r" not in trial(DUVELISIB).brief_summary


# --- references, links, ipd, related ids ----------------------------------------------------------
def test_references_with_pmid_and_type() -> None:
    refs = trial(SEA_BUCKTHORN).references
    assert [(r.pmid, r.type) for r in refs] == [("15539258", "BACKGROUND"), ("20554904", "RESULT")]
    assert refs[1].citation.startswith("Larmo PS, Jarvinen RL")
    [power3] = trial(ID_MISMATCH).references
    assert (power3.pmid, power3.type) == ("17621237", "RESULT")
    assert power3.citation.endswith("J Acquir Immune Defic Syndr. 2007 Sep 1;46(1):24-31.")


def test_links_and_ipd_sharing() -> None:
    t = trial(DUVELISIB)
    assert t.links == (
        Link(
            "http://www.siteman.wustl.edu",
            f"Alvin J. Siteman Cancer Center at Barnes-Jewish Hospital and {WUSM}",
        ),
    )
    assert t.ipd_sharing is not None and t.ipd_sharing.sharing == "NO"
    assert trial(HENGRUI).ipd_sharing.sharing == "UNDECIDED"


def test_related_nct_ids_named_in_descriptions_exclude_own_id() -> None:
    old = "<brief_summary>\n    <textblock>\n"
    text = text_of(DUVELISIB)
    assert old in text
    [t], _ = read_text(
        text.replace(old, old + "See NCT04372602, NCT00000102 and NCT00000102 and NCT00000099.\n")
    )
    assert t.related_nct_ids == ("NCT00000099", "NCT00000102")


# --- problems -------------------------------------------------------------------------------------
def test_malformed_xml_is_one_skipped_problem() -> None:
    trials, problems = read_text(text_of(PALLAS)[:5000], "cut.xml")
    assert trials == []
    assert [(p.file, p.record, p.severity) for p in problems] == [("cut.xml", None, "skipped")]


def test_xml_that_is_not_a_clinical_study_is_one_skipped_problem() -> None:
    rss = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>x</title></channel></rss>'
    )
    trials, problems = read_text(rss, "feed.xml")
    assert trials == []
    assert len(problems) == 1
    assert (problems[0].file, problems[0].severity) == ("feed.xml", "skipped")
    assert "rss" in problems[0].message


def test_study_without_nct_id_is_skipped_naming_org_study_id() -> None:
    text = text_of(DUVELISIB).replace("<nct_id>NCT04372602</nct_id>", "")
    trials, problems = read_text(text)
    assert trials == []
    assert [(p.record, p.severity) for p in problems] == [("202007009", "skipped")]


def test_bad_date_is_dropped_naming_the_field_and_the_rest_is_built() -> None:
    text = text_of(DUVELISIB).replace(
        '<start_date type="Actual">October 12, 2020</start_date>',
        '<start_date type="Actual">Octobre 2020</start_date>',
    )
    [t], problems = read_text(text)
    assert [(p.record, p.field, p.severity) for p in problems] == [("NCT04372602", "start_date", "dropped")]
    assert "start" not in t.dates
    assert t.dates["completion"] == PartialDate("2022-04-30", "day", "ESTIMATED")
    assert len(t.sites) == 2


def test_unknown_coded_value_is_dropped_naming_field_and_value() -> None:
    text = text_of(DUVELISIB).replace(
        "<arm_group_type>Sham Comparator</arm_group_type>", "<arm_group_type>Sham</arm_group_type>"
    )
    [t], problems = read_text(text)
    assert [(p.field, p.severity) for p in problems] == [("arm_group/arm_group_type", "dropped")]
    assert "'Sham'" in problems[0].message
    assert t.arms[1].type is None and t.arms[1].label == "Placebo"


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    text = (
        f'<?xml version="1.0"?>\n<!DOCTYPE clinical_study [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n'
        "<clinical_study><id_info><nct_id>NCT00000102</nct_id></id_info><brief_title>a &x; b</brief_title>"
        "</clinical_study>"
    )
    [t], _ = read_text(text)
    assert "SECRET" not in (t.brief_title or "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("July 1999", PartialDate("1999-07", "month")),
        ("July 15, 1999", PartialDate("1999-07-15", "day")),
        ("January 4, 2014", PartialDate("2014-01-04", "day")),
        ("2014-01", PartialDate("2014-01", "month")),
        ("February 30, 2014", None),
        ("Octobre 2020", None),
    ],
)
def test_parse_date(raw: str, expected: PartialDate | None) -> None:
    assert ctgov_xml.parse_date(raw) == expected


def test_element_text_and_paths_as_elementpath_gives_them() -> None:
    """The source finds elements by child iteration, not ElementPath: the same elements and texts. A text of
    nested elements and comments joins their text; CR line ends become LF; a path takes the first match in
    document order across repeated parents (collaborators of every <sponsors>); a blank element is no value."""
    text = (
        "<clinical_study><id_info><nct_id>NCT00000102</nct_id><nct_alias> </nct_alias>"
        "<nct_alias>NCT00000103</nct_alias></id_info>"
        "<brief_title>A <!-- c --><b>bold</b> <i>word</i>&#xD;&#xA;end\r</brief_title>"
        "<acronym>  </acronym>"
        "<sponsors><lead_sponsor><agency_class>NIH</agency_class></lead_sponsor>"
        "<collaborator><agency>First</agency></collaborator></sponsors>"
        "<sponsors><lead_sponsor><agency>Lead</agency><agency_class>NIH</agency_class></lead_sponsor>"
        "<collaborator><agency>Second</agency></collaborator></sponsors>"
        "<location><facility><name>Clinic</name><address><city>Oslo</city><country>Norway</country></address>"
        "</facility><status>Recruiting</status></location>"
        "</clinical_study>"
    )
    [t], problems = read_text(text)
    assert problems == []
    assert t.nct_aliases == ("NCT00000103",)
    assert t.brief_title == "A bold word\nend"
    assert t.acronym is None
    assert t.lead_sponsor is None  # the first <lead_sponsor> (ElementPath's find) has no agency
    assert [c.name for c in t.collaborators] == ["First", "Second"]
    [site] = t.sites
    assert (site.facility, site.city, site.state, site.country, site.status) == (
        "Clinic", "Oslo", None, "Norway", "RECRUITING")
