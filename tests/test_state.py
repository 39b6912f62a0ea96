"""Incremental state: re-runs add nothing, changed articles become versions, outputs accumulate."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.errors import ChipwireError
from pipeline.progress import Progress, estimate_items
from pipeline.run import RunSummary, Tools, run_batch
from pipeline.state import STATE_FILE, StateStore, Validators

ARTICLES = [
    {"id": "de-1", "title": "Chipfabrik in Dresden",
     "text": "GlobalFoundries erweitert sein Werk in Dresden. Die EU genehmigt Beihilfen von 623 Millionen Euro."},
    {"id": "de-2", "title": "Intel verschiebt Magdeburg",
     "text": "Intel verschiebt den Bau der Fabrik in Magdeburg. Das Projekt sollte 30 Milliarden Euro kosten."},
    {"id": "de-3", "title": "SK Hynix liefert HBM",
     "text": "SK Hynix liefert mehr HBM-Speicher an Nvidia. Der Umsatz stieg um 40 Prozent."},
]


def _write(path: Path, rows: list[dict[str, Any]], extra_lines: tuple[str, ...] = ()) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
                    + "".join(line + "\n" for line in extra_lines), encoding="utf-8")
    return path


def _lines(out: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (out / name).read_text(encoding="utf-8").splitlines()]


def _reconciles(summary: RunSummary) -> None:
    assert summary.inputs == summary.records + summary.duplicates + summary.errors
    assert summary.inputs == summary.new + summary.updated + summary.unchanged


def test_rerun_adds_nothing_and_keeps_outputs_identical(tmp_path: Path, settings: Settings, tools: Tools) -> None:
    batch = _write(tmp_path / "batch.jsonl", [*ARTICLES, ARTICLES[0] | {"id": "copy"}], ("{broken",))
    out = tmp_path / "out"
    first = run_batch([batch], out, settings, tools=tools)
    files = {name: (out / name).read_bytes() for name in ("records.jsonl", "errors.jsonl", "duplicates.jsonl")}
    second = run_batch([batch], out, settings, tools=tools)
    _reconciles(first)
    _reconciles(second)
    assert (first.records, first.duplicates, first.errors, first.new) == (3, 1, 1, 5)
    assert (second.records, second.duplicates, second.errors) == (3, 1, 1)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 5)
    assert second.seconds.get("nlp", 0.0) == 0.0  # nothing was parsed again
    assert {name: (out / name).read_bytes() for name in files} == files
    written = json.loads((out / "summary.json").read_text())
    assert written["unchanged"] == 5 and written["totals"] == {"duplicate": 1, "error": 1, "record": 3}


def test_changed_article_becomes_a_new_version(tmp_path: Path, settings: Settings, tools: Tools) -> None:
    out = tmp_path / "out"
    run_batch([_write(tmp_path / "a.jsonl", ARTICLES)], out, settings, tools=tools)
    changed = [ARTICLES[0], ARTICLES[1] | {"text": ARTICLES[1]["text"] + " Der Baustart ist offen."}, ARTICLES[2]]
    summary = run_batch([_write(tmp_path / "a.jsonl", changed)], out, settings, tools=tools)
    assert (summary.new, summary.updated, summary.unchanged) == (0, 1, 2)
    records = _lines(out, "records.jsonl")
    assert [r["source"]["id"] for r in records] == ["de-1", "de-3", "de-2"]  # the new version is the latest
    assert records[2]["text"].endswith("Der Baustart ist offen.")
    with sqlite3.connect(out / STATE_FILE) as conn:
        versions = conn.execute("SELECT version, current FROM items WHERE item_key = 'de-2' ORDER BY version").fetchall()
    assert versions == [(1, 0), (2, 1)]


def test_outputs_accumulate_across_batches(tmp_path: Path, settings: Settings, tools: Tools) -> None:
    out = tmp_path / "out"
    run_batch([_write(tmp_path / "monday.jsonl", ARTICLES[:2])], out, settings, tools=tools)
    summary = run_batch([_write(tmp_path / "tuesday.jsonl", ARTICLES[2:])], out, settings, tools=tools)
    assert (summary.inputs, summary.new) == (1, 1)
    assert [r["source"]["id"] for r in _lines(out, "records.jsonl")] == ["de-1", "de-2", "de-3"]
    assert pq.read_table(out / "parquet" / "articles.parquet").num_rows == 3
    assert summary.totals == {"record": 3}


def test_a_pipeline_upgrade_reprocesses(tmp_path: Path, settings: Settings, tools: Tools,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    batch = _write(tmp_path / "a.jsonl", ARTICLES)
    run_batch([batch], out, settings, tools=tools)
    monkeypatch.setattr("pipeline.run.__version__", "99.0.0")
    summary = run_batch([batch], out, settings, tools=tools)
    assert (summary.updated, summary.unchanged) == (3, 0)
    assert len(_lines(out, "records.jsonl")) == 3


def test_one_run_at_a_time_per_folder(tmp_path: Path) -> None:
    with StateStore.open(tmp_path, "k"), pytest.raises(ChipwireError, match="another chipwire run"):
        StateStore.open(tmp_path, "k")
    StateStore.open(tmp_path, "k").close()  # released


def test_not_a_state_database_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ChipwireError, match="not a chipwire state database"):
        StateStore.open(tmp_path, "k")


def test_state_of_an_earlier_chipwire_gains_the_validators_key(tmp_path: Path) -> None:
    # A state file written before validators carried the pipeline's key: it opens, and its old
    # validators are not used (each feed is fetched in full once more).
    conn = sqlite3.connect(tmp_path / STATE_FILE)
    conn.executescript("CREATE TABLE http_cache (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, "
                       "fetched_at REAL NOT NULL); INSERT INTO http_cache VALUES ('http://x/feed', '\"v1\"', NULL, 0);")
    conn.commit()
    conn.close()
    with StateStore.open(tmp_path, "p1") as state:
        assert state.validators("http://x/feed") is None
        state.save_validators({"http://x/feed": Validators('"v2"', None)})
        assert state.validators("http://x/feed") == Validators('"v2"', None)
    with StateStore.open(tmp_path, "p2") as state:
        assert state.validators("http://x/feed") is None


def test_progress_is_silent_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress(enabled=True) as progress:
        progress.set_total(10)
        progress.advance(10)
    assert capsys.readouterr().err == ""


def test_progress_shows_rate_and_eta_on_a_terminal(tmp_path: Path) -> None:
    class Tty:
        def __init__(self) -> None:
            self.text = ""

        def isatty(self) -> bool:
            return True

        def write(self, s: str) -> int:
            self.text += s
            return len(s)

        def flush(self) -> None:
            pass

    stream = Tty()
    with Progress(enabled=True, stream=stream) as progress:  # type: ignore[arg-type]
        progress.set_total(4)
        progress.advance(4)
    assert "4/4" in stream.text and "articles" in stream.text
    _write(tmp_path / "a.jsonl", ARTICLES)
    assert estimate_items([tmp_path]) == 3 and estimate_items(["https://example.org/feed"]) is None
