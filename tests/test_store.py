"""The analysts' database: schemas, loading a run, re-loading it, changed articles, crash safety."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

import chipwire
from chipwire.store import TABLES, DatabaseError, Tables, schema_markdown, update_database
from pipeline.config import Settings
from pipeline.run import RunSummary, Tools, run_batch
from tests.conftest import REPO

SAMPLE = REPO / "corpus" / "sample"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory, settings: Settings, tools: Tools
               ) -> tuple[Path, RunSummary]:
    """The sample corpus run once for the module (no database yet)."""
    out = tmp_path_factory.mktemp("store-sample")
    return out, run_batch([SAMPLE], out, settings, tools=tools)


@pytest.fixture
def run_dir(sample_run: tuple[Path, RunSummary], tmp_path: Path) -> Path:
    """A private copy of the sample run's outputs, so each test owns its database."""
    out = tmp_path / "out"
    shutil.copytree(sample_run[0], out, ignore=shutil.ignore_patterns("chipwire.duckdb*"))
    return out


def _counts(out: Path) -> dict[str, int]:
    con = duckdb.connect(str(out / "chipwire.duckdb"), read_only=True)
    try:
        return {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in TABLES}  # type: ignore[index]
    finally:
        con.close()


def _records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]


def _write_records(out: Path, records: list[dict[str, Any]]) -> None:
    (out / "records.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                                       encoding="utf-8")


def test_first_load_has_one_row_per_item(run_dir: Path, sample_run: tuple[Path, RunSummary]) -> None:
    summary = sample_run[1]
    update_database(run_dir, summary.to_dict())
    counts = _counts(run_dir)
    assert counts["articles"] == summary.records
    for table in ("entities", "money", "quantities", "options"):
        assert counts[table] == summary.items[table], table
    assert counts["runs"] == 1
    assert 0 < counts["option_clusters"] <= counts["options"]
    tables = chipwire.load(run_dir)
    assert tables.runs.loc[0, "articles_new"] == summary.records
    assert set(tables.options["cluster_id"]) == set(tables.option_clusters["cluster_id"])


def test_schema_is_typed_and_commented(run_dir: Path) -> None:
    update_database(run_dir)
    con = duckdb.connect(str(run_dir / "chipwire.duckdb"), read_only=True)
    try:
        for name, spec in TABLES.items():
            columns = con.execute(
                "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = ? "
                "ORDER BY column_index", [name]).fetchall()
            assert [c[0] for c in columns] == [c.name for c in spec.columns], name
            assert all(c[2] for c in columns), f"{name}: a column has no comment"
            (comment,) = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()  # type: ignore[misc]
            assert comment == spec.comment
        types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'money'"
                                 ).fetchall())
        assert types["value"] == "DECIMAL(38,6)" and types["approximate"] == "BOOLEAN"
        # Money stays exact in the database: 0.04 USD is 0.04, not a binary approximation.
        assert con.execute("SELECT count(*) FROM money WHERE value = 0.04").fetchone()[0] == 1  # type: ignore[index]
    finally:
        con.close()


def test_loading_the_same_output_again_adds_no_row(run_dir: Path) -> None:
    update_database(run_dir)
    before = _counts(run_dir)
    update_database(run_dir)
    # A second run of the same batch writes byte-identical JSONL files (only summary.json's timings differ).
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["seconds_by_stage"]["total"] += 1.0
    (run_dir / "summary.json").write_text(json.dumps(summary))
    update_database(run_dir)
    assert _counts(run_dir) == before
    runs = chipwire.load(run_dir).runs
    assert runs["n_loads"].tolist() == [3]


def test_batched_update_equals_one_batch(run_dir: Path, tmp_path: Path) -> None:
    # Records are folded in batches (bounded memory); a batch of 2 must give the same tables.
    other = tmp_path / "other"
    shutil.copytree(run_dir, other)
    update_database(run_dir)
    update_database(other, batch_size=2)
    one, many = chipwire.load(run_dir), chipwire.load(other)
    for name in ("articles", "entities", "money", "quantities", "options", "option_clusters"):
        left = one[name].drop(columns=["first_loaded_at", "last_loaded_at"], errors="ignore")
        right = many[name].drop(columns=["first_loaded_at", "last_loaded_at"], errors="ignore")
        assert left.astype(str).equals(right.astype(str)), name


def test_large_amounts_after_small_ones_load_exactly(run_dir: Path) -> None:
    # DuckDB infers a decimal type from the first values of a column; a larger figure further down
    # (a 10,000-article run met 678,800,000 after DECIMAL(10,2)-sized ones) must still load exactly.
    # DuckDB infers the type from a sample of the rows: among 5,000 figures of 8 digits, one of 9
    # digits is outside it (the shape of the 10k run's failure).
    records = _records(run_dir)
    record = next(r for r in records if any(m["value"] is not None for m in r["money"]))
    figure = next(m for m in record["money"] if m["value"] is not None)
    record["money"] = [{**figure, "value": 12345678.5, "start": i, "end": i + 1} for i in range(5000)]
    record["money"][1]["value"] = 678800000
    _write_records(run_dir, [record])
    update_database(run_dir)
    values = chipwire.load(run_dir).money["value"].tolist()
    assert 12345678.5 in values and 678800000 in values


def test_changed_article_replaces_its_rows_and_bumps_its_version(run_dir: Path) -> None:
    update_database(run_dir)
    before = _counts(run_dir)
    records = _records(run_dir)
    seed = next(r for r in records if r["options"])
    other = next(r for r in records if r is not seed and r["entities"])
    dropped = len(seed["options"]) - 1
    seed["options"] = seed["options"][:1]  # a later pipeline finds fewer options
    seed["provenance"]["pipeline_version"] = "0.2.0"
    other["text"] += " Updated."  # the source changed its text
    _write_records(run_dir, records)
    update_database(run_dir)
    tables = chipwire.load(run_dir)
    after = _counts(run_dir)
    assert after["articles"] == before["articles"]
    assert after["options"] == before["options"] - dropped  # rows replaced, not added
    assert (tables.options["article_id"] == seed["article_id"]).sum() == 1
    versions = tables.articles.set_index("article_id")["version"]
    assert versions[seed["article_id"]] == 2 and versions[other["article_id"]] == 2
    assert (versions == 1).sum() == len(records) - 2
    run = tables.runs.sort_values("run_id").iloc[-1]
    assert (run["articles_new"], run["articles_changed"], run["articles_unchanged"]) == (0, 2, len(records) - 2)
    assert tables.articles.set_index("article_id").loc[seed["article_id"], "pipeline_version"] == "0.2.0"
    # Child rows of the changed article are those of its new record, none left over.
    assert (tables.entities["article_id"] == other["article_id"]).sum() == len(other["entities"])


def test_later_batches_accumulate(run_dir: Path, tmp_path: Path) -> None:
    update_database(run_dir)
    records = _records(run_dir)
    new = dict(records[0], article_id="0000new000000000", text=records[0]["text"] + " More.")
    _write_records(run_dir, [records[1], new])  # a later, smaller batch with one new article
    (run_dir / "errors.jsonl").write_text(json.dumps(
        {"source": {"id": "x.bin", "path": "x.bin", "url": None, "feed": None}, "stage": "ingest",
         "code": "E003_binary_input", "reason": "binary file"}) + "\n")
    update_database(run_dir)
    tables = chipwire.load(run_dir)
    assert len(tables.articles) == len(records) + 1
    assert len(tables.errors) == 1 and tables.errors.loc[0, "code"] == "E003_binary_input"
    seen = tables.articles.set_index("article_id")["last_seen_run_id"]
    assert seen[records[1]["article_id"]] == 2 and seen[records[2]["article_id"]] == 1
    # The same error reported by a third run is the same row, marked seen again.
    (run_dir / "duplicates.jsonl").write_text(json.dumps(
        {"source": {"id": "copy", "path": "copy.txt", "url": None, "feed": None},
         "duplicate_of": records[1]["article_id"], "content_hash": "h"}) + "\n")
    update_database(run_dir)
    tables = chipwire.load(run_dir)
    assert len(tables.errors) == 1 and tables.errors.loc[0, "last_run_id"] == 3
    assert len(tables.duplicates) == 1 and len(tables.runs) == 3


def test_a_failed_update_leaves_the_database_as_it_was(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    update_database(run_dir)
    before = _counts(run_dir)
    records = _records(run_dir)
    records[0]["text"] += " changed"
    _write_records(run_dir, records)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("chipwire.store.refresh_clusters", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        update_database(run_dir)
    assert _counts(run_dir) == before
    assert chipwire.load(run_dir, sync_outputs=False).articles["version"].max() == 1


def test_a_killed_update_leaves_the_database_as_it_was(run_dir: Path) -> None:
    update_database(run_dir)
    before = _counts(run_dir)
    records = _records(run_dir)
    records[0]["text"] += " changed"
    _write_records(run_dir, records)
    # The process dies (no exception handling, no rollback) after the article rows were rewritten.
    script = (
        "import os, sys; from pathlib import Path; import chipwire.store as s\n"
        "s.refresh_clusters = lambda con: os._exit(9)\n"
        "s.update_database(Path(sys.argv[1]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(run_dir)], cwd=REPO, check=False)
    assert done.returncode == 9
    assert _counts(run_dir) == before
    update_database(run_dir)  # the next update goes through
    assert chipwire.load(run_dir).runs["run_id"].tolist() == [1, 2]


def test_load_syncs_a_folder_without_database(run_dir: Path) -> None:
    assert not (run_dir / "chipwire.duckdb").exists()
    tables = chipwire.load(run_dir)
    assert isinstance(tables, Tables)
    assert set(tables.as_dict()) == set(TABLES)
    assert tables["articles"] is tables.articles and len(tables.articles) > 0
    with pytest.raises(KeyError):
        tables["nope"]


def test_load_without_any_run_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="chipwire run"):
        chipwire.load(tmp_path)


def test_other_schema_is_refused(run_dir: Path) -> None:
    con = duckdb.connect(str(run_dir / "chipwire.duckdb"))
    con.execute("CREATE TABLE articles (article_id VARCHAR)")
    con.close()
    with pytest.raises(DatabaseError, match="articles"):
        update_database(run_dir)


def test_docs_show_the_schema() -> None:
    docs = (REPO / "docs" / "REPORT.md").read_text(encoding="utf-8")
    assert schema_markdown() in docs, "docs/REPORT.md is out of date: paste chipwire.store.schema_markdown()"
