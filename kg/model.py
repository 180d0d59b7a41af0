"""Source-neutral trial records: what every source fills and the mapping reads.

Names of people and organisations are kept exactly as registered; coded values keep the
ClinicalTrials.gov API v2 enum spelling (``PHASE2``, ``ACTUAL``, ``INDUSTRY`` ...), which every
source translates into. Nothing here knows a file format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Precision = Literal["year", "month", "day"]

# Records are values: sources build them, the mapping only reads them. They are not declared frozen
# because a frozen dataclass's __init__ costs about 4x a plain one's, and a build makes ~100 per record.
record = dataclass(slots=True)


@record
class PartialDate:
    """A registry date with its precision kept: ``2020``, ``2020-12`` or ``2020-12-31`` (never padded)."""

    value: str
    precision: Precision
    type: str | None = None  # ACTUAL / ESTIMATED where the registry says


@record
class Identifier:
    """A secondary id (grant, other registry, sponsor id) with its type, issuing domain and link."""

    value: str
    type: str | None = None
    domain: str | None = None
    link: str | None = None


@record
class OrgMention:
    """An organisation as registered on one trial: lead sponsor, collaborator or study organisation."""

    name: str
    agency_class: str | None = None  # INDUSTRY, NIH, FED, OTHER_GOV, NETWORK, INDIV, OTHER, UNKNOWN


@record
class PersonMention:
    """A person as registered: an overall official, responsible investigator or site investigator/contact."""

    name: str
    role: str | None = None  # STUDY_CHAIR, PRINCIPAL_INVESTIGATOR, STUDY_DIRECTOR, SUB_INVESTIGATOR, CONTACT ...
    affiliation: str | None = None
    title: str | None = None  # job title where given (responsible party)


@record
class ResponsibleParty:
    type: str | None = None  # SPONSOR, PRINCIPAL_INVESTIGATOR, SPONSOR_INVESTIGATOR
    investigator: PersonMention | None = None
    old_name_title: str | None = None
    old_organization: str | None = None


@record
class Intervention:
    name: str
    type: str | None = None  # DRUG, DEVICE, BIOLOGICAL, PROCEDURE, ...
    description: str | None = None
    other_names: tuple[str, ...] = ()
    arm_labels: tuple[str, ...] = ()


@record
class Arm:
    label: str
    type: str | None = None  # EXPERIMENTAL, PLACEBO_COMPARATOR, ...
    description: str | None = None
    intervention_names: tuple[str, ...] = ()


@record
class Outcome:
    kind: Literal["PRIMARY", "SECONDARY", "OTHER"]
    measure: str
    description: str | None = None
    time_frame: str | None = None


@record
class MeshTerm:
    """A MeSH term a source gives: with its UI where the source has one, else by name only."""

    term: str
    ui: str | None = None
    branch: Literal["condition", "intervention"] = "condition"
    ancestor: bool = False  # an ancestor the registry derived, not a direct match


@record
class Eligibility:
    criteria: str | None = None
    minimum_age: str | None = None  # as registered: "18 Years"
    maximum_age: str | None = None
    sex: str | None = None  # ALL, FEMALE, MALE
    healthy_volunteers: bool | None = None
    std_ages: tuple[str, ...] = ()  # CHILD, ADULT, OLDER_ADULT
    gender_based: bool | None = None
    gender_description: str | None = None
    study_population: str | None = None
    sampling_method: str | None = None


@record
class Site:
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    status: str | None = None  # RECRUITING, COMPLETED, ...
    people: tuple[PersonMention, ...] = ()  # investigators and contacts at this site


@record
class Reference:
    citation: str | None = None
    pmid: str | None = None
    type: str | None = None  # BACKGROUND, RESULT, DERIVED


@record
class Link:
    url: str
    label: str | None = None


@record
class Design:
    allocation: str | None = None
    intervention_model: str | None = None
    intervention_model_description: str | None = None
    observational_model: str | None = None
    time_perspective: str | None = None
    primary_purpose: str | None = None
    masking: str | None = None
    masking_description: str | None = None
    who_masked: tuple[str, ...] = ()


@record
class IpdSharing:
    sharing: str | None = None  # YES, NO, UNDECIDED
    description: str | None = None
    info_types: tuple[str, ...] = ()
    time_frame: str | None = None
    access_criteria: str | None = None
    url: str | None = None


@record
class Provenance:
    """Where a record came from: the rendering (``ctgov-v2``, ``ctgov-xml``, ...) and its version."""

    source: str
    origin: str = ""  # file (and member/line) it was read from; used in messages, not in the graph
    last_update_posted: str | None = None  # ISO date, orders versions of one study
    version_holder: str | None = None  # snapshot date, breaks ties between snapshots of one date


@record
class Trial:
    """One trial registration as one source rendered it."""

    provenance: Provenance
    nct_id: str | None = None
    org_study_id: str | None = None
    organization: OrgMention | None = None  # the organisation that registered the study
    nct_aliases: tuple[str, ...] = ()
    secondary_ids: tuple[Identifier, ...] = ()
    acronym: str | None = None
    brief_title: str | None = None
    official_title: str | None = None
    brief_summary: str | None = None
    detailed_description: str | None = None
    overall_status: str | None = None
    last_known_status: str | None = None
    why_stopped: str | None = None
    # date kind -> date: start, primary_completion, completion, first_submitted, first_posted,
    # last_update_submitted, last_update_posted, results_first_submitted, results_first_posted, status_verified
    dates: dict[str, PartialDate] = field(default_factory=dict)
    study_type: str | None = None
    phases: tuple[str, ...] = ()
    design: Design | None = None
    enrollment: int | None = None
    enrollment_type: str | None = None
    has_results: bool | None = None
    keywords: tuple[str, ...] = ()
    lead_sponsor: OrgMention | None = None
    collaborators: tuple[OrgMention, ...] = ()
    responsible_party: ResponsibleParty | None = None
    officials: tuple[PersonMention, ...] = ()
    central_contacts: tuple[PersonMention, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    arms: tuple[Arm, ...] = ()
    conditions: tuple[str, ...] = ()
    mesh_terms: tuple[MeshTerm, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    eligibility: Eligibility | None = None
    sites: tuple[Site, ...] = ()
    references: tuple[Reference, ...] = ()
    links: tuple[Link, ...] = ()
    ipd_sharing: IpdSharing | None = None
    related_nct_ids: tuple[str, ...] = ()  # NCT ids named in the descriptions
