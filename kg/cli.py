"""The ``kg`` command: a thin layer over the library, one subcommand per job.

Exit codes: 0 all done; 1 done with data problems (skipped records, a graph that does not conform);
2 usage or environment errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg import __version__
from kg.identity import DEFAULT_BASE

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2
MAX_PROBLEMS_SHOWN = 20


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trialkg")
def main() -> None:
    """TrialKG: build an RDF knowledge graph of clinical trials, validate it, query it."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", help="Output file; .nt .nq .ttl .trig (optionally .gz); - for N-Triples on stdout.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Also load into an Oxigraph store here.")
@click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base of every minted IRI.")
@click.option("-j", "--jobs", default=1, show_default=True, help="Worker processes; 0 = one per core.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every problem found as JSON (file, record, field, message).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when a terminal).")
def build(paths: tuple[Path, ...], output: str | None, store: Path | None, base: str, jobs: int,
          report_file: Path | None, progress: bool | None) -> None:
    """Build the graph of the trial records under PATHS (files or folders, read recursively).

    Reads ClinicalTrials.gov API v2 JSON in every form (one study, ctg-studies.json arrays, API search
    pages, JSON Lines, the bulk zip, gzip, a study printed as a Python dict).

    Example: kg build tests/data/sample --output sample.ttl
    """
    from kg.build import BuildOptions
    from kg.build import build as run_build
    from kg.sinks import format_of

    if not paths:
        _fail("give at least one file or folder to build from")
    if output is None and store is None:
        _fail("give --output FILE (or - for stdout) and/or --store DIR")
    if output is not None:
        try:
            format_of(output)
        except ValueError as e:
            _fail(str(e))
    show = sys.stderr.isatty() if progress is None else progress
    report = run_build(paths, output, store=store, options=BuildOptions(base=base, jobs=jobs, progress=show))
    _print_problems(report)
    if report_file:
        report.write_json(report_file)
    sys.exit(EXIT_DATA if report.skipped else EXIT_OK)


def _print_problems(report: object) -> None:
    from kg.report import Report

    assert isinstance(report, Report)
    serious = [p for p in report.problems if p.severity != "note"]
    for p in serious[:MAX_PROBLEMS_SHOWN]:
        click.echo(str(p), err=True)
    if len(serious) > MAX_PROBLEMS_SHOWN:
        click.echo(f"... and {len(serious) - MAX_PROBLEMS_SHOWN} more (use --report FILE to see all)", err=True)
    click.echo(report.summary(), err=True)


@main.group()
def mesh() -> None:
    """The offline MeSH index that resolves MeSH names and the descriptor hierarchy."""


@mesh.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def mesh_import(source: Path) -> None:
    """Build a newer MeSH index from NLM's desc{YEAR}.xml(.gz) or mesh.nt(.gz) into the user data folder
    (KG_DATA_DIR, else the platform's user data folder); later builds use it.

    Example: kg mesh import desc2026.xml.gz
    """
    from kg.mesh import import_mesh

    try:
        path = import_mesh(source)
    except ValueError as e:
        _fail(str(e))
    click.echo(f"MeSH index written to {path}")


if __name__ == "__main__":
    main()
