"""Write tests/data/shapes/<shape>/{conforms,violates}.ttl: for every shape, a small real graph that
conforms to it and one that violates it.

The conforming graph is what the shape looks at, cut out of the real record NCT00763412
(built from tests/data/ctgov_v2/studies; the parts it lacks, a see-also link, a reference and a site
investigator, are taken from other sample records and renamed into it, and values it lacks are copied from
the records named in EXTRA): the focus node's types, its values on the shape's path, the triple that
makes it a target, and the types of the nodes it points to. The violating graph is that one with one
change, named in the file's first line (a value removed, doubled, out of the list, of the wrong datatype
...). Review the cases after regenerating; tests/test_shapes.py runs them all and checks every shape has one.

    python scripts/make_shape_cases.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import rdflib
from rdflib import RDF, XSD, BNode, Literal, URIRef

from kg.build import build
from kg.validate import load_shapes, validate_graph

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "shapes"
STUDIES = ROOT / "tests" / "data" / "ctgov_v2" / "studies"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
TKGS = "https://w3id.org/trialkg/shapes#"
BASE_TRIAL = "NCT00763412"
# (record, part) grafted into BASE_TRIAL, for the parts it lacks
GRAFTS = [("NCT01298921", "link/1"), ("NCT00000410", "reference/1"), ("NCT01100827", "site-person/1")]
# Values BASE_TRIAL lacks, each copied from the real record named beside it.
EXTRA = f"""
@prefix tkg: <https://w3id.org/trialkg/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix schema: <https://schema.org/> .
@prefix code: <https://w3id.org/trialkg/code/> .
@prefix trial: <https://w3id.org/trialkg/trial/{BASE_TRIAL}/> .
<https://clinicaltrials.gov/study/{BASE_TRIAL}>
    tkg:acronym "SPORT" ;                                                          # NCT00000410
    tkg:lastKnownStatus <https://w3id.org/trialkg/code/status/RECRUITING> ;        # NCT01100827
    tkg:mentionsTrial <https://clinicaltrials.gov/study/NCT02945046> ;             # NCT03107052
    owl:sameAs <https://clinicaltrials.gov/study/NCT02380456> ;                    # NCT02300909
    tkg:observationalModel <https://w3id.org/trialkg/code/observational-model/COHORT> ;  # NCT00831909
    tkg:timePerspective <https://w3id.org/trialkg/code/time-perspective/PROSPECTIVE> ;   # NCT00831909
    tkg:startDateType <https://w3id.org/trialkg/code/date-type/ACTUAL> ;           # NCT00356603
    tkg:whyStopped "PI left Geisinger-study terminated prematurely - 4 patients enrolled" ;  # NCT01298921
    tkg:unresolvedMeshTerm "Phelan-McDermid Syndrome" ;                            # a name MeSH 2024 lacks
    tkg:otherOutcome trial:outcome\\/9 .
trial:eligibility\\/1 tkg:genderBased true ;                                        # NCT04581499
    tkg:samplingMethod <https://w3id.org/trialkg/code/sampling-method/PROBABILITY_SAMPLE> .  # NCT00831909
trial:identifier\\/1 tkg:identifierDomain "Children's Oncology Group" .             # NCT00716976
trial:ipd-sharing\\/1                                                               # NCT02438826
    tkg:ipdInfoType <https://w3id.org/trialkg/code/ipd-info-type/STUDY_PROTOCOL> ;
    tkg:ipdTimeFrame "Data are available 6 months after the primary publication." ;
    tkg:ipdAccessCriteria "A research proposal must be approved by an independent review panel." ;
    schema:url "https://vivli.org/"^^xsd:anyURI .
trial:site\\/1 tkg:siteStatus <https://w3id.org/trialkg/code/site-status/RECRUITING> .  # NCT01100827
"""
UNTYPED = URIRef(f"https://w3id.org/trialkg/trial/{BASE_TRIAL}/untyped/1")
BAD_CODE = URIRef("https://w3id.org/trialkg/code/bogus/NOT_A_CODE")
BAD_IRI = URIRef("https://example.org/not-a-trialkg-iri")

Graph = rdflib.Graph


def base_graph() -> Graph:
    """NCT00763412's record graph, plus a link and a reference grafted from two other real records,
    plus what the entities graph says about its shared nodes and the MeSH graph about its descriptors."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sample.nq"
        build([STUDIES], out)
        ds = rdflib.Dataset()
        ds.parse(out, format="nquads")
    g = Graph()
    for s, p, o, ctx in ds.quads():
        name = str(ctx)
        if f"/graph/{BASE_TRIAL}/" in name:
            g.add((s, p, o))
    trial = URIRef(f"https://clinicaltrials.gov/study/{BASE_TRIAL}")
    quads = list(ds.quads())
    for record, part in GRAFTS:
        node = URIRef(f"https://w3id.org/trialkg/trial/{record}/{part}")
        renamed = URIRef(str(node).replace(f"/trial/{record}/", f"/trial/{BASE_TRIAL}/"))
        for s, p, o, _ctx in quads:
            if s == node:
                g.add((renamed, p, o))
                if str(p).endswith("#article"):  # the cited article, with its own triples and links
                    source = URIRef(f"https://clinicaltrials.gov/study/{record}")
                    for _s, p2, o2, _c in quads:
                        if _s == source and o2 == o:  # schema:citation and the typed link
                            g.add((trial, p2, o))
                    for _s, p2, o2, _c in quads:
                        if _s == o:
                            g.add((o, p2, o2))
            elif o == node:
                g.add((trial, p, renamed))
        if part.startswith("site-person"):
            site = URIRef(f"https://w3id.org/trialkg/trial/{BASE_TRIAL}/site/1")
            g.set((renamed, URIRef("https://w3id.org/trialkg/ontology#atSite"), site))
    nodes = {n for triple in g for n in triple}
    for s, p, o, ctx in quads:  # the names and keys of its shared nodes (organisations, people, locations)
        if str(ctx).endswith("/graph/entities") and s in nodes:
            g.add((s, p, o))
    g.parse(data=EXTRA, format="turtle")
    g.parse(data=pubmed_enrichment(), format="nt")
    mesh = {o for _, p, o in g if "Mesh" in str(p)}
    for s, p, o, ctx in ds.quads():
        if str(ctx).endswith("/graph/mesh") and s in mesh:
            g.add((s, p, o))
    return g


def pubmed_enrichment() -> str:
    """What `kg enrich` adds for the real PubMed record in tests/data/http/pubmed/efetch_29963580.xml."""
    from kg.enrich import article_triples
    from kg.fetch.pubmed import parse_pubmed_xml
    from kg.identity import Iris

    data = (ROOT / "tests" / "data" / "http" / "pubmed" / "efetch_29963580.xml").read_bytes()
    article = parse_pubmed_xml(data)[0]
    return "".join(f"{s} {p} {o} .\n" for s, p, o in article_triples(article, Iris()))


# ------------------------------------------------------------------------------------------ shapes
def named_shapes(sg: Graph) -> list[URIRef]:
    found = {s for s in sg.subjects(RDF.type, SH.NodeShape)} | {s for s in sg.subjects(RDF.type, SH.PropertyShape)}
    return sorted(s for s in found if isinstance(s, URIRef) and str(s).startswith(TKGS) and targets(sg, s))


def targets(sg: Graph, shape: URIRef) -> list[tuple[URIRef, URIRef]]:
    return [(p, o) for p, o in sg.predicate_objects(shape)
            if p in (SH.targetClass, SH.targetObjectsOf, SH.targetNode, SH.targetSubjectsOf)]


def focus_nodes(g: Graph, sg: Graph, shape: URIRef) -> list[rdflib.term.Node]:
    found: set[rdflib.term.Node] = set()
    for p, o in targets(sg, shape):
        if p == SH.targetClass:
            found |= set(g.subjects(RDF.type, o))
        elif p == SH.targetObjectsOf:
            found |= set(g.objects(None, o))
        elif p == SH.targetSubjectsOf:
            found |= set(g.subjects(o, None))
        else:
            found.add(o)
    return sorted(found, key=str)


def path_predicates(sg: Graph, shape: URIRef) -> list[URIRef]:
    """The predicates a shape's path walks (one, or the members of an alternative/inverse path)."""
    path = sg.value(shape, SH.path)
    if path is None:
        return []
    if isinstance(path, URIRef):
        return [path]
    alt = sg.value(path, SH.alternativePath)
    if alt is not None:
        return list(rdflib.collection.Collection(sg, alt))
    inv = sg.value(path, SH.inversePath)
    return [inv] if inv is not None else []


def cut(g: Graph, sg: Graph, shape: URIRef, focus: rdflib.term.Node, preds: list[URIRef], inverse: bool) -> Graph:
    """Only what the shape looks at: the focus node's types, its values on the shape's path (or, for an
    inverse path, the nodes pointing at it with all their triples), the triple that makes it a target,
    and the types of the nodes those point to."""
    out = Graph()
    for t in g.triples((focus, RDF.type, None)):
        out.add(t)
    for p in preds:
        if inverse:
            for s, _, _ in g.triples((None, p, focus)):
                for t in g.triples((s, None, None)):
                    out.add(t)
        else:
            for t in g.triples((focus, p, None)):
                out.add(t)
    for p in sg.objects(shape, SH.targetObjectsOf):
        for s, _, _ in g.triples((None, p, focus)):
            out.add((s, p, focus))
            break
    for o in set(out.objects()):
        for t in g.triples((o, RDF.type, None)):
            out.add(t)
    return out


# ------------------------------------------------------------------------------------------ mutations
Mutation = Callable[[Graph, rdflib.term.Node, list[URIRef]], str | None]


def _values(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> list[tuple[URIRef, rdflib.term.Node]]:
    return [(p, o) for p in preds for o in g.objects(focus, p)]


def _short(node: rdflib.term.Node) -> str:
    text = " ".join(node.n3().split())
    return text if len(text) <= 90 else text[:80] + "...\""


def _replace(g: Graph, focus: rdflib.term.Node, preds: list[URIRef], new: rdflib.term.Node) -> str | None:
    vals = _values(g, focus, preds)
    if not vals:
        return None
    p, o = vals[0]
    g.remove((focus, p, o))
    g.add((focus, p, new))
    return f"{_short(p)} {_short(o)} replaced by {_short(new)}"


def rename_focus(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    if not isinstance(focus, URIRef):
        return None
    for s, p, o in list(g):
        if focus in (s, o):
            g.remove((s, p, o))
            g.add((BAD_IRI if s == focus else s, p, BAD_IRI if o == focus else o))
    return f"the focus node {focus.n3()} renamed to {BAD_IRI.n3()}"


def not_in_list(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    vals = _values(g, focus, preds)
    if not vals:
        return None
    new = Literal("not-a-listed-value") if isinstance(vals[0][1], Literal) else BAD_CODE
    return _replace(g, focus, preds, new)


def untyped(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    return _replace(g, focus, preds, UNTYPED)


def wrong_datatype(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    vals = _values(g, focus, preds)
    if not vals:
        return None
    o = vals[0][1]
    typed = isinstance(o, Literal) and o.datatype not in (None, XSD.string)
    return _replace(g, focus, preds, Literal(str(o)) if typed else Literal("12", datatype=XSD.integer))


def bad_pattern(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    vals = _values(g, focus, preds)
    if not vals:
        return None
    return _replace(g, focus, preds, BAD_IRI if isinstance(vals[0][1], URIRef) else Literal("not valid"))


def literal_for_iri(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    return _replace(g, focus, preds, Literal("https://clinicaltrials.gov/study/NCT00000000"))


def out_of_range(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    vals = _values(g, focus, preds)
    if not vals or not isinstance(vals[0][1], Literal):
        return None
    return _replace(g, focus, preds, Literal("-1000", datatype=vals[0][1].datatype))


def empty_text(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    return _replace(g, focus, preds, Literal(""))


def doubled(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    vals = _values(g, focus, preds)
    if not vals:
        return None
    added = []
    for k in range(1, 4):  # enough for maxCount 2 too
        p, o = vals[0]
        new: rdflib.term.Node
        if isinstance(o, Literal) and o.datatype not in (None, XSD.string, XSD.anyURI):
            new = {XSD.integer: Literal(k + 1000), XSD.decimal: Literal(f"{k}.5", datatype=XSD.decimal),
                   XSD.boolean: Literal(k % 2 == 0), XSD.date: Literal(f"200{k}-01-01", datatype=XSD.date),
                   XSD.gYearMonth: Literal(f"200{k}-01", datatype=XSD.gYearMonth),
                   XSD.gYear: Literal(f"200{k}", datatype=XSD.gYear)}[o.datatype]
        elif isinstance(o, Literal):
            new = Literal(f"{o} (second)" if k == 1 else f"{o} ({k})", datatype=o.datatype, lang=o.language)
        else:
            new = URIRef(f"{o}-{k + 1}") if "/code/" not in str(o) else _other_code(g, o, k)
            for t in list(g.triples((o, RDF.type, None))):
                g.add((new, RDF.type, t[2]))
        g.add((focus, p, new))
        added.append(_short(new))
    return f"{_short(vals[0][0])} given {len(added) + 1} times: added {', '.join(added)}"


def _other_code(g: Graph, code: URIRef, k: int) -> URIRef:
    from kg.codes import SCHEMES

    scheme, value = str(code).rsplit("/", 2)[-2:]
    others = [v for v in SCHEMES[scheme] if v != value]
    return URIRef(str(code).rsplit("/", 1)[0] + "/" + others[(k - 1) % len(others)])


def removed(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    vals = _values(g, focus, preds)
    if not vals:
        return None
    for p, o in vals:
        g.remove((focus, p, o))
    return "removed " + ", ".join(sorted({p.n3() for p, _ in vals}))


def agency_removed(g: Graph, focus: rdflib.term.Node, preds: list[URIRef]) -> str | None:
    agency = URIRef("https://w3id.org/trialkg/ontology#agencyClass")
    gone = list(g.triples((None, agency, None)))
    for t in gone:
        g.remove(t)
    return f"removed {agency.n3()} from the {len(gone)} sponsor/collaborator participations" if gone else None


def mutations(sg: Graph, shape: URIRef) -> Iterator[tuple[str, Mutation]]:
    params = set(sg.predicates(shape, None))
    is_property = sg.value(shape, SH.path) is not None
    if not is_property and (SH.pattern in params or SH.nodeKind in params):
        yield "node", rename_focus
    if SH.node in params:
        yield "node", agency_removed
    for param, mutation in [
        (SH["in"], not_in_list), (SH["class"], untyped), (SH["or"], wrong_datatype),
        (SH.datatype, wrong_datatype), (SH.pattern, bad_pattern), (SH.nodeKind, literal_for_iri),
        (SH.minInclusive, out_of_range), (SH.minLength, empty_text), (SH.maxCount, doubled),
        (SH.minCount, removed),
    ]:
        if param in params:
            yield "property", mutation


# ------------------------------------------------------------------------------------------ main
def _write(path: Path, g: Graph, header: str) -> None:
    g.bind("tkg", "https://w3id.org/trialkg/ontology#")
    g.bind("schema", "https://schema.org/")
    g.bind("code", "https://w3id.org/trialkg/code/")
    text = g.serialize(format="turtle")
    path.write_text(header + "\n" + text, encoding="utf-8")


def main() -> int:
    shapes = load_shapes()
    sg = shapes.graph
    base = base_graph()
    if OUT.exists():
        shutil.rmtree(OUT)
    failed = []
    for shape in named_shapes(sg):
        name = str(shape).removeprefix(TKGS)
        preds = path_predicates(sg, shape)
        inverse = any(sg.value(p, SH.inversePath) is not None for p in sg.objects(shape, SH.path)
                      if isinstance(p, BNode))
        done = False
        for focus in focus_nodes(base, sg, shape):
            good = cut(base, sg, shape, focus, preds, inverse)
            if validate_graph(good, [str(shape)], shapes):
                continue
            for _kind, mutation in mutations(sg, shape):
                bad = Graph()
                for t in good:
                    bad.add(t)
                what = mutation(bad, focus, preds)
                if what and any(v.shape == str(shape) for v in validate_graph(bad, [str(shape)], shapes)):
                    folder = OUT / name
                    folder.mkdir(parents=True)
                    source = f"# {name}: real triples of {BASE_TRIAL} around {focus.n3()}"
                    _write(folder / "conforms.ttl", good, source + " (conforms).")
                    _write(folder / "violates.ttl", bad, source + f"; violates it: {what}.")
                    done = True
                    break
            if done:
                break
        if not done:
            failed.append(name)
    if failed:
        sys.stderr.write("no case found for: " + ", ".join(failed) + "\n")
        return 1
    sys.stdout.write(f"wrote {len(list(OUT.iterdir()))} shape cases under {OUT}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
