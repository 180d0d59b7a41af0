"""Cross-record organisation resolution: decide which canonical organisations of a build are one.

The per-record mapping keys each mention by the versioned normaliser (``{base}org/{key}``) and never
looks beyond its record. This module looks at all canonical organisations of a build together, with the
contexts the records gave them (countries and cities of the trials' sites, trials, agency classes, roles),
and emits the resolution graph ``{base}graph/resolution``:

- ``owl:sameAs`` from each merged organisation to its cluster's representative, each merge explained by a
  ``tkg:OrganizationMerge`` node (method, evidence, score);
- ``tkg:possibleSameAs`` (with a ``tkg:MergeCandidate`` node) for candidates it did not merge;
- ``schema:parentOrganization`` / ``schema:subOrganization`` for departments, sites and subsidiaries:
  linked, never merged;
- for people with the same name tokens at different affiliations: ``owl:sameAs`` when the affiliations were
  merged, else ``tkg:possibleSameAs`` with a score.

Methods, strongest first: the curated alias table (``kg/data/org_aliases.tsv``, each row with its evidence);
``variant`` (names equal after the resolver's wider variant rules: Saint/St, stopwords, plurals, site codes,
places and acronyms in parentheses, one legal form); ``acronym`` (a bare acronym and the name it abbreviates);
``similarity`` (soft token overlap). Every method but the alias table needs corroborating evidence from the
records (a shared trial or the same city) and no contradicting evidence (other countries, other cities,
different ordinals or legal forms); masked site names never take part. A record that names its lead sponsor
and its registering organisation apart by legal form only ("Shionogi" / "Shionogi Inc.") names two legal
entities: they are linked as parent and child, never merged. Merges are undone by configuration
(``kg/data/org_resolution_overrides.tsv`` or a user file of the same form): a vetoed pair or a disabled alias
row is never merged, and no other organisation's IRI changes, because IRIs are normaliser keys.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from kg import rdfterms as t
from kg.identity import Iris, fold, is_masked_site_name, normalise_org_name, org_key, person_tokens

Triple = tuple[str, str, str]
# 2: names that add words naming no part, and bare acronyms or kind-word names without corroboration, are
# candidates, not parents.
RESOLVER_VERSION = "2"

# ------------------------------------------------------------------------------------------ thresholds
# Chosen on the development pairs (bench/bench_resolve.py): the similarity score a corroborated pair needs
# to be merged, and the score from which an unmerged pair is reported as a possible match.
MERGE_THRESHOLD = 0.75
CANDIDATE_THRESHOLD = 0.5
# Blocking: a word shared by more organisations than this does not make two organisations candidates
# (nor does a word that only says what kind of body it is: "hospital", "center").
BLOCK_MAX_DF = 60
# A word in more organisations than this pairs two of them only with a second shared word, or when it alone
# names one of them (chosen on the 574-record sample: it dropped 1 merge and ~70 parent links, nearly all
# wrong, "Royal Free Hospital" / "Royal Perth Hospital", and three quarters of the pairs).
BLOCK_RARE_DF = 10
TYPO_RATIO = 0.84  # two long tokens this similar (difflib ratio) are one word misspelt
TYPO_MIN_LEN = 6

# ------------------------------------------------------------------------------------------ word lists
STOPWORDS = frozenset("of the at in and for de la le les du des di del della dei der und y e a an on to da do das "
                      "s l d".split())
# Spelling variants and translations a curator reads as one word.
SYNONYMS = {
    "st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort", "1st": "first", "2nd": "second", "3rd": "third",
    "4th": "fourth", "centre": "center", "centres": "center", "centers": "center", "hospitals": "hospital",
    "universitat": "university", "universite": "university", "universita": "university",
    "universidad": "university", "universidade": "university", "universiteit": "university",
    "universitet": "university", "uniwersytet": "university", "univerisity": "university",
    "hopital": "hospital", "hopitaux": "hospital", "ospedale": "hospital", "hospitalier": "hospital",
    "education": "training",  # Turkish "egitim": both translations are in use
    "trustee": "", "trustees": "", "regents": "",  # "Trustees of Dartmouth College" is the college's legal name
    "sciences": "science", "medicine": "medical", "pharmaceuticals": "pharmaceutical", "clinics": "clinic",
    "labs": "lab", "laboratory": "lab", "laboratories": "lab", "institut": "institute", "istituto": "institute",
    "instituto": "institute", "administration": "affairs",  # Veterans Administration became Veterans Affairs (1989)
}
# Multi-word translations, applied to the folded name before tokenising.
PHRASES = [
    (re.compile(r"\begitim ve arastirma hastanesi\b"), "training and research hospital"),
    (re.compile(r"\buniversitatsklinikum\b"), "university hospital"),
    (re.compile(r"\bsaglik bilimleri universitesi\b"), "university of health science"),
]
LEGAL_FORMS = frozenset("irccs inc ltd llc co corp plc sa spa srl bv nv kk ag gmbh ggmbh pty pc pa lp ab as oy sas "
                        "sarl kg kgaa limited incorporated corporation company".split())
# Words naming what kind of body an organisation is: a bare name plus only such words is the same body.
KIND_WORDS = frozenset("university college hospital medical center clinic health healthcare pharmaceutical pharma "
                       "research comprehensive cancer group lab therapeutics biotech bioscience biosciences".split())
# Words that mark a part of a larger body: a name that adds them to another is its child, not a variant.
UNIT_WORDS = frozenset("department dept division unit service ward program programme section laboratory lab "
                       "school faculty college institute campus center clinic hospital foundation "
                       "trust network office branch".split())
# Words that make a body distinct from a sibling of the same family ("First" vs "Second" affiliated hospital).
DISTINGUISHING = frozenset("first second third fourth fifth sixth seventh eighth ninth tenth north south east "
                           "west northern southern eastern western central upper lower children pediatric "
                           "paediatric women veterans".split())
# Words naming a department or clinic inside a body: "X Hospital, Department of Y" is a part of X.
DEPARTMENT_WORDS = frozenset("department dept division unit service ward section lab program programme klinika "
                             "klinik clinic departement servicio servizio servei abteilung".split())
# Words of clinical specialties: "X Hospital, Oncology" is a department of X.
SPECIALTY_WORDS = frozenset("oncology onkologie hematology haematology hamatologie hematologie cardiology neurology "
                            "pediatrics paediatrics radiology surgery gynecology gynaecology obstetrics urology "
                            "psychiatry dermatology transplantation radiotherapy ematologia oncologia".split())
# Words too common to name a body alone: a name left with only these once its place is taken away keeps
# the place ("Chiba Cancer Center" is not "Cancer Center").
GENERIC_WORDS = frozenset("general regional universitario universitaria universitaire clinico community memorial "
                          "national city county district provincial central children saint affiliated first "
                          "second university".split())
UNIVERSITY_WORDS = frozenset({"university", "college"})
# NCI "Lead Academic Participating Site", a trial's remote site, Italian "sede" (seat of)
SITE_NOISE = frozenset({"laps", "remote", "sede"})

_SITE_CODE_RE = re.compile(
    r"-?\s*site\s*(?:number|no\.?|#)?\s*:?\s*\d+|\(\s*site\s*\d+\s*\)|\(\s*\d{3,}\s*\)|/\s*id#?\s*\d+", re.I)
_LEADING_CODE_RE = re.compile(r"^\s*\d{3,}\s*-\s*")
_PAREN_RE = re.compile(r"\(([^()]*)\)")
_DIGITS_RE = re.compile(r"\d{3,}")  # a street number or postcode, not "2nd"


# ------------------------------------------------------------------------------------------ contexts
SPONSOR_ROLES = frozenset({"lead_sponsor"})
# The build's role for the record's organisation, and the labelled pairs' names for it.
REGISTRANT_ROLES = frozenset({"study_organization", "organization", "source"})


@dataclass
class OrgContext:
    """One canonical organisation of a build, with what its mentions' records said about it."""

    iri: str
    names: Counter[str] = field(default_factory=Counter)  # registered names -> mentions
    countries: set[str] = field(default_factory=set)  # folded
    cities: set[str] = field(default_factory=set)  # folded
    regions: set[str] = field(default_factory=set)  # folded states/provinces: 'Genève, Geneva' is one place
    trials: set[str] = field(default_factory=set)
    classes: set[str] = field(default_factory=set)  # agency classes, upper case
    roles: set[str] = field(default_factory=set)
    # Trials that name it their lead sponsor / their registering organisation (v2 `organization`, XML `source`)
    sponsor_of: set[str] = field(default_factory=set)
    registrant_of: set[str] = field(default_factory=set)
    _place_words: tuple[tuple[int, int], frozenset[str]] | None = field(default=None, repr=False, compare=False)

    def add_role(self, role: str, trial: str) -> None:
        self.roles.add(role)
        if role in SPONSOR_ROLES:
            self.sponsor_of.add(trial)
        elif role in REGISTRANT_ROLES:
            self.registrant_of.add(trial)

    @property
    def name(self) -> str:
        """The most used registered name (ties: the first in sort order)."""
        return min(self.names.items(), key=lambda kv: (-kv[1], kv[0]))[0] if self.names else self.iri

    @property
    def masked(self) -> bool:
        return "--" in self.iri.rsplit("/", 1)[-1] or any(_masked_name(n) for n in self.names)

    def add_place(self, city: str | None, country: str | None, region: str | None = None) -> None:
        if city:
            self.cities.add(place(city))
        if region:
            self.regions.add(place(region))
        if country:
            self.countries.add(place(country))


# Words of placeholder site names the normaliser's list misses ("Investigational Site Number :0360001").
_MASK_WORDS = frozenset("investigational research clinical study trial site local institution".split())


@lru_cache(maxsize=1 << 16)
def _masked_name(name: str) -> bool:
    """A placeholder site name: the normaliser's list, or a code with only placeholder words left once the
    site code is taken away (two such sites of one trial are two places, never one)."""
    if is_masked_site_name(name):
        return True
    tokens = name_parts(name).tokens
    return bool(tokens) and set(tokens) <= _MASK_WORDS and bool(_DIGITS_RE.search(name))


def place(text: str) -> str:
    """A city or country name folded for comparison: 'Turkey (Türkiye)' and 'Turkey' meet."""
    return " ".join(re.sub(r"\([^)]*\)|[^\w\s]", " ", fold(text)).replace("saint ", "st ").split())


# ------------------------------------------------------------------------------------------ names
@dataclass(frozen=True)
class NameParts:
    """A registered name taken apart for comparison."""

    tokens: tuple[str, ...]  # content words in order: folded, synonyms applied, no stopwords/legal forms
    segments: tuple[tuple[str, ...], ...]  # the same words per comma-separated part ("X Hospital, Y University")
    legal: frozenset[str]  # legal forms it carried
    acronyms: frozenset[str]  # acronyms it gives for itself: in parentheses, or its initials
    capitals: frozenset[str]  # words written in capitals ("UCLA Department of Medicine")
    declared: frozenset[str] = frozenset()  # acronyms it gives for itself, not merely its initials

    @property
    def initials(self) -> str:
        return initials(self.tokens)

    @property
    def is_acronym(self) -> bool:
        return len(self.tokens) == 1 and 2 <= len(self.tokens[0]) <= 6 and (
            self.tokens[0].upper() in self.capitals or self.tokens[0].upper() in self.acronyms)


def initials(tokens: Iterable[str]) -> str:
    return "".join(w[0] for w in tokens if not w.isdigit()).upper()


def _depluralise(w: str) -> str:
    if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ous")):
        return w[:-1]
    return w


@lru_cache(maxsize=1 << 16)
def token(word: str) -> str:
    """One folded word under the variant rules: synonyms, plurals; '' for a word that carries nothing."""
    w = SYNONYMS.get(word, word)
    if not w or w in STOPWORDS or w in SITE_NOISE:
        return ""
    w = _depluralise(w)
    return SYNONYMS.get(w, w) or w


@lru_cache(maxsize=1 << 16)
def name_parts(name: str) -> NameParts:
    """A name under the resolver's variant rules (a superset of the normaliser's)."""
    raw = _LEADING_CODE_RE.sub("", _SITE_CODE_RE.sub(" ", name))
    capitals = {w for w in re.findall(r"\b[A-Z][A-Z&]{1,6}\b", raw) if "&" not in w}
    in_parens = {fold(m).replace(".", "").replace(" ", "").upper() for m in _PAREN_RE.findall(raw)}
    in_parens = {a for a in in_parens if a.isalpha() and 2 <= len(a) <= 7}
    # Comma segments with digits are addresses or postcodes ("9000 Rockville Pike", "Beijing 100142").
    parts = [s for s in re.split(r"[,，;]", _PAREN_RE.sub(lambda m: " " if m.group(1).upper().replace(".", "")
                                                           .replace(" ", "") in in_parens else m.group(), raw))
             if s.strip() and not _DIGITS_RE.search(s)] or [raw]
    segments: list[tuple[str, ...]] = []
    legal: set[str] = set()
    for part in parts:
        text = normalise_org_name(part)
        for pattern, repl in PHRASES:
            text = pattern.sub(repl, text)
        raw_words = text.split()
        while raw_words and raw_words[-1] in LEGAL_FORMS:  # legal forms end a name ("AG Clinic" is no AG)
            w = raw_words.pop()
            legal.add({"limited": "ltd", "incorporated": "inc", "corporation": "corp", "company": "co"}.get(w, w))
        words = [tw for w in raw_words if (tw := token(w))]
        if words:
            segments.append(tuple(words))
    tokens = tuple(w for seg in segments for w in seg)
    # A word that is the initials of the others is the name's own acronym ("... Vaudois Chuv").
    own = {w for w in tokens if len(w) >= 3 and w.upper() == initials(x for x in tokens if x != w)[:len(w)]}
    if own and len(tokens) > 1:
        tokens = tuple(w for w in tokens if w not in own)
        segments = [tuple(w for w in seg if w not in own) for seg in segments]
    acronyms = in_parens | {w.upper() for w in own}
    if len(tokens) >= 2:
        acronyms.add(initials(tokens))
    declared = in_parens | {w.upper() for w in own}
    return NameParts(tokens, tuple(seg for seg in segments if seg), frozenset(legal), frozenset(acronyms),
                     frozenset(capitals), frozenset(declared))


# ------------------------------------------------------------------------------------------ decisions
SAME, PARENT, CANDIDATE, NONE = "same", "parent-child", "candidate", "none"


@dataclass(frozen=True)
class Decision:
    """What the resolver concluded about two organisations, and why."""

    kind: str  # SAME, PARENT, CANDIDATE or NONE
    method: str = ""
    score: float = 0.0
    evidence: tuple[str, ...] = ()
    parent: str | None = None  # for PARENT: the IRI of the parent


@lru_cache(maxsize=1 << 18)
def _soft_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    # ratio = 2 * matches / (len a + len b) cannot reach TYPO_RATIO when the lengths differ this much
    if len(a) < TYPO_MIN_LEN or len(b) < TYPO_MIN_LEN or a[0] != b[0] or \
            2 * min(len(a), len(b)) < TYPO_RATIO * (len(a) + len(b)):
        return False
    return _typo(a, b) if a < b else _typo(b, a)


@lru_cache(maxsize=1 << 16)
def _typo(a: str, b: str) -> bool:
    m = difflib.SequenceMatcher(None, a, b)
    return m.quick_ratio() >= TYPO_RATIO and m.ratio() >= TYPO_RATIO


def _extras(a: Sequence[str], b: Sequence[str]) -> tuple[list[str], list[str]]:
    """Tokens of a not (softly) in b, and of b not in a."""
    only_b = list(b)
    only_a = []
    for w in a:
        hit = next((i for i, v in enumerate(only_b) if _soft_equal(w, v)), None)
        if hit is None:
            only_a.append(w)
        else:
            only_b.pop(hit)
    return only_a, only_b


def _places_of(org: OrgContext) -> frozenset[str]:
    """Words of the organisation's own cities and countries (not regions: "Kaiser Permanente Washington"
    is a regional body, "National University Hospital Singapore" a place qualifier)."""
    sizes = (len(org.cities), len(org.countries))  # places are only ever added: the sizes tell a change
    if org._place_words is None or org._place_words[0] != sizes:
        org._place_words = (sizes, frozenset({token(w) for p in org.cities | org.countries for w in p.split()} - {""}))
    return org._place_words[1]


@dataclass
class Evidence:
    """Corroborating and contradicting facts for one pair of organisations."""

    support: list[str] = field(default_factory=list)
    conflict: list[str] = field(default_factory=list)
    shared_trials: int = 0
    same_city: bool = False
    # Trials where one is the lead sponsor and the other the registering organisation: the registrant
    # wrote two names into the two slots of one record, so it means two parties.
    split_trials: list[str] = field(default_factory=list)


def evidence(a: OrgContext, b: OrgContext) -> Evidence:
    ev = Evidence()
    shared = sorted(a.trials & b.trials)
    if shared:
        ev.shared_trials = len(shared)
        ev.support.append("shared trials: " + " ".join(shared[:5]) + (" ..." if len(shared) > 5 else ""))
    cities = a.cities & b.cities
    if cities:
        ev.same_city = True
        ev.support.append("same city: " + "; ".join(sorted(cities)))
    elif a.cities and b.cities and not (a.cities & b.regions or b.cities & a.regions
                                        or _city_prefix(a.cities, b.cities)):
        ev.conflict.append(f"other cities: {'; '.join(sorted(a.cities))} / {'; '.join(sorted(b.cities))}")
    if a.countries and b.countries:
        if a.countries & b.countries:
            ev.support.append("same country: " + "; ".join(sorted(a.countries & b.countries)))
        else:
            ev.conflict.append(f"other countries: {'; '.join(sorted(a.countries))} / {'; '.join(sorted(b.countries))}")
    if a.classes & b.classes:
        ev.support.append("same agency class: " + " ".join(sorted(a.classes & b.classes)))
    ev.split_trials = sorted(a.sponsor_of & b.registrant_of | b.sponsor_of & a.registrant_of)
    return ev


def _city_prefix(x: set[str], y: set[str]) -> bool:
    """'oxford' and 'oxfordshire', 'new york' and 'new york city': one place written longer."""
    return any(p.startswith(q) or q.startswith(p) for p in x for q in y if min(len(p), len(q)) >= 4)


class Resolver:
    """Decides pairs of organisations; holds the alias table and the overrides (vetoes, disabled rows)."""

    def __init__(self, config: ResolverConfig | None = None) -> None:
        self.config = config or ResolverConfig.load()
        self._alias_of: dict[str, AliasRow] = {}
        for row in self.config.aliases:
            if row.id in self.config.disabled_aliases:
                continue
            for n in (row.name, row.canonical):
                self._alias_of.setdefault(alias_key(n), row)

    # -------------------------------------------------------------------------------- aliases
    def alias_row(self, name: str) -> AliasRow | None:
        return self._alias_of.get(alias_key(name))

    def alias_group(self, org: OrgContext) -> str | None:
        """The canonical name of the alias-table group any of the organisation's names is in."""
        for n in sorted(org.names):
            row = self.alias_row(n)
            if row:
                return row.canonical
        return None

    # -------------------------------------------------------------------------------- pairs
    def vetoed(self, a: OrgContext, b: OrgContext) -> bool:
        ka, kb = a.iri.rsplit("/", 1)[-1], b.iri.rsplit("/", 1)[-1]
        return (ka, kb) in self.config.vetoes or (kb, ka) in self.config.vetoes

    def decide(self, a: OrgContext, b: OrgContext) -> Decision:
        """SAME, PARENT (with the parent), CANDIDATE or NONE for two canonical organisations."""
        if a.iri == b.iri:
            return Decision(SAME, "normaliser", 1.0, ("same normalised key",))
        if a.masked or b.masked:
            return Decision(NONE, evidence=("masked site name",))
        vetoed = self.vetoed(a, b)
        ga, gb = self.alias_group(a), self.alias_group(b)
        if ga and ga == gb and not vetoed:
            row = self.alias_row(next(n for n in sorted(a.names) if self.alias_row(n))) or self.alias_row(b.name)
            assert row is not None
            return Decision(SAME, "alias-table", 1.0, (f"alias row {row.id}: {row.evidence}",))
        d = self._by_names(a, b)
        if d.kind == SAME and vetoed:
            return Decision(CANDIDATE, d.method, d.score, (*d.evidence, "vetoed by configuration"))
        return d

    def _by_names(self, a: OrgContext, b: OrgContext) -> Decision:
        best = Decision(NONE)
        ev = evidence(a, b)
        for na in sorted(a.names):
            for nb in sorted(b.names):
                d = self._names(na, nb, a, b, ev)
                if (d.kind == SAME, d.kind == PARENT, d.score) > (best.kind == SAME, best.kind == PARENT, best.score):
                    best = d
        return best

    def _names(self, na: str, nb: str, a: OrgContext, b: OrgContext, ev: Evidence) -> Decision:
        pa, pb = name_parts(na), name_parts(nb)
        if not pa.tokens or not pb.tokens:
            return Decision(NONE)
        support, conflict = tuple(ev.support), tuple(ev.conflict)
        clash = self._place_clash(pa.tokens, a, b) or self._place_clash(pb.tokens, b, a)
        if clash:
            conflict += (clash,)
        blocked = bool(conflict)
        # Place words qualify a name ("..., Budapest", "National University Hospital Singapore"): the
        # organisation's own city or country, or, for one without an address, the other's.
        ta, names_place_a = self._unplaced(pa.tokens, a, b)
        tb, names_place_b = self._unplaced(pb.tokens, b, a)
        corroborated = ev.shared_trials > 0 or ev.same_city or names_place_a or names_place_b
        if names_place_a or names_place_b:
            support += ("the name of one names the other's city or country",)
        d = self._acronym(pa, pb, ta, tb, a, b, corroborated, blocked, support, conflict)
        if d:
            return d
        only_a, only_b = _extras(ta, tb)
        # An acronym either name gives for itself or the other is no difference ("IRST ..." / "... (I.R.S.T.)").
        acronyms = pa.acronyms | pb.acronyms
        only_a = [w for w in only_a if w.upper() not in acronyms]
        only_b = [w for w in only_b if w.upper() not in acronyms]
        common = len(ta) - len(only_a)
        legal_clash = bool(pa.legal and pb.legal and pa.legal != pb.legal)
        distinct = [w for w in only_a + only_b if w in DISTINGUISHING or w.isdigit()]
        if (not only_a and not only_b) or "".join(ta) == "".join(tb):
            same_order = _ordered(ta, tb) or "".join(ta) == "".join(tb)
            if legal_clash:
                return Decision(PARENT if ev.shared_trials else CANDIDATE, "legal-form", 0.7,
                                (f"different legal forms {sorted(pa.legal)} / {sorted(pb.legal)}", *support),
                                parent=_bigger(a, b) if ev.shared_trials else None)
            if pa.legal != pb.legal and ev.split_trials:
                return _registrant_split(a, b, pa, pb, ev, support)
            needs = (pa.legal != pb.legal) or not same_order  # one legal form or another word order
            if not blocked and (corroborated or not needs):
                return Decision(SAME, "variant", 1.0 if same_order else 0.95,
                                ("names equal under the variant rules", *support))
            if blocked and (ta != pa.tokens or tb != pb.tokens):  # equal only once their places were taken away
                return Decision(NONE)
            return Decision(CANDIDATE, "variant", 0.8, ("names equal under the variant rules", *support, *conflict))
        if distinct:
            score = _similarity(ta, tb, common)
            if blocked or score < CANDIDATE_THRESHOLD:
                return Decision(NONE)
            return Decision(CANDIDATE, "similarity", round(score, 3),
                            (f"distinguishing words: {' '.join(distinct)}", *support))
        d = self._segments(pa, pb, a, b, corroborated, blocked, support, conflict)
        if d:
            return d
        # One name is the other plus words.
        for x, px, short, extra, rest in ((a, pa, ta, only_b, only_a), (b, pb, tb, only_a, only_b)):
            if rest or not extra:
                continue
            kind_of_short = any(w in KIND_WORDS or w in UNIT_WORDS for w in short)
            if all(w in KIND_WORDS for w in extra) and not kind_of_short:
                # "Sunnybrook" / "Sunnybrook Hospital", "Novartis" / "Novartis Pharmaceuticals"
                if pa.legal != pb.legal and ev.split_trials:
                    return _registrant_split(a, b, pa, pb, ev, support)
                if corroborated and not blocked:
                    return Decision(SAME, "variant", 0.92, (f"adds only {' '.join(extra)!r}", *support))
                return Decision(CANDIDATE, "variant", 0.6, (f"adds only {' '.join(extra)!r}", *support, *conflict))
            adds_unit = any(w in UNIT_WORDS or w in DEPARTMENT_WORDS or w in SPECIALTY_WORDS for w in extra)
            if adds_unit or kind_of_short:
                if blocked:
                    return Decision(NONE)
                why = (f"adds {' '.join(extra)!r}", *support)
                # "Duke University" / "Duke University Medical Center": a part of the shorter one. Words that
                # add no unit name a sibling or a branch ("Emory University Hospital" / "... Midtown",
                # "Zhejiang Hospital" / "Zhejiang Cancer Hospital"): for a curator to link. So are, without a
                # shared trial or city, a bare acronym ("RAND" / "Rand Eye Institute") and a name of kind words
                # only ("Saglik Bilimleri Universitesi", i.e. "University of Health Sciences" / "University
                # of Texas Health Science Center"), which are found inside other bodies' names.
                generic = not px.declared and all(w in KIND_WORDS or w in UNIT_WORDS or w in GENERIC_WORDS
                                                  or w == "science" for w in short)
                if not adds_unit or ((px.is_acronym or generic) and not corroborated):
                    return Decision(CANDIDATE, "containment", 0.6, why)
                return Decision(PARENT, "containment", 0.8, why, parent=x.iri)
        score = _similarity(ta, tb, common)
        # Kind words may differ ("Health Sciences Center" / "Health and Science University"), but a cancer
        # center is not the medical center it belongs to.
        generic = all(w in KIND_WORDS and w != "cancer" for w in only_a + only_b)
        if score >= MERGE_THRESHOLD and generic and corroborated and not blocked:
            return Decision(SAME, "similarity", round(score, 3), (f"token similarity {score:.2f}", *support))
        if score >= CANDIDATE_THRESHOLD and not blocked:
            return Decision(CANDIDATE, "similarity", round(score, 3), (f"token similarity {score:.2f}", *support))
        return Decision(NONE, "similarity", round(score, 3))

    def _unplaced(self, tokens: Sequence[str], own: OrgContext, other: OrgContext) -> tuple[tuple[str, ...], bool]:
        """The tokens without place words, and whether they named the other's place (own has none)."""
        mine = _places_of(own)
        theirs = _places_of(other) if not (own.cities or own.countries) else frozenset()
        kept = tuple(w for w in tokens if w not in mine and w not in theirs)
        if all(_weak(w) for w in kept):
            return tuple(tokens), False
        return kept, any(w in theirs for w in tokens)

    @staticmethod
    def _place_clash(tokens: Sequence[str], own: OrgContext, other: OrgContext) -> str | None:
        """A name qualified by its place ("Mercy Hospital Saint Louis") is not the same body as an organisation
        of the bare name that is also found elsewhere ("Mercy Hospital" in Cedar Rapids and Saint Louis)."""
        words = set(tokens)
        for kind, own_places, other_places in (("cities", own.cities, other.cities),
                                               ("countries", own.countries, other.countries)):
            if not any(p.split() and all(token(w) in words for w in p.split()) for p in own_places):
                continue  # the name does not name its place (the common case: checked first)
            elsewhere = {p for p in other_places - own_places
                         if p not in own.regions and not _city_prefix({p}, own_places)}
            if elsewhere:
                return f"{own.name!r} names its place; {other.name!r} is also in other {kind}"
        return None

    @staticmethod
    def _acronym(pa: NameParts, pb: NameParts, ta: Sequence[str], tb: Sequence[str], a: OrgContext,
                 b: OrgContext, corroborated: bool, blocked: bool, support: tuple[str, ...],
                 conflict: tuple[str, ...]) -> Decision | None:
        """A bare acronym and the name it abbreviates ("LUMC", "Leiden University Medical Center (LUMC)")."""
        for y, px, py, ty in ((b, pa, pb, tb), (a, pb, pa, ta)):
            if not px.is_acronym or py.is_acronym or len(ty) < 2:
                continue
            acro = px.tokens[0].upper()
            if acro.lower() in ty:  # "UCLA" / "UCLA Department of Medicine": containment, decided below
                return None
            if acro not in py.acronyms and acro != initials(ty):
                return None
            why = (f"{acro} abbreviates {y.name!r}",)
            # Short acronyms collide across the world (ICR, UCL): they need a shared trial or city.
            if not blocked and (corroborated or len(acro) >= 4):
                return Decision(SAME, "acronym", 0.95 if corroborated else 0.9, (*why, *support))
            return Decision(CANDIDATE, "acronym", 0.5, (*why, *support, *conflict))
        return None

    @staticmethod
    def _segments(pa: NameParts, pb: NameParts, a: OrgContext, b: OrgContext, corroborated: bool,
                  blocked: bool, support: tuple[str, ...], conflict: tuple[str, ...]) -> Decision | None:
        """'X Hospital, Y University' names X (the rest is its affiliation): the same as 'X Hospital' when the
        first parts agree and the rest names no department; when a later part is the other name, that one is
        the parent."""
        for x, y, px, py in ((a, b, pa, pb), (b, a, pb, pa)):
            if len(py.segments) < 2:
                continue
            # The affiliations are compared on their proper words: "College of Medicine, Zhejiang University"
            # and "Zhejiang University School of Medicine" name one affiliation.
            rest_x = [w for seg in px.segments[1:] for w in seg if w not in KIND_WORDS and w not in UNIT_WORDS]
            rest_y = [w for seg in py.segments[1:] for w in seg if w not in KIND_WORDS and w not in UNIT_WORDS]
            if _ordered(px.segments[0], py.segments[0]):
                rest_words = [w for seg in px.segments[1:] + py.segments[1:] for w in seg]
                if any(w in DEPARTMENT_WORDS for w in rest_words) or all(
                        w in KIND_WORDS or w in UNIT_WORDS or w in SPECIALTY_WORDS for w in rest_words):
                    # "..., Department of Y", "..., Oncology", "..., Cancer Hospital": a part, not an affiliation
                    return Decision(PARENT, "containment", 0.8, (f"{y.name!r} names a department", *support),
                                    parent=x.iri) if not rest_x and not blocked else None
                only_x, only_y = _extras(_uncovered(rest_x, rest_y), _uncovered(rest_y, rest_x))
                if only_x and only_y:  # "Karolinska ..., Huddinge Neuroradiology" / "..., Solna Neuroradiology"
                    return None
                why = (f"{y.name!r} is {x.name!r} with its affiliation",)
                if not blocked and (corroborated or len(px.segments) >= 2):  # both name the same affiliation
                    return Decision(SAME, "variant", 0.9, (*why, *support))
                return Decision(CANDIDATE, "variant", 0.6, (*why, *support, *conflict))
            if len(px.segments) == 1 and any(_ordered(px.tokens, seg) for seg in py.segments[1:]):
                if not blocked:
                    return Decision(PARENT, "containment", 0.8, (f"{y.name!r} is a part of {x.name!r}", *support),
                                    parent=x.iri)
        return None


def _registrant_split(a: OrgContext, b: OrgContext, pa: NameParts, pb: NameParts, ev: Evidence,
                      support: tuple[str, ...]) -> Decision:
    """A record that names its lead sponsor and its registering organisation apart, by legal form only
    ("Shionogi" / "Shionogi Inc."), names a company and one of its legal entities: linked, never merged.
    The bare name is the group, the parent."""
    parent = a.iri if not pa.legal else b.iri if not pb.legal else _bigger(a, b)
    why = (f"lead sponsor and registering organisation of {' '.join(ev.split_trials[:3])} under different "
           f"legal forms {sorted(pa.legal)} / {sorted(pb.legal)}")
    return Decision(PARENT, "legal-form", 0.7, (why, *support), parent=parent)


def _uncovered(xs: Sequence[str], ys: Sequence[str]) -> list[str]:
    """xs without the words that are acronyms of a run of ys ("CAMS" for "Chinese Academy of Medical Sciences")."""
    runs = {initials(ys[i:j]) for i in range(len(ys)) for j in range(i + 2, len(ys) + 1)}
    return [w for w in xs if w.upper() not in runs]


def _ordered(a: Sequence[str], b: Sequence[str]) -> bool:
    return len(a) == len(b) and all(_soft_equal(x, y) for x, y in zip(a, b, strict=True))


def _bigger(a: OrgContext, b: OrgContext) -> str:
    return a.iri if (len(a.trials), sum(a.names.values()), b.iri) >= (len(b.trials), sum(b.names.values()), a.iri) \
        else b.iri


def _similarity(a: Sequence[str], b: Sequence[str], common: int) -> float:
    """Share of the longer name's words the two have in common (softly)."""
    return common / max(len(a), len(b))


# ------------------------------------------------------------------------------------------ configuration
@dataclass(frozen=True)
class AliasRow:
    """One row of the curated alias table: a name, the canonical name it is another name of, the evidence."""

    id: str
    name: str
    canonical: str
    relation: str
    evidence: str


def alias_key(name: str) -> str:
    return " ".join(name_parts(name).tokens)


@dataclass
class ResolverConfig:
    """The alias table and the overrides that undo merges: vetoed pairs and disabled alias rows."""

    aliases: list[AliasRow] = field(default_factory=list)
    vetoes: set[tuple[str, str]] = field(default_factory=set)  # pairs of org keys never merged
    disabled_aliases: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, *overrides: str | Path) -> ResolverConfig:
        """The shipped alias table and overrides, then the given override files (same form)."""
        cfg = cls()
        data = resources.files("kg") / "data"
        with (data / "org_aliases.tsv").open(encoding="utf-8") as f:
            cfg.aliases = read_aliases(f.read().splitlines())
        with (data / "org_resolution_overrides.tsv").open(encoding="utf-8") as f:
            cfg.add_overrides(f.read().splitlines())
        for path in overrides:
            cfg.add_overrides(Path(path).read_text(encoding="utf-8").splitlines())
        return cfg

    def add_overrides(self, lines: Iterable[str]) -> None:
        """Rows ``veto<TAB>org<TAB>org<TAB>why`` (org: name, key or IRI) or ``disable-alias<TAB>row id<TAB>why``."""
        for line in _data_rows(lines):
            action, *rest = line
            if action == "action":  # the header row
                continue
            if action == "veto" and len(rest) >= 2:
                self.vetoes.add((_key(rest[0]), _key(rest[1])))
            elif action == "disable-alias" and rest:
                self.disabled_aliases.add(rest[0])
            else:
                raise ValueError(f"unknown override row: {' '.join(line)!r}")


def _key(text: str) -> str:
    """An org key given as itself (``org/<key>`` IRI or key) or as a registered name."""
    if "/org/" in text:
        return text.rsplit("/", 1)[-1]
    return org_key(text)[0] if not re.fullmatch(r"[a-z0-9-]+", text) else text


def _data_rows(lines: Iterable[str]) -> Iterator[list[str]]:
    for line in lines:
        if line.strip() and not line.startswith("#"):
            yield [c.strip() for c in line.split("\t")]


def read_aliases(lines: Iterable[str]) -> list[AliasRow]:
    rows = list(_data_rows(lines))
    header, body = rows[0], rows[1:]
    expected = ["id", "name", "canonical", "relation", "evidence"]
    if header != expected:
        raise ValueError(f"org_aliases.tsv header must be {expected}, not {header}")
    out = []
    for r in body:
        if len(r) != len(expected) or not r[4]:
            raise ValueError(f"alias row needs {len(expected)} columns and evidence: {r}")
        out.append(AliasRow(*r))
    return out


# ------------------------------------------------------------------------------------------ whole builds
@dataclass
class Resolution:
    """The outcome over a set of organisations: clusters, parent links and unmerged candidates."""

    orgs: dict[str, OrgContext]
    representative: dict[str, str]  # org IRI -> the representative of its cluster (itself when alone)
    merges: list[tuple[str, str, Decision]]
    parents: list[tuple[str, str, Decision]]  # (child, parent, decision)
    candidates: list[tuple[str, str, Decision]]

    def canonical(self, iri: str) -> str:
        return self.representative.get(iri, iri)


def _block_tokens(org: OrgContext) -> set[str]:
    """Its words, 'acro:X' for each acronym or initials of its names and 'abbr:X' for an acronym a name gives
    (a bare acronym, or one in parentheses): initials pair with such a name, while two names with the same
    initials only ('Aksaray University', 'Ankara University') need a second shared word."""
    found: set[str] = set()
    for n in org.names:
        p = name_parts(n)
        found.update(p.tokens)
        found.update("acro:" + a for a in p.acronyms)
        if len(p.tokens) >= 2:
            found.add("acro:" + p.initials)
        found.update("abbr:" + a for a in p.declared)
        if p.is_acronym:
            found.add("abbr:" + p.tokens[0].upper())
    return found


_WEAK_WORDS = KIND_WORDS | UNIT_WORDS | GENERIC_WORDS | DISTINGUISHING


@lru_cache(maxsize=1 << 14)
def _weak(word: str) -> bool:
    """A word that names no body by itself: a kind, unit or generic word, or one misspelt ('Hospial'); the
    bar is higher than for other typos, so that 'Servier' is not 'service'."""
    return word in _WEAK_WORDS or any(_soft_equal(word, k) and difflib.SequenceMatcher(None, word, k).ratio() >= 0.9
                                      for k in _WEAK_WORDS)


def _bare_words(org: OrgContext) -> set[str]:
    """Words that alone (with kind and generic words) make one of the organisation's names: 'ankara' for
    'Ankara University'. Place words count as words: 'Royal Perth Hospital' is named by no single word."""
    found: set[str] = set()
    for n in org.names:
        strong = {w for w in name_parts(n).tokens if w not in _WEAK_WORDS}
        if len(strong) == 1:
            found |= strong
        elif not strong:  # a name of generic words only ("National Cancer Institute") is named by them
            found |= {w for w in name_parts(n).tokens if w not in KIND_WORDS and w not in UNIT_WORDS}
    return found


def candidate_pairs(orgs: Sequence[OrgContext], resolver: Resolver) -> Iterator[tuple[int, int]]:
    """Pairs that share a rare word, an acronym, or an alias-table group (blocking). A word shared by more
    than BLOCK_RARE_DF organisations ("eye", "hematology", "nhs", a city) names a field or a place, not a
    body: it pairs two of them only with a second shared word, or when it alone names one of them
    ("Ankara University" / "Ankara University, Department of Pain Medicine")."""
    index: dict[str, list[int]] = defaultdict(list)
    bare: dict[int, set[str]] = {}
    for i, org in enumerate(orgs):
        if org.masked:
            continue
        for tok in _block_tokens(org):
            index[tok].append(i)
        group = resolver.alias_group(org)
        if group:
            index["alias:" + group].append(i)
        bare[i] = _bare_words(org)
    seen: set[tuple[int, int]] = set()
    for tok, members in sorted(index.items()):
        if tok.startswith("abbr:") and len(members) <= BLOCK_MAX_DF:
            others = index.get("acro:" + tok[5:], [])
            for x in members:
                for y in (members + others if len(others) <= BLOCK_MAX_DF else members):
                    pair = (min(x, y), max(x, y))
                    if x != y and pair not in seen:
                        seen.add(pair)
                        yield pair
    common: Counter[tuple[int, int]] = Counter()
    for tok, members in sorted(index.items()):
        if tok.startswith("abbr:"):
            continue
        alias = tok.startswith("alias:")
        if (len(members) > BLOCK_MAX_DF or tok in KIND_WORDS or tok in UNIT_WORDS) and not alias:
            continue
        # Shared initials count as a second shared word ("Royal Orthopaedic/Orthopedic Hospital").
        rare = alias or len(members) <= BLOCK_RARE_DF and not tok.startswith("acro:")
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pair = (members[x], members[y])
                if pair in seen:
                    continue
                if not (rare or tok in bare[pair[0]] or tok in bare[pair[1]]):
                    common[pair] += 1
                    if common[pair] < 2:
                        continue
                seen.add(pair)
                yield pair


def resolve(orgs: Iterable[OrgContext], resolver: Resolver | None = None) -> Resolution:
    """Decide every candidate pair and cluster the merges; a merge that would join two organisations with
    contradicting evidence (other countries or cities, a veto) is kept as a candidate instead."""
    resolver = resolver or Resolver()
    by_iri: dict[str, OrgContext] = {}
    for org in orgs:
        if org.iri in by_iri:
            _absorb(by_iri[org.iri], org)
        else:
            by_iri[org.iri] = org
    items = sorted(by_iri.values(), key=lambda o: o.iri)
    decided: list[tuple[str, str, Decision]] = []
    for i, j in candidate_pairs(items, resolver):
        d = resolver.decide(items[i], items[j])
        if d.kind != NONE:
            decided.append((items[i].iri, items[j].iri, d))
    decided.sort(key=lambda r: (-(r[2].kind == SAME), -r[2].score, r[0], r[1]))
    parent_of = {o.iri: o.iri for o in items}

    def find(x: str) -> str:
        while parent_of[x] != x:
            parent_of[x] = parent_of[parent_of[x]]
            x = parent_of[x]
        return x

    members: dict[str, list[str]] = {o.iri: [o.iri] for o in items}
    merges, parents, candidates = [], [], []
    for a, b, d in decided:
        if d.kind == SAME:
            ra, rb = find(a), find(b)
            if ra == rb:
                merges.append((a, b, d))
                continue
            clash = _cannot_link(members[ra], members[rb], by_iri, resolver)
            if clash:
                candidates.append((a, b, Decision(CANDIDATE, d.method, d.score, (*d.evidence, clash))))
                continue
            parent_of[rb] = ra
            members[ra] += members.pop(rb)
            merges.append((a, b, d))
        elif d.kind == PARENT:
            child = b if d.parent == a else a
            parents.append((child, d.parent or a, d))
        else:
            candidates.append((a, b, d))
    representative = {}
    for group in members.values():
        rep = max(group, key=lambda i: (len(by_iri[i].trials), sum(by_iri[i].names.values()), _neg(i)))
        for iri in group:
            representative[iri] = rep
    # A parent link inside one merged cluster is no longer a parent link.
    parents = [(c, p, d) for c, p, d in parents if representative[c] != representative[p]]
    return Resolution(by_iri, representative, merges, parents, candidates)


def _neg(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)  # ties: the smallest IRI wins under max()


def _absorb(into: OrgContext, other: OrgContext) -> None:
    into.names.update(other.names)
    into.countries |= other.countries
    into.cities |= other.cities
    into.regions |= other.regions
    into.trials |= other.trials
    into.classes |= other.classes
    into.roles |= other.roles
    into.sponsor_of |= other.sponsor_of
    into.registrant_of |= other.registrant_of


def _cannot_link(xs: list[str], ys: list[str], by_iri: dict[str, OrgContext], resolver: Resolver) -> str | None:
    for x in xs:
        for y in ys:
            a, b = by_iri[x], by_iri[y]
            if resolver.vetoed(a, b):
                return "vetoed by configuration (transitively)"
            if a.countries and b.countries and not a.countries & b.countries:
                alias = resolver.alias_group(a)
                if not (alias and alias == resolver.alias_group(b)):
                    return f"would join {a.name!r} and {b.name!r} in other countries"
    return None


# ------------------------------------------------------------------------------------------ labelled pairs
def context_from_summary(iri: str, name: str, summary: dict[str, object]) -> OrgContext:
    """An organisation from a context summary as the labelled pairs give it (countries, cities
    'City, Region, Country', classes, roles, example NCT ids)."""
    org = OrgContext(iri, Counter({name: int(summary.get("count", 1) or 1)}))  # type: ignore[call-overload]
    for country in summary.get("countries", {}) or {}:  # type: ignore[union-attr]
        org.countries.add(place(country))
    for city in summary.get("cities", []) or []:  # type: ignore[union-attr]
        parts = [p.strip() for p in city.split(",")]
        org.add_place(parts[0], None, ", ".join(parts[1:-1]) or None)
    org.classes.update(c.upper() for c in summary.get("classes", {}) or {})  # type: ignore[union-attr]
    org.trials.update(summary.get("example_ncts", []) or [])  # type: ignore[arg-type]
    roles = list(summary.get("roles", {}) or {})  # type: ignore[call-overload]
    # A summary does not say which trial each role was in: only one trial, or one role, tells.
    exact = len(roles) == 1 or int(summary.get("n_trials", 1) or 1) <= 1  # type: ignore[call-overload]
    for role in roles:
        org.roles.add(role)
        for trial in sorted(org.trials) if exact else ():
            org.add_role(role, trial)
    return org


def decide_pair(a: str, b: str, contexts: dict[str, dict[str, object]], resolver: Resolver,
                iris: Iris | None = None) -> tuple[str, Decision | None]:
    """How the build would resolve two registered names with these contexts: 'same' when they end up
    with one representative, else 'parent-child', 'candidate' or 'none', with the deciding decision."""
    iris = iris or Iris()
    shared = list(contexts.get("shared_trials", []) or [])  # type: ignore[arg-type]
    ctx_a = context_from_summary("", a, contexts["a"])
    ctx_b = context_from_summary("", b, contexts["b"])
    ctx_a.trials.update(shared)
    ctx_b.trials.update(shared)
    ctx_a.iri = iris.org(a, min(ctx_a.trials) if ctx_a.trials else "unknown-trial")
    ctx_b.iri = iris.org(b, min(ctx_b.trials) if ctx_b.trials else "unknown-trial-b")
    res = resolve([ctx_a, ctx_b], resolver)
    found = [d for _, _, d in res.merges + res.parents + res.candidates]
    if res.canonical(ctx_a.iri) == res.canonical(ctx_b.iri):
        return SAME, (res.merges[0][2] if res.merges else Decision(SAME, "normaliser", 1.0))
    if res.parents:
        return PARENT, res.parents[0][2]
    return (CANDIDATE, found[0]) if found else (NONE, None)


# ------------------------------------------------------------------------------------------ the graph
@lru_cache(maxsize=1)
def _declared() -> frozenset[str]:
    """Terms declared in any ontology file (trialkg.ttl and resolution.ttl)."""
    import pyoxigraph

    from kg.resources import ontology_files
    from kg.vocab import RDF_NS

    found = {RDF_NS + "type"}
    for path in ontology_files():
        for q in pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE):
            if q.predicate.value == RDF_NS + "type" and q.object.value.startswith("http://www.w3.org/2002/07/owl#"):
                found.add(q.subject.value)
    return frozenset(found)


@lru_cache(maxsize=64)
def _term(prefix: str, name: str) -> str:
    """A declared term as ``<iri>``: a typo is an error, not a new IRI."""
    from kg.vocab import NAMESPACES

    iri = NAMESPACES[prefix] + name
    if iri not in _declared():
        raise AttributeError(f"{prefix}:{name} is not declared in ontology/")
    return f"<{iri}>"


def resolution_graph_iri(iris: Iris) -> str:
    return f"{iris.base}graph/resolution"


def _pair_node(iris: Iris, kind: str, a: str, b: str) -> str:
    ka, kb = sorted((a.rsplit("/", 1)[-1], b.rsplit("/", 1)[-1]))
    return t.ref(f"{iris.base}resolution/{kind}/{ka}--{kb}")


def _explain(node: str, cls: str, a: str, b: str, d: Decision) -> Iterator[Triple]:
    yield node, _term("rdf", "type"), _term("tkg", cls)
    for x in sorted((a, b)):
        yield node, _term("tkg", "about"), t.ref(x)
    yield node, _term("tkg", "resolutionMethod"), t.string(d.method)
    yield node, _term("tkg", "score"), t.decimal(d.score)
    for e in d.evidence:
        yield node, _term("tkg", "evidence"), t.string(e)


def resolution_triples(orgs: Iterable[OrgContext], iris: Iris, resolver: Resolver | None = None,
                       people: Iterable[PersonContext] = ()) -> Iterator[Triple]:
    """The triples of the resolution graph for the organisations (and people) of one build, in a fixed order."""
    res = resolve(orgs, resolver)
    yield from _graph_triples(res, iris)
    yield from person_triples(people, res, iris)


def _graph_triples(res: Resolution, iris: Iris) -> Iterator[Triple]:
    g = t.ref(resolution_graph_iri(iris))
    yield g, _term("rdf", "type"), _term("tkg", "ResolutionGraph")
    yield g, _term("tkg", "resolverVersion"), t.string(RESOLVER_VERSION)
    out: list[Triple] = []
    for iri, rep in sorted(res.representative.items()):
        if iri != rep:
            out.append((t.ref(iri), _term("owl", "sameAs"), t.ref(rep)))
    for a, b, d in res.merges:
        node = _pair_node(iris, "merge", a, b)
        out.extend(_explain(node, "OrganizationMerge", a, b, d))
    for child, parent, d in res.parents:
        out.append((t.ref(child), _term("schema", "parentOrganization"), t.ref(parent)))
        out.append((t.ref(parent), _term("schema", "subOrganization"), t.ref(child)))
        out.extend(_explain(_pair_node(iris, "parent", child, parent), "ParentChildLink", child, parent, d))
    for a, b, d in res.candidates:
        x, y = sorted((a, b))
        out.append((t.ref(x), _term("tkg", "possibleSameAs"), t.ref(y)))
        out.extend(_explain(_pair_node(iris, "candidate", a, b), "MergeCandidate", a, b, d))
    yield from sorted(set(out))


# ------------------------------------------------------------------------------------------ people
@dataclass
class PersonContext:
    """A canonical person (name tokens within one affiliation) and the trials it appears in."""

    iri: str
    affiliation: str | None
    names: Counter[str] = field(default_factory=Counter)
    trials: set[str] = field(default_factory=set)

    @property
    def tokens(self) -> str:
        return person_tokens(min(self.names)) if self.names else self.iri.rsplit("/", 1)[-1].split("--")[0]


PERSON_SAME_AFFILIATION_SCORE = 1.0
PERSON_BASE_SCORE = 0.4  # the same name tokens at two unrelated organisations
# A name at more organisations than this in one build is a role or a desk ("Study Coordinator", "Site
# Contact", the sponsor's name as a contact), not a person: its pairs are not proposed (106 'Study
# Coordinator's made 5,565 of the 574-record sample's 6,800 person candidates).
PERSON_MAX_AFFILIATIONS = 10


def person_triples(people: Iterable[PersonContext], res: Resolution, iris: Iris) -> Iterator[Triple]:
    """owl:sameAs for the same name at organisations the resolution merged; tkg:possibleSameAs with a score
    for the same name elsewhere (more for longer names and shared trials), never a merge."""
    by_tokens: dict[str, list[PersonContext]] = defaultdict(list)
    for p in people:
        if p.affiliation:  # people known only within their trial stay there
            by_tokens[p.tokens].append(p)
    out: list[Triple] = []
    for tokens, group in sorted(by_tokens.items()):
        if len({p.affiliation for p in group}) > PERSON_MAX_AFFILIATIONS:
            continue
        group.sort(key=lambda p: p.iri)
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.iri == b.iri:
                    continue
                assert a.affiliation and b.affiliation
                same_org = res.canonical(a.affiliation) == res.canonical(b.affiliation)
                shared = sorted(a.trials & b.trials)
                if same_org:
                    d = Decision(SAME, "person-same-affiliation", PERSON_SAME_AFFILIATION_SCORE,
                                 (f"same name tokens {tokens!r}", "affiliations resolved to one organisation"))
                    out.append((t.ref(b.iri), _term("owl", "sameAs"), t.ref(a.iri)))
                    out.extend(_explain(_pair_node(iris, "person-merge", a.iri, b.iri), "PersonMerge",
                                        a.iri, b.iri, d))
                    continue
                score = PERSON_BASE_SCORE + 0.1 * min(tokens.count("-"), 2) + (0.3 if shared else 0.0)
                ev = [f"same name tokens {tokens!r}", "different organisations"]
                if shared:
                    ev.append("shared trials: " + " ".join(shared[:5]))
                d = Decision(CANDIDATE, "person-name", round(score, 2), tuple(ev))
                out.append((t.ref(a.iri), _term("tkg", "possibleSameAs"), t.ref(b.iri)))
                out.extend(_explain(_pair_node(iris, "person-candidate", a.iri, b.iri), "MergeCandidate",
                                    a.iri, b.iri, d))
    yield from sorted(set(out))


# ------------------------------------------------------------------------------------------ from a graph
_PREFIXES = ("PREFIX tkg: <https://w3id.org/trialkg/ontology#>\nPREFIX schema: <https://schema.org/>\n"
             "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n")
# Each record's parts are read inside its own named graph: two renderings of one trial number their
# sites and parties independently, so their part IRIs meet in the union of graphs.
ORG_MENTIONS_QUERY = _PREFIXES + """SELECT ?org ?name ?trial ?class ?role WHERE { GRAPH ?g {
  ?trial tkg:participation ?p . ?p tkg:resolvesTo ?org ; tkg:nameAsRegistered ?name .
  ?org a tkg:Organization .
  OPTIONAL { ?p tkg:agencyClass ?class } OPTIONAL { ?p tkg:role ?role }
} }"""
AFFILIATION_QUERY = _PREFIXES + """SELECT DISTINCT ?org ?name ?trial WHERE { GRAPH ?g {
  ?trial tkg:participation ?p . ?p tkg:affiliationAsRegistered ?name ; tkg:resolvesTo ?person .
  ?person schema:affiliation ?org .
} }"""
SITE_QUERY = _PREFIXES + """SELECT ?org ?name ?trial ?city ?region ?country WHERE { GRAPH ?g {
  ?trial tkg:site ?s . ?s tkg:facility ?org ; schema:name ?name .
  OPTIONAL { ?s schema:addressLocality ?city } OPTIONAL { ?s schema:addressCountry ?country }
  OPTIONAL { ?s schema:addressRegion ?region }
} }"""
PERSON_QUERY = _PREFIXES + """SELECT DISTINCT ?person ?name ?org ?trial WHERE { GRAPH ?g {
  ?trial tkg:participation ?p . ?p tkg:resolvesTo ?person ; tkg:nameAsRegistered ?name .
  ?person a tkg:Person . OPTIONAL { ?person schema:affiliation ?org }
} }"""
SAMEAS_QUERY = _PREFIXES + """SELECT ?a ?b WHERE { ?a owl:sameAs ?b . ?a a tkg:Organization . }"""


def _value(term: object) -> str | None:
    return None if term is None else str(getattr(term, "value", term))


def _tail(iri: str | None) -> str:
    return iri.rsplit("/", 1)[-1] if iri else ""


def org_contexts(store: object) -> list[OrgContext]:
    """The canonical organisations of a built graph (a pyoxigraph Store) with their contexts: names,
    trials, agency classes and roles from the mentions; cities and countries from the sites where the
    organisation is the facility, else (for sponsors) the countries of its trials' sites."""
    orgs: dict[str, OrgContext] = {}

    def get(iri: str) -> OrgContext:
        return orgs.setdefault(iri, OrgContext(iri))

    for row in store.query(ORG_MENTIONS_QUERY):  # type: ignore[attr-defined]
        org = get(_value(row["org"]) or "")
        org.names[_value(row["name"]) or ""] += 1
        org.trials.add(_value(row["trial"]) or "")
        if row["class"] is not None:
            org.classes.add(_tail(_value(row["class"])).upper())
        if row["role"] is not None:
            org.add_role(_tail(_value(row["role"])).lower(), _value(row["trial"]) or "")
    for row in store.query(AFFILIATION_QUERY):  # type: ignore[attr-defined]
        org = get(_value(row["org"]) or "")
        org.names[_value(row["name"]) or ""] += 1
        org.trials.add(_value(row["trial"]) or "")
        org.roles.add("affiliation")
    located: set[str] = set()
    for row in store.query(SITE_QUERY):  # type: ignore[attr-defined]
        org = get(_value(row["org"]) or "")
        org.names[_value(row["name"]) or ""] += 1
        org.trials.add(_value(row["trial"]) or "")
        org.roles.add("facility")
        org.add_place(_value(row["city"]), _value(row["country"]), _value(row["region"]))
        located.add(org.iri)
    # Sponsors carry no address: the countries of a multinational trial say nothing about a sponsor's seat,
    # so only facilities get places.
    return sorted(orgs.values(), key=lambda o: o.iri)


def _term_value(term: str) -> str:
    """The value of an N-Triples term: an IRI without its brackets, a literal's text without its datatype."""
    if term.startswith("<"):
        return term[1:-1]
    text = term[1:term.rindex('"')]
    return t.unescape_literal(text)


class ContextCollector:
    """Gathers the contexts of :func:`org_contexts` and :func:`person_contexts` one record at a time from
    the record's triples as N-Triples term strings (what the mapping makes and the build spools), reading
    only the few predicates it needs: no RDF parser, and the build never loads the whole graph."""

    def __init__(self) -> None:
        from kg.vocab import NAMESPACES

        tkg, schema = NAMESPACES["tkg"], NAMESPACES["schema"]
        self.p = {k: f"<{ns}{k}>" for ns, names in ((tkg, ("participation", "resolvesTo", "nameAsRegistered",
                                                           "agencyClass", "role", "affiliationAsRegistered",
                                                           "site", "facility")),
                                                     (schema, ("affiliation", "name", "addressLocality",
                                                               "addressCountry", "addressRegion")))
                  for k in names}
        self.rdf_type = f"<{NAMESPACES['rdf']}type>"
        self.org_class, self.person_class = f"<{tkg}Organization>", f"<{tkg}Person>"
        self.wanted = frozenset(self.p.values())
        self.orgs: dict[str, OrgContext] = {}
        self.people: dict[str, PersonContext] = {}

    def add(self, triples: Iterable[tuple[str, str, str]]) -> None:
        """One record's triples (subject, predicate, object term strings); others than those read are skipped."""
        props: dict[str, dict[str, list[str]]] = {}
        wanted, rdf_type, classes = self.wanted, self.rdf_type, (self.org_class, self.person_class)
        for s_, p_, o_ in triples:
            if p_ in wanted:
                o_ = _term_value(o_)
            elif p_ != rdf_type or o_ not in classes:
                continue
            props.setdefault(s_[1:-1], {}).setdefault(p_, []).append(o_)
        P, orgs, people = self.p, self.orgs, self.people
        for subject, po in props.items():
            for p in po.get(P["participation"], []):
                part = props.get(p, {})
                entity = (part.get(P["resolvesTo"]) or [""])[0]
                name = (part.get(P["nameAsRegistered"]) or [""])[0]
                types = props.get(entity, {}).get(self.rdf_type, [])
                if self.org_class in types:
                    org = orgs.setdefault(entity, OrgContext(entity))
                    org.names[name] += 1
                    org.trials.add(subject)
                    org.classes.update(_tail(c).upper() for c in part.get(P["agencyClass"], []))
                    for r in part.get(P["role"], []):
                        org.add_role(_tail(r).lower(), subject)
                elif self.person_class in types:
                    aff = (props[entity].get(P["affiliation"]) or [None])[0]
                    person = people.setdefault(entity, PersonContext(entity, aff))
                    person.names[name] += 1
                    person.trials.add(subject)
                    for reg in part.get(P["affiliationAsRegistered"], []):
                        if aff:
                            org = orgs.setdefault(aff, OrgContext(aff))
                            org.names[reg] += 1
                            org.trials.add(subject)
                            org.roles.add("affiliation")
            for site in po.get(P["site"], []):
                sp = props.get(site, {})
                for facility in sp.get(P["facility"], []):
                    org = orgs.setdefault(facility, OrgContext(facility))
                    for name in sp.get(P["name"], []):
                        org.names[name] += 1
                    org.trials.add(subject)
                    org.roles.add("facility")
                    first = {k: (sp.get(P[k]) or [None])[0] for k in ("addressLocality", "addressCountry",
                                                                       "addressRegion")}
                    org.add_place(first["addressLocality"], first["addressCountry"], first["addressRegion"])

    def result(self) -> tuple[list[OrgContext], list[PersonContext]]:
        return (sorted(self.orgs.values(), key=lambda o: o.iri),
                sorted(self.people.values(), key=lambda p: p.iri))


def _ntriples_terms(data: bytes, predicates: frozenset[str]) -> Iterator[tuple[str, str, str]]:
    """(subject, predicate, object) term strings of the N-Triples lines with one of these predicates. The
    build writes one triple per line with single spaces; IRIs have no spaces, so the object is the rest."""
    for line in data.decode("utf-8").split("\n"):
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in predicates and parts[2].endswith(" ."):
            yield parts[0], parts[1], parts[2][:-2]


def contexts_from_records(chunks: Iterable[tuple[str, bytes]]) -> tuple[list[OrgContext], list[PersonContext]]:
    """The same contexts as :func:`org_contexts` and :func:`person_contexts`, read from the N-Triples of each
    record graph as the build spools them (one record at a time, so the build never loads the whole graph)."""
    collector = ContextCollector()
    for _graph, data in chunks:
        collector.add(_ntriples_terms(data, collector.wanted | {collector.rdf_type}))
    return collector.result()


def person_contexts(store: object) -> list[PersonContext]:
    people: dict[str, PersonContext] = {}
    for row in store.query(PERSON_QUERY):  # type: ignore[attr-defined]
        iri = _value(row["person"]) or ""
        p = people.setdefault(iri, PersonContext(iri, _value(row["org"])))
        p.names[_value(row["name"]) or ""] += 1
        p.trials.add(_value(row["trial"]) or "")
    return sorted(people.values(), key=lambda p: p.iri)


def recorded_sameas(store: object) -> dict[str, str]:
    """owl:sameAs links between organisations already in the graph (its resolution graph), if any."""
    return {(_value(r["a"]) or ""): (_value(r["b"]) or "")
            for r in store.query(SAMEAS_QUERY, use_default_graph_as_union=True)}  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ commands
def read_name_lines(lines: Iterable[str]) -> list[tuple[str, str | None]]:
    """``name`` or ``name<TAB>country`` per line, blank lines skipped."""
    out = []
    for line in lines:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        name, _, country = line.partition("\t")
        out.append((name.strip(), country.strip() or None))
    return out


def resolve_names(names: Sequence[tuple[str, str | None]], iris: Iris, resolver: Resolver | None = None,
                  store: object | None = None) -> list[tuple[str, str]]:
    """(name, canonical IRI) for each name, in order. Without a store the names are resolved together, each
    with its country; with a store each name gets the answer of that graph's build (its resolution graph if
    it has one, else the resolver run over the graph's organisations and their contexts)."""
    resolver = resolver or Resolver()
    known: dict[str, OrgContext] = {}
    recorded: dict[str, str] = {}
    if store is not None:
        known = {o.iri: o for o in org_contexts(store)}
        recorded = recorded_sameas(store)
    extra: dict[str, OrgContext] = {}
    for name, country in names:
        iri = iris.org(name)
        if iri not in known:
            org = extra.setdefault(iri, OrgContext(iri))
            org.names[name] += 1
            if country:
                org.countries.add(place(country))
    if recorded and not extra:
        return [(name, recorded.get(iris.org(name), iris.org(name))) for name, _ in names]
    res = resolve([*known.values(), *extra.values()], resolver)
    answer = {iri: recorded.get(iri) or res.canonical(iri) for iri in [*known, *extra]}
    return [(name, answer.get(iris.org(name), iris.org(name))) for name, _ in names]


REPORT_COLUMNS = ["decision", "method", "score", "org_a", "name_a", "org_b", "name_b", "evidence"]


def report_rows(res: Resolution) -> Iterator[list[str]]:
    """CSV rows for a curator: merges made, parent-child links, then candidates not merged, best first."""
    def row(kind: str, a: str, b: str, d: Decision) -> list[str]:
        return [kind, d.method, f"{d.score:.3f}", a, res.orgs[a].name, b, res.orgs[b].name, "; ".join(d.evidence)]

    for a, b, d in sorted(res.merges, key=lambda r: (-r[2].score, r[0], r[1])):
        yield row("merged", a, b, d)
    for child, parent, d in sorted(res.parents, key=lambda r: (r[1], r[0])):
        yield row("parent-child", parent, child, d)
    for a, b, d in sorted(res.candidates, key=lambda r: (-r[2].score, r[0], r[1])):
        yield row("not-merged", a, b, d)


def write_report(res: Resolution, out: object) -> int:
    writer = csv.writer(out, lineterminator="\n")  # type: ignore[arg-type]
    writer.writerow(REPORT_COLUMNS)
    n = 0
    for r in report_rows(res):
        writer.writerow(r)
        n += 1
    return n
