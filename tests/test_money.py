"""Money and quantity extraction: per-language case tables, data integrity, and the seed article."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import yaml
from spacy.language import Language

from extractors.langdata import LANG_DIR, LangDataError, load_section
from extractors.money import (
    check_language_data,
    extract_money,
    extract_quantities,
    money_languages,
    validate_data,
)
from pipeline.nlp import ModelPool
from pipeline.normalize import Normalizer
from pipeline.records import Money
from tests.conftest import REPO, case_id, load_cases

CASES = load_cases("money")
# Every language the money data covers must have a table, with at least this many cases.
MIN_CASES = {"en": 40, "fr": 40, "de": 15, "es": 15, "it": 15, "pt": 15, "nl": 15, "zh": 15}
_DEFAULTS = {"value": None, "lower": None, "upper": None, "approximate": False, "qualifier": None,
             "vague": False, "period": None, "per": None}


def _as_expected(money: Money) -> dict[str, Any]:
    return {
        "text": money.text, "value": money.value, "lower": money.lower, "upper": money.upper,
        "currency": money.currency, "approximate": money.approximate, "qualifier": money.qualifier,
        "vague": money.vague, "period": money.period, "per": money.per,
    }


def _normalise_expected(entry: dict[str, Any]) -> dict[str, Any]:
    out = {**_DEFAULTS, **entry}
    for key in ("value", "lower", "upper"):
        if out[key] is not None:
            out[key] = Decimal(str(out[key]))
    return out


@pytest.mark.parametrize("lang_case", CASES, ids=[case_id(c) for c in CASES])
def test_money_cases(lang_case: tuple[str, dict[str, Any]], blank: Callable[[str], Language]) -> None:
    lang, case = lang_case
    doc = blank(lang)(case["text"])
    found = extract_money(doc, lang=lang)
    assert [_as_expected(m) for m in found] == [_normalise_expected(e) for e in case["money"]]
    for money in found:
        assert doc.text[money.start:money.end] == money.text
        assert money.text in money.sentence
    if "quantities" in case:
        quantities = extract_quantities(doc, lang=lang)
        got = [{"text": q.text, "value": q.value, "unit": q.unit} for q in quantities]
        want = [{**q, "value": Decimal(str(q["value"]))} for q in case["quantities"]]
        assert got == want
        assert all(doc.text[q.start:q.end] == q.text for q in quantities)


@pytest.mark.parametrize("lang", sorted(MIN_CASES))
def test_every_language_has_a_table(lang: str) -> None:
    path = REPO / "tests" / "cases" / "money" / f"{lang}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#"), "each table starts with its licence/source note"
    cases = yaml.safe_load(text)["cases"]
    assert len(cases) >= MIN_CASES[lang]
    assert any(not c["money"] for c in cases), "negatives included"
    assert all(c.get("source") for c in cases)


@pytest.mark.parametrize("lang", [*money_languages(), "xx"])
def test_language_data_integrity(lang: str) -> None:
    """Every data file (and the base alone, for an unknown code) validates and compiles."""
    check_language_data(lang)


def test_base_yaml_exists_and_every_file_is_covered() -> None:
    folder = LANG_DIR / "money"
    assert (folder / "base.yaml").is_file()
    assert set(money_languages()) >= set(MIN_CASES)


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("currencies_after", {"dollars": "usd"}),
        ("magnitudes", {"bn": "lots"}),
        ("qualifiers", {"roughly": ["about"]}),
        ("periods", {"fortnight": ["fortnight"]}),
        ("vague", {"hundreds of": [1000, 100]}),
        ("connectors", ["of", True]),
        ("nonsense", 1),
    ],
)
def test_validation_names_the_bad_key(key: str, bad: Any) -> None:
    data = {**load_section("money", "en"), key: bad}
    with pytest.raises(LangDataError, match=repr(key)):
        validate_data(data, "en")


def test_unknown_language_uses_base_only(blank: Callable[[str], Language]) -> None:
    doc = blank("xx")("Revenue was €9.2bn, up 12%.")
    assert [(m.value, m.currency) for m in extract_money(doc, lang="xx")] == [(Decimal(9200000000), "EUR")]


# ----------------------------------------------------------------------------- the seed article

SEED = REPO / "corpus" / "sample" / "openai-custom-chips-2023-10.fr.txt"


@pytest.fixture(scope="session")
def seed_doc(normalizer: Normalizer, models: ModelPool) -> Any:
    """The seed article as the pipeline sees it: normalised (glue repaired), parsed by the fr model."""
    return models.get("fr")(normalizer.text(SEED.read_text(encoding="utf-8")))


def test_seed_article_has_exactly_four_figures(seed_doc: Any) -> None:
    money = extract_money(seed_doc, lang="fr")
    got = [(m.value, m.lower, m.upper, m.currency, m.approximate, m.vague, m.period, m.per) for m in money]
    assert got == [
        (Decimal("0.04"), None, None, "USD", True, False, None, "query"),
        (Decimal(48100000000), None, None, "USD", True, False, None, None),
        (Decimal(16000000000), None, None, "USD", True, False, "year", None),
        (None, Decimal(100000000), Decimal(1000000000), "USD", True, True, "year", None),
    ]
    for m in money:
        assert seed_doc.text[m.start:m.end] == m.text
        assert m.text in m.sentence and len(m.sentence) < 300


def test_seed_article_quantities(seed_doc: Any) -> None:
    quantities = extract_quantities(seed_doc, lang="fr")
    assert [(q.value, q.unit) for q in quantities] == [(Decimal(80), "percent"), (Decimal(10000), "GPU")]


def test_offsets_hold_in_a_longer_text(blank: Callable[[str], Language]) -> None:
    text = "Intel a annoncé 30 milliards d'euros.\n\nLe titre vaut 25,10 € ; la perte atteint -1,2 milliard d'euros."
    doc = blank("fr")(text)
    money = extract_money(doc, lang="fr")
    assert [m.value for m in money] == [Decimal(30000000000), Decimal("25.1"), Decimal(-1200000000)]
    for m in money:
        assert doc.text[m.start:m.end] == m.text
        assert m.sentence == doc.text[m.start - m.sentence.index(m.text):][: len(m.sentence)]
