"""Writers: records as JSON Lines and as Parquet tables, every file written atomically.

Only this module flattens records. Each output file is first written to a
temporary file in the output folder and then renamed over the old one, so a
reader (or a crashed run) never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.records import Duplicate, ErrorEntry, Record


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
        "source": asdict(record.source),
        "title": record.title,
        "published": record.published,
        "language": record.language,
        "language_probability": record.language_probability,
        **({"language_reason": record.language_reason} if record.language_reason else {}),
        "text": record.text,
        "entities": [asdict(e) for e in record.entities],
        "entity_summary": [asdict(s) for s in record.entity_summary],
        "money": [
            {**asdict(m), "value": json_number(m.value), "lower": json_number(m.lower), "upper": json_number(m.upper)}
            for m in record.money
        ],
        "quantities": [{**asdict(q), "value": json_number(q.value)} for q in record.quantities],
        "options": [
            {
                "option": o.option,
                "actor": o.actor,
                "counterparty": list(o.counterparty),
                "status": o.status,
                "evidence": [asdict(e) for e in o.evidence],
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
    return {"source": asdict(error.source), "stage": error.stage, "code": error.code, "reason": error.reason}


def duplicate_to_dict(dup: Duplicate) -> dict[str, Any]:
    """The JSON object written to ``duplicates.jsonl``."""
    return {"source": asdict(dup.source), "duplicate_of": dup.duplicate_of, "content_hash": dup.content_hash}


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
}


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
        "entities": [{"article_id": aid, **asdict(e)} for e in record.entities],
        "money": [
            {"article_id": aid, **asdict(m), "value": _quantize(m.value), "lower": _quantize(m.lower),
             "upper": _quantize(m.upper)}
            for m in record.money
        ],
        "quantities": [{"article_id": aid, **asdict(q), "value": _quantize(q.value)} for q in record.quantities],
        "options": [
            {"article_id": aid, "option": o.option, "actor": o.actor, "counterparty": list(o.counterparty),
             "status": o.status, "confidence": o.confidence,
             "evidence": json.dumps([asdict(e) for e in o.evidence], ensure_ascii=False),
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


def write_parquet(path: Path, name: str, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` as the Parquet table ``name`` with its explicit schema, atomically."""
    table = pa.Table.from_pylist(rows, schema=SCHEMAS[name])
    with atomic_file(path, "wb") as handle:
        pq.write_table(table, handle, compression="zstd")
