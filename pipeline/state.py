"""Incremental state of an output folder: one SQLite database, the source of truth of every output.

Every input item is stored under its *item key* (canonical URL, else its own id) with the hash of
its input and the *process key* (pipeline version + config hash) that produced its outcome. A
re-run finds unchanged items here and reuses their stored outcome instead of processing them
again; an item whose key is known but whose input (or the process key) changed gets a new
version, and only the newest version of a key is *current*. ``records.jsonl`` and the Parquet
tables are regenerated from the current rows at the end of every run (:mod:`pipeline.write`), so
they accumulate across runs and a crashed run leaves nothing half-written: outcomes are committed
a chunk at a time, in input order, and a re-run carries on from the last committed chunk.

The database also keeps the MinHash signatures of the records (near-duplicate clustering across
runs) and the HTTP validators (ETag, Last-Modified) of fetched feeds.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from pipeline.dedup import Candidate
from pipeline.errors import ChipwireError

STATE_FILE = "state.sqlite"
LOCK_FILE = ".chipwire.lock"
STATE_SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- commit order = output order
    item_key TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    process_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    current INTEGER NOT NULL,
    kind TEXT NOT NULL,                      -- record | duplicate | error
    article_id TEXT,
    content_hash TEXT,
    story_id TEXT,
    stats TEXT NOT NULL,                     -- what the run summary counts (language, items, code)
    payload TEXT NOT NULL,                   -- the JSON line of records/duplicates/errors.jsonl
    rows TEXT NOT NULL,                      -- the item's Parquet rows, by table
    run_id INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS items_identity ON items (item_key, input_hash, process_key);
CREATE INDEX IF NOT EXISTS items_current ON items (item_key) WHERE current = 1;
CREATE TABLE IF NOT EXISTS signatures (article_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, minhash BLOB NOT NULL);
-- The near-duplicate index: the LSH band keys of every signature (pipeline.dedup.Banding).
CREATE TABLE IF NOT EXISTS lsh_bands (key INTEGER NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lsh_bands_key ON lsh_bands (key);
CREATE INDEX IF NOT EXISTS lsh_bands_article ON lsh_bands (article_id);
CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, fetched_at REAL NOT NULL,
    process_key TEXT                         -- the pipeline that processed the feed's items
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, started REAL NOT NULL, finished REAL, summary TEXT
);
"""


@dataclass(frozen=True)
class StoredItem:
    """The current outcome of one item key, as committed by an earlier (or this) run."""

    item_key: str
    input_hash: str
    process_key: str
    version: int
    kind: str
    article_id: str | None
    content_hash: str | None
    story_id: str | None
    stats: dict[str, Any]


@dataclass(frozen=True)
class Committed:
    """One outcome ready to be committed: everything the outputs are regenerated from.

    ``payload`` is the item's JSON line and ``rows`` its Parquet rows as JSON (both encoded by
    :mod:`pipeline.write`, which alone knows the output formats).
    """

    item_key: str
    input_hash: str
    kind: str
    article_id: str | None
    content_hash: str | None
    story_id: str | None
    stats: dict[str, Any]
    payload: str
    rows: str
    minhash: bytes | None = None
    bands: tuple[int, ...] = ()


@dataclass(frozen=True)
class Validators:
    """HTTP validators of a fetched URL, for a conditional GET next time."""

    etag: str | None
    last_modified: str | None


class StateStore:
    """The state database of one output folder; one run at a time holds it (a lock file says so).

    Use as a context manager: ``with StateStore.open(out_dir, process_key) as state: ...``.
    """

    def __init__(self, conn: sqlite3.Connection, process_key: str, lock_fd: int) -> None:
        self._conn = conn
        self.process_key = process_key
        self._lock_fd = lock_fd
        self.run_id = 0

    @classmethod
    def open(cls, out_dir: Path, process_key: str) -> StateStore:
        """Open (creating if needed) the state of ``out_dir`` and lock the folder for this run.

        Raises:
            ChipwireError: when another run holds the folder, or the database is not chipwire's.
        """
        out_dir.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(out_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # The kernel drops a flock when its holder dies, even by kill -9: no stale locks.
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(lock_fd)
            raise ChipwireError(f"another chipwire run is using {out_dir}") from exc
        try:
            conn = sqlite3.connect(out_dir / STATE_FILE, isolation_level=None)
            # WAL + NORMAL: a killed process loses at most the transaction in progress, never the file.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            _add_missing_columns(conn)
            found = conn.execute("SELECT value FROM meta WHERE key = 'state_schema'").fetchone()
            if found is None:
                conn.execute("INSERT INTO meta VALUES ('state_schema', ?)", (STATE_SCHEMA_VERSION,))
            elif found[0] != STATE_SCHEMA_VERSION:
                raise ChipwireError(f"{out_dir / STATE_FILE} has state schema {found[0]}, "
                                    f"this chipwire reads {STATE_SCHEMA_VERSION}; use a new --out folder")
        except sqlite3.DatabaseError as exc:
            os.close(lock_fd)
            raise ChipwireError(f"{out_dir / STATE_FILE} is not a chipwire state database: {exc}") from exc
        except BaseException:
            os.close(lock_fd)
            raise
        return cls(conn, process_key, lock_fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the database and release the folder."""
        self._conn.close()
        os.close(self._lock_fd)

    # --- runs ---------------------------------------------------------------------------------

    def begin_run(self) -> int:
        """Record the start of a run and return its id."""
        cur = self._conn.execute("INSERT INTO runs (started) VALUES (?)", (time.time(),))
        self.run_id = int(cur.lastrowid or 0)
        return self.run_id

    def finish_run(self, summary: dict[str, Any]) -> None:
        """Record the end of the run with its summary."""
        self._conn.execute("UPDATE runs SET finished = ?, summary = ? WHERE run_id = ?",
                           (time.time(), json.dumps(summary), self.run_id))

    # --- items --------------------------------------------------------------------------------

    def current(self, item_key: str) -> StoredItem | None:
        """The current outcome stored for ``item_key``, or None when the key is new."""
        row = self._conn.execute(
            "SELECT item_key, input_hash, process_key, version, kind, article_id, content_hash, story_id, stats "
            "FROM items WHERE item_key = ? AND current = 1", (item_key,)).fetchone()
        if row is None:
            return None
        key, digest, process_key, version, kind, article_id, content_hash, story_id, stats = row
        return StoredItem(key, digest, process_key, version, kind, article_id, content_hash, story_id,
                          json.loads(stats))

    def content_index(self) -> dict[str, str]:
        """Content hash → article id of every current item that passed normalisation (exact dedup)."""
        rows = self._conn.execute(
            "SELECT content_hash, article_id FROM items WHERE current = 1 AND kind != 'duplicate' "
            "AND content_hash IS NOT NULL ORDER BY seq")
        index: dict[str, str] = {}
        for content_hash, article_id in rows:
            index.setdefault(content_hash, article_id)
        return index

    def article_ids(self) -> set[str]:
        """Article ids of the current records and errors (an id is never given to two items)."""
        rows = self._conn.execute("SELECT article_id FROM items WHERE current = 1 AND article_id IS NOT NULL")
        return {r[0] for r in rows}

    def story_of(self, article_id: str) -> str | None:
        """The story id of a current record."""
        row = self._conn.execute("SELECT story_id FROM items WHERE article_id = ? AND current = 1 AND kind = 'record'",
                                 (article_id,)).fetchone()
        return row[0] if row else None

    def signatures(self) -> Iterator[tuple[str, str, bytes]]:
        """``(article_id, story_id, minhash bytes)`` of every record clustered so far, oldest first."""
        yield from self._conn.execute("SELECT article_id, story_id, minhash FROM signatures ORDER BY rowid")

    def candidates(self, keys: Sequence[int]) -> list[Candidate]:
        """Committed records sharing an LSH band key with ``keys`` (the near-duplicate index).

        A candidate's ``order`` is its signature's rowid: the order records were clustered in.
        """
        marks = ",".join("?" * len(keys))
        rows = self._conn.execute(
            "SELECT article_id, story_id, rowid, minhash FROM signatures WHERE article_id IN "
            f"(SELECT article_id FROM lsh_bands WHERE key IN ({marks}))", tuple(keys))
        return [Candidate(*row) for row in rows]

    def ensure_bands(self, layout: str, keys_of: Callable[[bytes], Iterable[int]]) -> None:
        """Make the band keys of every stored signature follow ``layout``, rebuilding them if not.

        A state written by an earlier chipwire (no band keys) or with other dedup settings (another
        number of bands) gets its keys recomputed from the stored signatures, once, in one transaction.
        """
        found = self._conn.execute("SELECT value FROM meta WHERE key = 'lsh_layout'").fetchone()
        if found is not None and found[0] == layout:
            return
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM lsh_bands")
            for article_id, data in conn.execute("SELECT article_id, minhash FROM signatures").fetchall():
                conn.executemany("INSERT INTO lsh_bands VALUES (?, ?)", [(k, article_id) for k in keys_of(data)])
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('lsh_layout', ?)", (layout,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def commit(self, items: list[Committed]) -> None:
        """Commit one chunk of outcomes in one transaction (all or nothing on a crash)."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for item in items:
                previous = conn.execute("SELECT seq, version FROM items WHERE item_key = ? AND current = 1",
                                        (item.item_key,)).fetchone()
                version = 1
                if previous is not None:
                    conn.execute("UPDATE items SET current = 0 WHERE seq = ?", (previous[0],))
                    version = previous[1] + 1
                conn.execute(
                    "INSERT OR REPLACE INTO items (item_key, input_hash, process_key, version, current, kind, "
                    "article_id, content_hash, story_id, stats, payload, rows, run_id) "
                    "VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (item.item_key, item.input_hash, self.process_key, version, item.kind, item.article_id,
                     item.content_hash, item.story_id, json.dumps(item.stats), item.payload, item.rows,
                     self.run_id))
                if item.minhash is not None and item.article_id is not None and item.story_id is not None:
                    conn.execute("INSERT OR REPLACE INTO signatures VALUES (?, ?, ?)",
                                 (item.article_id, item.story_id, item.minhash))
                    conn.execute("DELETE FROM lsh_bands WHERE article_id = ?", (item.article_id,))
                    conn.executemany("INSERT INTO lsh_bands VALUES (?, ?)",
                                     [(key, item.article_id) for key in item.bands])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def iter_current(self, kind: str) -> Iterator[tuple[str, str]]:
        """``(payload, rows)`` JSON of the current items of ``kind``, in commit order."""
        yield from self._conn.execute(
            "SELECT payload, rows FROM items WHERE current = 1 AND kind = ? ORDER BY seq", (kind,))

    def totals(self) -> dict[str, int]:
        """Current items by kind: what the output files hold."""
        rows = self._conn.execute("SELECT kind, COUNT(*) FROM items WHERE current = 1 GROUP BY kind")
        return {kind: n for kind, n in rows}

    # --- HTTP validators ----------------------------------------------------------------------

    def validators(self, url: str) -> Validators | None:
        """The ETag and Last-Modified stored for ``url`` by a run of this same pipeline.

        Validators saved under another pipeline version or configuration are not used: a 304
        would hide the feed's items from the new pipeline, and they must be processed again.
        """
        row = self._conn.execute("SELECT etag, last_modified FROM http_cache WHERE url = ? AND process_key = ?",
                                 (url, self.process_key)).fetchone()
        return Validators(*row) if row else None

    def save_validators(self, found: dict[str, Validators]) -> None:
        """Store validators; called once every item of those URLs is committed (see module doc)."""
        now = time.time()
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.executemany(
            "INSERT OR REPLACE INTO http_cache (url, etag, last_modified, fetched_at, process_key) "
            "VALUES (?, ?, ?, ?, ?)",
            [(u, v.etag, v.last_modified, now, self.process_key) for u, v in found.items()])
        self._conn.execute("COMMIT")


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a state database of an earlier chipwire up to the current columns (added, never removed)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(http_cache)")}
    if "process_key" not in columns:
        # Old validators get no process key, so each feed is fetched in full once more.
        conn.execute("ALTER TABLE http_cache ADD COLUMN process_key TEXT")
