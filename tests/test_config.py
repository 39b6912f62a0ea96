"""Configuration fails fast with the bad key named; language data files pass their integrity checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.entities import ner_data
from extractors.langdata import available_languages, load_section, merge
from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.normalize import build_normalizer


@pytest.mark.parametrize(("toml", "message"), [
    ("batch_sise = 3\n", "batch_sise"),
    ("[language]\nmin_probabilty = 0.3\n", "language.min_probabilty"),
    ("batch_size = 'many'\n", "batch_size"),
    ("extractors = ['money.v99']\n", "money.v99"),
    ("[language]\nmin_probability = 1.5\n", "min_probability"),
    ("[run]\nbatch_chars = 0\n", "batch_chars"),
], ids=["typo", "nested-typo", "wrong-type", "unknown-extractor", "out-of-range", "empty-batches"])
def test_bad_configuration_names_the_key(toml: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_overrides_apply_and_change_the_hash(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("batch_size = 4\n[language]\nmin_probability = 0.6\n[models]\nde = 'de_core_news_sm'\n")
    settings = load_settings(path)
    assert settings.batch_size == 4 and settings.language.min_probability == 0.6
    assert settings.models["de"] == "de_core_news_sm" and settings.models["fr"] == "fr_core_news_sm"
    assert settings.config_hash() != load_settings().config_hash()


def test_merge_is_recursive_and_lists_replace() -> None:
    assert merge({"a": {"x": 1, "y": 2}, "l": [1]}, {"a": {"y": 3}, "l": [2]}) == {"a": {"x": 1, "y": 3}, "l": [2]}


@pytest.mark.parametrize("lang", available_languages("ner") + ["xx"])
def test_ner_language_files_are_valid(lang: str) -> None:
    data = ner_data(lang)
    assert data.labels["PER"] == "PERSON" and data.trim_chars


@pytest.mark.parametrize("lang", available_languages("normalize"))
def test_normalize_language_files_are_valid(lang: str) -> None:
    words = load_section("normalize", lang)["sentence_openers"]
    assert words and all(isinstance(w, str) and w[:1].isupper() for w in words)
    assert build_normalizer().openers >= {w.casefold() for w in words}
