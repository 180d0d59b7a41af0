"""Validation speed against `kg build` on the shared corpus repeated to 10k (and 100k) records, both ways a
user validates: as the build streams (`kg build`, validating by default) and afterwards (`kg validate FILE`).

Builds the corpus to N-Quads (one worker) with --no-validate and with validation, then validates the file
(one process, record graph by record graph), each in a child process so their CPU time and peak memory are
measured apart. Validation in the build costs the difference between the two builds. The ratios compare CPU
seconds, which a busy machine disturbs less than wall seconds. Writes bench/RESULTS-validate.md.

    python bench/bench_validate.py                   # 10,000 records, the compiled shapes
    python bench/bench_validate.py --sizes 10000 100000
    python bench/bench_validate.py --engines compiled pyshacl   # also pyshacl (batches of 100 records)
    python bench/bench_validate.py --repeat 3        # build and validate alternately 3 times; the least CPU of each

This VM's speed drifts by 25% and more within minutes: with --repeat the two steps alternate, and the least
CPU time of each (the least disturbed run) is compared. The ratios are also measured in turn, file by file
(1,000 records: plain build, validating build, validate that file's output; summed), in this process, so a
drift hits all three alike (--no-interleave skips it).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_v2_corpus  # noqa: E402
from kgrun import KG, as_installed  # noqa: E402
from results import machine, write_results  # noqa: E402

HERE = Path(__file__).resolve().parent
# Prints its own peak RSS (KiB): RUSAGE_CHILDREN would give the largest child so far, the build's.
VALIDATE = [sys.executable, "-c", "import resource, sys; from kg.validate import validate_file; "
            "r = validate_file(sys.argv[1], engine=sys.argv[2]); "
            "print(r.records, len(r.failed), len(r.violations), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"]
VALIDATE_JOBS = [sys.executable, "-c", "import sys; from kg.validate_parts import validate_file_in_parts; "
                 "r = validate_file_in_parts(sys.argv[1], int(sys.argv[2])); print(r.records, len(r.violations))"]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def timed(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS (MiB, of the largest child so far) and stdout of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed: {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, proc.stdout.strip()


IN_TURN = "## Both ratios measured in turn"
PARALLEL = "## With several processes"


def in_turn(corpus: Path, work: Path) -> dict[str, float]:
    """CPU seconds of the plain build, the validating build and `validate_file`, summed over the corpus's
    files, the three run one after the other on each file (after a warm-up: imports, shapes)."""
    from kg.build import BuildOptions, build
    from kg.validate import validate_file

    files = sorted(corpus.glob("*.jsonl"))
    plain, checked = work / "in-turn.nq", work / "in-turn-validated.nq"
    build(files[:1], checked, options=BuildOptions(validate=True))
    validate_file(checked)
    validating = BuildOptions(validate=True)
    steps = {"build": lambda f: build([f], plain),
             "validating build": lambda f: build([f], checked, options=validating),
             "validate": lambda _f: validate_file(plain)}
    total = dict.fromkeys(steps, 0.0)
    for f in files:
        for step, run in steps.items():
            t = time.process_time()
            run(f)
            total[step] += time.process_time() - t
    plain.unlink()
    checked.unlink()
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    ap.add_argument("--engines", nargs="+", default=["compiled"], choices=["compiled", "pyshacl"])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "trialkg-bench")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS-validate.md")
    ap.add_argument("--repeat", type=int, default=1, help="alternate build and validate this many times")
    ap.add_argument("--no-interleave", action="store_true", help="skip the in-turn measurement (smallest size)")
    ap.add_argument("--jobs", type=int, default=2, help="also time build and validate FILE with this many "
                    "processes (wall clock); 1 skips it")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    as_installed(args.work, make_v2_corpus(100, args.work / "v2-100"))
    rows, streaming, parallel = [], [], []
    for n in args.sizes:
        corpus = make_v2_corpus(n, args.work / f"v2-{n}")
        out = args.work / f"validate-{n}.nq"
        builds, validating, validations = [], [], {engine: [] for engine in args.engines}
        for _ in range(args.repeat):
            before = load()
            builds.append(timed([*KG, "build", str(corpus), "-o", str(out), "-j", "1", "--no-progress",
                                 "--no-validate"]))
            print(f"{n}: build {builds[-1][0]:.1f}s wall, {builds[-1][1]:.1f}s CPU (load {before} -> {load()})",
                  flush=True)
            validating.append(timed([*KG, "build", str(corpus), "-o", str(out), "-j", "1", "--no-progress",
                                     "--validate"]))
            print(f"{n}: validating build {validating[-1][1]:.1f}s CPU", flush=True)
            for engine in args.engines:
                before = load()
                validations[engine].append((*timed([*VALIDATE, str(out), engine]), f"{before} -> {load()}"))
                print(f"{n} {engine}: validate {validations[engine][-1][1]:.1f}s CPU", flush=True)
        b_wall, b_cpu, _b_rss, _ = min(builds, key=lambda r: r[1])
        vb_cpu = min(r[1] for r in validating)
        streaming.append((n, b_cpu, vb_cpu))
        print(f"{n}: validation in the build {vb_cpu - b_cpu:.1f}s CPU, {(vb_cpu - b_cpu) / b_cpu:.2f}x the build",
              flush=True)
        for engine in args.engines:
            v_wall, v_cpu, _, counts, during = min(validations[engine], key=lambda r: r[1])
            graphs, failed, results, rss_kib = (int(x) for x in counts.split())
            v_rss = rss_kib / 1024
            rows.append((n, engine, b_wall, b_cpu, v_wall, v_cpu, v_rss, graphs, failed, results, during))
            print(f"{n} {engine}: validate {v_wall:.1f}s wall, {v_cpu:.1f}s CPU ({n / v_cpu:.0f} rec/CPU-s), "
                  f"CPU ratio {v_cpu / b_cpu:.2f} (load {rows[-1][-1]})", flush=True)
        if args.jobs > 1:
            jobs = str(args.jobs)
            p_build = timed([*KG, "build", str(corpus), "-o", str(out), "-j", jobs, "--no-progress", "--no-validate"])
            p_validate = timed([*VALIDATE_JOBS, str(out), jobs])
            parallel.append((n, p_build[0], p_validate[0], load()))
            print(f"{n}: -j {jobs}: build {p_build[0]:.1f}s wall, validate FILE {p_validate[0]:.1f}s wall", flush=True)
        out.unlink()  # 100k records of N-Quads are ~7 GB
    turn_n = min(args.sizes)
    turn = None if args.no_interleave else in_turn(make_v2_corpus(turn_n, args.work / f"v2-{turn_n}"), args.work)
    lines = [
        "# Validation benchmark",
        "",
        f"Machine: {machine()}. Run: `python bench/bench_validate.py --sizes {' '.join(map(str, args.sizes))}"
        f" --engines {' '.join(args.engines)} --repeat {args.repeat}` on {time.strftime('%Y-%m-%d %H:%M %Z')}"
        f"{' (the least CPU of each step over the repeats)' if args.repeat > 1 else ''}.",
        "Corpus: the 574 real v2 studies of the shared data repeated with rewritten NCT ids (bench/corpus.py),",
        "built to N-Quads with one worker, with `--no-validate` and with validation (the default).",
        "",
        "## Validation as the build streams (`kg build`)",
        "",
        "The validating build's CPU minus the plain build's: each record's graph checked by the compiled shapes",
        "from the mapping's own terms, as it is built.",
        "",
        "| records | build CPU s | validating build CPU s | validation CPU s | validation / build (CPU) |",
        "|---|---|---|---|---|",
        *(f"| {n:,} | {b:.1f} | {vb:.1f} | {vb - b:.1f} | {(vb - b) / b:.2f}x |" for n, b, vb in streaming),
        "",
        "## Validation of a file afterwards (`kg validate FILE`)",
        "",
        "`validate_file` on the plain build's N-Quads in one process: `compiled` checks each record graph with the",
        "compiled shapes, `pyshacl` checks batches of 100 record graphs with pyshacl. The machine is shared with",
        "other jobs (load average: 1, 5 and 15 minutes, before -> after the step), so compare CPU seconds:",
        "validate / build is the ratio of CPU times.",
        "",
        "| records | engine | build CPU s | build wall s | validate CPU s | validate wall s | validate rec/CPU-s "
        "| validate / build (CPU) | peak RSS MiB | graphs | not conforming | results | load during validate |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, engine, b_wall, b_cpu, v_wall, v_cpu, v_rss, graphs, failed, results, during in rows:
        lines.append(f"| {n:,} | {engine} | {b_cpu:.1f} | {b_wall:.1f} | {v_cpu:.1f} | {v_wall:.1f} | "
                     f"{n / v_cpu:.0f} | {v_cpu / b_cpu:.2f}x | {v_rss:.0f} | {graphs:,} | {failed:,} | {results:,} "
                     f"| {during} |")
    if parallel:
        lines += [
            "",
            PARALLEL,
            "",
            f"`kg build -j {args.jobs}` and then `validate_file_in_parts` (`kg validate FILE -j {args.jobs}`) of its",
            "N-Quads, wall clock: the file cut into parts at record boundaries, checked by that many processes.",
            "",
            "| records | build wall s | validate FILE wall s | validate / build (wall) | load after |",
            "|---|---|---|---|---|",
            *(f"| {n:,} | {b:.1f} | {v:.1f} | {v / b:.2f}x | {after} |" for n, b, v, after in parallel),
        ]
    if turn is not None:
        b = turn["build"]
        lines += [
            "",
            IN_TURN,
            "",
            f"The {turn_n:,} records file by file (1,000 each): plain build, validating build, `validate_file` of",
            "the plain output, one after the other in one process, CPU seconds summed: the machine's drift",
            "hits the three alike. Start-up is left out, and the shapes are loaded once for both validations.",
            "",
            "| records | build CPU s | validating build CPU s | validate CPU s | validation in the build / build "
            "| validate FILE / build |",
            "|---|---|---|---|---|---|",
            f"| {turn_n:,} | {b:.1f} | {turn['validating build']:.1f} | {turn['validate']:.1f} | "
            f"{(turn['validating build'] - b) / b:.2f}x | {turn['validate'] / b:.2f}x |",
        ]
    write_results(args.out, "\n".join(lines) + "\n", generates=[IN_TURN, PARALLEL])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
