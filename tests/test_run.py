"""End to end: the sample corpus against the golden file, the seed's promises, bad batches, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.run import RunSummary, Tools, _batches, run_batch
from pipeline.write import SCHEMAS
from tests.conftest import REPO
from tests.golden.regenerate import GOLDEN, golden_projection

SAMPLE = REPO / "corpus" / "sample"
RECORD_KEYS = {"schema_version", "article_id", "source", "title", "published", "language",
               "language_probability", "text", "entities", "money", "options", "provenance"}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory, settings: Settings, tools: Tools
               ) -> tuple[Path, RunSummary]:
    out = tmp_path_factory.mktemp("sample-out")
    return out, run_batch([SAMPLE], out, settings, tools=tools)


def _records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]


def test_sample_matches_golden(sample_run: tuple[Path, RunSummary]) -> None:
    out, _ = sample_run
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden_projection(out) == expected, "output changed: run `make golden` and review the diff"


def test_every_record_has_every_field(sample_run: tuple[Path, RunSummary]) -> None:
    out, summary = sample_run
    records = _records(out)
    assert len(records) == summary.records > 0
    for rec in records:
        assert RECORD_KEYS <= rec.keys()
        assert set(rec["source"]) == {"id", "path", "url", "feed"}
        assert rec["provenance"]["models"]["nlp"] and rec["provenance"]["extractors"]
        for ent in rec["entities"]:
            assert set(ent) == {"text", "label", "canonical", "id", "start", "end"}
            assert rec["text"][ent["start"]:ent["end"]] == ent["text"]
        if rec["title"]:
            assert rec["text"].startswith(rec["title"] + "\n\n")


def test_summary_reconciles(sample_run: tuple[Path, RunSummary]) -> None:
    out, summary = sample_run
    written = json.loads((out / "summary.json").read_text())
    assert written["inputs"] == written["records"] + written["duplicates"] + written["errors"]
    assert written["records"] == summary.records and len(summary.languages) >= 3


def test_parquet_tables_have_their_schema(sample_run: tuple[Path, RunSummary]) -> None:
    out, summary = sample_run
    for name, schema in SCHEMAS.items():
        table = pq.read_table(out / "parquet" / f"{name}.parquet")
        assert table.schema.equals(schema, check_metadata=False), name
    assert pq.read_table(out / "parquet" / "articles.parquet").num_rows == summary.records


def test_seed_record(sample_run: tuple[Path, RunSummary]) -> None:
    out, _ = sample_run
    [seed] = [r for r in _records(out) if r["source"]["id"].endswith("openai-custom-chips-2023-10.fr.txt")]
    assert seed["language"] == "fr"
    assert seed["title"] == "L'ère des puces personnalisées"
    assert seed["published"] == "2023-10"
    names = {e["text"] for e in seed["entities"]}
    assert {"OpenAI", "NVIDIA", "Microsoft", "Sam Altman", "Stacy Rasgon"} <= names
    for ent in seed["entities"]:
        # Nothing glued: no entity spans a repaired boundary ("NVIDIA. Le", "ChatGPT Quel").
        assert ". " not in ent["text"] and "\n" not in ent["text"]
        assert not any(glue in ent["text"] for glue in ("NVIDIA.Le", "ChatGPTQuel", "sujet.Ces"))
    money = [(m["value"], m["lower"], m["upper"], m["currency"], m["approximate"], m["period"], m["per"])
             for m in seed["money"]]
    assert money == [
        (0.04, None, None, "USD", True, None, "query"),
        (48_100_000_000, None, None, "USD", True, None, None),
        (16_000_000_000, None, None, "USD", True, "year", None),
        (None, 100_000_000, 1_000_000_000, "USD", True, "year", None),
    ]
    assert [(q["value"], q["unit"]) for q in seed["quantities"]] == [(80, "percent"), (10000, "GPU")]
    options = {(o["actor"]["canonical"], o["option"], o["status"]) for o in seed["options"]}
    assert {("OpenAI", option, "considered") for option in ("build", "partner", "diversify", "acquire")} <= options
    assert ("Amazon", "acquire", "completed") in options


def test_bad_items_never_stop_the_batch(tmp_path: Path, settings: Settings, tools: Tools) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    good = {"id": "ok-1", "title": "Nvidia", "text": "Nvidia reported record data-center revenue this quarter."}
    lines = [json.dumps(good), "{broken", json.dumps({"id": "copy", "title": "Nvidia", "text": good["text"]}),
             json.dumps({"id": "ja", "text": "半導体メーカーのエヌビディアは、データセンター向けの売上高が過去最高になったと発表しました。"}),
             json.dumps({"id": "digits", "text": "2023 2024 48,1 16 10 000"})]
    (inp / "batch.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (inp / "empty.txt").write_bytes(b"")
    (inp / "binary.dat").write_bytes(bytes(range(256)))
    out = tmp_path / "out"
    summary = run_batch([inp], out, settings, tools=tools)
    assert (summary.records, summary.duplicates, summary.errors) == (3, 1, 3)
    records = {r["source"]["id"]: r for r in _records(out)}
    assert records["ja"]["language"] == "ja"  # no Japanese tokenizer here: the blank fallback still runs
    assert records["digits"]["language"] == "und" and records["digits"]["language_reason"]
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert sorted(e["code"] for e in errors) == ["E002_empty_input", "E003_binary_input", "E005_malformed_json"]
    dups = [json.loads(x) for x in (out / "duplicates.jsonl").read_text().splitlines()]
    assert dups[0]["source"]["id"] == "copy" and dups[0]["duplicate_of"] == records["ok-1"]["article_id"]


def test_cli_exit_codes(tmp_path: Path) -> None:
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text("no_such_setting = 1\n")
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "o"), "--config", str(bad_config)]) == 2
    (tmp_path / "empty.txt").write_text("")
    args = ["run", str(tmp_path / "empty.txt"), "--out", str(tmp_path / "o"), "--quiet"]
    assert main(args) == 0
    assert main([*args, "--fail-on-error"]) == 3


@pytest.mark.parametrize(("lengths", "max_items", "max_chars", "expected"), [
    ([10, 10, 10, 10], 2, 100, [[10, 10], [10, 10]]),          # count limit
    ([30, 30, 30, 30], 16, 70, [[30, 30], [30, 30]]),          # character limit
    ([5, 500, 5, 5], 16, 100, [[5], [500], [5, 5]]),           # a long text parses alone
    ([100, 100], 16, 100, [[100], [100]]),                     # exactly at the limit
])
def test_parse_batches_bound_items_and_characters(lengths: list[int], max_items: int, max_chars: int,
                                                  expected: list[list[int]]) -> None:
    texts = ["x" * n for n in lengths]
    batches = list(_batches(texts, max_items, max_chars))
    assert [[len(t) for t in b] for b in batches] == expected
    assert [t for b in batches for t in b] == texts  # order and content kept
