"""The ``kg`` command: a thin layer over the library, one subcommand per job.

Exit codes: 0 all done; 1 done with data problems (skipped records, a graph that does not conform);
2 usage or environment errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg import __version__
from kg.gcpolicy import process_ends_with_job
from kg.identity import DEFAULT_BASE
from kg.report import Report

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2
MAX_PROBLEMS_SHOWN = 20


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trialkg")
def main() -> None:
    """TrialKG: build an RDF knowledge graph of clinical trials, validate it, query it."""


def search_options(f):  # type: ignore[no-untyped-def]
    """The ClinicalTrials.gov search options that `kg fetch` and `kg build --fetch` share."""
    options = [
        click.option("--cond", help="Condition or disease (API query.cond)."),
        click.option("--term", help="Other terms (API query.term)."),
        click.option("--sponsor", help="Sponsor or collaborator (API query.spons)."),
        click.option("--status", multiple=True, help="Overall status, e.g. RECRUITING (repeatable)."),
        click.option("--since", help="Only studies updated on or after this date (YYYY-MM-DD)."),
        click.option("--ctgov-api", envvar="KG_CTGOV_API", help="API base URL [env KG_CTGOV_API]."),
        click.option("--refresh", is_flag=True, help="Bypass the HTTP cache."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _fetch(out_dir: Path, nct_ids: tuple[str, ...], cond: str | None, term: str | None, sponsor: str | None,
           status: tuple[str, ...], since: str | None, ctgov_api: str | None, refresh: bool) -> int:
    """Fetch raw v2 records into out_dir; returns the exit code."""
    from kg.fetch.ctgov import CtgovClient
    from kg.fetch.http import FetchError

    if not (nct_ids or cond or term or sponsor or status or since):
        _fail("say what to fetch: NCT ids and/or --cond/--term/--sponsor/--status/--since")
    try:
        with CtgovClient(ctgov_api, refresh=refresh) as client:
            summary = client.fetch_to_dir(out_dir, nct_ids or None, progress=sys.stderr.isatty(), cond=cond,
                                          term=term, sponsor=sponsor, status=list(status) or None, since=since)
    except ValueError as e:
        _fail(str(e))
    except FetchError as e:
        click.echo(f"error: {e}", err=True)
        return EXIT_DATA
    click.echo(f"{summary.written} studies written, {summary.unchanged} unchanged, "
               f"{summary.network_requests} requests, into {out_dir}", err=True)
    if summary.missing:
        click.echo(f"not found: {' '.join(summary.missing)}", err=True)
        return EXIT_DATA
    return EXIT_OK


@main.command()
@click.argument("nct_ids", nargs=-1)
@search_options
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the raw records, one NCT########.json per study.")
def fetch(nct_ids: tuple[str, ...], output: Path, cond: str | None, term: str | None, sponsor: str | None,
          status: tuple[str, ...], since: str | None, ctgov_api: str | None, refresh: bool) -> None:
    """Fetch ClinicalTrials.gov records (by NCT id or search) into a folder, politely and resumably.

    Follows every result page, retries on 429/5xx/timeouts, caches responses (a re-run costs no requests).

    Example: kg fetch --cond "Phelan-McDermid" -o records/
    """
    sys.exit(_fetch(output, nct_ids, cond, term, sponsor, status, since, ctgov_api, refresh))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", help="Output file; .nt .nq .ttl .trig (optionally .gz); - for N-Triples on stdout.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path),
              help="Also load into an Oxigraph store here.")
@click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base of every minted IRI.")
@click.option("-j", "--jobs", default=1, show_default=True, help="Worker processes; 0 = one per core.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every problem found as JSON (file, record, field, message).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when a terminal).")
@click.option("--fetch", "fetch_ids", multiple=True, help="Also fetch this NCT id first (repeatable).")
@click.option("--fetch-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Fetch the records --fetch/--cond/... select into this folder first, then build them too.")
@search_options
@click.option("--enrich", is_flag=True, help="Then add the cited PubMed articles (see kg enrich).")
@click.option("--resolution-config", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Organisation-resolution overrides (vetoed pairs, disabled alias rows); repeatable.")
@click.option("--resolve", is_flag=True,
              help="Add the cross-record organisation/person resolution graph (see kg orgs; costs time).")
@click.option("--mesh-lookup", is_flag=True,
              help="Ask NLM's MeSH lookup API for MeSH names the local index cannot resolve (cached).")
@click.option("--mesh-api", envvar="KG_MESH_API", help="MeSH API base URL [env KG_MESH_API].")
@click.option("--validate/--no-validate", default=True, show_default=True,
              help="Check each record against the SHACL shapes as it is built (see kg validate).")
def build(paths: tuple[Path, ...], output: str | None, store: Path | None, base: str, jobs: int,
          report_file: Path | None, progress: bool | None, fetch_ids: tuple[str, ...], fetch_dir: Path | None,
          cond: str | None, term: str | None, sponsor: str | None, status: tuple[str, ...], since: str | None,
          ctgov_api: str | None, refresh: bool, enrich: bool, resolution_config: tuple[str, ...],
          resolve: bool, mesh_lookup: bool, mesh_api: str | None, validate: bool) -> None:
    """Build the graph of the trial records under PATHS (files or folders, read recursively).

    Reads ClinicalTrials.gov API v2 JSON in every form (one study, ctg-studies.json arrays, API search
    pages, JSON Lines, the bulk zip, gzip, a study printed as a Python dict).

    Example: kg build tests/data/sample --output sample.ttl
    """
    from kg.build import BuildOptions
    from kg.build import build as run_build
    from kg.sinks import format_of

    wants_fetch = bool(fetch_ids or cond or term or sponsor or status or since)
    if wants_fetch:
        if fetch_dir is None:
            _fail("--fetch/--cond/--term/... need --fetch-dir DIR to keep the raw records in")
        if _fetch(fetch_dir, fetch_ids, cond, term, sponsor, status, since, ctgov_api, refresh) != EXIT_OK:
            sys.exit(EXIT_DATA)
        paths = (*paths, fetch_dir)
    if not paths:
        _fail("give at least one file or folder to build from")
    if enrich and (output is None or output == "-"):
        _fail("--enrich needs --output FILE")
    if output is None and store is None:
        _fail("give --output FILE (or - for stdout) and/or --store DIR")
    if output is not None:
        try:
            format_of(output)
        except ValueError as e:
            _fail(str(e))
    show = sys.stderr.isatty() if progress is None else progress
    report = run_build(paths, output, store=store, options=BuildOptions(
        base=base, jobs=jobs, progress=show, resolve=resolve, resolution_config=resolution_config,
        validate=validate, mesh_lookup=mesh_lookup, mesh_api=mesh_api))
    _print_problems(report)
    if report_file:
        report.write_json(report_file)
    code = EXIT_DATA if report.skipped or report.records_invalid else EXIT_OK
    if enrich:
        code = max(code, _enrich(Path(output), Path(output), store, base, None, None, None, refresh))
    sys.exit(code)


def _print_problems(report: Report) -> None:
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


def _enrich(source: Path | None, output: Path | None, store: Path | None, base: str, email: str | None,
            api_key: str | None, eutils_api: str | None, refresh: bool) -> int:
    from kg.enrich import enrich_file, enrich_store
    from kg.fetch.http import FetchError
    from kg.fetch.pubmed import PubmedClient
    from kg.identity import Iris

    try:
        client = PubmedClient(eutils_api, email=email, api_key=api_key, refresh=refresh)
        if store is not None:
            import pyoxigraph

            summary = enrich_store(pyoxigraph.Store(str(store)), client, Iris(base))
        else:
            assert source is not None and output is not None
            summary = enrich_file(source, output, client, Iris(base))
    except ValueError as e:
        _fail(str(e))
    except FetchError as e:
        click.echo(f"error: {e}", err=True)
        return EXIT_DATA
    click.echo(f"{summary.added} of {summary.cited} cited PubMed articles added ({summary.triples} triples)", err=True)
    if summary.missing:
        click.echo(f"not in PubMed: {' '.join(summary.missing)}", err=True)
        return EXIT_DATA
    return EXIT_OK


@main.command()
@click.argument("source", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Enrich this store.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the graph with the PubMed graph added (default: overwrite SOURCE).")
@click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base of minted IRIs.")
@click.option("--email", envvar="NCBI_EMAIL", help="Your e-mail, sent to NCBI as asked [env NCBI_EMAIL].")
@click.option("--api-key", envvar="NCBI_API_KEY", help="NCBI API key: 10 requests/s instead of 3 [env NCBI_API_KEY].")
@click.option("--eutils-api", envvar="KG_EUTILS_API", help="E-utilities base URL [env KG_EUTILS_API].")
@click.option("--refresh", is_flag=True, help="Bypass the HTTP cache.")
def enrich(source: Path | None, store: Path | None, output: Path | None, base: str, email: str | None,
           api_key: str | None, eutils_api: str | None, refresh: bool) -> None:
    """Add the PubMed articles a graph cites (title, journal, date, DOI, authors with ORCID, MeSH headings)
    in a named graph of their own, fetched with E-utilities efetch in polite batches.

    Example: kg enrich graph.nq -o graph-with-pubmed.nq
    """
    if (source is None) == (store is None):
        _fail("give a graph FILE or --store DIR")
    sys.exit(_enrich(source, output or source, store, base, email, api_key, eutils_api, refresh))


def _codes(scheme: str) -> dict[str, object]:
    """A case-insensitive choice of one code scheme's values, listed in capitals as the registry writes them."""
    from kg.codes import SCHEMES

    values = SCHEMES[scheme]
    return {"type": click.Choice(values, case_sensitive=False), "metavar": "[" + "|".join(values) + "]"}


@main.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Read an Oxigraph store folder (from kg build --store) instead of FILE.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the outputs (created if missing).")
@click.option("--mesh", multiple=True, help="MeSH descriptor UI (e.g. D007938); trials with it or a narrower one.")
@click.option("--intervention-type", multiple=True, **_codes("intervention-type"), help="Repeatable.")
@click.option("--phase", multiple=True, **_codes("phase"), help="Repeatable.")
@click.option("--status", multiple=True, **_codes("status"), help="Overall status; repeatable.")
@click.option("--start-from", help="Trials starting on or after YYYY[-MM[-DD]].")
@click.option("--start-to", help="Trials starting on or before YYYY[-MM[-DD]] (2020 = to the end of 2020).")
@click.option("--agency-class", multiple=True, **_codes("agency-class"),
              help="Only organisations registered with this agency class; repeatable.")
@click.option("--sites", is_flag=True, help="Site facilities as nodes too, linked to sponsors and collaborators.")
@click.option("--top", default=30, show_default=True, help="Organisations in the picture.")
@click.option("--betweenness-samples", type=int, help="Sampled sources (default: exact up to 1000 nodes, else 100).")
@click.option("--seed", default=42, show_default=True, help="Seed of Louvain and betweenness sampling.")
@click.option("--no-picture", is_flag=True, help="Skip the PNG (no matplotlib needed).")
def network(file: Path | None, store: Path | None, output: Path, mesh: tuple[str, ...],
            intervention_type: tuple[str, ...], phase: tuple[str, ...], status: tuple[str, ...],
            start_from: str | None, start_to: str | None, agency_class: tuple[str, ...], sites: bool, top: int,
            betweenness_samples: int | None, seed: int, no_picture: bool) -> None:
    """Sponsor and collaborator network of the trials in FILE (.nq .nt .ttl .trig, optionally .gz) or --store.

    Writes network.graphml/.gexf (Gephi, Cytoscape), nodes.csv, edges.csv, top.csv, summary.json,
    network.png, and the organisation-investigator and trial-organisation views (GraphML, GEXF).

    Example: kg network sample.nq --phase PHASE3 --start-from 2015 -o net/
    """
    from kg.network import Filters, NetworkOptions, run

    if (file is None) == (store is None):
        _fail("give an RDF FILE or --store DIR (one of them)")
    try:
        filters = Filters(mesh=mesh, intervention_types=tuple(v.upper() for v in intervention_type),
                          phases=tuple(v.upper() for v in phase), statuses=tuple(v.upper() for v in status),
                          start_from=start_from, start_to=start_to,
                          agency_classes=tuple(v.upper() for v in agency_class))
        options = NetworkOptions(sites=sites, seed=seed, top=top, betweenness_samples=betweenness_samples,
                                 picture=not no_picture)
        nets = run(file, store, output, filters, options)
    except (ValueError, OSError) as e:
        _fail(str(e))
    counts = nets.summary["counts"]
    click.echo(f"{counts['trials']} trials, {counts['organisations']} organisations, {counts['edges']} ties, "
               f"{counts['components']} components, {counts['communities']} communities -> {output}")
    for measure, rows in nets.summary["top"].items():
        click.echo(f"top by {measure}: " + "; ".join(f"{r['label']} ({r['value']})" for r in rows[:3]))


@main.group()
def orgs() -> None:
    """Organisation resolution: canonical IRIs for names, and the merges a build made, for a curator."""


def _resolver(config: tuple[Path, ...]):  # type: ignore[no-untyped-def]
    from kg.resolve import Resolver, ResolverConfig

    try:
        return Resolver(ResolverConfig.load(*config))
    except (OSError, ValueError) as e:
        _fail(str(e))


@orgs.command("resolve")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--graph", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Answer as this built graph (.nq .nt .ttl .trig, optionally .gz) resolved each name.")
@click.option("--store", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Answer as this Oxigraph store (from kg build --store) resolved each name.")
@click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base of minted IRIs.")
@click.option("--resolution-config", "config", multiple=True, type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Overrides file (vetoed pairs, disabled alias rows); repeatable.")
def orgs_resolve(file: click.utils.LazyFile, graph: Path | None, store: Path | None, base: str,
                 config: tuple[Path, ...]) -> None:
    """Print NAME<TAB>canonical IRI for each line of FILE (NAME, or NAME<TAB>COUNTRY), in order, with the
    resolver the build uses. - reads stdin.

    Example: printf 'LUMC\\tNetherlands\\nLeiden University Medical Center (LUMC)\\n' | kg orgs resolve -
    """
    from kg.identity import Iris
    from kg.resolve import read_name_lines, resolve_names

    if graph is not None and store is not None:
        _fail("give --graph FILE or --store DIR, not both")
    opened = None
    if graph is not None or store is not None:
        from kg.network import open_graph

        try:
            opened = open_graph(graph, store)
        except (ValueError, OSError) as e:
            _fail(str(e))
    names = read_name_lines(file)
    for name, iri in resolve_names(names, Iris(base), _resolver(config), opened):
        click.echo(f"{name}\t{iri}")


@orgs.command("report")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Read an Oxigraph store folder instead of FILE.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="CSV file (default: stdout).")
@click.option("--resolution-config", "config", multiple=True, type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Overrides file (vetoed pairs, disabled alias rows); repeatable.")
def orgs_report(file: Path | None, store: Path | None, output: Path | None, config: tuple[Path, ...]) -> None:
    """CSV for a curator of the organisations in FILE (a built graph) or --store: the merges made, the
    parent-child links, and the candidate merges not made, each with method, score and evidence.

    Example: kg orgs report sample.nq -o merges.csv
    """
    from kg.network import open_graph
    from kg.resolve import org_contexts, resolve, write_report

    if (file is None) == (store is None):
        _fail("give an RDF FILE or --store DIR (one of them)")
    try:
        res = resolve(org_contexts(open_graph(file, store)), _resolver(config))
    except (ValueError, OSError) as e:
        _fail(str(e))
    if output is None:
        n = write_report(res, sys.stdout)
    else:
        with output.open("w", encoding="utf-8", newline="") as f:
            n = write_report(res, f)
    click.echo(f"{len(res.merges)} merges, {len(res.parents)} parent-child links, "
               f"{len(res.candidates)} candidates not merged ({n} rows)", err=True)


@main.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Validate the record graphs of this Oxigraph store folder instead of a file.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--max", "max_shown", default=50, show_default=True, help="Show at most N results; 0 shows all.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when a terminal).")
@click.option("-j", "--jobs", default=1, show_default=True,
              help="Worker processes for an N-Triples or N-Quads FILE; 0 = one per core.")
def validate(file: Path | None, store: Path | None, fmt: str, max_shown: int, progress: bool | None,
             jobs: int) -> None:
    """Check a graph against the TrialKG SHACL shapes, record graph by record graph.

    FILE is N-Triples, N-Quads, Turtle or TriG (optionally .gz). Prints each result (trial, severity, focus
    node, path, value, message), then a summary by shape. Exits 1 when a sh:Violation is found; warnings
    (what a sparse record lacks) do not fail.

    With --jobs N, an N-Triples or N-Quads file is cut into parts at record boundaries and checked by N
    processes: the same results, in the same order.

    Example: kg validate sample.nq --max 20
    """
    import json

    from kg.validate import validate_store
    from kg.validate_parts import one_process_reason, validate_file_in_parts

    if (file is None) == (store is None):
        _fail("give one FILE or --store DIR to validate")
    try:
        if jobs != 1:  # say so rather than ignore -j
            reason = "a store is read by one process" if file is None else one_process_reason(file)
            if reason:
                click.echo(f"kg validate: -j {jobs}: {reason}", err=True)
        show = sys.stderr.isatty() if progress is None else progress
        report = (validate_store(store, progress=show) if store is not None
                  else validate_file_in_parts(file, jobs, progress=show))  # type: ignore[arg-type]
    except (ValueError, OSError, SyntaxError) as e:
        _fail(str(e))
    limit = None if max_shown <= 0 else max_shown
    if fmt == "json":
        click.echo(json.dumps(report.to_json(limit), indent=2, ensure_ascii=False))
    else:
        _print_validation(report, limit)
    sys.exit(EXIT_OK if report.conforms else EXIT_DATA)


def _print_validation(report: object, limit: int | None) -> None:
    from kg.validate import ValidationReport, compact, iter_violations

    assert isinstance(report, ValidationReport)
    found = list(iter_violations(report))
    for v in found[:limit]:
        value = f"  value {compact(v.value)}" if v.value is not None else ""
        path = f"  {compact(v.path)}" if v.path else ""
        click.echo(f"{v.severity:<9} {v.trial or '-'}  {compact(v.focus)}{path}{value}\n          {v.message}")
    if limit is not None and len(found) > limit:
        click.echo(f"... and {len(found) - limit} more (--max 0 shows all, --format json for a machine)")
    if found:
        click.echo("\nby shape:")
        for s in report.by_shape():
            click.echo(f"  {s.count:>7}  {s.severity:<9} {compact(s.shape) or '(nested shape)'}: {s.message}")
    click.echo(report.summary())


@main.command("query")
@click.argument("name", required=False)
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "list_queries", is_flag=True, help="List the canned queries with their parameters.")
@click.option("--store", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Query the Oxigraph store made by kg build --store.")
@click.option("--endpoint", help="Query a SPARQL endpoint whose default graph is the union of the graphs.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter (repeatable).")
@click.option("-f", "--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", "csv", "json", "tsv", "xml"]),
              help="table: aligned text; csv/json/tsv/xml: the SPARQL 1.1 results formats.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for an --endpoint.")
def query_command(name: str | None, file: Path | None, list_queries: bool, store: Path | None,
                  endpoint: str | None, params: tuple[str, ...], fmt: str, timeout: float) -> None:
    """Run the canned query NAME (or a .rq file) over a graph FILE (.nq .nt .ttl .trig, optionally .gz),
    an Oxigraph --store or an --endpoint. Parameters not given take their defaults.

    Example: kg query trials-for-mesh-descriptor --store kg.oxigraph --param descriptor=mesh:D001943
    """
    from kg import query as kq

    if list_queries:
        for q in kq.canned_queries():
            click.echo(kq.describe(q))
        return
    if name is None:
        _fail("give a query NAME (kg query --list shows them)")
    if sum(x is not None for x in (file, store, endpoint)) != 1:
        _fail("give exactly one of FILE, --store DIR or --endpoint URL")
    try:
        q = kq.get_query(name)
        given = kq.parse_param_args(params)
        source: kq.Source
        if endpoint:
            source = kq.Endpoint(endpoint, timeout)
        elif store:
            source = kq.open_store(store)
        else:
            assert file is not None
            source = kq.load_file(file)
        solutions = kq.execute(q, source, given)
        out = sys.stdout.buffer
        kq.write_results(solutions, fmt, out, q.prefixes)
        out.flush()
    except kq.QueryError as e:
        _fail(str(e))


@main.command()
@click.option("--store", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The Oxigraph store made by kg build --store.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7878, show_default=True, help="Port; 0 picks a free one.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds a query may run.")
@click.option("--limit", default=10_000, show_default=True, help="Most result rows sent per query.")
@click.option("--workers", default=2, show_default=True, help="Queries run at the same time.")
def serve(store: Path, host: str, port: int, timeout: float, limit: int, workers: int) -> None:
    """Answer the SPARQL 1.1 Protocol at http://HOST:PORT/sparql, read-only, over an Oxigraph store
    (the default graph is the union of the named graphs).

    Example: kg serve --store kg.oxigraph --port 7878
    """
    from kg.serve import ServeOptions
    from kg.serve import serve as run_serve

    try:
        run_serve(ServeOptions(store, host, port, timeout, limit, workers))
    except (FileNotFoundError, OSError) as e:
        _fail(str(e))


def run() -> None:
    """The ``kg`` command: its process ends with the command (an in-process caller of ``main``, such as click's
    test runner, goes on, so ``main`` itself leaves the garbage collector as it is)."""
    process_ends_with_job()
    main()


if __name__ == "__main__":
    run()
