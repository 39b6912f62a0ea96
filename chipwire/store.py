"""The analysts' database: ``DIR/chipwire.duckdb``, fed by every finished run, read back as pandas.

A run writes its outputs (``records.jsonl``, ``errors.jsonl``, ``duplicates.jsonl``, ``summary.json``)
and :func:`update_database` folds them into one DuckDB file that grows across runs:

- an article is keyed by ``article_id`` and versioned by ``record_hash`` (the SHA-256 of its record):
  a run that brings the same record again only marks it seen; a changed record (new text, new pipeline
  version, other config or models) *replaces* the article's rows and bumps ``articles.version``; an
  article absent from a later run stays (the database accumulates batches);
- errors and duplicates are keyed by what they are about, so repeating them adds nothing;
- ``runs`` has one row per distinct finished output (a fingerprint of its three JSONL files): loading
  the same output again, or a second run that produced byte-identical outputs, only bumps ``n_loads``;
- ``option_clusters`` is recomputed from all stored options (:mod:`chipwire.clusters`).

Everything happens in one transaction, so a killed update leaves the previous database as it was.
The schemas are explicit (:data:`TABLES`): typed ``CREATE TABLE`` statements with ``COMMENT ON`` for
every table and column, and ``docs/REPORT.md`` shows the same text (a test keeps them in step).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from chipwire.clusters import build_clusters, cluster_id, published_date, source_host

DB_NAME = "chipwire.duckdb"
# Records folded into the database per batch (bounds the update's memory on long runs).
UPDATE_BATCH = 500
OUTPUTS = ("records.jsonl", "errors.jsonl", "duplicates.jsonl")


@dataclass(frozen=True)
class Column:
    """One column: name, DuckDB type and the comment stored with ``COMMENT ON COLUMN``."""

    name: str
    type: str
    comment: str


@dataclass(frozen=True)
class TableSpec:
    """One table: its comment, its columns and its primary key."""

    comment: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    def ddl(self, name: str) -> str:
        """The ``CREATE TABLE IF NOT EXISTS`` statement."""
        body = [f'    "{c.name}" {c.type}' for c in self.columns]
        if self.primary_key:
            body.append(f"    PRIMARY KEY ({', '.join(self.primary_key)})")
        return f"CREATE TABLE IF NOT EXISTS {name} (\n" + ",\n".join(body) + "\n)"


def _c(name: str, type_: str, comment: str) -> Column:
    return Column(name, type_, comment)


_ARTICLE_ROW = _c("article_id", "VARCHAR NOT NULL", "The article (articles.article_id)")
_IDX = _c("idx", "INTEGER NOT NULL", "Position of the item in the record's list (0-based)")
_START = _c("start_char", "INTEGER", "Start offset into articles.text")
_END = _c("end_char", "INTEGER", "End offset into articles.text (exclusive)")

STATUS_STEP = (
    "STRUCT(published VARCHAR, date DATE, status VARCHAR, article_id VARCHAR, language VARCHAR, "
    "source VARCHAR, quote VARCHAR, sentence VARCHAR, background BOOLEAN, rumored BOOLEAN, novelty VARCHAR)"
)

TABLES: dict[str, TableSpec] = {
    "articles": TableSpec(
        "One row per article: the current version of its record",
        (
            _c("article_id", "VARCHAR NOT NULL", "Stable id from the source path and item id"),
            _c("version", "INTEGER NOT NULL", "1 when first loaded, +1 each time a run changed its record"),
            _c("record_hash", "VARCHAR NOT NULL",
               "SHA-256 of the record: changes with the text, pipeline version, config or models"),
            _c("content_hash", "VARCHAR NOT NULL", "SHA-256 of text (as in duplicates.content_hash)"),
            _c("source_id", "VARCHAR", "The item's own id: JSONL id, feed item id or file path"),
            _c("path", "VARCHAR", "File the item was read from"),
            _c("url", "VARCHAR", "Article URL when known"),
            _c("feed", "VARCHAR", "Feed URL or title when the item came from a feed"),
            _c("host", "VARCHAR", "Publisher: URL host without www., else the input's hostname/publisher"),
            _c("story_id", "VARCHAR", "Near-duplicate story id when the pipeline supplies one (record or extra story_id)"),
            _c("title", "VARCHAR", "Normalised title"),
            _c("published", "VARCHAR", "Publication date as in the record (ISO 8601, partial allowed)"),
            _c("published_date", "DATE", "published as a UTC calendar date; partial dates take day 1"),
            _c("language", "VARCHAR", "ISO 639-1 code, or und"),
            _c("language_probability", "DOUBLE", "Language detector probability"),
            _c("language_reason", "VARCHAR", "Why the language is und"),
            _c("text", "VARCHAR", "Normalised title, blank line, body: every offset refers to it"),
            _c("n_entities", "INTEGER", "Entity mentions"),
            _c("n_money", "INTEGER", "Monetary figures"),
            _c("n_quantities", "INTEGER", "Quantities"),
            _c("n_options", "INTEGER", "Strategic options"),
            _c("pipeline_version", "VARCHAR", "chipwire version that made the record"),
            _c("config_hash", "VARCHAR", "Hash of the run's settings"),
            _c("models", "JSON", "Model versions (provenance.models)"),
            _c("extractors", "VARCHAR[]", "Versioned extractor names"),
            _c("extra", "JSON", "Input keys without a field of their own"),
            _c("schema_version", "VARCHAR", "Record schema version"),
            _c("first_run_id", "INTEGER", "Run that first loaded the article (runs.run_id)"),
            _c("run_id", "INTEGER", "Run that loaded this version"),
            _c("last_seen_run_id", "INTEGER", "Latest run whose output contained the article"),
        ),
        ("article_id",),
    ),
    "entities": TableSpec(
        "Named-entity mentions of the current article versions",
        (
            _ARTICLE_ROW, _IDX,
            _c("text", "VARCHAR", "Surface form"),
            _c("label", "VARCHAR", "ORG, PERSON, LOCATION, PRODUCT, EVENT or MISC"),
            _c("canonical", "VARCHAR", "Knowledge-base name when linked, else the cleaned surface form"),
            _c("entity_id", "VARCHAR", "Wikidata QID, or kb:KEY for a knowledge-base entry without one; NULL when unlinked"),
            _START, _END,
        ),
        ("article_id", "idx"),
    ),
    "money": TableSpec(
        "Monetary figures with the sentence they occur in",
        (
            _ARTICLE_ROW, _IDX,
            _c("text", "VARCHAR", "The figure as written"),
            _c("value", "DECIMAL(38,6)", "Exact amount for point figures"),
            _c("lower", "DECIMAL(38,6)", "Lower bound of a range or vague amount"),
            _c("upper", "DECIMAL(38,6)", "Upper bound of a range or vague amount"),
            _c("currency", "VARCHAR", "ISO 4217 code"),
            _c("approximate", "BOOLEAN", "The text hedges the amount"),
            _c("qualifier", "VARCHAR", "about, at_least, at_most, over or under"),
            _c("vague", "BOOLEAN", "A vague amount such as hundreds of millions"),
            _c("period", "VARCHAR", "year, quarter, month, week or day for rates"),
            _c("per", "VARCHAR", "What the amount is the price of (query, share, chip)"),
            _START, _END,
            _c("sentence", "VARCHAR", "The sentence containing the figure"),
        ),
        ("article_id", "idx"),
    ),
    "quantities": TableSpec(
        "Percentages and counts that are not money",
        (
            _ARTICLE_ROW, _IDX,
            _c("text", "VARCHAR", "The quantity as written"),
            _c("value", "DECIMAL(38,6)", "Its value"),
            _c("unit", "VARCHAR", "percent or the counted unit"),
            _START, _END,
        ),
        ("article_id", "idx"),
    ),
    "options": TableSpec(
        "Strategic options (build, partner, diversify, acquire), one per article and cluster key",
        (
            _ARTICLE_ROW, _IDX,
            _c("cluster_id", "VARCHAR", "Its cluster (option_clusters.cluster_id)"),
            _c("option", "VARCHAR", "build, partner, diversify or acquire"),
            _c("subtype", "VARCHAR", "e.g. in_house_design, co_development, add_supplier"),
            _c("actor", "VARCHAR", "Canonical name of the company whose chip strategy it is"),
            _c("actor_name", "VARCHAR", "The actor as named in the text"),
            _c("actor_id", "VARCHAR", "Knowledge-base id of the actor"),
            _c("via_coref", "BOOLEAN", "Actor resolved from the company or a pronoun"),
            _c("counterparty", "VARCHAR[]", "Canonical names of the counterparties"),
            _c("counterparties", "JSON", "Counterparties with ids and roles"),
            _c("dominant_supplier", "VARCHAR", "Supplier the actor diversifies from"),
            _c("status", "VARCHAR", "considered, planned, announced, in_progress, completed, abandoned, denied"),
            _c("attribution_type", "VARCHAR", "Who asserts it: actor_statement, anonymous_sources, journalist"),
            _c("attribution_text", "VARCHAR", "The attribution phrase"),
            _c("rumored", "BOOLEAN", "Only anonymous, analyst or journalist attribution"),
            _c("background", "BOOLEAN", "A precedent the article cites, not its news"),
            _c("event_time", "VARCHAR", "When the event happened, if stated"),
            _c("event_precision", "VARCHAR", "Precision of event_time"),
            _c("status_as_of", "VARCHAR", "Date the status refers to (publication)"),
            _c("confidence", "DOUBLE", "Probability that the record's (actor, option) is right, calibrated on blind batches"),
            _c("quote", "VARCHAR", "First evidence quote (text[evidence_start:evidence_end])"),
            _c("sentence", "VARCHAR", "Sentence of the first evidence quote"),
            _c("evidence_start", "INTEGER", "Start offset of the first evidence quote"),
            _c("evidence_end", "INTEGER", "End offset of the first evidence quote"),
            _c("evidence", "JSON", "Every evidence span: start, end, quote, sentence"),
            _c("details", "JSON", "The option's remaining fields (status_cues, classifier_probability...)"),
        ),
        ("article_id", "idx"),
    ),
    "option_clusters": TableSpec(
        "One option followed across articles and languages, recomputed after each run",
        (
            _c("cluster_id", "VARCHAR NOT NULL", "Hash of option, actor and the set of counterparties"),
            _c("option", "VARCHAR", "build, partner, diversify or acquire"),
            _c("actor", "VARCHAR", "Canonical actor"),
            _c("actor_id", "VARCHAR", "Knowledge-base id of the actor"),
            _c("counterparties", "VARCHAR[]", "Canonical counterparty names, sorted"),
            _c("n_mentions", "INTEGER", "Option records in the cluster"),
            _c("n_articles", "INTEGER", "Distinct articles"),
            _c("n_independent_sources", "INTEGER",
               "Articles grouped by publisher host, content hash, story_id and duplicates: copies count once"),
            _c("languages", "VARCHAR[]", "Languages of the articles, sorted"),
            _c("first_seen", "DATE", "Earliest published date"),
            _c("last_seen", "DATE", "Latest published date"),
            _c("current_status", "VARCHAR", "Status of the latest non-background step"),
            _c("n_status_changes", "INTEGER", "Steps whose status differs from the previous step"),
            _c("novelty", "VARCHAR", "Latest step: first_report, status_change, new_source or repeat"),
            _c("background_only", "BOOLEAN", "Every mention is background (a cited precedent)"),
            _c("rumored_only", "BOOLEAN", "Every mention is rumoured"),
            _c("article_ids", "VARCHAR[]", "Articles in history order"),
            _c("status_history", f"{STATUS_STEP}[]", "Steps ordered by published date, with evidence"),
        ),
        ("cluster_id",),
    ),
    "errors": TableSpec(
        "Input items that could not become records, once per distinct error",
        (
            _c("error_key", "VARCHAR NOT NULL", "Hash of path, source_id, stage, code and reason"),
            _c("source_id", "VARCHAR", "The item's id"),
            _c("path", "VARCHAR", "File the item was read from"),
            _c("url", "VARCHAR", "Item URL when known"),
            _c("feed", "VARCHAR", "Feed when known"),
            _c("stage", "VARCHAR", "Pipeline stage that failed"),
            _c("code", "VARCHAR", "Stable error code (pipeline/errors.py)"),
            _c("reason", "VARCHAR", "Human-readable explanation"),
            _c("first_run_id", "INTEGER", "Run that first reported it"),
            _c("last_run_id", "INTEGER", "Latest run that reported it"),
        ),
        ("error_key",),
    ),
    "duplicates": TableSpec(
        "Input items whose normalised text equals an earlier record's",
        (
            _c("duplicate_key", "VARCHAR NOT NULL", "Hash of path and source_id"),
            _c("source_id", "VARCHAR", "The duplicate item's id"),
            _c("path", "VARCHAR", "File it was read from"),
            _c("url", "VARCHAR", "Its URL when known"),
            _c("feed", "VARCHAR", "Its feed when known"),
            _c("host", "VARCHAR", "Its publisher host"),
            _c("duplicate_of", "VARCHAR", "article_id of the record it repeats"),
            _c("content_hash", "VARCHAR", "SHA-256 of the shared text"),
            _c("story_id", "VARCHAR", "Story cluster id when the pipeline supplies one"),
            _c("first_run_id", "INTEGER", "Run that first reported it"),
            _c("last_run_id", "INTEGER", "Latest run that reported it"),
        ),
        ("duplicate_key",),
    ),
    "runs": TableSpec(
        "One row per distinct finished run output loaded into the database",
        (
            _c("run_id", "INTEGER NOT NULL", "1, 2, ... in load order"),
            _c("fingerprint", "VARCHAR NOT NULL", "SHA-256 of records/errors/duplicates.jsonl (or summary run_id)"),
            _c("first_loaded_at", "TIMESTAMP", "UTC time of the first load"),
            _c("last_loaded_at", "TIMESTAMP", "UTC time of the latest load of the same output"),
            _c("n_loads", "INTEGER", "How often this output was loaded (repeats change nothing else)"),
            _c("out_dir", "VARCHAR", "Output folder loaded"),
            _c("inputs", "INTEGER", "Input items of the run"),
            _c("records", "INTEGER", "Records written"),
            _c("duplicates", "INTEGER", "Duplicates written"),
            _c("errors", "INTEGER", "Error entries written"),
            _c("articles_new", "INTEGER", "Articles first loaded by this run"),
            _c("articles_changed", "INTEGER", "Articles whose record this run replaced"),
            _c("articles_unchanged", "INTEGER", "Articles this run brought again unchanged"),
            _c("errors_new", "INTEGER", "Errors not seen before"),
            _c("duplicates_new", "INTEGER", "Duplicates not seen before"),
            _c("pipeline_versions", "VARCHAR[]", "Pipeline versions in the run's records"),
            _c("seconds", "DOUBLE", "The run's total seconds (summary.json)"),
            _c("summary", "JSON", "summary.json as written by the run"),
        ),
        ("run_id",),
    ),
}

#: Tables holding one row per item of an article; replaced together with the article.
ARTICLE_TABLES = ("entities", "money", "quantities", "options")


class DatabaseError(RuntimeError):
    """The database cannot be used: a schema from another chipwire version, or no run to load."""


def schema_markdown() -> str:
    """The tables as Markdown (the schema section of ``docs/REPORT.md`` is this text)."""
    parts = []
    for name, spec in TABLES.items():
        key = f" Primary key: ({', '.join(spec.primary_key)})." if spec.primary_key else ""
        parts.append(f"### `{name}`\n\n{spec.comment}.{key}\n\n| column | type | meaning |\n|---|---|---|")
        for column in spec.columns:
            type_ = column.type.replace(" NOT NULL", "")
            if type_.startswith("STRUCT("):
                type_ = "STRUCT[]"  # its fields are listed once, under the table
            parts.append(f"| `{column.name}` | `{type_}` | {column.comment} |")
        if name == "option_clusters":
            parts.append(f"\n`status_history` is a list of `{STATUS_STEP}`.")
        parts.append("")
    return "\n".join(parts)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables that do not exist and check that those that do have the expected columns."""
    for name, spec in TABLES.items():
        existing = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
            "ORDER BY column_index", [name]).fetchall()]
        if existing:
            expected = [c.name for c in spec.columns]
            if existing != expected:
                raise DatabaseError(
                    f"table {name} has columns {existing}, this chipwire expects {expected}; "
                    "move the old database aside and load the runs again"
                )
            continue
        con.execute(spec.ddl(name))
        con.execute(f"COMMENT ON TABLE {name} IS {_sql_string(spec.comment)}")
        for column in spec.columns:
            con.execute(f'COMMENT ON COLUMN {name}."{column.name}" IS {_sql_string(column.comment)}')


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- reading a run's outputs ---------------------------------------------------------------------


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def fingerprint(out_dir: Path, summary: dict[str, Any] | None = None) -> str:
    """The identity of a finished output: the summary's ``run_id`` if any, else a hash of its JSONL files.

    Timings are left out on purpose: a second run of the same batch that writes the same records is the
    same output and must not add a row anywhere.
    """
    if summary and isinstance(summary.get("run_id"), str):
        return str(summary["run_id"])
    digest = hashlib.sha256()
    for name in OUTPUTS:
        path = out_dir / name
        digest.update(name.encode())
        if path.exists():
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def _record_hash(record: dict[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _decimal(value: Any) -> Decimal | None:
    # Through str: a JSON float such as 0.04 must stay 0.04, not its binary approximation.
    return None if value is None else Decimal(str(value))


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _key(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()[:32]


def article_row(record: dict[str, Any]) -> dict[str, Any]:
    """The ``articles`` row of a record (without the run bookkeeping columns)."""
    source = record.get("source") or {}
    extra = record.get("extra") or {}
    prov = record.get("provenance") or {}
    text = record.get("text") or ""
    story = record.get("story_id") or extra.get("story_id")
    return {
        "article_id": record["article_id"],
        "record_hash": _record_hash(record),
        "content_hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "source_id": source.get("id"), "path": source.get("path"), "url": source.get("url"),
        "feed": source.get("feed"), "host": source_host(source.get("url"), source.get("feed"), extra),
        "story_id": None if story is None else str(story),
        "title": record.get("title"), "published": record.get("published"),
        "published_date": published_date(record.get("published")),
        "language": record.get("language"), "language_probability": record.get("language_probability"),
        "language_reason": record.get("language_reason"), "text": text,
        "n_entities": len(record.get("entities") or []), "n_money": len(record.get("money") or []),
        "n_quantities": len(record.get("quantities") or []), "n_options": len(record.get("options") or []),
        "pipeline_version": prov.get("pipeline_version"), "config_hash": prov.get("config_hash"),
        "models": _json(prov.get("models")), "extractors": list(prov.get("extractors") or []),
        "extra": _json(extra), "schema_version": record.get("schema_version"),
    }


_OPTION_FIELDS = {
    "option", "subtype", "actor", "counterparty", "counterparties", "dominant_supplier", "status", "attribution",
    "rumored", "background", "time", "confidence", "evidence",
}


def item_rows(record: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``entities``, ``money``, ``quantities`` and ``options`` for one record."""
    aid = record["article_id"]
    options = []
    for idx, option in enumerate(record.get("options") or []):
        actor = option.get("actor")
        actor = actor if isinstance(actor, dict) else {"name": actor, "canonical": actor}
        canonical = actor.get("canonical") or actor.get("name")
        parties = list(option.get("counterparty") or [])
        evidence = option.get("evidence") or []
        first = evidence[0] if evidence else {}
        attribution = option.get("attribution") or {}
        when = option.get("time") or {}
        dominant = option.get("dominant_supplier")
        options.append({
            "article_id": aid, "idx": idx, "cluster_id": cluster_id(option["option"], canonical, parties),
            "option": option["option"], "subtype": option.get("subtype"), "actor": canonical,
            "actor_name": actor.get("name"), "actor_id": actor.get("id"), "via_coref": actor.get("via_coref"),
            "counterparty": parties, "counterparties": _json(option.get("counterparties")),
            "dominant_supplier": dominant.get("canonical") if isinstance(dominant, dict) else dominant,
            "status": option.get("status"), "attribution_type": attribution.get("type"),
            "attribution_text": attribution.get("text"), "rumored": option.get("rumored"),
            "background": option.get("background"), "event_time": when.get("event"),
            "event_precision": when.get("precision"), "status_as_of": when.get("status_as_of"),
            "confidence": option.get("confidence"), "quote": first.get("quote"), "sentence": first.get("sentence"),
            "evidence_start": first.get("start"), "evidence_end": first.get("end"), "evidence": _json(evidence),
            "details": _json({k: v for k, v in option.items() if k not in _OPTION_FIELDS}),
        })
    return {
        "entities": [
            {"article_id": aid, "idx": i, "text": e.get("text"), "label": e.get("label"),
             "canonical": e.get("canonical"), "entity_id": e.get("id"), "start_char": e.get("start"),
             "end_char": e.get("end")}
            for i, e in enumerate(record.get("entities") or [])
        ],
        "money": [
            {"article_id": aid, "idx": i, "text": m.get("text"), "value": _decimal(m.get("value")),
             "lower": _decimal(m.get("lower")), "upper": _decimal(m.get("upper")), "currency": m.get("currency"),
             "approximate": m.get("approximate"), "qualifier": m.get("qualifier"), "vague": m.get("vague"),
             "period": m.get("period"), "per": m.get("per"), "start_char": m.get("start"),
             "end_char": m.get("end"), "sentence": m.get("sentence")}
            for i, m in enumerate(record.get("money") or [])
        ],
        "quantities": [
            {"article_id": aid, "idx": i, "text": q.get("text"), "value": _decimal(q.get("value")),
             "unit": q.get("unit"), "start_char": q.get("start"), "end_char": q.get("end")}
            for i, q in enumerate(record.get("quantities") or [])
        ],
        "options": options,
    }


def error_row(entry: dict[str, Any]) -> dict[str, Any]:
    """The ``errors`` row of an ``errors.jsonl`` entry (without run ids)."""
    source = entry.get("source") or {}
    return {
        "error_key": _key(source.get("path"), source.get("id"), entry.get("stage"), entry.get("code"),
                          entry.get("reason")),
        "source_id": source.get("id"), "path": source.get("path"), "url": source.get("url"),
        "feed": source.get("feed"), "stage": entry.get("stage"), "code": entry.get("code"),
        "reason": entry.get("reason"),
    }


def duplicate_row(entry: dict[str, Any]) -> dict[str, Any]:
    """The ``duplicates`` row of a ``duplicates.jsonl`` entry (without run ids)."""
    source = entry.get("source") or {}
    story = entry.get("story_id")
    return {
        "duplicate_key": _key(source.get("path"), source.get("id")),
        "source_id": source.get("id"), "path": source.get("path"), "url": source.get("url"),
        "feed": source.get("feed"), "host": source_host(source.get("url"), source.get("feed")),
        "duplicate_of": entry.get("duplicate_of"), "content_hash": entry.get("content_hash"),
        "story_id": None if story is None else str(story),
    }


# --- updating ------------------------------------------------------------------------------------


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a DataFrame with exactly the table's columns, in order (missing ones are NULL).

    Exact amounts go in as text: DuckDB would infer a decimal type from the first values of an
    object column (``DECIMAL(10,2)`` for ``12.50``) and fail on a larger one further down; text is
    cast exactly to the table's ``DECIMAL(38,6)`` on insert.
    """
    columns = [c.name for c in TABLES[name].columns]
    decimals = {c.name for c in TABLES[name].columns if c.type.startswith("DECIMAL")}
    return pd.DataFrame(
        [{c: (str(row[c]) if c in decimals and row.get(c) is not None else row.get(c)) for c in columns}
         for row in rows],
        columns=columns, dtype=object)


def _insert(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]], conflict: str = "") -> None:
    if not rows:
        return
    frame = _frame(name, rows)  # noqa: F841 - read by DuckDB's replacement scan below
    con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame {conflict}")


def update_database(out_dir: Path, summary: dict[str, Any] | None = None, *, batch_size: int = UPDATE_BATCH) -> None:
    """Fold a finished run's outputs in ``out_dir`` into ``out_dir/chipwire.duckdb``, in one transaction.

    Reads ``records.jsonl``, ``errors.jsonl``, ``duplicates.jsonl`` and ``summary.json`` (or ``summary``
    when given: the run's summary dict). Loading the same output twice changes nothing but
    ``runs.n_loads``; see the module docstring for how articles are versioned.

    Args:
        out_dir: The run's output folder; the database is created in it when missing.
        summary: The run's summary, when the caller has it (``RunSummary.to_dict()``).
        batch_size: Records folded in per batch (memory stays bounded however long the run).

    Raises:
        DatabaseError: The folder has no ``records.jsonl``, or the database has another schema.
    """
    out_dir = Path(out_dir)
    if not (out_dir / "records.jsonl").exists():
        raise DatabaseError(f"{out_dir} has no records.jsonl: run `chipwire run ... --out {out_dir}` first")
    if summary is None:
        summary_path = out_dir / "summary.json"
        summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    print_ = fingerprint(out_dir, summary)
    now = datetime.now(UTC).replace(tzinfo=None)
    # One writer folding batches of 500 records: a second DuckDB thread only adds its own buffers
    # (peak 369 -> 345 MB loading 10,000 records in a /tmp script, at the same speed).
    con = duckdb.connect(str(out_dir / DB_NAME), config={"threads": 1})
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            create_schema(con)
            _update(con, out_dir, summary, print_, now, batch_size)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()


def _update(
    con: duckdb.DuckDBPyConnection, out_dir: Path, summary: dict[str, Any], print_: str, now: datetime,
    batch_size: int = UPDATE_BATCH,
) -> None:
    known = con.execute("SELECT run_id FROM runs WHERE fingerprint = ?", [print_]).fetchone()
    if known:
        con.execute("UPDATE runs SET n_loads = n_loads + 1, last_loaded_at = ? WHERE run_id = ?", [now, known[0]])
        return
    run_id = int(con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0])  # type: ignore[index]
    stored = {
        aid: (record_hash, version, first_run)
        for aid, record_hash, version, first_run in con.execute(
            "SELECT article_id, record_hash, version, first_run_id FROM articles").fetchall()
    }
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    versions: set[str] = set()
    # Records are folded in batches: a long run's output never has to fit in memory at once.
    for batch in _batches(_read_jsonl(out_dir / "records.jsonl"), batch_size):
        unchanged: list[str] = []
        replaced: list[str] = []
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in ("articles", *ARTICLE_TABLES)}
        for record in batch:
            article = article_row(record)
            versions.add(str(article["pipeline_version"]))
            previous = stored.get(article["article_id"])
            if previous and previous[0] == article["record_hash"]:
                counts["unchanged"] += 1
                unchanged.append(article["article_id"])
                continue
            if previous:
                counts["changed"] += 1
                replaced.append(article["article_id"])
                article.update(version=previous[1] + 1, first_run_id=previous[2])
            else:
                counts["new"] += 1
                article.update(version=1, first_run_id=run_id)
            # A batch may hold one article_id twice only if the runner's id repair failed; the last one wins.
            stored[article["article_id"]] = (article["record_hash"], article["version"], article["first_run_id"])
            article.update(run_id=run_id, last_seen_run_id=run_id)
            rows["articles"].append(article)
            for table, items in item_rows(record).items():
                rows[table].extend(items)
        _apply_batch(con, run_id, replaced, unchanged, rows)
    errors_new = _upsert_log(con, "errors", "error_key",
                             [error_row(e) for e in _read_jsonl(out_dir / "errors.jsonl")], run_id)
    duplicates_new = _upsert_log(con, "duplicates", "duplicate_key",
                                 [duplicate_row(d) for d in _read_jsonl(out_dir / "duplicates.jsonl")], run_id)
    refresh_clusters(con)
    _insert(con, "runs", [{
        "run_id": run_id, "fingerprint": print_, "first_loaded_at": now, "last_loaded_at": now, "n_loads": 1,
        "out_dir": str(out_dir.resolve()), "inputs": summary.get("inputs"), "records": summary.get("records"),
        "duplicates": summary.get("duplicates"), "errors": summary.get("errors"),
        "articles_new": counts["new"], "articles_changed": counts["changed"],
        "articles_unchanged": counts["unchanged"], "errors_new": errors_new, "duplicates_new": duplicates_new,
        "pipeline_versions": sorted(versions),
        "seconds": (summary.get("seconds_by_stage") or {}).get("total"), "summary": _json(summary),
    }])


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Consecutive lists of ``size`` items (the last may be shorter); ``itertools.batched`` is 3.12+."""
    while batch := list(itertools.islice(items, size)):
        yield batch


def _apply_batch(con: duckdb.DuckDBPyConnection, run_id: int, replaced: list[str], unchanged: list[str],
                 rows: dict[str, list[dict[str, Any]]]) -> None:
    """Write one batch of articles: drop the replaced ones' rows, mark the unchanged, insert the rest."""
    if replaced:
        gone = pd.DataFrame({"article_id": replaced})  # noqa: F841 - read by DuckDB below
        for table in ("articles", *ARTICLE_TABLES):
            con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM gone)")
    if unchanged:
        seen = pd.DataFrame({"article_id": unchanged})  # noqa: F841 - read by DuckDB below
        con.execute("UPDATE articles SET last_seen_run_id = ? WHERE article_id IN (SELECT article_id FROM seen)",
                    [run_id])
    for table, table_rows in rows.items():
        # Keep the last row per key, matching the articles dedup above.
        keys = TABLES[table].primary_key
        _insert(con, table, list({tuple(r[k] for k in keys): r for r in table_rows}.values()))


def _upsert_log(
    con: duckdb.DuckDBPyConnection, table: str, key: str, rows: list[dict[str, Any]], run_id: int
) -> int:
    """Insert rows not seen before, mark those seen again; returns how many were new."""
    unique = list({r[key]: {**r, "first_run_id": run_id, "last_run_id": run_id} for r in rows}.values())
    if not unique:
        return 0
    keys = pd.DataFrame({key: [r[key] for r in unique]})  # noqa: F841 - read by DuckDB below
    before = int(con.execute(f"SELECT count(*) FROM {table} WHERE {key} IN (SELECT {key} FROM keys)").fetchone()[0])  # type: ignore[index]
    _insert(con, table, unique, f"ON CONFLICT ({key}) DO UPDATE SET last_run_id = excluded.last_run_id")
    return len(unique) - before


def refresh_clusters(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute ``option_clusters`` from every stored option (cheap: one row per option)."""
    options = con.execute("SELECT * FROM options").df()
    articles = con.execute(
        "SELECT article_id, published, language, host, content_hash, story_id FROM articles").df()
    duplicates = con.execute("SELECT duplicate_of, story_id FROM duplicates").df()
    clusters = build_clusters(options, articles, duplicates)
    con.execute("DELETE FROM option_clusters")
    _insert(con, "option_clusters", clusters.to_dict("records"))


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tables:
    """The database's tables as pandas DataFrames (``tables.money`` or ``tables["money"]``)."""

    articles: pd.DataFrame
    entities: pd.DataFrame
    money: pd.DataFrame
    quantities: pd.DataFrame
    options: pd.DataFrame
    option_clusters: pd.DataFrame
    errors: pd.DataFrame
    duplicates: pd.DataFrame
    runs: pd.DataFrame

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(name)
        frame: pd.DataFrame = getattr(self, name)
        return frame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """The tables by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def database_path(out_dir: Path | str) -> Path:
    """``DIR/chipwire.duckdb``."""
    return Path(out_dir) / DB_NAME


def is_loaded(out_dir: Path | str) -> bool:
    """True when the output now in ``out_dir`` is already in its database."""
    out_dir = Path(out_dir)
    path = database_path(out_dir)
    if not path.exists():
        return False
    print_ = fingerprint(out_dir, _summary_file(out_dir))
    con = duckdb.connect(str(path), read_only=True)
    try:
        has_runs = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'runs'").fetchone()[0]  # type: ignore[index]
        return bool(has_runs) and con.execute(
            "SELECT count(*) FROM runs WHERE fingerprint = ?", [print_]).fetchone()[0] > 0  # type: ignore[index]
    finally:
        con.close()


def _summary_file(out_dir: Path) -> dict[str, Any]:
    path = out_dir / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def sync(out_dir: Path | str) -> None:
    """Load the run output in ``out_dir`` into its database unless it is there already."""
    out_dir = Path(out_dir)
    if (out_dir / "records.jsonl").exists() and not is_loaded(out_dir):
        update_database(out_dir)


def load(out_dir: Path | str, *, sync_outputs: bool = True) -> Tables:
    """Every table of ``DIR/chipwire.duckdb`` as pandas DataFrames.

    Args:
        out_dir: A ``chipwire run --out`` folder.
        sync_outputs: First load the folder's latest run into the database if it is not there yet
            (idempotent; lets ``load`` work on folders written before the runner updated the database).

    Returns:
        The tables; DECIMAL columns arrive as floats, lists as arrays, JSON columns as strings.

    Raises:
        DatabaseError: There is neither a database nor a run output in ``out_dir``.
    """
    out_dir = Path(out_dir)
    if sync_outputs:
        sync(out_dir)
    path = database_path(out_dir)
    if not path.exists():
        raise DatabaseError(f"{path} does not exist: run `chipwire run ... --out {out_dir}` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        frames = {
            name: con.execute(f"SELECT * FROM {name} ORDER BY {', '.join(spec.primary_key)}").df()
            for name, spec in TABLES.items()
        }
    finally:
        con.close()
    return Tables(**frames)
