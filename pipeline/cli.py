"""The ``chipwire`` command line.

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
from pipeline.run import RunSummary, run_batch

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_ITEM_ERRORS = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``chipwire``."""
    parser = argparse.ArgumentParser(prog="chipwire", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"chipwire {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="process articles into records")
    run.add_argument("inputs", nargs="+", type=Path,
                     help="files or folders: .txt/.md, .jsonl, .html, RSS/Atom feeds")
    run.add_argument("--out", type=Path, required=True, help="output folder")
    run.add_argument("--config", type=Path, help="TOML file overriding the default settings")
    run.add_argument("--quiet", action="store_true", help="print nothing unless the run fails")
    run.add_argument("--fail-on-error", action="store_true",
                     help="exit 3 when any input item became an error entry")
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
    for lang, n in sorted(summary.languages.items()):
        table.add_row(f"  language {lang}", str(n))
    for name, n in sorted(summary.items.items()):
        table.add_row(name, str(n))
    for code, n in sorted(summary.errors_by_code.items()):
        table.add_row(f"  error {code}", str(n))
    table.add_row("seconds", f"{summary.seconds.get('total', 0.0):.1f}")
    return table


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``chipwire`` console command."""
    args = build_parser().parse_args(argv)
    console = Console(stderr=False)

    try:
        settings = load_settings(args.config)
    except ChipwireError as exc:
        print(f"chipwire: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        summary = run_batch(args.inputs, args.out, settings)
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


if __name__ == "__main__":
    sys.exit(main())
