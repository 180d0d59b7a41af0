"""Benchmark: time every canned query on the embedded Oxigraph store at 10k and 100k trials.

The stores are built from the shared corpus (``/work/shared/data/ctgov_v2/studies``, or ``--corpus``)
repeated with rewritten NCT ids (``NCT9nnnnnnn``), so every copy is a distinct trial with real shape and
real sponsors, sites and MeSH terms. Stores are kept under ``--work`` and reused when they already hold
the asked number of trials. Results go to ``bench/RESULTS-queries.md``.

    python bench/bench_queries.py --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results import machine, write_results  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/data/ctgov_v2/studies")
DEFAULT_WORK = Path(tempfile.gettempdir()) / "trialkg-bench-queries"
RECORDS_PER_FILE = 500  # JSON Lines files of this many studies, so the build can spread them over workers
RUNS = 5  # each query runs this many times after one warm-up run; the median is reported
# Targets at 100k trials from the issue: trial-centred lookups and whole-graph aggregations.
TARGET_MS = {"lookup": 100.0, "aggregate": 2000.0}


def _studies(corpus: Path) -> list[dict]:
    studies = []
    for path in sorted(corpus.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "protocolSection" in data:
            studies.append(data)
    if not studies:
        sys.exit(f"no v2 study files in {corpus}")
    return studies


def synthetic_studies(corpus: Path, n: int) -> Iterator[dict]:
    """``n`` studies: the corpus repeated, each copy with its own NCT id (NCT9 + 7 digits)."""
    base = _studies(corpus)
    for i in range(n):
        study = dict(base[i % len(base)])
        protocol = dict(study["protocolSection"])
        ident = dict(protocol["identificationModule"])
        # The first pass keeps the real ids, so default parameters (real NCT ids) still hit.
        if i >= len(base):
            ident["nctId"] = f"NCT9{i:07d}"
        protocol["identificationModule"] = ident
        study["protocolSection"] = protocol
        yield study


def build_store(corpus: Path, n: int, work: Path, jobs: int) -> Path:
    """An Oxigraph store of ``n`` synthetic trials under ``work`` (reused when already built)."""
    store = work / f"store-{n}"
    done = store / ".trialkg-bench-done"
    if done.exists():
        return store
    from kg.build import BuildOptions, build

    if store.exists():
        shutil.rmtree(store)
    inputs = work / f"inputs-{n}"
    inputs.mkdir(parents=True, exist_ok=True)
    out = None
    try:
        for i, study in enumerate(synthetic_studies(corpus, n)):
            if i % RECORDS_PER_FILE == 0:
                if out:
                    out.close()
                out = (inputs / f"part-{i // RECORDS_PER_FILE:05d}.jsonl").open("w", encoding="utf-8")
            out.write(json.dumps(study, ensure_ascii=False) + "\n")
        if out:
            out.close()
        t0 = time.perf_counter()
        report = build([inputs], store=store, options=BuildOptions(jobs=jobs))
        secs = time.perf_counter() - t0
        print(f"built {n} trials: {report.summary()} in {secs:.0f} s", file=sys.stderr)
    finally:
        shutil.rmtree(inputs, ignore_errors=True)
    done.write_text(f"{n}\n")
    return store


def time_queries(store_dir: Path, runs: int) -> list[tuple[str, str, float, float, int, float]]:
    """(query name, kind, median wall ms, median CPU ms, rows, load average) for every canned query on one
    store. CPU time (this process) is reported beside wall time: on a shared machine the wall time mostly
    measures the other jobs."""
    from kg.query import canned_queries, open_store, run_query

    store = open_store(store_dir, read_only=True)
    out = []
    for q in canned_queries():
        rows = len(run_query(q, store).rows)  # warm-up, and the row count
        walls, cpus = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            run_query(q, store)
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
        load = os.getloadavg()[0]
        out.append((q.name, q.kind, statistics.median(walls), statistics.median(cpus), rows, load))
        print(f"  {q.name:40s} {statistics.median(walls):9.1f} ms wall {statistics.median(cpus):9.1f} ms cpu "
              f"{rows:7d} rows  load {load:.1f}", file=sys.stderr)
    return out


def machine_and_load() -> str:
    import pyoxigraph

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    # The load average matters: on a shared machine other jobs' CPU and disk use slow every query.
    return f"{machine()}; pyoxigraph {pyoxigraph.__version__}; load average when written {load}"


NOTES = """
## Notes

- Oxigraph joins plain triple patterns (and plain `OPTIONAL`s) as loops: one index probe per row of the left
  side, about 45 µs of CPU each on a store as `kg build --store` leaves it (bulk-loaded, not compacted) and
  about 12 µs after `Store.optimize()`; reading a pattern in full costs about 1 µs per row. The aggregations
  therefore read every pattern that most rows reach once, wrapped in a sub-select, which Oxigraph hash-joins,
  and keep probes for the few rows left at the end. Reading the text of a long string or IRI (`STR`,
  `LCASE`, string comparison) is a lookup too: distinct values are tested once, phases ranked by `VALUES`.
- Oxigraph's union default graph returns a triple once per graph that holds it. The names and keys of
  shared nodes (canonical organisations and people, site locations) are therefore written once, to the
  entities graph; their types and PubMed articles' triples still repeat in each record graph that mentions
  them, so the queries join through per-trial nodes and links (participations, `tkg:siteLocation`, the
  typed citation links) and use DISTINCT.
- Oxigraph pushes a `FILTER` below `DISTINCT` but not below `GROUP BY`: a test on distinct values goes in a
  sub-select's `HAVING`. It does not reorder property paths: `broaderDescriptor*` is written anchored on the
  given descriptor. `MINUS` is one hash anti-join; `FILTER NOT EXISTS` probes per row.
- The queries that group or look up by organisation or person follow the `owl:sameAs` links of a graph built
  with `--resolve`; the bench stores are built without it, so those links cost one small hash join here.
- sponsor-collaborator-pairs names each organisation (one registered name): the names are looked up for the
  ~300 counted pairs only (plain `OPTIONAL`s, one probe per pair) and reduced with `MIN`; a first version
  that took the names from a sub-select of every `skos:altLabel` (people's too) took 5.3 s at 100,000
  trials (726 ms without names before).
"""
def write_query_results(path: Path, results: dict[int, list[tuple[str, str, float, float, int, float]]],
                  runs: int) -> None:
    sizes = sorted(results)
    lines = [
        "# Canned query times on the embedded Oxigraph store",
        "",
        "Written by `python bench/bench_queries.py`. Stores built from the shared corpus of real v2 records",
        "repeated with rewritten NCT ids (`kg build --store`: bulk-loaded, not compacted); each query run with",
        f"its default parameters, one warm-up run then the median of {runs} runs, results fully read (as",
        "`kg query` does). Wall time and this process's CPU time; the load average (1 min) is taken after each",
        f"query. Targets at the largest size: trial-centred lookups under {TARGET_MS['lookup']:.0f} ms, whole-graph",
        f"aggregations under {TARGET_MS['aggregate'] / 1000:.0f} s (judged on wall time).",
        "",
        f"Machine: {machine_and_load()}.",
        "",
        "| query | kind | " + " | ".join(f"{n:,}: wall ms | cpu ms | rows | load" for n in sizes) + " | target |",
        "|---|---|" + "---:|---:|---:|---:|" * len(sizes) + "---|",
    ]
    by_name = {n: {r[0]: r for r in results[n]} for n in sizes}
    for name, kind, *_ in results[sizes[0]]:
        cells = []
        for n in sizes:
            r = by_name[n][name]
            cells.append(f"{r[2]:.1f} | {r[3]:.1f} | {r[4]} | {r[5]:.1f}")
        largest = by_name[sizes[-1]][name]
        met = "met" if largest[2] < TARGET_MS[kind] else ("met on CPU only" if largest[3] < TARGET_MS[kind]
                                                          else "**missed**")
        lines.append(f"| {name} | {kind} | " + " | ".join(cells) + f" | {met} at {sizes[-1]:,} |")
    write_results(path, "\n".join(lines) + "\n" + NOTES)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where the stores are kept")
    ap.add_argument("--jobs", type=int, default=0, help="build workers; 0 = one per core")
    ap.add_argument("--runs", type=int, default=RUNS)
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("-o", "--output", type=Path, default=HERE / "RESULTS-queries.md")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = {}
    for n in args.sizes:
        store = build_store(args.corpus, n, args.work, args.jobs)
        if args.build_only:
            continue
        print(f"{n} trials:", file=sys.stderr)
        results[n] = time_queries(store, args.runs)
    if results:
        write_query_results(args.output, results, args.runs)
        print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
