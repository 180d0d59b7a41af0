"""Identity: every IRI the graph mints, and the versioned name normaliser behind canonical entities.

Organisations and people keep their registered names in the graph; the canonical entity a mention
resolves to is keyed by :func:`org_key` / :func:`person_key`, whose rules carry :data:`NORMALISER_VERSION`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

NORMALISER_VERSION = "2"
DEFAULT_BASE = "https://w3id.org/trialkg/"
TRIAL_PREFIX = "https://clinicaltrials.gov/study/"
MESH_PREFIX = "http://id.nlm.nih.gov/mesh/"
PUBMED_PREFIX = "https://pubmed.ncbi.nlm.nih.gov/"
CTGOV_API_STUDY = "https://clinicaltrials.gov/api/v2/studies/"

PRIMARY_RENDERING = "ctgov-v2"

NCT_RE = re.compile(r"^NCT\d{8}$")
NCT_IN_TEXT_RE = re.compile(r"\bNCT\d{8}\b")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")

# Legal forms are kept in the key, spelled one way: "Pfizer Inc." and "Pfizer, Incorporated" meet, while
# "Daiichi Sankyo Co., Ltd." and "Daiichi Sankyo, Inc." (parent and US subsidiary) stay apart. Merging a
# bare name with its one legal form needs evidence from other records: that is the resolution graph's job.
_LEGAL_FORMS = {"incorporated": "inc", "limited": "ltd", "corporation": "corp", "company": "co",
                "l l c": "llc", "s a": "sa", "s p a": "spa", "b v": "bv", "n v": "nv", "k k": "kk",
                "s r l": "srl", "a g": "ag", "p l c": "plc", "l p": "lp"}
_LEGAL_FORM_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(_LEGAL_FORMS, key=len, reverse=True))
                            + r")\b")
_ABBREVIATIONS = {"univ": "university", "hosp": "hospital", "inst": "institute", "ctr": "center",
                  "centre": "center", "dept": "department", "natl": "national"}
_INITIAL_DOT_RE = re.compile(r"\b(\w)\.(?=\w\b|\w\.)")
# Trial site codes at the end of a facility name: "/ID# 253048", "- Site 2810", "( Site 0810)" (v2),
# "-Site Number:8400004" (v2).
_SITE_NUMBER = r"site\s*(?:number|no\.?|nr\.?|#)?\s*:?\s*\d+"
_SITE_CODE_RE = re.compile(rf"\s*(?:/\s*id#?\s*\d+|-\s*{_SITE_NUMBER}|\(\s*{_SITE_NUMBER}\s*\))\s*$", re.I)

# Placeholder facility names that different sponsors reuse for unrelated places: never merged
# across trials (their key is scoped to the trial).
_MASKED_SITE_RE = re.compile(
    r"^(?:local institution|research site|investigational site|study site|clinical site|"
    r"site|research facility|clinical research site|.*\binvestigational site|.* research site|"
    r".* clinical study site|.* site)\b(?:\s*(?:number|no|nr)\b)?[\s\d#:/.-]*$"  # "... Site Number :0360001" (v2)
    r"|^(?:site|center|centre)\s*(?:#|no\.?)?\s*\d+$",
    re.I,
)
DEGREE_TOKENS = frozenset(
    "md phd mph msc ms bsc ba ma mba mbbs frcp frcpc facp facc rn np pa pharmd dr prof professor mr "
    "mrs ms dphil do dds dmd fracp mrcp bs mb chb ii iii jr sr".split()
)


class _CombiningMarks(dict):  # type: ignore[type-arg]
    """str.translate table deleting combining marks, filled per character on first sight: a C lookup per
    character instead of a Python call (the same result as filtering on unicodedata.combining)."""

    def __missing__(self, cp: int) -> int | None:
        value = None if unicodedata.combining(chr(cp)) else cp
        self[cp] = value
        return value


_COMBINING_MARKS = _CombiningMarks()
# ASCII fast path of the regexes below (same results, several times faster): every byte that is not an ASCII
# letter or digit becomes a space. bytes.translate looks each byte up in this table; str.translate would look
# each distinct character up in a dict, on every call.
_ASCII_ALNUM_ELSE_SPACE = bytes(c if c < 128 and chr(c).isalnum() else 32 for c in range(256))
_NON_WORD_RE = re.compile(r"[^\w]+")
_NON_SLUG_RE = re.compile(r"[^a-z0-9]+")
_LEGAL_FORM_FIRST_WORDS = frozenset(k.split()[0] for k in _LEGAL_FORMS)


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Unicode-normalise, case-fold, strip accents and collapse whitespace: the base of every key."""
    if text.isascii():
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKD", text).translate(_COMBINING_MARKS)
    return " ".join(text.split())


def _ascii_words(text: str) -> list[str]:
    """The runs of letters and digits in an ASCII text."""
    return text.encode().translate(_ASCII_ALNUM_ELSE_SPACE).decode().split()


def _words(text: str) -> list[str]:
    text = fold(text).replace("&", " and ")
    if text.isascii():
        return _ascii_words(text)
    return _NON_WORD_RE.sub(" ", text).replace("_", " ").split()


def _without_site_code(name: str) -> str:
    end = name.rstrip()[-1:]
    if not (end.isdigit() or end == ")"):  # only such names can end in a site code
        return name
    if name.isascii() and "/" not in name and "site" not in name.lower():  # every site code has one of them
        return name
    return _SITE_CODE_RE.sub("", name)


@lru_cache(maxsize=1 << 16)
def normalise_org_name(name: str) -> str:
    """Normaliser v1 for organisation names: folded words, no punctuation, no leading 'The', common
    abbreviations and legal forms spelled one way, trial site codes ("/ID# 253048", "- Site 2810") dropped."""
    text = _without_site_code(name)
    if "." in text:
        text = _INITIAL_DOT_RE.sub(r"\1", text)  # "M.D." -> "MD"
    words = [_ABBREVIATIONS.get(w, w) for w in _words(text)]
    joined = " ".join(words)
    if not _LEGAL_FORM_FIRST_WORDS.isdisjoint(words):
        joined = _LEGAL_FORM_RE.sub(lambda m: _LEGAL_FORMS[m.group()], joined)
    if joined.startswith("the ") and len(joined) > 4:
        joined = joined[4:]
    return joined


@lru_cache(maxsize=1 << 16)
def slug(text: str, max_len: int = 120) -> str:
    """An IRI-safe path segment that still reads like the text it came from. A text too long for one is
    cut and given a short digest of the whole, so two long names that share a beginning stay apart."""
    folded = fold(text)
    if folded.isascii():
        s = "-".join(_ascii_words(folded))
    else:
        s = _NON_SLUG_RE.sub("-", folded).strip("-")
    if not s:
        # Names in scripts without ASCII letters: keep them readable but IRI-safe.
        s = quote(fold(text).replace(" ", "-"), safe="-") or "unnamed"
    if len(s) > max_len:
        digest = hashlib.sha1(s.encode("utf-8")).hexdigest()[:10]
        cut = re.sub(r"%[0-9A-F]?$", "", s[:max_len - 11])  # never cut a percent-escape in two
        s = f"{cut.rstrip('-')}-{digest}"
    return s


@lru_cache(maxsize=1 << 16)
def org_key(name: str) -> tuple[str, bool]:
    """(IRI key of the canonical organisation, whether the name is a masked site name)."""
    return slug(normalise_org_name(name)), is_masked_site_name(name)


def is_masked_site_name(name: str) -> bool:
    """A placeholder such as "Research Site" or "Local Institution - 0024". A real name with a site code
    ("Aarhus University Hospital ( Site 0702)") is not one: the code is dropped first (v2)."""
    name = _without_site_code(name)
    if name.isascii():  # every masked form names a site, institution or facility, or starts with a centre
        low = name.lower()
        if ("site" not in low and "institution" not in low and "facility" not in low
                and not low.lstrip().startswith("cent")):
            return False
    return bool(_MASKED_SITE_RE.match(" ".join(name.split())))


@lru_cache(maxsize=1 << 16)
def person_tokens(name: str) -> str:
    """A person's name as a sorted token set without degrees: 'Zhou Qi, MD' and 'Qi Zhou' meet."""
    tokens = [t for t in _words(name.replace(".", " ")) if t not in DEGREE_TOKENS]
    return "-".join(sorted(tokens)) or slug(name)


ENTITIES_GRAPH = "graph/entities"  # under the base: see Iris.entities_graph


def is_entities_graph(iri: str) -> bool:
    return iri.endswith("/" + ENTITIES_GRAPH)


@dataclass(frozen=True, slots=True)
class Iris:
    """Mints every IRI under one configurable base."""

    base: str = DEFAULT_BASE
    # Parts of a trial minted from a rendering other than the v2 record carry the rendering in their key
    # (`site/ctgov-xml-3`), so two renderings of one trial never share a part IRI in the union of graphs.
    rendering: str | None = None

    def for_rendering(self, source: str) -> Iris:
        rendering = None if source == PRIMARY_RENDERING else source
        return self if rendering == self.rendering else Iris(self.base, rendering)

    def __post_init__(self) -> None:
        if not self.base.endswith(("/", "#")):
            object.__setattr__(self, "base", self.base + "/")

    # trials ---------------------------------------------------------------------------------
    @staticmethod
    def nct_trial(nct_id: str) -> str:
        return TRIAL_PREFIX + nct_id

    def trial_id(self, nct_id: str | None, org_study_id: str | None, org_name: str | None,
                 registry: str = "unknown-registry") -> str:
        """The trial's id inside minted IRIs: its NCT id, else organisation (or registry) slug / id slug."""
        if nct_id:
            return nct_id
        return f"{slug(org_name or registry)}/{slug(org_study_id or 'unknown-id')}"

    def trial(self, trial_id: str) -> str:
        if NCT_RE.match(trial_id):
            return self.nct_trial(trial_id)
        return f"{self.base}trial/{trial_id}"

    def part(self, trial_id: str, kind: str, key: str | int) -> str:
        if self.rendering:
            return f"{self.base}trial/{trial_id}/{kind}/{self.rendering}-{key}"
        return f"{self.base}trial/{trial_id}/{kind}/{key}"

    def graph(self, trial_id: str, source: str) -> str:
        return f"{self.base}graph/{trial_id}/{source}"

    def mesh_graph(self) -> str:
        return f"{self.base}graph/mesh"

    def resolution_graph(self) -> str:
        return f"{self.base}graph/resolution"

    def entities_graph(self) -> str:
        """Names and keys of the shared entities (organisations, people, site locations), each written once."""
        return f"{self.base}{ENTITIES_GRAPH}"

    # canonical entities ---------------------------------------------------------------------
    def org(self, name: str, trial_id: str | None = None) -> str:
        """Canonical organisation; masked site names are scoped to their trial, never shared."""
        key, masked = org_key(name)
        if trial_id and masked:
            return f"{self.base}org/{key}--{slug(trial_id)}"
        return f"{self.base}org/{key}"

    def person(self, name: str, affiliation_iri: str | None, trial_id: str) -> str:
        """Canonical person: name tokens within one canonical affiliation, else within the trial."""
        scope = affiliation_iri.rsplit("/", 1)[-1] if affiliation_iri else slug(trial_id)
        return f"{self.base}person/{slug(person_tokens(name), 80)}--{scope}"

    def location(self, facility: str | None, city: str | None, country: str | None) -> str:
        """A site location: the facility, city and country exactly as registered (a digest of the three, as
        names alone would collide after slugging); every site registered with the same three shares it."""
        return f"{self.base}location/{_location_key(facility, city, country)}"


def _location_key(facility: str | None, city: str | None, country: str | None) -> str:
    text = f"{facility or ''}\x1f{city or ''}\x1f{country or ''}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


def mesh_iri(ui: str) -> str:
    return MESH_PREFIX + ui


def pubmed_iri(pmid: str) -> str:
    return PUBMED_PREFIX + pmid


def related_nct_ids(own_id: str | None, *texts: str | None) -> tuple[str, ...]:
    found = {m for t in texts if t and "NCT" in t for m in NCT_IN_TEXT_RE.findall(t)}
    found.discard(own_id or "")
    return tuple(sorted(found))
