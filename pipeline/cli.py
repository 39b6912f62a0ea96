"""The ``chipwire`` command line.

``chipwire run`` processes articles; ``chipwire report DIR`` writes the HTML report of a run folder and
``chipwire show ARTICLE_ID`` prints one record with its evidence highlighted (both from :mod:`chipwire`,
imported only when used, so that ``run`` does not pay for matplotlib).

Exit codes:
    0  the run completed; bad input items, if any, are in ``errors.jsonl``
    1  an unexpected internal error stopped the run (outputs of earlier runs are left intact)
    2  usage or configuration error (nothing was processed)
    3  the run completed but ``--fail-on-error`` was given and some items became errors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline import __version__
from pipeline.config import load_settings
from pipeline.errors import ChipwireError
from pipeline.fetch import read_feed_list
from pipeline.progress import Progress
from pipeline.run import RunSummary, run_batch

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_ITEM_ERRORS = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``chipwire``."""
    parser = argparse.ArgumentParser(prog="chipwire", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"chipwire {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="process articles into records")
    run.add_argument("inputs", nargs="*", default=[],
                     help="files or folders (.txt/.md, .jsonl, .html, RSS/Atom feeds), feed URLs, "
                          "feed lists (.opml, .feeds: one URL a line)")
    run.add_argument("--out", type=Path, required=True, help="output folder (its state makes runs incremental)")
    run.add_argument("--config", type=Path, help="TOML file overriding the default settings")
    run.add_argument("--feeds", type=Path, action="append", default=[], metavar="FILE",
                     help="a feed list (OPML, or one URL a line) to fetch; repeatable")
    run.add_argument("--follow-links", action="store_true", help="fetch each feed item's page for its full text")
    run.add_argument("--workers", type=int, help="local worker processes (default 1: this process)")
    run.add_argument("--engine", choices=("local", "dask"), help="where articles are analysed (default local)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler address (with --engine dask; default: a LocalCluster)")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary table (cron)")
    run.add_argument("--fail-on-error", action="store_true",
                     help="exit 3 when any input item became an error entry")
    report = sub.add_parser("report", help="write a self-contained HTML report of a run folder")
    report.add_argument("dir", type=Path, help="a `chipwire run --out` folder")
    report.add_argument("--out", type=Path, help="HTML file to write (default DIR/report.html)")
    show = sub.add_parser("show", help="print one article's record with its evidence highlighted")
    show.add_argument("article_id", help="the article id, or a unique prefix of it")
    show.add_argument("--dir", type=Path, default=Path("out"), help="the run folder (default out)")
    return parser


def summary_table(summary: RunSummary, out_dir: Path) -> Table:
    """The run summary as a rich table."""
    table = Table(title=f"chipwire run → {out_dir}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("inputs", str(summary.inputs))
    table.add_row("records", str(summary.records))
    table.add_row("duplicates", str(summary.duplicates))
    table.add_row("errors", str(summary.errors))
    for status in ("new", "updated", "unchanged"):
        table.add_row(f"  {status}", str(getattr(summary, status)))
    table.add_row("near-duplicate records", str(summary.near_duplicates))
    for lang, n in sorted(summary.languages.items()):
        table.add_row(f"  language {lang}", str(n))
    for name, n in sorted(summary.items.items()):
        table.add_row(name, str(n))
    for code, n in sorted(summary.errors_by_code.items()):
        table.add_row(f"  error {code}", str(n))
    for kind, n in sorted(summary.totals.items()):
        table.add_row(f"in {out_dir.name or out_dir}/: {kind}s", str(n))
    for stage, secs in sorted(summary.seconds.items()):
        if stage != "total":
            table.add_row(f"  seconds {stage}", f"{secs:.2f}")
    table.add_row("seconds", f"{summary.seconds.get('total', 0.0):.1f}")
    return table


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``chipwire`` console command."""
    args = build_parser().parse_args(argv)
    console = Console(stderr=False)
    if args.command == "report":
        return _report(args, console)
    if args.command == "show":
        return _show(args, console)

    overrides: dict[str, dict[str, object]] = {"run": {}, "fetch": {}}
    for key, value in (("workers", args.workers), ("engine", args.engine), ("scheduler", args.scheduler)):
        if value is not None:
            overrides["run"][key] = value
    if args.follow_links:
        overrides["fetch"]["follow_links"] = True
    try:
        settings = load_settings(args.config, **{k: v for k, v in overrides.items() if v})
        inputs: list[Path | str] = [*args.inputs, *(url for f in args.feeds for url in read_feed_list(f))]
        if not inputs:
            raise ChipwireError("no input: give files, folders, feed URLs or --feeds FILE")
    except ChipwireError as exc:
        print(f"chipwire: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with Progress(enabled=not args.quiet) as progress:
            summary = run_batch(inputs, args.out, settings, on_progress=progress.advance,
                                on_total=progress.set_total)
    except ChipwireError as exc:
        print(f"chipwire: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("chipwire: interrupted; earlier outputs are intact", file=sys.stderr)
        return EXIT_INTERNAL
    if not args.quiet:
        console.print(summary_table(summary, args.out))
    if args.fail_on_error and summary.errors:
        return EXIT_ITEM_ERRORS
    return EXIT_OK


def _report(args: argparse.Namespace, console: Console) -> int:
    import duckdb

    from chipwire.report import write_report
    from chipwire.store import DatabaseError

    try:
        path = write_report(args.dir, args.out)
    except (DatabaseError, OSError, duckdb.Error) as exc:  # e.g. the database is locked by a running update
        print(f"chipwire: {exc}", file=sys.stderr)
        return EXIT_USAGE
    console.print(f"report written to {path}")
    return EXIT_OK


def _show(args: argparse.Namespace, console: Console) -> int:
    from chipwire.show import ArticleNotFound, show

    try:
        show(args.dir, args.article_id, console)
    except ArticleNotFound as exc:
        print(f"chipwire: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
