"""Normalisation: tables of real cases per language, plus the title/text layout of an article."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.normalize import Normalizer, normalize_article, strip_repeated_title
from pipeline.records import RawArticle, Source
from tests.conftest import case_id, load_cases

CASES = load_cases("normalize")


@pytest.mark.parametrize("pair", CASES, ids=[case_id(c) for c in CASES])
def test_normalize_cases(pair: tuple[str, dict[str, Any]], normalizer: Normalizer) -> None:
    _, case = pair
    assert normalizer.text(case["input"]) == case["expected"]


def test_normalisation_only_inserts_spaces(normalizer: Normalizer) -> None:
    # Glue repair must never delete or alter characters: compare with spaces removed.
    for _, case in CASES:
        if "glued" in case["id"] or "camel" in case["id"]:
            out = normalizer.text(case["input"])
            assert out.replace(" ", "") == case["input"].replace(" ", "")


def test_text_is_title_blank_line_body(normalizer: Normalizer) -> None:
    raw = RawArticle(Source("a", "a.txt"), "  L'ère   des puces ", "Le corps.Il suit", None, "text")
    article = normalize_article(raw, normalizer)
    assert article.text == "L'ère des puces\n\nLe corps. Il suit"
    assert article.text[article.body_start:] == "Le corps. Il suit"


def test_repeated_title_with_date_header_is_dropped() -> None:
    body = "date 2023-10 L'ère des puces personnalisées\n\nL'entreprise n'a pas encore décidé"
    assert strip_repeated_title(body, "L'ère des puces personnalisées") == "L'entreprise n'a pas encore décidé"
    assert strip_repeated_title("Autre chose\nsuite", "L'ère") == "Autre chose\nsuite"


def test_no_title_means_text_is_body(normalizer: Normalizer) -> None:
    article = normalize_article(RawArticle(Source("b", "b"), None, "Body only.", None, "jsonl"), normalizer)
    assert article.text == "Body only." and article.body_start == 0 and article.title is None
