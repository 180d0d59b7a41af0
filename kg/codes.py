"""Coded values: the allowed values of each coded field, as SKOS concept schemes.

The values are the ClinicalTrials.gov API v2 enums (``reference/ctgov-api-v2.openapi.yaml``), which every
source translates into. Each value becomes the IRI ``{CODE_NS}{scheme}/{VALUE}``; ``ontology/codes.ttl`` is
generated from this table by ``scripts/make_ontology_codes.py`` and a test keeps the two equal.
"""

from __future__ import annotations

CODE_NS = "https://w3id.org/trialkg/code/"

_STATUS = (
    "ACTIVE_NOT_RECRUITING", "COMPLETED", "ENROLLING_BY_INVITATION", "NOT_YET_RECRUITING", "RECRUITING",
    "SUSPENDED", "TERMINATED", "WITHDRAWN", "AVAILABLE", "NO_LONGER_AVAILABLE", "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING", "WITHHELD", "UNKNOWN",
)

SCHEMES: dict[str, tuple[str, ...]] = {
    "status": _STATUS,
    "study-type": ("EXPANDED_ACCESS", "INTERVENTIONAL", "OBSERVATIONAL"),
    "phase": ("NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"),
    "sex": ("FEMALE", "MALE", "ALL"),
    "standard-age": ("CHILD", "ADULT", "OLDER_ADULT"),
    "sampling-method": ("PROBABILITY_SAMPLE", "NON_PROBABILITY_SAMPLE"),
    "ipd-sharing": ("YES", "NO", "UNDECIDED"),
    "ipd-info-type": ("STUDY_PROTOCOL", "SAP", "ICF", "CSR", "ANALYTIC_CODE"),
    "identifier-type": (
        "NIH", "FDA", "VA", "CDC", "AHRQ", "SAMHSA", "OTHER_GRANT", "EUDRACT_NUMBER", "CTIS", "REGISTRY", "OTHER",
    ),
    "agency-class": ("NIH", "FED", "OTHER_GOV", "INDIV", "INDUSTRY", "NETWORK", "AMBIG", "OTHER", "UNKNOWN"),
    "date-type": ("ACTUAL", "ESTIMATED"),
    "responsible-party-type": ("SPONSOR", "PRINCIPAL_INVESTIGATOR", "SPONSOR_INVESTIGATOR"),
    "allocation": ("RANDOMIZED", "NON_RANDOMIZED", "NA"),
    "intervention-model": ("SINGLE_GROUP", "PARALLEL", "CROSSOVER", "FACTORIAL", "SEQUENTIAL"),
    "primary-purpose": (
        "TREATMENT", "PREVENTION", "DIAGNOSTIC", "ECT", "SUPPORTIVE_CARE", "SCREENING",
        "HEALTH_SERVICES_RESEARCH", "BASIC_SCIENCE", "DEVICE_FEASIBILITY", "OTHER",
    ),
    "observational-model": (
        "COHORT", "CASE_CONTROL", "CASE_ONLY", "CASE_CROSSOVER", "ECOLOGIC_OR_COMMUNITY", "FAMILY_BASED",
        "DEFINED_POPULATION", "NATURAL_HISTORY", "OTHER",
    ),
    "time-perspective": ("RETROSPECTIVE", "PROSPECTIVE", "CROSS_SECTIONAL", "OTHER"),
    "enrollment-type": ("ACTUAL", "ESTIMATED"),
    "arm-type": (
        "EXPERIMENTAL", "ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION", "OTHER",
    ),
    "intervention-type": (
        "BEHAVIORAL", "BIOLOGICAL", "COMBINATION_PRODUCT", "DEVICE", "DIAGNOSTIC_TEST", "DIETARY_SUPPLEMENT",
        "DRUG", "GENETIC", "PROCEDURE", "RADIATION", "OTHER",
    ),
    # Registry roles of people (ContactRole) plus the organisational roles and the responsible party.
    "role": (
        "LEAD_SPONSOR", "COLLABORATOR", "STUDY_ORGANIZATION", "RESPONSIBLE_PARTY", "STUDY_CHAIR",
        "STUDY_DIRECTOR", "PRINCIPAL_INVESTIGATOR", "SUB_INVESTIGATOR", "CONTACT", "CONTACT_BACKUP",
    ),
    "masking": ("NONE", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"),
    "who-masked": ("PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR"),
    "reference-type": ("BACKGROUND", "RESULT", "DERIVED"),
    "outcome-kind": ("PRIMARY", "SECONDARY", "OTHER"),
    "site-status": (
        "ACTIVE_NOT_RECRUITING", "COMPLETED", "ENROLLING_BY_INVITATION", "NOT_YET_RECRUITING", "RECRUITING",
        "SUSPENDED", "TERMINATED", "WITHDRAWN", "AVAILABLE",
    ),
}

# FHIR R5 research-study-party-role codes for the registry roles that have one.
FHIR_PARTY_ROLE = "http://hl7.org/fhir/research-study-party-role#"
ROLE_TO_FHIR = {
    "LEAD_SPONSOR": "lead-sponsor",
    "COLLABORATOR": "collaborator",
    "STUDY_CHAIR": "study-chair",
    "STUDY_DIRECTOR": "study-director",
    "PRINCIPAL_INVESTIGATOR": "primary-investigator",
    "SPONSOR_INVESTIGATOR": "sponsor-investigator",
}

# OBI classes for phases (obi PRs #1870, #1902).
PHASE_TO_OBI = {
    "PHASE1": "http://purl.obolibrary.org/obo/OBI_0003700",
    "PHASE2": "http://purl.obolibrary.org/obo/OBI_0003701",
    "PHASE3": "http://purl.obolibrary.org/obo/OBI_0003702",
}

_ALLOWED = {scheme: frozenset(values) for scheme, values in SCHEMES.items()}


def code_iri(scheme: str, value: str) -> str:
    return f"{CODE_NS}{scheme}/{value}"


def is_code(scheme: str, value: object) -> bool:
    return isinstance(value, str) and value in _ALLOWED[scheme]
