"""Progress for people at a terminal: articles per second and an ETA on stderr.

Shown only when stderr is a terminal and the run is not ``--quiet`` (cron and pipes get nothing).
The total is estimated cheaply before the run (lines of JSONL files, items of local feeds, one
per other file); network inputs are not counted, so with them the bar shows a rate without ETA.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from tqdm import tqdm

from pipeline.ingest import FEED_SUFFIXES, JSONL_SUFFIXES, SKIPPED_NAMES


def estimate_items(sources: Iterable[Path | str]) -> int | None:
    """Roughly how many items ``sources`` hold; None when a source is a URL (unknown until fetched)."""
    total = 0
    for source in sources:
        if isinstance(source, str):
            return None
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for file in files:
            if SKIPPED_NAMES.match(file.name) or any(part.startswith(".") for part in file.parts[-1:]):
                continue
            total += _items_in(file)
    return total


def _items_in(file: Path) -> int:
    suffix = file.suffix.lower()
    try:
        if suffix in JSONL_SUFFIXES or suffix == ".json":
            with file.open("rb") as handle:
                return sum(1 for line in handle if line.strip()) or 1
        if suffix in FEED_SUFFIXES:
            data = file.read_bytes()
            return max(1, data.count(b"<item") + data.count(b"<entry"))
    except OSError:
        return 1
    return 1


class Progress:
    """A tqdm bar on ``stream`` when it is a terminal; a no-op otherwise.

    Args:
        enabled: False for ``--quiet``.
        stream: Where to draw (stderr, so stdout stays for the summary).
    """

    def __init__(self, enabled: bool = True, stream: IO[str] | None = None) -> None:
        stream = stream or sys.stderr
        self._bar: Any = None
        if enabled and stream.isatty():
            self._bar = tqdm(total=None, unit=" articles", file=stream, dynamic_ncols=True, smoothing=0.1)

    def set_total(self, total: int) -> None:
        """Set the expected number of items (enables the ETA)."""
        if self._bar is not None:
            self._bar.reset(total=total)

    def advance(self, n: int) -> None:
        """Count ``n`` more items done."""
        if self._bar is not None:
            self._bar.update(n)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.close()
