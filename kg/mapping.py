"""Mapping: one model record to the triples of its named graph. Pure: no I/O, same record, same triples.

Shared entities (canonical organisations and people, site locations) are typed in every record graph that
names them, so each record graph stands alone; their names and keys go to the one entities graph instead
(``MappedRecord.shared``), so a store holds each of them once rather than once per record that mentions it.

Read it like a table: the one-to-one fields are the (record field, predicate, term maker) lists at the
top; nested parts (parties, sites, arms ...) each have a small function below. Triples are tuples of
N-Triples term strings (see :mod:`kg.rdfterms`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from typing import NamedTuple, Protocol

from kg import rdfterms as t
from kg.codes import SCHEMES, code_iri, is_code
from kg.identity import (
    CTGOV_API_STUDY,
    NCT_RE,
    NORMALISER_VERSION,
    Iris,
    mesh_iri,
    normalise_org_name,
    org_key,
    pubmed_iri,
)
from kg.model import MeshTerm, OrgMention, PersonMention, Trial
from kg.report import Problem
from kg.vocab import DCTERMS, FABIO, OBO, OWL, PROV, RDF, SCHEMA, SKOS, TKG

Triple = tuple[str, str, str]
RESOLUTION_METHOD = f"normaliser-v{NORMALISER_VERSION}"


class MeshLookup(Protocol):
    """What the mapping needs of a MeSH index: UI normalisation and name resolution."""

    def normalise_ui(self, ui: str) -> str | None: ...

    def resolve(self, name: str) -> str | None: ...


# ------------------------------------------------------------------------------------------ tables
# (Trial field, predicate, term maker) for the plain one-to-one literals.
TRIAL_LITERALS: list[tuple[str, str, Callable[[str], str]]] = [
    ("org_study_id", TKG.orgStudyId, t.string),
    ("acronym", TKG.acronym, t.string),
    ("brief_title", SCHEMA.name, t.string),
    ("official_title", TKG.officialTitle, t.string),
    ("brief_summary", DCTERMS.abstract, t.string),
    ("detailed_description", SCHEMA.description, t.string),
    ("why_stopped", TKG.whyStopped, t.string),
]
# (Trial field, predicate, code scheme) for coded single values.
TRIAL_CODES: list[tuple[str, str, str]] = [
    ("overall_status", TKG.overallStatus, "status"),
    ("last_known_status", TKG.lastKnownStatus, "status"),
    ("study_type", TKG.studyType, "study-type"),
    ("enrollment_type", TKG.enrollmentType, "enrollment-type"),
]
DESIGN_CODES: list[tuple[str, str, str]] = [
    ("allocation", TKG.allocation, "allocation"),
    ("intervention_model", TKG.interventionModel, "intervention-model"),
    ("observational_model", TKG.observationalModel, "observational-model"),
    ("time_perspective", TKG.timePerspective, "time-perspective"),
    ("primary_purpose", TKG.primaryPurpose, "primary-purpose"),
    ("masking", TKG.masking, "masking"),
]
DESIGN_LITERALS: list[tuple[str, str]] = [
    ("intervention_model_description", TKG.interventionModelDescription),
    ("masking_description", TKG.maskingDescription),
]
# Trial.dates key -> (date predicate, date-type predicate or None when the registry gives no type).
DATE_PREDICATES: dict[str, tuple[str, str | None]] = {
    "start": (TKG.startDate, TKG.startDateType),
    "primary_completion": (TKG.primaryCompletionDate, TKG.primaryCompletionDateType),
    "completion": (TKG.completionDate, TKG.completionDateType),
    "first_submitted": (TKG.firstSubmittedDate, None),
    "first_posted": (TKG.firstPostedDate, TKG.firstPostedDateType),
    "last_update_submitted": (TKG.lastUpdateSubmittedDate, None),
    "last_update_posted": (TKG.lastUpdatePostedDate, TKG.lastUpdatePostedDateType),
    "results_first_submitted": (TKG.resultsFirstSubmittedDate, None),
    "results_first_posted": (TKG.resultsFirstPostedDate, TKG.resultsFirstPostedDateType),
    "status_verified": (TKG.statusVerifiedDate, None),
}
ELIGIBILITY_LITERALS: list[tuple[str, str]] = [
    ("criteria", TKG.criteria),
    ("minimum_age", TKG.minimumAge),
    ("maximum_age", TKG.maximumAge),
    ("gender_description", TKG.genderDescription),
    ("study_population", TKG.studyPopulation),
]
SITE_LITERALS: list[tuple[str, str]] = [
    ("facility", SCHEMA.name),
    ("city", SCHEMA.addressLocality),
    ("state", SCHEMA.addressRegion),
    ("zip", SCHEMA.postalCode),
    ("country", SCHEMA.addressCountry),
]
# The trial's link to an article it cites, by reference type (schema:citation links every cited article).
CITATION_PREDICATES = {"RESULT": TKG.resultPublication, "BACKGROUND": TKG.backgroundPublication,
                       "DERIVED": TKG.derivedPublication}
OUTCOME_PREDICATES = {"PRIMARY": TKG.primaryOutcome, "SECONDARY": TKG.secondaryOutcome, "OTHER": TKG.otherOutcome}
STUDY_TYPE_CLASSES = {
    "INTERVENTIONAL": (SCHEMA.MedicalTrial, OBO.OBI_0003699),
    "OBSERVATIONAL": (SCHEMA.MedicalObservationalStudy, OBO.OBI_0003693),
}
MESH_PREDICATES = {
    ("condition", False): TKG.conditionMesh,
    ("condition", True): TKG.conditionMeshAncestor,
    ("intervention", False): TKG.interventionMesh,
    ("intervention", True): TKG.interventionMeshAncestor,
}


_CODE_TERMS = {(scheme, v): t.ref(code_iri(scheme, v)) for scheme, values in SCHEMES.items() for v in values}


def code(scheme: str, value: str) -> str:
    """The concept IRI of a coded value (sources only pass values the scheme allows)."""
    return _CODE_TERMS[(scheme, value)]


# ------------------------------------------------------------------------------------------ result
@dataclass
class MappedRecord:
    """The triples of one record's named graph, and what the build needs to know about it."""

    trial_id: str
    trial_iri: str
    graph_iri: str
    triples: list[Triple]
    shared: list[Triple] = field(default_factory=list)  # for the entities graph: names and keys of shared nodes
    mesh_uis: set[str] = field(default_factory=set)


class _Emitter:
    """Collects a record's triples: ``add((s, p, o))`` is the list's own append (no Python call per triple);
    ``shared`` collects what belongs in the entities graph."""

    __slots__ = ("triples", "add", "shared")

    def __init__(self) -> None:
        self.triples: list[Triple] = []
        self.add = self.triples.append
        self.shared: list[Triple] = []

    def text(self, s: str, p: str, value: str | None) -> None:
        if value:
            self.add((s, p, t.string(value)))


# ------------------------------------------------------------------------------------------ the record
def map_trial(
    trial: Trial, iris: Iris, mesh: MeshLookup | None = None, problems: list[Problem] | None = None
) -> MappedRecord:
    """The named graph of one record: its trial, the trial's parts, and the graph's own provenance."""
    problems = problems if problems is not None else []
    iris = iris.for_rendering(trial.provenance.source)
    org_name = trial.organization.name if trial.organization else (
        trial.lead_sponsor.name if trial.lead_sponsor else None
    )
    trial_id = iris.trial_id(trial.nct_id, trial.org_study_id, org_name, trial.provenance.source)
    trial_iri = iris.trial(trial_id)
    s = t.iri(trial_iri)
    e = _Emitter()
    mesh_uis: set[str] = set()
    where = (trial.provenance.origin, trial.nct_id or trial_id)

    e.add((s, RDF.type, TKG.ClinicalStudy))
    for cls in STUDY_TYPE_CLASSES.get(trial.study_type or "", ()):
        e.add((s, RDF.type, cls))
    e.text(s, DCTERMS.identifier, trial.nct_id or trial.org_study_id)
    if trial.nct_id:
        e.add((s, TKG.nctId, t.string(trial.nct_id)))
    for alias in trial.nct_aliases:
        e.add((s, OWL.sameAs, t.iri(iris.nct_trial(alias))))
    for fld, pred, make in TRIAL_LITERALS:
        value = getattr(trial, fld)
        if value:
            e.add((s, pred, make(value)))
    for fld, pred, scheme in TRIAL_CODES:
        value = getattr(trial, fld)
        if value:
            e.add((s, pred, code(scheme, value)))
    for kind, d in sorted(trial.dates.items()):
        date_pred, type_pred = DATE_PREDICATES[kind]
        e.add((s, date_pred, t.date(d.value, d.precision)))
        if type_pred and d.type:
            e.add((s, type_pred, code("date-type", d.type)))
    for phase in trial.phases:
        e.add((s, TKG.phase, code("phase", phase)))
    if trial.enrollment is not None:
        e.add((s, TKG.enrollment, t.integer(trial.enrollment)))
    if trial.has_results is not None:
        e.add((s, TKG.hasResults, t.boolean(trial.has_results)))
    for kw in trial.keywords:
        e.add((s, SCHEMA.keywords, t.string(kw)))
    for cond in trial.conditions:
        e.add((s, TKG.conditionText, t.string(cond)))
    for nct in trial.related_nct_ids:
        if NCT_RE.match(nct):
            e.add((s, TKG.mentionsTrial, t.iri(iris.nct_trial(nct))))

    _design(e, s, trial)
    _identifiers(e, s, trial, trial_id, iris)
    _organisations(e, s, trial, trial_id, iris)
    _people(e, s, trial, trial_id, iris)
    _arms_and_interventions(e, s, trial, trial_id, iris, problems, where)
    _mesh(e, s, _mesh_terms_of(trial, mesh), mesh, mesh_uis, problems, where)
    _outcomes(e, s, trial, trial_id, iris)
    _eligibility(e, s, trial, trial_id, iris)
    _sites(e, s, trial, trial_id, iris)
    _references(e, s, trial, trial_id, iris)
    _ipd(e, s, trial, trial_id, iris)

    graph = iris.graph(trial_id, trial.provenance.source)
    _graph_description(e, t.iri(graph), s, trial)
    return MappedRecord(trial_id, trial_iri, graph, e.triples, e.shared, mesh_uis)


def _design(e: _Emitter, s: str, trial: Trial) -> None:
    d = trial.design
    if d is None:
        return
    for fld, pred, scheme in DESIGN_CODES:
        value = getattr(d, fld)
        if value:
            e.add((s, pred, code(scheme, value)))
    for fld, pred in DESIGN_LITERALS:
        e.text(s, pred, getattr(d, fld))
    for who in d.who_masked:
        e.add((s, TKG.whoMasked, code("who-masked", who)))


def _identifiers(e: _Emitter, s: str, trial: Trial, trial_id: str, iris: Iris) -> None:
    prefix = _part_prefix(iris, trial_id, "identifier")
    for n, ident in enumerate(trial.secondary_ids, start=1):
        node = f"{prefix}{n}>"
        e.add((s, TKG.secondaryId, node))
        e.add((node, RDF.type, TKG.Identifier))
        e.add((node, SCHEMA.value, t.string(ident.value)))
        if ident.type:
            e.add((node, TKG.identifierType, code("identifier-type", ident.type)))
        e.text(node, TKG.identifierDomain, ident.domain)
        if ident.link:
            e.add((node, SCHEMA.url, t.typed(ident.link, t.XSD_ANYURI)))


def _part_prefix(iris: Iris, trial_id: str, kind: str) -> str:
    """``<`` and the part IRI of ``kind`` up to its number: a loop's nodes are then one f-string each."""
    return "<" + iris.part(trial_id, kind, "")


# ------------------------------------------------------------------------------------------ parties
def _canonical_org(e: _Emitter, name: str, iris: Iris, trial_id: str) -> str:
    org, names = _org_names(iris.org(name, trial_id), name)
    e.add((org, RDF.type, TKG.Organization))
    e.shared.extend(names)
    return org


@lru_cache(maxsize=1 << 16)
def _org_names(org_iri: str, name: str) -> tuple[str, tuple[Triple, ...]]:
    """A canonical organisation's term and its entities-graph triples for one registered name; the same few
    thousand names recur across records."""
    org = t.ref(org_iri)
    return org, ((org, SKOS.altLabel, t.string(name)), (org, TKG.normalisedKey, t.string(normalise_org_name(name))))


def _location(location_iri: str, facility: str | None, city: str | None, country: str | None
              ) -> tuple[str, tuple[Triple, ...]]:
    """A site location's term and its entities-graph triples (made once per distinct place: _site_facts is cached)."""
    loc = t.ref(location_iri)
    labels = ((SCHEMA.name, facility), (SCHEMA.addressLocality, city), (SCHEMA.addressCountry, country))
    return loc, ((loc, RDF.type, TKG.Location), *[(loc, p, t.string(v)) for p, v in labels if v])


_RESOLUTION_METHOD_LITERAL = t.string(RESOLUTION_METHOD)


def _participation(e: _Emitter, s: str, node: str, role: str, name: str, entity: str) -> None:
    """A participation node; ``name`` is the registered name's literal."""
    add = e.add
    add((s, TKG.participation, node))
    add((node, RDF.type, TKG.Participation))
    add((node, TKG.role, _CODE_TERMS[("role", role)]))
    add((node, TKG.nameAsRegistered, name))
    add((node, TKG.resolvesTo, entity))
    add((node, TKG.resolutionMethod, _RESOLUTION_METHOD_LITERAL))


def _org_party(e: _Emitter, s: str, node: str, role: str, org: OrgMention, iris: Iris, trial_id: str) -> str:
    entity = _canonical_org(e, org.name, iris, trial_id)
    _participation(e, s, node, role, t.string(org.name), entity)
    if org.agency_class:
        e.add((node, TKG.agencyClass, code("agency-class", org.agency_class)))
    return entity


def _organisations(e: _Emitter, s: str, trial: Trial, trial_id: str, iris: Iris) -> None:
    n = 0
    if trial.lead_sponsor:
        n += 1
        org = _org_party(e, s, t.ref(iris.part(trial_id, "party", n)), "LEAD_SPONSOR", trial.lead_sponsor,
                         iris, trial_id)
        e.add((s, SCHEMA.sponsor, org))
        if trial.lead_sponsor.agency_class:  # also on the trial: the registry's LeadSponsorClass search field
            e.add((s, TKG.leadSponsorClass, code("agency-class", trial.lead_sponsor.agency_class)))
    for collab in trial.collaborators:
        n += 1
        org = _org_party(e, s, t.ref(iris.part(trial_id, "party", n)), "COLLABORATOR", collab, iris, trial_id)
        e.add((s, TKG.collaborator, org))
    if trial.organization:
        n += 1
        org = _org_party(e, s, t.ref(iris.part(trial_id, "party", n)), "STUDY_ORGANIZATION", trial.organization,
                         iris, trial_id)
        e.add((s, TKG.studyOrganization, org))


def _person_party(
    e: _Emitter, s: str, node: str, person: PersonMention, role: str, iris: Iris, trial_id: str
) -> str:
    affiliation = _canonical_org(e, person.affiliation, iris, trial_id) if person.affiliation else None
    entity = f"<{iris.person(person.name, affiliation[1:-1] if affiliation else None, trial_id)}>"
    name = t.string(person.name)
    e.add((entity, RDF.type, TKG.Person))
    e.shared.append((entity, SKOS.altLabel, name))
    _participation(e, s, node, role, name, entity)
    e.add((s, TKG.investigator, entity))
    if affiliation:
        e.add((entity, SCHEMA.affiliation, affiliation))
        e.add((node, TKG.affiliationAsRegistered, t.string(person.affiliation or "")))
    e.text(node, SCHEMA.jobTitle, person.title)
    return node


def _role(person: PersonMention, default: str) -> str:
    return person.role if person.role and is_code("role", person.role) else default


def _people(e: _Emitter, s: str, trial: Trial, trial_id: str, iris: Iris) -> None:
    if trial.officials:
        prefix = _part_prefix(iris, trial_id, "official")
        for n, official in enumerate(trial.officials, start=1):
            _person_party(e, s, f"{prefix}{n}>", official, _role(official, "PRINCIPAL_INVESTIGATOR"), iris, trial_id)
    if trial.central_contacts:
        prefix = _part_prefix(iris, trial_id, "contact")
        for n, contact in enumerate(trial.central_contacts, start=1):
            _person_party(e, s, f"{prefix}{n}>", contact, _role(contact, "CONTACT"), iris, trial_id)
    rp = trial.responsible_party
    if rp is None:
        return
    if rp.type:
        e.add((s, TKG.responsiblePartyType, code("responsible-party-type", rp.type)))
    e.text(s, TKG.responsiblePartyOldNameTitle, rp.old_name_title)
    e.text(s, TKG.responsiblePartyOldOrganization, rp.old_organization)
    if rp.investigator:
        node = t.ref(iris.part(trial_id, "responsible-party", 1))
        _person_party(e, s, node, rp.investigator, "RESPONSIBLE_PARTY", iris, trial_id)


# ------------------------------------------------------------------------------------------ arms, interventions
def _arms_and_interventions(
    e: _Emitter, s: str, trial: Trial, trial_id: str, iris: Iris, problems: list[Problem], where: tuple[str, str]
) -> None:
    arm_nodes: dict[str, str] = {}
    prefix = _part_prefix(iris, trial_id, "arm")
    for n, arm in enumerate(trial.arms, start=1):
        node = f"{prefix}{n}>"
        arm_nodes.setdefault(arm.label.casefold(), node)
        e.add((s, TKG.arm, node))
        e.add((node, RDF.type, TKG.ArmGroup))
        e.add((node, SCHEMA.name, t.string(arm.label)))
        if arm.type:
            e.add((node, TKG.armType, code("arm-type", arm.type)))
        e.text(node, SCHEMA.description, arm.description)
    # Arms name their interventions as "Type: name"; interventions name their arms by label. Both
    # directions become the one tkg:inArm link, so a link given on either side is kept, once.
    links: set[tuple[str, str]] = set()
    by_name: dict[str, str] = {}
    prefix = _part_prefix(iris, trial_id, "intervention")
    for n, iv in enumerate(trial.interventions, start=1):
        node = f"{prefix}{n}>"
        by_name.setdefault(iv.name.casefold(), node)
        e.add((s, TKG.intervention, node))
        e.add((node, RDF.type, TKG.Intervention))
        e.add((node, SKOS.prefLabel, t.string(iv.name)))
        if iv.type:
            e.add((node, TKG.interventionType, code("intervention-type", iv.type)))
        e.text(node, SCHEMA.description, iv.description)
        for other in iv.other_names:
            e.add((node, SKOS.altLabel, t.string(other)))
        for label in iv.arm_labels:
            arm = arm_nodes.get(label.casefold())
            if arm:
                links.add((node, arm))
            else:
                problems.append(Problem(where[0], where[1], "interventions.armGroupLabels",
                                        f"intervention {iv.name!r} names unknown arm {label!r}", "note"))
    for arm in trial.arms:
        arm_node = arm_nodes[arm.label.casefold()]
        for iv_name in arm.intervention_names:
            bare = iv_name.split(":", 1)[1].strip() if ":" in iv_name else iv_name
            node = by_name.get(bare.casefold()) or by_name.get(iv_name.casefold())
            if node:
                links.add((node, arm_node))
    for node, arm_node in sorted(links):
        e.add((node, TKG.inArm, arm_node))


def _mesh_terms_of(trial: Trial, mesh: MeshLookup | None) -> tuple[MeshTerm, ...]:
    """The registry's MeSH terms; where it gives none for conditions, the conditions whose registered
    text is exactly a MeSH heading or entry term (after folding). Nothing is guessed."""
    if mesh is None or any(m.branch == "condition" for m in trial.mesh_terms):
        return trial.mesh_terms
    exact = tuple(MeshTerm(c, ui) for c in trial.conditions if (ui := mesh.resolve(c)))
    return trial.mesh_terms + exact


@lru_cache(maxsize=1 << 14)  # ~20 MeSH terms a record, from the few thousand in use
def _mesh_term(ui: str) -> str:
    return t.iri(mesh_iri(ui))


def _mesh(
    e: _Emitter, s: str, terms: Iterable[MeshTerm], mesh: MeshLookup | None, mesh_uis: set[str],
    problems: list[Problem], where: tuple[str, str],
) -> None:
    seen: set[tuple[str, str]] = set()
    for term in terms:
        pred = MESH_PREDICATES[(term.branch, term.ancestor)]
        ui = term.ui
        if ui and mesh is not None:
            ui = mesh.normalise_ui(ui) or ui
        if not ui and term.term and mesh is not None:
            ui = mesh.resolve(term.term)
            if ui is None:
                problems.append(Problem(where[0], where[1], f"mesh.{term.branch}",
                                        f"MeSH term {term.term!r} not found in the MeSH index; kept as text", "note"))
        if ui:
            if (pred, ui) not in seen:
                seen.add((pred, ui))
                e.add((s, pred, _mesh_term(ui)))
                mesh_uis.add(ui)
        elif term.term:
            e.add((s, TKG.unresolvedMeshTerm, t.string(term.term)))


# ------------------------------------------------------------------------------------------ other parts
def _outcomes(e: _Emitter, s: str, trial: Trial, trial_id: str, iris: Iris) -> None:
    prefix = _part_prefix(iris, trial_id, "outcome")
    for n, o in enumerate(trial.outcomes, start=1):
        node = f"{prefix}{n}>"
        e.add((s, OUTCOME_PREDICATES[o.kind], node))
        e.add((node, RDF.type, TKG.Outcome))
        e.add((node, TKG.outcomeKind, code("outcome-kind", o.kind)))
        e.add((node, SCHEMA.name, t.string(o.measure)))
        e.text(node, SCHEMA.description, o.description)
        e.text(node, TKG.timeFrame, o.time_frame)


def _eligibility(e: _Emitter, s: str, trial: Trial, trial_id: str, iris: Iris) -> None:
    el = trial.eligibility
    if el is None:
        return
    node = t.ref(iris.part(trial_id, "eligibility", 1))
    e.add((s, TKG.eligibility, node))
    e.add((node, RDF.type, TKG.Eligibility))
    for fld, pred in ELIGIBILITY_LITERALS:
        e.text(node, pred, getattr(el, fld))
    if el.sex:
        e.add((node, TKG.sex, code("sex", el.sex)))
    if el.healthy_volunteers is not None:
        e.add((node, TKG.healthyVolunteers, t.boolean(el.healthy_volunteers)))
    if el.gender_based is not None:
        e.add((node, TKG.genderBased, t.boolean(el.gender_based)))
    for age in el.std_ages:
        e.add((node, TKG.standardAge, code("standard-age", age)))
    if el.sampling_method:
        e.add((node, TKG.samplingMethod, code("sampling-method", el.sampling_method)))


class _SiteFacts(NamedTuple):
    """What a site's registered place says, as the site node's (predicate, object) columns, plus its shared
    location (term and entities-graph triples) and its facility's canonical organisation (term, rdf:type triple
    and entities-graph triples; None for a masked site name, whose organisation belongs to its trial); the same
    hospitals recur across many trials. A named tuple: made ~5 times a record, where a frozen dataclass's
    __init__ costs several times a tuple's."""

    predicates: tuple[str, ...]
    objects: tuple[str, ...]
    location: str | None
    location_triples: tuple[Triple, ...]
    org: str | None
    org_type: Triple | None
    org_triples: tuple[Triple, ...]


@lru_cache(maxsize=16)
def _iris_at(base: str) -> Iris:
    """The Iris of a base, made once: _site_facts is keyed on the base, a string (an Iris hashes in Python)."""
    return Iris(base)


@lru_cache(maxsize=1 << 16)
def _site_facts(base: str, facility: str | None, city: str | None, state: str | None, zip_code: str | None,
                country: str | None, latitude: float | None, longitude: float | None, status: str | None
                ) -> _SiteFacts:
    iris = _iris_at(base)
    facts = [(RDF.type, TKG.Site)]
    place = (facility, city, state, zip_code, country)  # SITE_LITERALS order
    facts += [(pred, t.string(value)) for (_, pred), value in zip(SITE_LITERALS, place, strict=True) if value]
    if latitude is not None and longitude is not None:
        facts += [(SCHEMA.latitude, t.decimal(latitude)), (SCHEMA.longitude, t.decimal(longitude))]
    if status:
        facts.append((TKG.siteStatus, code("site-status", status)))
    location, labels = None, ()
    if facility or city or country:
        location, labels = _location(iris.location(facility, city, country), facility, city, country)
        facts.append((SCHEMA.location, location))
    org, org_type, org_names = None, None, ()
    if facility and not org_key(facility)[1]:  # not masked: the organisation does not depend on the trial
        org, org_names = _org_names(iris.org(facility), facility)
        org_type = (org, RDF.type, TKG.Organization)
    predicates, objects = zip(*facts, strict=True)
    return _SiteFacts(predicates, objects, location, labels, org, org_type, org_names)


def _sites(e: _Emitter, s: str, trial: Trial, trial_id: str, iris: Iris) -> None:
    add = e.add
    prefix = _part_prefix(iris, trial_id, "site")
    people = 0
    for n, site in enumerate(trial.sites, start=1):
        node = f"{prefix}{n}>"
        add((s, TKG.site, node))
        facts = _site_facts(iris.base, site.facility, site.city, site.state, site.zip, site.country, site.latitude,
                            site.longitude, site.status)
        e.triples.extend(zip(repeat(node), facts.predicates, facts.objects))  # the triples built in C
        if facts.location:
            add((s, TKG.siteLocation, facts.location))  # the trial's places in one hop: place-centred questions
            e.shared.extend(facts.location_triples)
        if site.facility:
            if facts.org_type:  # _canonical_org's triples, cached with the place
                add(facts.org_type)
                e.shared.extend(facts.org_triples)
                add((node, TKG.facility, facts.org))
            else:
                add((node, TKG.facility, _canonical_org(e, site.facility, iris, trial_id)))
        if site.people:
            person_prefix = _part_prefix(iris, trial_id, "site-person")
            for person in site.people:
                people += 1
                pnode = f"{person_prefix}{people}>"
                _person_party(e, s, pnode, person, _role(person, "CONTACT"), iris, trial_id)
                add((pnode, TKG.atSite, node))


def _references(e: _Emitter, s: str, trial: Trial, trial_id: str, iris: Iris) -> None:
    prefix = _part_prefix(iris, trial_id, "reference")
    for n, ref in enumerate(trial.references, start=1):
        node = f"{prefix}{n}>"
        e.add((s, TKG.reference, node))
        e.add((node, RDF.type, TKG.Reference))
        if ref.type:
            e.add((node, TKG.referenceType, code("reference-type", ref.type)))
        e.text(node, DCTERMS.bibliographicCitation, ref.citation)
        if ref.pmid:
            article = t.iri(pubmed_iri(ref.pmid))
            e.add((node, TKG.article, article))
            e.add((s, SCHEMA.citation, article))
            if ref.type in CITATION_PREDICATES:
                e.add((s, CITATION_PREDICATES[ref.type], article))
            e.add((article, RDF.type, FABIO.JournalArticle))
            e.add((article, TKG.pmid, t.string(ref.pmid)))
    prefix = _part_prefix(iris, trial_id, "link")
    for n, link in enumerate(trial.links, start=1):
        node = f"{prefix}{n}>"
        e.add((s, TKG.seeAlso, node))
        e.add((node, RDF.type, TKG.Link))
        e.add((node, SCHEMA.url, t.typed(link.url, t.XSD_ANYURI)))
        e.text(node, SCHEMA.name, link.label)


def _ipd(e: _Emitter, s: str, trial: Trial, trial_id: str, iris: Iris) -> None:
    ipd = trial.ipd_sharing
    if ipd is None:
        return
    node = t.ref(iris.part(trial_id, "ipd-sharing", 1))
    e.add((s, TKG.ipdSharingStatement, node))
    e.add((node, RDF.type, TKG.IpdSharingStatement))
    if ipd.sharing:
        e.add((node, TKG.ipdSharing, code("ipd-sharing", ipd.sharing)))
    e.text(node, SCHEMA.description, ipd.description)
    for info in ipd.info_types:
        e.add((node, TKG.ipdInfoType, code("ipd-info-type", info)))
    e.text(node, TKG.ipdTimeFrame, ipd.time_frame)
    e.text(node, TKG.ipdAccessCriteria, ipd.access_criteria)
    if ipd.url:
        e.add((node, SCHEMA.url, t.typed(ipd.url, t.XSD_ANYURI)))


def _graph_description(e: _Emitter, g: str, s: str, trial: Trial) -> None:
    prov = trial.provenance
    e.add((g, RDF.type, TKG.RecordGraph))
    e.add((g, TKG.describes, s))
    e.add((g, TKG.sourceFormat, t.string(prov.source)))
    e.add((g, TKG.normaliserVersion, t.string(NORMALISER_VERSION)))
    if prov.source == "ctgov-v2" and trial.nct_id:
        e.add((g, PROV.wasDerivedFrom, t.iri(CTGOV_API_STUDY + trial.nct_id)))
    if prov.last_update_posted:
        e.add((g, DCTERMS.modified, t.typed(prov.last_update_posted, t.XSD_DATE))
              if len(prov.last_update_posted) == 10 else t.string(prov.last_update_posted))
    e.text(g, TKG.versionHolder, prov.version_holder)


def mesh_description(uis: Iterable[str], index: object) -> Iterator[Triple]:
    """MeSH facts (label, broader descriptors up to the roots, tree numbers) for the descriptors used."""
    from kg.vocab import MESHV, RDFS  # local: only the build's final step needs these

    done: set[str] = set()
    todo = sorted(set(uis))
    while todo:
        ui = todo.pop()
        if ui in done:
            continue
        done.add(ui)
        s = t.iri(mesh_iri(ui))
        label = index.label(ui)  # type: ignore[attr-defined]
        if index.is_supplementary(ui):  # type: ignore[attr-defined]
            yield s, RDF.type, MESHV.SCR_Chemical
            for d in index.mapped_descriptors(ui):  # type: ignore[attr-defined]
                yield s, MESHV.preferredMappedTo, t.iri(mesh_iri(d))
                todo.append(d)
        elif index.is_descriptor(ui):  # type: ignore[attr-defined]
            yield s, RDF.type, MESHV.TopicalDescriptor
            for tn in index.tree_numbers(ui):  # type: ignore[attr-defined]
                yield s, TKG.treeNumber, t.string(tn)
            for b in index.broader(ui):  # type: ignore[attr-defined]
                yield s, MESHV.broaderDescriptor, t.iri(mesh_iri(b))
                todo.append(b)
        if label:
            yield s, RDFS.label, t.string(label)
