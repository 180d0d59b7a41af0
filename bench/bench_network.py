"""Benchmark of ``kg network``: SPARQL extraction, graph building and the measures at 10k and 100k trials.

The corpus is the shared real v2 records (574 studies) built once, then repeated with rewritten NCT ids
until the target count. Repeating alone would give the same ~600 organisations at any size, so each copy
renames every organisation key to one of ``--variants`` versions (chosen by a hash of key and copy): the
network grows to a realistic node count and copies still meet through shared versions.

    python bench/bench_network.py                      # 10k and 100k, writes bench/RESULTS-network.md
    python bench/bench_network.py --trials 10000 --no-write

Needs /work/shared (the records) and ~20 GB of free disk at 100k (N-Quads plus an on-disk Oxigraph store).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path

import pyoxigraph

from kg.build import build
from kg.network import (
    Filters,
    NetworkOptions,
    Networks,
    analyse,
    extract_orgs,
    extract_views,
    org_investigator_network,
    org_network,
    trial_org_network,
    write_outputs,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, write_results  # noqa: E402

CORPUS = Path("/work/shared/data/ctgov_v2/studies")
RESULTS = Path(__file__).parent / "RESULTS-network.md"
TARGET_SECONDS = 60.0
NCT = re.compile(r"NCT\d{8}")
ORG = re.compile(r"(<https://w3id\.org/trialkg/org/[^>]*?)>")
# A person's IRI is scoped by the affiliation's key: versioned with the same version as that organisation.
PERSON = re.compile(r"(<https://w3id\.org/trialkg/person/[^>]*?--)([^>]*)>")
ORG_PREFIX = "<https://w3id.org/trialkg/org/"
GRAPH = re.compile(r"<https://w3id\.org/trialkg/graph/(NCT\d{8})/[^>]*> \.$")


def base_chunks(work: Path) -> tuple[list[str], str, list[str]]:
    """The corpus built once: one N-Quads chunk per trial, the MeSH graph, and the trials' NCT ids."""
    nq = work / "base.nq"
    build([CORPUS], nq)
    per_trial: dict[str, list[str]] = {}
    mesh: list[str] = []
    with nq.open(encoding="utf-8") as f:
        for line in f:
            m = GRAPH.search(line)
            (per_trial.setdefault(m.group(1), []) if m else mesh).append(line)
    ids = sorted(per_trial)
    return ["".join(per_trial[i]) for i in ids], "".join(mesh), ids


def generate(work: Path, n_trials: int, variants: int) -> Path:
    """N-Quads of ``n_trials`` trials: copies of the corpus with new NCT ids and versioned organisation keys."""
    chunks, mesh, ids = base_chunks(work)
    index = {nct: i for i, nct in enumerate(ids)}
    out = work / f"bench-{n_trials}.nq"
    with out.open("w", encoding="utf-8") as f:
        f.write(mesh)
        for n in range(n_trials):
            copy, i = divmod(n, len(chunks))

            def nct(m: re.Match[str], copy: int = copy) -> str:
                j = index.get(m.group())
                return m.group() if j is None else f"NCT{copy:03d}{j:05d}"

            def version(key: str, copy: int = copy) -> int:
                return zlib.crc32(f"{key}|{copy}".encode()) % variants

            def org(m: re.Match[str]) -> str:
                return f"{m.group(1)}~v{version(m.group(1))}>"

            def person(m: re.Match[str]) -> str:
                return f"{m.group(1)}{m.group(2)}~v{version(ORG_PREFIX + m.group(2))}>"

            f.write(PERSON.sub(person, ORG.sub(org, NCT.sub(nct, chunks[i]))))
    return out


def load(n_trials: int, variants: int, work: Path) -> tuple[pyoxigraph.Store, Path, float, float]:
    """The store of ``n_trials`` trials; one kept from an earlier ``--keep`` run is reused (loading is 90%)."""
    store_dir = work / f"store-{n_trials}-v{variants}"
    done = store_dir / "LOADED.json"
    if done.exists():
        times = json.loads(done.read_text())
        return pyoxigraph.Store(str(store_dir)), store_dir, times["generate"], times["load"]
    shutil.rmtree(store_dir, ignore_errors=True)
    t0 = time.perf_counter()
    nq = generate(work, n_trials, variants)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    store = pyoxigraph.Store(str(store_dir))
    store.bulk_load(path=str(nq), format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    t_load = time.perf_counter() - t0
    nq.unlink()
    done.write_text(json.dumps({"generate": t_gen, "load": t_load}))
    return store, store_dir, t_gen, t_load


def bench(n_trials: int, variants: int, work: Path, keep: bool = False) -> dict[str, float | int | str]:
    store, store_dir, t_gen, t_load = load(n_trials, variants, work)
    quads = len(store)

    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    ex = extract_orgs(store, Filters())
    t_extract = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = org_network(ex)
    t_graph = time.perf_counter() - t0
    t0 = time.perf_counter()
    options = NetworkOptions(picture=True)
    summary = analyse(g, options)
    t_measures = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    t0 = time.perf_counter()
    extract_views(store, Filters(), ex)
    inv = org_investigator_network(ex)
    trial_org = trial_org_network(ex, g)
    t_views = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_outputs(Networks(g, inv, trial_org, summary), work / f"out-{n_trials}", options)
    t_write = time.perf_counter() - t0
    del store
    if not keep:
        shutil.rmtree(store_dir, ignore_errors=True)
    return {
        "trials": len(ex.trial_orgs), "quads": quads, "nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
        "communities": summary["counts"]["communities"], "betweenness": str(summary["betweenness"]),
        "generate": t_gen, "load": t_load, "extract": t_extract, "graphs": t_graph, "measures": t_measures,
        "core": t_extract + t_graph + t_measures, "views": t_views, "write": t_write,
        "investigators": sum(1 for _, d in inv.nodes(data=True) if d["kind"] == "person"),
        "loadavg": f"{load_before:.1f}–{load_after:.1f}",
    }


def compare(before: Path, n_trials: int, variants: int, work: Path) -> None:
    """Core of another version of kg/network.py (e.g. ``git show HEAD:kg/network.py > before.py``) and of this
    one, on the same store in one process; prints both timings and whether the results are identical."""
    import importlib.util
    import json as json_

    from kg import network as after_module

    spec = importlib.util.spec_from_file_location("network_before", before)
    assert spec and spec.loader
    before_module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = before_module  # dataclasses look their module up there
    spec.loader.exec_module(before_module)
    store = load(n_trials, variants, work)[0]
    results = {}
    for name, module in (("after", after_module), ("before", before_module)):  # after first: the colder cache
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        ex = module.extract_orgs(store, module.Filters())
        t1 = time.perf_counter()
        g = module.org_network(ex)
        t2 = time.perf_counter()
        summary = module.analyse(g, module.NetworkOptions())
        t3 = time.perf_counter()
        results[name] = (g, summary)
        print(f"{name}: extract {t1 - t0:.1f} s, graph {t2 - t1:.1f} s, measures {t3 - t2:.1f} s, "
              f"core {t3 - t0:.1f} s, load avg {load_before:.1f}–{os.getloadavg()[0]:.1f}", flush=True)
    (ga, sa), (gb, sb) = results["after"], results["before"]
    print("identical:", dict(ga.nodes(data=True)) == dict(gb.nodes(data=True)),
          sorted(ga.edges(data=True)) == sorted(gb.edges(data=True)),
          json_.dumps(sa, sort_keys=True) == json_.dumps(sb, sort_keys=True))


def report(rows: list[dict[str, float | int | str]], variants: int) -> str:
    lines = [
        "# `kg network` benchmark",
        "",
        f"Machine: {machine()}.",
        "",
        f"Corpus: the {len(list(CORPUS.glob('*.json')))} shared real v2 records built once, repeated with rewritten "
        "NCT ids. The repeated corpus has the same organisations in every copy, so each copy renames every "
        f"organisation key to one of {variants} versions (hash of key and copy): the node count grows like a real "
        "registry's, and copies still meet through shared versions. Registered names are unchanged, so labels "
        "repeat. Full records (every triple of every record) in an on-disk Oxigraph store.",
        "",
        "`core` = the organisation network: SPARQL extraction (sponsors and collaborators, sites' countries) + "
        "building the graph + the measures (degree, weighted degree, betweenness, PageRank, components, Louvain, "
        f"bridges, articulation points, community mix); target under {TARGET_SECONDS:.0f} s at 100k trials. `views` = "
        "the organisation–investigator and trial–organisation views (two more queries and graphs). `write` = "
        "GraphML, GEXF, CSV, JSON and the PNG (not in `core`). Loading the store is `kg build`'s job, shown for scale.",
        "",
        "`load avg` is the 1-minute load average (`uptime`) when `core` started and ended: the machine (2 cores) is "
        "shared, and above 2 every figure is stretched.",
        "",
        "| trials | quads | org nodes | edges | communities | investigators | betweenness | load store s "
        "| extract s | graph s | measures s | **core s** | load avg | views s | write s |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['trials']:,} | {r['quads']:,} | {r['nodes']:,} | {r['edges']:,} | {r['communities']:,} "
            f"| {r['investigators']:,} | {r['betweenness']} | {r['load']:.1f} | {r['extract']:.1f} "
            f"| {r['graphs']:.1f} | {r['measures']:.1f} | **{r['core']:.1f}** | {r['loadavg']} | {r['views']:.1f} "
            f"| {r['write']:.1f} |")
    lines += ["", "Reproduce: `python bench/bench_network.py` (needs the shared data folder and ~20 GB of free disk "
              "at 100k: 7 GB of N-Quads plus a 10 GB store).", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--variants", type=int, default=30, help="versions of each organisation key")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--no-write", action="store_true", help="print the results, do not write RESULTS-network.md")
    ap.add_argument("--keep", action="store_true", help="keep the stores in --work; a later run reuses them")
    ap.add_argument("--load-only", action="store_true", help="generate and load the stores, measure nothing")
    ap.add_argument("--compare-with", type=Path, help="another kg/network.py: time both cores on the same store")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kg-bench-network-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    if args.compare_with:
        for n in args.trials:
            compare(args.compare_with, n, args.variants, work)
        return
    if args.load_only:
        for n in args.trials:
            print(n, load(n, args.variants, work)[2:], file=sys.stderr, flush=True)
        return
    for n in args.trials:
        row = bench(n, args.variants, work, keep=args.keep)
        print(row, file=sys.stderr, flush=True)
        rows.append(row)
    text = report(rows, args.variants)
    print(text)
    if not args.no_write:
        write_results(RESULTS, text)


if __name__ == "__main__":
    main()
