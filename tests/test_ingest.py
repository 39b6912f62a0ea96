"""Ingest: every format of the issue, and every bad input becoming one coded error entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import LimitSettings
from pipeline.ingest import iter_items, read_file, split_header
from pipeline.records import ErrorEntry, RawArticle
from tests.conftest import CASES, REPO

SAMPLE = REPO / "corpus" / "sample"
BAD = yaml.safe_load((CASES / "ingest" / "bad_inputs.yaml").read_text(encoding="utf-8"))["cases"]
LIMITS = LimitSettings()


def _write(tmp_path: Path, case: dict[str, Any]) -> Path:
    path = tmp_path / case["filename"]
    path.write_bytes(bytes.fromhex(case["hex"]) if "hex" in case else case["content"].encode("utf-8"))
    return path


@pytest.mark.parametrize("case", BAD, ids=[c["id"] for c in BAD])
def test_bad_input_becomes_one_error_entry(case: dict[str, Any], tmp_path: Path) -> None:
    items = list(read_file(_write(tmp_path, case), LIMITS))
    assert len(items) == 1
    assert isinstance(items[0], ErrorEntry)
    assert items[0].code == case["code"]
    assert items[0].stage == "ingest" and items[0].reason


def test_missing_input_is_an_error_entry(tmp_path: Path) -> None:
    items = list(iter_items([tmp_path / "nope.jsonl"], LIMITS))
    assert [i.code for i in items if isinstance(i, ErrorEntry)] == ["E001_input_not_found"]


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 2000)
    items = list(read_file(path, LimitSettings(max_file_bytes=1000)))
    assert isinstance(items[0], ErrorEntry) and items[0].code == "E011_too_large"


def test_seed_text_format() -> None:
    [article] = list(read_file(SAMPLE / "openai-custom-chips-2023-10.fr.txt", LIMITS))
    assert isinstance(article, RawArticle)
    assert article.title == "L'ère des puces personnalisées"
    assert article.published == "2023-10"
    assert article.body.lstrip().startswith("L'entreprise n'a pas encore décidé")


@pytest.mark.parametrize(("line", "expected"), [
    (" date 2023-10 L'ère des puces", ("L'ère des puces", "2023-10")),
    ("date 2024-02-29 Title here", ("Title here", "2024-02-29")),
    ("date 2023-13 Bad month", (None, None)),
    ("dated text without header", (None, None)),
], ids=["seed", "full-date", "invalid-month", "no-header"])
def test_split_header(line: str, expected: tuple[str | None, str | None]) -> None:
    title, published, _ = split_header(line + "\nbody")
    assert (title, published) == expected


def test_jsonl_contract_and_extra_keys() -> None:
    items = list(read_file(SAMPLE / "articles.jsonl", LIMITS))
    assert all(isinstance(i, RawArticle) for i in items)
    first = items[0]
    assert isinstance(first, RawArticle)
    row = json.loads((SAMPLE / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first.source.id == row["id"] and first.title == row["title"] and first.body == row["text"]
    assert first.extra["license"] == row["license"] and "text" not in first.extra


def test_jsonl_bad_line_does_not_lose_the_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = {"id": "g1", "title": "Nvidia", "text": "Nvidia sells chips.", "published": "2024-01-02"}
    path.write_text(json.dumps(good) + "\n{not json\n" + json.dumps({**good, "id": "g2"}) + "\n")
    items = list(read_file(path, LIMITS))
    assert [type(i).__name__ for i in items] == ["RawArticle", "ErrorEntry", "RawArticle"]
    assert isinstance(items[1], ErrorEntry) and "line 2" in items[1].reason


def test_invalid_published_date_is_kept_raw(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": "d", "text": "Some text.", "published": "yesterday-ish"}) + "\n")
    [item] = list(read_file(path, LIMITS))
    assert isinstance(item, RawArticle)
    assert item.published is None and item.extra["published_raw"] == "yesterday-ish"


def test_html_page_main_text_title_date() -> None:
    [page] = list(read_file(SAMPLE / "tomshardware.com.rtx.html", LIMITS))
    assert isinstance(page, RawArticle)
    assert page.title and "RTX 3080" in page.title
    assert page.published == "2020-11-04"
    assert "Nvidia" in page.body and "<div" not in page.body


def test_atom_feed_items() -> None:
    items = list(read_file(SAMPLE / "heise.atom", LIMITS))
    assert len(items) == 15 and all(isinstance(i, RawArticle) for i in items)
    first = items[0]
    assert isinstance(first, RawArticle)
    assert first.source.url and first.source.feed and first.published and first.title
    assert "<p>" not in first.body


def test_latin1_feed_without_declaration(tmp_path: Path) -> None:
    xml = ("<rss version='2.0'><channel><title>Notícias</title><item><title>Ação</title>"
           "<description>Informação sobre eleições e economia.</description></item></channel></rss>")
    path = tmp_path / "latin1.rss"
    path.write_bytes(xml.encode("latin-1"))
    [item] = list(read_file(path, LIMITS))
    assert isinstance(item, RawArticle) and item.title == "Ação"


def test_folder_skips_hidden_and_licence_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("about this folder")
    (tmp_path / ".hidden.txt").write_text("hidden")
    (tmp_path / "a.txt").write_text("Nvidia reported record revenue.")
    items = list(iter_items([tmp_path], LIMITS))
    assert [i.source.path for i in items] == [str(tmp_path / "a.txt")]
