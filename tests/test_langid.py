"""Language identification: real excerpts per language, undecidable texts, determinism."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.config import LanguageSettings
from pipeline.langid import LanguageDetector
from tests.conftest import case_id, load_cases

CASES = load_cases("langid")


@pytest.mark.parametrize("pair", CASES, ids=[case_id(c) for c in CASES])
def test_langid_cases(pair: tuple[str, dict[str, Any]], detector: LanguageDetector) -> None:
    _, case = pair
    guess = detector.detect(case["text"])
    assert guess.code == case["expected"]
    if case["expected"] == "und":
        assert guess.reason and case["reason_contains"] in guess.reason
    else:
        assert guess.reason is None and 0.5 <= guess.probability <= 1.0


def test_detection_is_deterministic(detector: LanguageDetector) -> None:
    # A short, mixed text is where langdetect's random sampling would otherwise flip.
    text = "Nvidia H100 GPU prix du marché en hausse, market share grows"
    assert len({detector.detect(text) for _ in range(5)}) == 1


def test_codes_are_iso_639_1(detector: LanguageDetector) -> None:
    guess = detector.detect("台积电明年将推出N5A制程，加码汽车领域，现已拿下苹果的大单。")
    assert guess.code == "zh"


def _fr_and_en_texts() -> tuple[str, str]:
    by_lang = {case["expected"]: case["text"] for _, case in CASES if case["expected"] in {"fr", "en"}}
    return by_lang["fr"], by_lang["en"]


def test_doubtful_lead_is_decided_on_the_longer_text() -> None:
    # A lead of product names alone is no language (langdetect: en 0.57, af 0.43).
    french, _ = _fr_and_en_texts()
    lead = "Snapdragon X Elite, Apple M3 Max, MediaTek Dimensity 9300 ---\n\n"
    detector = LanguageDetector.create(LanguageSettings(sample_chars=len(lead)))
    assert detector.detect(lead + french).code == "fr"


def test_confident_lead_decides_alone() -> None:
    # The detector stops at a lead it is sure of; only sample_chars of the text are examined.
    french, english = _fr_and_en_texts()
    detector = LanguageDetector.create(LanguageSettings(sample_chars=len(english)))
    assert detector.detect(english + "\n\n" + french * 3).code == "en"
