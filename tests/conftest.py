"""Session fixtures: every spaCy pipeline and detector is loaded once per test session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import spacy
import yaml
from spacy.language import Language

from extractors.registry import EXTRACTORS
from pipeline.config import Settings, load_settings
from pipeline.langid import LanguageDetector
from pipeline.nlp import ModelPool
from pipeline.normalize import Normalizer, build_normalizer
from pipeline.run import Tools

TESTS = Path(__file__).parent
CASES = TESTS / "cases"
REPO = TESTS.parent


def load_cases(extractor: str) -> list[tuple[str, dict[str, Any]]]:
    """All cases of ``tests/cases/<extractor>/<lang>.yaml`` as (lang, case) pairs."""
    out = []
    for path in sorted((CASES / extractor).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            out.append((path.stem, case))
    return out


def case_id(pair: tuple[str, dict[str, Any]]) -> str:
    """Readable test id: language and the case's own id."""
    lang, case = pair
    return f"{lang}-{case['id']}"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def normalizer() -> Normalizer:
    return build_normalizer()


@pytest.fixture(scope="session")
def detector(settings: Settings) -> LanguageDetector:
    return LanguageDetector.create(settings.language)


@pytest.fixture(scope="session")
def models(settings: Settings) -> ModelPool:
    """The run's model pool: statistical pipelines for en/fr, loaded once for the session."""
    return ModelPool(settings)


@pytest.fixture(scope="session")
def tools(settings: Settings, normalizer: Normalizer, detector: LanguageDetector, models: ModelPool) -> Tools:
    """The runner's tools built from the session's models, so no test reloads a pipeline."""
    return Tools(settings, normalizer, detector, models, tuple(EXTRACTORS[n] for n in settings.extractors))


@pytest.fixture(scope="session")
def blank() -> Callable[[str], Language]:
    """``blank(lang)``: a cached ``spacy.blank(lang)`` with a sentencizer, for tokenizer-only tests."""
    cache: dict[str, Language] = {}

    def get(lang: str) -> Language:
        if lang not in cache:
            nlp = spacy.blank(lang)
            nlp.add_pipe("sentencizer")
            cache[lang] = nlp
        return cache[lang]

    return get
