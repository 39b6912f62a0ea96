"""Near-duplicates: syndicated variants share a story, other stories do not; exact copies stay duplicates."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from datasketch import MinHash, MinHashLSH

from pipeline.config import DedupSettings, Settings
from pipeline.dedup import Banding, Candidate, MemoryBands, StoryIndex, shingles, signature
from pipeline.run import Tools, run_batch
from pipeline.state import STATE_FILE
from tests.conftest import CASES

DATA = yaml.safe_load((CASES / "dedup" / "variants.yaml").read_text(encoding="utf-8"))
SETTINGS = DedupSettings()


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["id"] for c in DATA["cases"]])
def test_variants_cluster_by_story(case: dict[str, Any]) -> None:
    index = StoryIndex(SETTINGS)
    assert index.assign("a", signature(case["a"], SETTINGS)).story_id == "a"
    match = index.assign("b", signature(case["b"], SETTINGS))
    assert (match.story_id == "a") is case["same_story"], match


def test_shingles_split_chinese_per_character() -> None:
    assert shingles("台积电 N5A", 2) == {"台 积".encode(), "积 电".encode(), "电 n5a".encode()}
    assert shingles("", 3) == set()


def test_the_most_similar_earlier_story_wins_whatever_the_order() -> None:
    base = DATA["base"]
    index = StoryIndex(SETTINGS)
    index.assign("first", signature("Completely different text about memory prices in Korea and DRAM.", SETTINGS))
    index.assign("orig", signature(base, SETTINGS))
    match = index.assign("copy", signature(base + " Reuter", SETTINGS))
    assert match.story_id == "orig" and match.similar_to == "orig" and match.similarity > 0.9


def test_disabled_near_duplicates_give_own_stories() -> None:
    index = StoryIndex(DedupSettings(near_duplicates=False))
    sig = signature(DATA["base"], SETTINGS)
    assert index.assign("a", sig).story_id == "a" and index.assign("b", sig).story_id == "b"


def test_run_keeps_near_duplicates_as_records_in_one_story(tmp_path: Path, settings: Settings, tools: Tools) -> None:
    case = DATA["cases"][0]
    rows = [{"id": "orig", "title": "BALDRIGE OPPOSES FUJITSU PURCHASE", "text": case["a"]},
            {"id": "reissue", "title": "BALDRIGE OPPOSES FUJITSU PURCHASE", "text": case["b"]},
            {"id": "exact", "title": "BALDRIGE OPPOSES FUJITSU PURCHASE", "text": case["a"]},
            {"id": "other", "title": "NATIONAL SEMI, CANON PACT", "text": DATA["cases"][4]["b"]}]
    batch = tmp_path / "wire.jsonl"
    batch.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    summary = run_batch([batch], out, settings, tools=tools)
    assert (summary.records, summary.duplicates, summary.near_duplicates) == (3, 1, 1)
    records = {r["source"]["id"]: r for r in map(json.loads, (out / "records.jsonl").read_text().splitlines())}
    assert records["reissue"]["story_id"] == records["orig"]["story_id"] == records["orig"]["article_id"]
    assert records["other"]["story_id"] == records["other"]["article_id"]
    [dup] = map(json.loads, (out / "duplicates.jsonl").read_text().splitlines())
    assert dup["story_id"] == records["orig"]["story_id"]
    stories = pq.read_table(out / "parquet" / "stories.parquet").to_pylist()
    assert sorted((s["source_id"], s["kind"]) for s in stories if s["story_id"] == records["orig"]["story_id"]) == [
        ("exact", "duplicate"), ("orig", "record"), ("reissue", "record")]
    # A later run's syndicated copy joins the story stored by the first run.
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({"id": "late", "title": "FUJITSU DEAL", "text": case["a"] + " Reuter"}) + "\n")
    run_batch([later], out, settings, tools=tools)
    records = {r["source"]["id"]: r for r in map(json.loads, (out / "records.jsonl").read_text().splitlines())}
    assert records["late"]["story_id"] == records["orig"]["story_id"]


def test_banding_finds_what_datasketch_lsh_finds() -> None:
    # The index keeps datasketch's bands and rows; its candidates must be MinHashLSH's.
    texts = [DATA["base"], *(c[k] for c in DATA["cases"] for k in ("a", "b"))]
    sigs = [signature(t, SETTINGS) for t in texts]
    banding = Banding.for_settings(SETTINGS)
    lsh = MinHashLSH(threshold=SETTINGS.threshold, num_perm=SETTINGS.num_perm)
    bands = MemoryBands()
    for i, sig in enumerate(sigs):
        minhash = MinHash(num_perm=SETTINGS.num_perm, seed=1, hashvalues=np.frombuffer(sig, dtype=np.uint64),
                          scheme="affine32")
        expected = set(lsh.query(minhash))
        assert {c.article_id for c in bands.candidates(banding.keys(sig))} == expected
        lsh.insert(str(i), minhash)
        bands.add(Candidate(str(i), str(i), i, sig), banding.keys(sig))


def test_state_without_band_keys_is_indexed_again(tmp_path: Path, settings: Settings, tools: Tools) -> None:
    # A state written before band keys were stored, or with another banding: the keys are rebuilt
    # from the stored signatures, and a later copy still joins the first run's story.
    case = DATA["cases"][0]
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps({"id": "orig", "text": case["a"]}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    run_batch([first], out, settings, tools=tools)
    conn = sqlite3.connect(out / STATE_FILE)
    conn.execute("DELETE FROM lsh_bands")
    conn.execute("DELETE FROM meta WHERE key = 'lsh_layout'")
    conn.commit()
    conn.close()
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({"id": "late", "text": case["a"] + " Reuter"}) + "\n", encoding="utf-8")
    run_batch([later], out, settings, tools=tools)
    records = {r["source"]["id"]: r for r in map(json.loads, (out / "records.jsonl").read_text().splitlines())}
    assert records["late"]["story_id"] == records["orig"]["article_id"]
    conn = sqlite3.connect(out / STATE_FILE)
    assert conn.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == 2 * Banding.for_settings(settings.dedup).bands
    conn.close()


def test_committed_records_leave_memory() -> None:
    # With a store, the index holds only the chunk being committed: memory does not grow with the run.
    sig = signature(DATA["base"], SETTINGS)
    uncommitted = StoryIndex(SETTINGS, store=MemoryBands())
    uncommitted.assign("a", sig)
    assert uncommitted.assign("b", sig).story_id == "a"  # found in memory before the commit
    forgotten = StoryIndex(SETTINGS, store=MemoryBands())
    forgotten.assign("a", sig)
    forgotten.committed()  # a store that was not given "a": once committed, memory no longer has it
    assert forgotten.assign("b", sig).story_id == "b"
    bands = MemoryBands()
    index = StoryIndex(SETTINGS, store=bands)
    index.assign("a", sig)
    bands.add(Candidate("a", "a", 1, sig), index.keys(sig))  # what the state's commit does
    index.committed()
    assert index.assign("b", sig).story_id == "a"
