"""The versioned normaliser and IRI minting: which registered names meet and which stay apart."""

from __future__ import annotations

import pytest

from kg.identity import Iris, is_masked_site_name, normalise_org_name, person_tokens

IRIS = Iris()


@pytest.mark.parametrize("a, b", [
    ("The General Hospital of Central Theater Command", "General Hospital of Central Theater Command"),
    ("Pfizer Inc.", "Pfizer, Incorporated"),
    ("M.D. Anderson Cancer Center", "MD Anderson Cancer Center"),
    ("Hôpital Européen Georges-Pompidou", "Hopital Europeen Georges Pompidou"),
    ("Johns Hopkins Univ.", "Johns Hopkins University"),
    ("AbbVie /ID# 253048", "AbbVie"),
    ("Aarhus University Hospital ( Site 0702)", "Aarhus University Hospital"),  # v2: real MSD site-code forms
    ("Beth Israel Deaconess Medical Center-Site Number:8400004", "Beth Israel Deaconess Medical Center"),
    ("Colorado Blood Cancer Institute - Site 2726", "Colorado Blood Cancer Institute"),
    ("Eli Lilly & Company", "Eli Lilly and Co"),
])
def test_variants_meet(a: str, b: str) -> None:
    assert IRIS.org(a) == IRIS.org(b)


@pytest.mark.parametrize("a, b", [
    ("Daiichi Sankyo Co., Ltd.", "Daiichi Sankyo, Inc."),  # parent and US subsidiary
    ("Beijing 302 Hospital", "Beijing 301 Hospital"),
    ("University of Texas", "University of Texas MD Anderson Cancer Center"),  # parent and child
])
def test_different_organisations_stay_apart(a: str, b: str) -> None:
    assert IRIS.org(a) != IRIS.org(b)


@pytest.mark.parametrize("name", ["Research Site", "Local Institution - 0024", "GSK Investigational Site", "Site 12",
                                  "Investigational Site Number :0360001", "Teva Investigational Site 80127"])
def test_masked_site_names_are_never_merged_across_trials(name: str) -> None:
    assert is_masked_site_name(name)
    assert IRIS.org(name, "NCT00000001") != IRIS.org(name, "NCT00000002")


def test_real_organisation_names_are_not_masked() -> None:
    assert not is_masked_site_name("Mayo Clinic")
    assert not is_masked_site_name("Colorado Blood Cancer Institute - Site 2726")  # a real name with a site code
    assert IRIS.org("Mayo Clinic", "NCT00000001") == IRIS.org("Mayo Clinic", "NCT00000002")


def test_person_name_order_and_degrees_do_not_matter() -> None:
    assert person_tokens("Zhou Qi") == person_tokens("Qi Zhou, MD, PhD")


def test_same_person_name_meets_only_within_one_affiliation() -> None:
    org_a, org_b = IRIS.org("Chinese Academy of Sciences"), IRIS.org("Peking University")
    assert IRIS.person("Qi Zhou", org_a, "NCT1") == IRIS.person("Zhou Qi, MD", org_a, "NCT2")
    assert IRIS.person("Qi Zhou", org_a, "NCT1") != IRIS.person("Qi Zhou", org_b, "NCT1")
    # Without an affiliation a name is only known within its trial: never merged on name alone.
    assert IRIS.person("Qi Zhou", None, "NCT00000001") != IRIS.person("Qi Zhou", None, "NCT00000002")


def test_trial_without_nct_id_gets_a_minted_iri() -> None:
    trial_id = IRIS.trial_id(None, "TJT2012", "University of Liège")
    assert IRIS.trial(trial_id) == "https://w3id.org/trialkg/trial/university-of-liege/tjt2012"
    assert IRIS.trial(IRIS.trial_id("NCT04288102", None, None)) == "https://clinicaltrials.gov/study/NCT04288102"


def test_normalised_key_is_readable() -> None:
    assert normalise_org_name("The University of Texas M.D. Anderson Cancer Center") == \
        "university of texas md anderson cancer center"
