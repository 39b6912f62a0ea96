"""Writers: records as JSON Lines and as Parquet tables, every file written atomically.

Only this module flattens records. The runner commits each outcome's JSON line and Parquet rows
to the state database (:mod:`pipeline.state`); at the end of a run :func:`export_outputs`
regenerates every output file from the current rows there, streaming. Each output file is first
written to a temporary file in the output folder and then renamed over the old one, so a reader
(or a crashed run) never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.records import Duplicate, ErrorEntry, Record


def _flat(item: Any) -> dict[str, Any]:
    """The fields of a flat record dataclass (entity, money, quantity, evidence, source) as a dict.

    Same result as ``dataclasses.asdict`` for dataclasses whose fields are plain values, without
    its recursive deep copy, which cost more than the rest of writing a record.
    """
    assert is_dataclass(item)
    return dict(vars(item))

def json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number: an int when integral (exact), else the shortest float that round-trips."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() and abs(value) < 2**63 else float(value)


def record_to_dict(record: Record) -> dict[str, Any]:
    """The JSON object written for ``record`` (the format documented in the README)."""
    return {
        "schema_version": record.schema_version,
        "article_id": record.article_id,
        "source": _flat(record.source),
        "title": record.title,
        "published": record.published,
        "language": record.language,
        "language_probability": record.language_probability,
        **({"language_reason": record.language_reason} if record.language_reason else {}),
        "text": record.text,
        "entities": [_flat(e) for e in record.entities],
        "entity_summary": [_flat(s) for s in record.entity_summary],
        "money": [
            {**_flat(m), "value": json_number(m.value), "lower": json_number(m.lower), "upper": json_number(m.upper)}
            for m in record.money
        ],
        "quantities": [{**_flat(q), "value": json_number(q.value)} for q in record.quantities],
        "options": [
            {
                "option": o.option,
                "actor": o.actor,
                "counterparty": list(o.counterparty),
                "status": o.status,
                "evidence": [_flat(e) for e in o.evidence],
                "confidence": o.confidence,
                **o.details,
            }
            for o in record.options
        ],
        "provenance": {**asdict(record.provenance), "extractors": list(record.provenance.extractors)},
        "extra": record.extra,
    }


def error_to_dict(error: ErrorEntry) -> dict[str, Any]:
    """The JSON object written to ``errors.jsonl``."""
    return {"source": _flat(error.source), "stage": error.stage, "code": error.code, "reason": error.reason}


def duplicate_to_dict(dup: Duplicate) -> dict[str, Any]:
    """The JSON object written to ``duplicates.jsonl``."""
    return {"source": _flat(dup.source), "duplicate_of": dup.duplicate_of, "content_hash": dup.content_hash}


@contextmanager
def atomic_file(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success fsync it and rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class JsonlSink:
    """Streams JSON objects into a temporary file; ``commit`` renames it into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ctx = atomic_file(path)
        self._handle = self._ctx.__enter__()

    def write(self, obj: dict[str, Any]) -> None:
        """Append one object as a line."""
        self._handle.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")

    def commit(self) -> None:
        """Flush, fsync and rename the file into place."""
        self._ctx.__exit__(None, None, None)

    def abort(self) -> None:
        """Drop the temporary file; the previous output, if any, stays."""
        try:
            self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)
        except RuntimeError:
            pass


# --- Parquet -----------------------------------------------------------------------------------

MONEY_DECIMAL = pa.decimal128(38, 6)

SCHEMAS: dict[str, pa.Schema] = {
    "articles": pa.schema([
        ("article_id", pa.string()), ("source_id", pa.string()), ("path", pa.string()), ("url", pa.string()),
        ("feed", pa.string()), ("title", pa.string()), ("published", pa.string()), ("language", pa.string()),
        ("language_probability", pa.float64()), ("text", pa.large_string()), ("n_entities", pa.int32()),
        ("n_money", pa.int32()), ("n_options", pa.int32()), ("pipeline_version", pa.string()),
        ("config_hash", pa.string()), ("models", pa.string()), ("extractors", pa.list_(pa.string())),
    ]),
    "entities": pa.schema([
        ("article_id", pa.string()), ("text", pa.string()), ("label", pa.string()), ("canonical", pa.string()),
        ("id", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
    ]),
    "money": pa.schema([
        ("article_id", pa.string()), ("text", pa.string()), ("value", MONEY_DECIMAL), ("lower", MONEY_DECIMAL),
        ("upper", MONEY_DECIMAL), ("currency", pa.string()), ("approximate", pa.bool_()),
        ("qualifier", pa.string()), ("vague", pa.bool_()), ("period", pa.string()), ("per", pa.string()),
        ("start", pa.int32()), ("end", pa.int32()), ("sentence", pa.string()),
    ]),
    "quantities": pa.schema([
        ("article_id", pa.string()), ("text", pa.string()), ("value", MONEY_DECIMAL), ("unit", pa.string()),
        ("start", pa.int32()), ("end", pa.int32()),
    ]),
    "options": pa.schema([
        ("article_id", pa.string()), ("option", pa.string()), ("actor", pa.string()),
        ("counterparty", pa.list_(pa.string())), ("status", pa.string()), ("confidence", pa.float64()),
        ("evidence", pa.string()), ("details", pa.string()),
    ]),
    "errors": pa.schema([
        ("source_id", pa.string()), ("path", pa.string()), ("url", pa.string()), ("stage", pa.string()),
        ("code", pa.string()), ("reason", pa.string()),
    ]),
    "duplicates": pa.schema([
        ("source_id", pa.string()), ("path", pa.string()), ("duplicate_of", pa.string()),
        ("content_hash", pa.string()),
    ]),
    # One row per record and per exact duplicate: which story (cluster of near-duplicates) it is in.
    "stories": pa.schema([
        ("story_id", pa.string()), ("article_id", pa.string()), ("source_id", pa.string()),
        ("kind", pa.string()), ("similar_to", pa.string()), ("similarity", pa.float64()),
    ]),
}
TABLES = tuple(SCHEMAS)
# Rows per Parquet row group when exporting: bounds the memory of the export, not of the run.
EXPORT_BATCH_ROWS = 4096


def _quantize(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.000001"))


def table_rows(record: Record) -> dict[str, list[dict[str, Any]]]:
    """Flatten one record into rows of the Parquet tables (all but ``errors`` and ``duplicates``)."""
    aid = record.article_id
    prov = record.provenance
    return {
        "articles": [{
            "article_id": aid, "source_id": record.source.id, "path": record.source.path,
            "url": record.source.url, "feed": record.source.feed, "title": record.title,
            "published": record.published, "language": record.language,
            "language_probability": record.language_probability, "text": record.text,
            "n_entities": len(record.entities), "n_money": len(record.money), "n_options": len(record.options),
            "pipeline_version": prov.pipeline_version, "config_hash": prov.config_hash,
            "models": json.dumps(prov.models, sort_keys=True), "extractors": list(prov.extractors),
        }],
        "entities": [{"article_id": aid, **_flat(e)} for e in record.entities],
        "money": [
            {"article_id": aid, **_flat(m), "value": _quantize(m.value), "lower": _quantize(m.lower),
             "upper": _quantize(m.upper)}
            for m in record.money
        ],
        "quantities": [{"article_id": aid, **_flat(q), "value": _quantize(q.value)} for q in record.quantities],
        "options": [
            {"article_id": aid, "option": o.option, "actor": o.actor, "counterparty": list(o.counterparty),
             "status": o.status, "confidence": o.confidence,
             "evidence": json.dumps([_flat(e) for e in o.evidence], ensure_ascii=False),
             "details": json.dumps(o.details, ensure_ascii=False, default=str)}
            for o in record.options
        ],
    }


def error_row(error: ErrorEntry) -> dict[str, Any]:
    """The ``errors`` table row of an error entry."""
    return {"source_id": error.source.id, "path": error.source.path, "url": error.source.url,
            "stage": error.stage, "code": error.code, "reason": error.reason}


def duplicate_row(dup: Duplicate) -> dict[str, Any]:
    """The ``duplicates`` table row of a duplicate."""
    return {"source_id": dup.source.id, "path": dup.source.path, "duplicate_of": dup.duplicate_of,
            "content_hash": dup.content_hash}


def story_row(story_id: str | None, article_id: str | None, source_id: str, kind: str,
              similar_to: str | None, similarity: float) -> dict[str, Any]:
    """The ``stories`` table row of a record or an exact duplicate."""
    return {"story_id": story_id, "article_id": article_id, "source_id": source_id, "kind": kind,
            "similar_to": similar_to, "similarity": similarity}


def write_parquet(path: Path, name: str, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` as the Parquet table ``name`` with its explicit schema, atomically."""
    table = pa.Table.from_pylist(rows, schema=SCHEMAS[name])
    with atomic_file(path, "wb") as handle:
        pq.write_table(table, handle, compression="zstd")


# --- state ↔ outputs ---------------------------------------------------------------------------

def encode_payload(obj: dict[str, Any]) -> str:
    """An output JSON line (without the newline), exactly as written to the ``.jsonl`` files."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=False)


def _encode_decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # exact; turned back into a Decimal by the table's schema on export
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_rows(rows: dict[str, list[dict[str, Any]]]) -> str:
    """An item's Parquet rows as JSON for the state database; decimals are kept exact as strings."""
    return json.dumps(rows, ensure_ascii=False, default=_encode_decimal)


_DECIMAL_COLUMNS = {name: tuple(f.name for f in schema if pa.types.is_decimal(f.type))
                    for name, schema in SCHEMAS.items()}


class _TableWriter:
    """Streams rows into one Parquet table in row groups, then renames it into place."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        self._writer = pq.ParquetWriter(self.tmp, SCHEMAS[name], compression="zstd")
        self._rows: list[dict[str, Any]] = []

    def add(self, rows: list[dict[str, Any]]) -> None:
        decimals = _DECIMAL_COLUMNS[self.name]
        for row in rows:
            for column in decimals:
                if row.get(column) is not None:
                    row[column] = Decimal(row[column])
            self._rows.append(row)
        if len(self._rows) >= EXPORT_BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=SCHEMAS[self.name]))
            self._rows = []

    def commit(self) -> None:
        self._flush()
        self._writer.close()
        with open(self.tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            Path(self.tmp).unlink(missing_ok=True)


OUTPUT_FILES = {"record": "records.jsonl", "duplicate": "duplicates.jsonl", "error": "errors.jsonl"}


def export_outputs(out_dir: Path, current: Callable[[str], Iterator[tuple[str, str]]]) -> None:
    """Regenerate the JSON Lines files and Parquet tables from the state's current items.

    Args:
        out_dir: The output folder.
        current: ``current(kind)`` yields ``(payload, rows)`` JSON of the current items of a kind
            (``record``, ``duplicate``, ``error``) in commit order (:meth:`StateStore.iter_current`).
    """
    tables = {name: _TableWriter(out_dir / "parquet" / f"{name}.parquet", name) for name in TABLES}
    try:
        for kind, filename in OUTPUT_FILES.items():
            with atomic_file(out_dir / filename) as handle:
                for payload, rows in current(kind):
                    handle.write(payload + "\n")
                    for name, table_rows_ in json.loads(rows).items():
                        tables[name].add(table_rows_)
        for writer in tables.values():
            writer.commit()
    except BaseException:
        for writer in tables.values():
            if Path(writer.tmp).exists():
                writer.abort()
        raise


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """Write the run summary as JSON, atomically."""
    with atomic_file(path) as handle:
        json.dump(summary, handle, indent=1, sort_keys=False)
