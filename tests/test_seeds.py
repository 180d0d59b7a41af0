"""The five seed records: each builds with ``kg build FILE --output x.ttl`` (no record skipped), and its graph
holds the facts the page shows about ids, sponsors, investigators, sites, interventions, conditions (with MeSH
UIs where the page prints MeSH terms or a condition is exactly a MeSH name) and references.

Expected values are read off the pages in tests/data/seeds by hand. Builds use the shipped MeSH index (an empty
``KG_DATA_DIR``, so an index the user imported cannot change the result).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from kg import mesh
from kg.cli import main
from tests.helpers import load, select
from tests.test_agreement import FAMILIES, TRIAL, Row, short

REPO = Path(__file__).parent.parent
SEEDS = Path("tests") / "data" / "seeds"  # relative to REPO, as a user would type it
S000, S001, S002 = "000_98a7c7b08d69e518.txt", "001_fdc323ab30377e81.txt", "002_a224f28b0d59d797.txt"
S003, S004 = "003_4e9697fa340a4ff6.txt", "004_aaa2d4630459445b.txt"

# Families beyond the agreement table: whole addresses, contacts, statuses, MeSH with labels, dates, ids.
SEED_FAMILIES: dict[str, str] = {
    **FAMILIES,
    "trial": f"SELECT ?t ?id WHERE {{ {TRIAL} ?t dcterms:identifier ?id }}",
    "last known status": f"SELECT ?x WHERE {{ {TRIAL} ?t tkg:lastKnownStatus ?x }}",
    "contacts": (f"SELECT ?name WHERE {{ {TRIAL} ?t tkg:participation ?p . ?p tkg:role ?role ; "
                 "tkg:nameAsRegistered ?name . FILTER(STRENDS(STR(?role), '/CONTACT')) }"),
    "responsible party as registered": (
        f"SELECT ?name ?title ?aff WHERE {{ {TRIAL} ?t tkg:participation ?p . ?p tkg:role ?role ; "
        "tkg:nameAsRegistered ?name . FILTER(STRENDS(STR(?role), '/RESPONSIBLE_PARTY')) "
        "OPTIONAL { ?p schema:jobTitle ?title } OPTIONAL { ?p tkg:affiliationAsRegistered ?aff } }"),
    "site addresses": (
        f"SELECT ?facility ?city ?state ?zip ?country ?status WHERE {{ {TRIAL} ?t tkg:site ?s . "
        "OPTIONAL { ?s schema:name ?facility } OPTIONAL { ?s schema:addressLocality ?city } "
        "OPTIONAL { ?s schema:addressRegion ?state } OPTIONAL { ?s schema:postalCode ?zip } "
        "OPTIONAL { ?s schema:addressCountry ?country } OPTIONAL { ?s tkg:siteStatus ?status } }"),
    "reference pmids": f"SELECT ?pmid ?type WHERE {{ {TRIAL} ?t tkg:reference ?r . ?r tkg:article/tkg:pmid ?pmid ; "
                       "tkg:referenceType ?type }",
    "condition MeSH terms": f"SELECT ?ui ?label WHERE {{ {TRIAL} ?t tkg:conditionMesh ?ui . ?ui rdfs:label ?label }}",
    "condition MeSH ancestor terms": (f"SELECT ?ui ?label WHERE {{ {TRIAL} ?t tkg:conditionMeshAncestor ?ui . "
                                      "?ui rdfs:label ?label }"),
    "dates": (f"SELECT ?kind ?value ?datatype WHERE {{ {TRIAL} ?t ?p ?d . FILTER(isLiteral(?d) && "
              "STRENDS(STR(?p), 'Date')) BIND(STRAFTER(STR(?p), '#') AS ?kind) BIND(STR(?d) AS ?value) "
              "BIND(DATATYPE(?d) AS ?datatype) }"),
    "date types": (f"SELECT ?kind ?type WHERE {{ {TRIAL} ?t ?p ?type . FILTER(STRENDS(STR(?p), 'DateType')) "
                   "BIND(STRAFTER(STR(?p), '#') AS ?kind) }"),
    "mentioned trials": f"SELECT ?x WHERE {{ {TRIAL} ?t tkg:mentionsTrial ?x }}",
}
NONE: set[Row] = set()


def _mesh(*pairs: str) -> set[Row]:
    """("D011014 Pneumonia", ...) -> {("mesh:D011014", "Pneumonia"), ...}"""
    return {(f"mesh:{p.split(' ', 1)[0]}", p.split(" ", 1)[1]) for p in pairs}


def _ct(nct: str) -> str:
    return f"https://clinicaltrials.gov/study/{nct}"


# ------------------------------------------------------------------------------------------ what each page shows
NCT04288102_FACTS: dict[str, set[Row]] = {  # seeds 001 and 002 (one trial)
    "trial": {(_ct("NCT04288102"), "NCT04288102")},
    "org study id": {("2020-013-D",)},
    "brief title": {("Treatment With Human Umbilical Cord-derived Mesenchymal Stem Cells for Severe Corona Virus "
                     "Disease 2019 (COVID-19)",)},
    "overall status": {("status/COMPLETED",)},
    "phases": {("phase/PHASE2",)},
    "enrollment count": {("100",)},
    "lead sponsor": {("Beijing 302 Hospital", "agency-class/OTHER")},
    "collaborator agency classes": {
        ("Huoshenshan Hospital", "agency-class/OTHER"),
        ("Maternal and Child Health Hospital of Hubei Province", "agency-class/OTHER"),
        ("The General Hospital of Central Theater Command", "agency-class/OTHER"),
        ("Vcanbio Cell and Gene Engineering Corp., Ltd.", "agency-class/INDUSTRY"),
    },
    "officials": {("Fu-Sheng Wang, MD, PhD", "role/STUDY_CHAIR", "Beijing 302 Hospital")},
    "responsible party": {("responsible-party-type/PRINCIPAL_INVESTIGATOR", "Fu-Sheng Wang",
                           "Head of Treatment and Research Center for Infectious Diseases, Principle Investigator, "
                           "Clinical Professor")},
    "sites": {
        ("General Hospital of Central Theater Command", "Wuhan", "China"),
        ("Maternal and Child Hospital of Hubei Province", "Wuhan", "China"),
        ("Wuhan Huoshenshan Hospital", "Wuhan", "China"),
    },
    "reference pmids": {(pmid, "reference-type/DERIVED") for pmid in ("40001244", "37149930", "34963099", "33568628")},
    "arms": {
        ("Human Umbilical Cord-Mesenchymal Stem Cells (UC-MSCs)", "arm-type/EXPERIMENTAL",
         "Participants will receive standard of care plus 3 does of UC-MSCs"),
        ("Placebo", "arm-type/PLACEBO_COMPARATOR", "Participants will receive standard of care plus 3 does of placebo"),
    },
    "interventions": {
        ("UC-MSCs", "intervention-type/BIOLOGICAL",
         "3 does of UC-MSCs(4.0\\*10E7 cells per time) intravenously at Day 0, Day 3, Day 6."),
        ("Saline containing 1% Human serum albumin(solution without UC-MSCs)", "intervention-type/BIOLOGICAL",
         "3 does of placebo(intravenously at Day 0, Day 3, Day 6)"),
    },
    "interventions in arms": {
        ("UC-MSCs", "Human Umbilical Cord-Mesenchymal Stem Cells (UC-MSCs)"),
        ("Saline containing 1% Human serum albumin(solution without UC-MSCs)", "Placebo"),
    },
    "conditions": {("Corona Virus Disease 2019(COVID-19)",)},
    # No MeSH terms are given, and the condition is no MeSH heading or entry term as written.
    "condition MeSH": NONE,
    "unresolved MeSH names": NONE,
    # "Our phase I ... study(NCT04252118)" in the description; the "More Related Trials" list is not the trial's.
    "mentioned trials": {(_ct("NCT04252118"),)},
}

EXPECTED: dict[str, dict[str, set[Row]]] = {
    S000: {  # classic ClinicalTrials.gov page, NCT04331613
        "trial": {(_ct("NCT04331613"), "NCT04331613")},
        "org study id": {("ChineseASZQ-006",)},
        "brief title": {("Safety and Efficacy of CAStem for Severe COVID-19 Associated With/Without ARDS",)},
        "official title": {("Safety and Efficacy Study of Human Embryonic Stem Cells Derived M Cells (CAStem) for the "
                            "Treatment of Severe COVID-19 Associated With or Without Acute Respiratory Distress "
                            "Syndrome (ARDS)",)},
        "overall status": {("status/UNKNOWN",)},
        "last known status": {("status/RECRUITING",)},
        "phases": {("phase/PHASE1",), ("phase/PHASE2",)},
        "enrollment count": {("9",)},
        "enrollment type": {("enrollment-type/ESTIMATED",)},
        "dates": {
            ("startDate", "2020-01-27", "xsd:date"), ("primaryCompletionDate", "2020-12", "xsd:gYearMonth"),
            ("completionDate", "2020-12", "xsd:gYearMonth"), ("firstPostedDate", "2020-04-02", "xsd:date"),
            ("lastUpdatePostedDate", "2020-04-02", "xsd:date"), ("statusVerifiedDate", "2020-01", "xsd:gYearMonth"),
        },
        "date types": {("startDateType", "date-type/ACTUAL"), ("primaryCompletionDateType", "date-type/ESTIMATED"),
                       ("completionDateType", "date-type/ESTIMATED")},
        # The page names no sponsor: only "Responsible Party: Qi Zhou, Director, ..., Chinese Academy of Sciences".
        "lead sponsor": NONE,
        "collaborators": NONE,
        "officials": {("Zhou Qi, Doctor", "role/PRINCIPAL_INVESTIGATOR",
                       "Institute of zoology, Chinese Academy of Sciences")},
        "responsible party as registered": {("Qi Zhou", "Director, Institute of Zoology, Chinese Academy of sciences",
                                             "Chinese Academy of Sciences")},
        "contacts": {("Wang Liu, Doctor",), ("Hao Jie, Doctor",)},
        # "China, Beijing, China" heads the site: country China, state "Beijing, China".
        "site addresses": {("Beijing YouAn Hospital, Capital Medical University", "Beijing", "Beijing, China",
                            "100000", "China", "site-status/RECRUITING")},
        "arms": {("CAStem", "arm-type/EXPERIMENTAL",
                  "A dose-escalation with 3 cohorts with 3 patients/cohort who receive doses of 3, 5 or 10 million "
                  "cells/kg. If there is no safety concerns for each cohort, the dose will be escalated from lower "
                  "dose to next higher dose.")},
        "interventions": {("CAStem", "intervention-type/BIOLOGICAL", "CAStem will be administered intravenously.")},
        "interventions in arms": {("CAStem", "CAStem")},
        # The page runs the conditions (and the keywords) together in one cell; kept as printed.
        "conditions": {("COVID-19 Acute Respiratory Distress Syndrome Virus; Pneumonia Acute Lung Injury",)},
        "keywords": {("CAStem Stem Cells Cell Therapy IMRCs",)},
        # The closing lines: the MeSH terms, then their ancestors, run together.
        "condition MeSH terms": _mesh(
            "D000086382 COVID-19", "D011024 Pneumonia, Viral", "D012128 Respiratory Distress Syndrome",
            "D012127 Respiratory Distress Syndrome, Newborn", "D055371 Acute Lung Injury", "D055370 Lung Injury",
            "D013577 Syndrome", "D004194 Disease", "D010335 Pathologic Processes", "D011014 Pneumonia",
            "D012141 Respiratory Tract Infections", "D007239 Infections"),
        "condition MeSH ancestor terms": _mesh(
            "D014777 Virus Diseases", "D018352 Coronavirus Infections", "D003333 Coronaviridae Infections",
            "D030341 Nidovirales Infections", "D012327 RNA Virus Infections", "D008171 Lung Diseases",
            "D012140 Respiratory Tract Diseases", "D012120 Respiration Disorders",
            "D007235 Infant, Premature, Diseases", "D007232 Infant, Newborn, Diseases", "D013898 Thoracic Injuries",
            "D014947 Wounds and Injuries"),
        "unresolved MeSH names": NONE,
        "references": NONE,
    },
    S001: {  # third-party page of NCT04288102: dates without types, no official title
        **NCT04288102_FACTS,
        "official title": NONE,
        "dates": {("startDate", "2020-03-05", "xsd:date"), ("completionDate", "2020-07-09", "xsd:date"),
                  ("lastUpdatePostedDate", "2020-08-19", "xsd:date")},
        "date types": NONE,
        "enrollment type": NONE,
        "responsible party affiliation": NONE,
    },
    S002: {  # API v2 dict of NCT04288102: everything 001 shows, and more
        **NCT04288102_FACTS,
        "official title": {("A Phase II, Multicenter, Randomized, Double-blind, Placebo-controlled Trial to Evaluate "
                            "the Efficacy and Safety of Human Umbilical Cord-derived Mesenchymal Stem Cells in the "
                            "Treatment of Severe COVID-19 Patients",)},
        "registering organisation": {("Beijing 302 Hospital", "agency-class/OTHER")},
        "responsible party affiliation": {("Fu-Sheng Wang", "Beijing 302 Hospital")},
        "enrollment type": {("enrollment-type/ACTUAL",)},
        "site addresses": {(facility, "Wuhan", "Hubei", "430000", "China", "") for facility in (
            "General Hospital of Central Theater Command", "Maternal and Child Hospital of Hubei Province",
            "Wuhan Huoshenshan Hospital")},
        "dates": {
            ("startDate", "2020-03-05", "xsd:date"), ("primaryCompletionDate", "2020-05-12", "xsd:date"),
            ("completionDate", "2020-07-09", "xsd:date"), ("firstSubmittedDate", "2020-02-24", "xsd:date"),
            ("firstPostedDate", "2020-02-28", "xsd:date"), ("lastUpdateSubmittedDate", "2020-08-18", "xsd:date"),
            ("lastUpdatePostedDate", "2020-08-19", "xsd:date"), ("statusVerifiedDate", "2020-08", "xsd:gYearMonth"),
        },
    },
    S003: {  # classic ClinicalTrials.gov page, NCT04276987
        "trial": {(_ct("NCT04276987"), "NCT04276987")},
        "org study id": {("MEXCOVID",)},
        "brief title": {("A Pilot Clinical Study on Inhalation of Mesenchymal Stem Cells Exosomes Treating Severe "
                         "Novel Coronavirus Pneumonia",)},
        "official title": {("A Pilot Clinical Study on Aerosol Inhalation of the Exosomes Derived From Allogenic "
                            "Adipose Mesenchymal Stem Cells in the Treatment of Severe Patients With Novel "
                            "Coronavirus Pneumonia",)},
        "overall status": {("status/COMPLETED",)},
        "phases": {("phase/PHASE1",)},
        "enrollment count": {("24",)},
        "enrollment type": {("enrollment-type/ACTUAL",)},
        "dates": {
            ("startDate", "2020-02-15", "xsd:date"), ("primaryCompletionDate", "2020-05-31", "xsd:date"),
            ("completionDate", "2020-07-31", "xsd:date"), ("firstPostedDate", "2020-02-19", "xsd:date"),
            ("lastUpdatePostedDate", "2020-09-07", "xsd:date"), ("statusVerifiedDate", "2020-09", "xsd:gYearMonth"),
        },
        # "Responsible Party: Ruijin Hospital" (an organisation: the sponsor); no agency class is printed.
        "lead sponsor": {("Ruijin Hospital", "")},
        "responsible party": {("responsible-party-type/SPONSOR", "", "")},
        "collaborators": NONE,
        "officials": {("Jie-ming Qu, MD.,PhD.", "role/PRINCIPAL_INVESTIGATOR",
                       "Ruijin Hospital, Medical School of Shanghai Jiaotong University Shanghai, China")},
        "site addresses": {("Ruijin Hospital Shanghai Jiao Tong University School of Medicine", "Shanghai",
                            "Shanghai", "200025", "China", "")},
        "arms": {("MSCs-derived Exosomes Treatment Group", "arm-type/EXPERIMENTAL",
                  "Conventional treatment and aerosol inhalation of MSCs-derived exosomes treatment participants will "
                  "receive conventional treatment and 5 times aerosol inhalation of MSCs-derived exosomes (2.0*10E8 "
                  "nano vesicles/3 ml at Day 1, Day 2, Day 3, Day 4, Day 5).")},
        "interventions": {("MSCs-derived exosomes", "intervention-type/BIOLOGICAL",
                           "5 times aerosol inhalation of MSCs-derived exosomes (2.0*10E8 nano vesicles/3 ml at Day 1, "
                           "Day 2, Day 3, Day 4, Day 5).")},
        "interventions in arms": {("MSCs-derived exosomes", "MSCs-derived Exosomes Treatment Group")},
        "conditions": {("Coronavirus",)},
        "keywords": {("mesenchymal stem cells exosome nebulization SARS-CoV-2 novel coronavirus pneumonia",)},
        "condition MeSH terms": _mesh("D011014 Pneumonia", "D018352 Coronavirus Infections",
                                      "D012141 Respiratory Tract Infections", "D007239 Infections",
                                      "D008171 Lung Diseases"),
        "condition MeSH ancestor terms": _mesh("D012140 Respiratory Tract Diseases", "D003333 Coronaviridae Infections",
                                               "D030341 Nidovirales Infections", "D012327 RNA Virus Infections",
                                               "D014777 Virus Diseases"),
        "unresolved MeSH names": NONE,
        "references": NONE,
    },
    S004: {  # trial-intelligence card: no NCT id, the organisation's id TJT2012
        "trial": {("https://w3id.org/trialkg/trial/intel-card/tjt2012", "TJT2012")},
        "nct id": NONE,
        "org study id": {("TJT2012",)},
        "brief title": {("Mesenchymal Stromal Cell Therapy for Severe Covid-19 Infection",)},
        "overall status": {("status/RECRUITING",)},
        # "Phase: Early phase I" contradicts the card's own protocol block (PHASE1, PHASE2); the block is kept.
        "phases": {("phase/PHASE1",), ("phase/PHASE2",)},
        "enrollment count": {("20",)},
        "enrollment type": {("enrollment-type/ESTIMATED",)},
        "dates": {("startDate", "2020-06-12", "xsd:date"), ("primaryCompletionDate", "2024-09-30", "xsd:date"),
                  ("completionDate", "2024-09-30", "xsd:date")},
        "date types": {("primaryCompletionDateType", "date-type/ESTIMATED")},  # "Estimated PCD"
        # "1 organization" is printed without its name; no people, sites or references are shown.
        "lead sponsor": NONE,
        "collaborators": NONE,
        "officials": NONE,
        "contacts": NONE,
        "sites": NONE,
        "references": NONE,
        "interventions": {("Mesenchymal stromal cells", "",
                           "Bone marrow collection and MSC expansion cultures will be carried out at the Laboratory "
                           "of Cell and Gene Therapy (LTCG) at the University of Liège as described in IMPD and its "
                           "SOPs.")},
        "intervention other names": {("Mesenchymal stromal cells", "MSC")},
        "interventions in arms": {("Mesenchymal stromal cells", "MSC therapy for severe COVID-19 infection")},
        "conditions": {("COVID-19",)},
        # No MeSH terms on the card, but the indication is exactly the MeSH heading COVID-19.
        "condition MeSH terms": _mesh("D000086382 COVID-19"),
    },
}
CASES = [(name, family, rows) for name, facts in EXPECTED.items() for family, rows in facts.items()]


# ------------------------------------------------------------------------------------------ builds
@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[pyoxigraph.Store, dict]]]:
    """Each seed built by the CLI, as a user types it: its graph and its JSON report."""
    tmp = tmp_path_factory.mktemp("seeds")
    (tmp / "no-user-data").mkdir()
    out: dict[str, tuple[pyoxigraph.Store, dict]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(mesh.DATA_DIR_ENV, str(tmp / "no-user-data"))
        mp.chdir(REPO)
        mesh.default_index.cache_clear()
        try:
            for name in EXPECTED:
                ttl, report = tmp / f"{name}.ttl", tmp / f"{name}.json"
                result = CliRunner().invoke(
                    main, ["build", str(SEEDS / name), "--output", str(ttl), "--report", str(report)])
                assert result.exit_code == 0, (name, result.output, result.exception)
                assert "1 records built" in result.output and " 0 skipped" in result.output, result.output
                out[name] = (load(ttl), json.loads(report.read_text(encoding="utf-8")))
        finally:
            mesh.default_index.cache_clear()
    assert os.environ.get(mesh.DATA_DIR_ENV) != str(tmp / "no-user-data")
    return out


def seed_rows(store: pyoxigraph.Store, family: str) -> set[Row]:
    return {tuple(short(v) for v in row) for row in select(store, SEED_FAMILIES[family])}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_seed_builds_one_record_and_skips_none(name: str, built: dict[str, tuple[pyoxigraph.Store, dict]]) -> None:
    _, report = built[name]
    assert (report["records_built"], report["records_skipped"]) == (1, 0)
    assert all(p["severity"] != "skipped" for p in report["problems"]), report["problems"]


@pytest.mark.parametrize(("name", "family", "expected"), CASES, ids=[f"{n[:3]}-{f}" for n, f, _ in CASES])
def test_seed_graph_holds_the_page_facts(
    name: str, family: str, expected: set[Row], built: dict[str, tuple[pyoxigraph.Store, dict]]
) -> None:
    store, _ = built[name]
    assert seed_rows(store, family) == expected, f"{name}: {family}"
