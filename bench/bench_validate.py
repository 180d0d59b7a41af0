"""Validation speed: `kg validate` against `kg build` on the shared corpus repeated to 10k (and 100k) records.

Builds the corpus to N-Quads (one worker), then validates the file (one process, batches of record graphs),
each in a child process so their CPU time and peak memory are measured apart. Writes bench/RESULTS-validate.md.

    python bench/bench_validate.py                   # 10,000 records
    python bench/bench_validate.py --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_v2_corpus  # noqa: E402

HERE = Path(__file__).resolve().parent
KG = [sys.executable, "-m", "kg.cli"]
VALIDATE = [sys.executable, "-c", "import sys; from kg.validate import validate_file; "
            "r = validate_file(sys.argv[1]); print(r.records, len(r.failed), len(r.violations))"]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def timed(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds and peak RSS (MiB, largest child so far) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed: {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, proc.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "trialkg-bench")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS-validate.md")
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        corpus = make_v2_corpus(n, args.work / f"v2-{n}")
        out = args.work / f"validate-{n}.nq"
        b_wall, b_cpu, b_rss, _ = timed([*KG, "build", str(corpus), "-o", str(out), "-j", "1", "--no-progress"])
        v_wall, v_cpu, v_rss, counts = timed([*VALIDATE, str(out)])
        graphs, failed, results = (int(x) for x in counts.split())
        rows.append((n, b_wall, b_cpu, v_wall, v_cpu, v_rss, graphs, failed, results))
        print(f"{n}: build {b_wall:.1f}s ({n / b_wall:.0f} rec/s), validate {v_wall:.1f}s ({n / v_wall:.0f} rec/s), "
              f"ratio {v_wall / b_wall:.2f}", flush=True)
    lines = [
        "# Validation benchmark",
        "",
        f"Machine: {machine()}. Run: `python bench/bench_validate.py --sizes {' '.join(map(str, args.sizes))}`"
        f" on {time.strftime('%Y-%m-%d')}.",
        "Corpus: the 574 real v2 studies of the shared data repeated with rewritten NCT ids (bench/corpus.py),",
        "built to N-Quads with one worker, then `validate_file` on that file (pyshacl, batches of 100 record",
        "graphs, one process). Seconds are wall clock; the machine was shared with other jobs, so compare the",
        "ratio, which both sides see alike.",
        "",
        "| records | build s | build rec/s | build CPU s | validate s | validate rec/s | validate CPU s "
        "| validate / build | peak RSS MiB | graphs | not conforming | results |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, b_wall, b_cpu, v_wall, v_cpu, v_rss, graphs, failed, results in rows:
        lines.append(f"| {n:,} | {b_wall:.1f} | {n / b_wall:.0f} | {b_cpu:.1f} | {v_wall:.1f} | {n / v_wall:.0f} "
                     f"| {v_cpu:.1f} | {v_wall / b_wall:.2f}x | {v_rss:.0f} | {graphs:,} | {failed:,} | {results:,} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
