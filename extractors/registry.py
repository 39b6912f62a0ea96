"""The explicit list of extractors, by versioned name.

A run's settings name the extractors to apply, in order; their names go into
every record's provenance, so a change of output must come with a new version.
"""

from __future__ import annotations

from spacy.tokens import Doc

from extractors.base import ExtractContext, Extractor
from extractors.entities import extract_entities
from extractors.money import extract_money, extract_quantities
from extractors.option_classifier import shipped_model
from extractors.options import extract_options
from pipeline.records import Money, Quantity


def _options_models() -> dict[str, str]:
    return {"options_classifier": f"sha256:{shipped_model().model_hash}"}


def _money(doc: Doc, ctx: ExtractContext) -> tuple[Money, ...]:
    return extract_money(doc, lang=ctx.lang)


def _quantities(doc: Doc, ctx: ExtractContext) -> tuple[Quantity, ...]:
    return extract_quantities(doc, lang=ctx.lang)


EXTRACTORS: dict[str, Extractor] = {
    e.name: e
    for e in (
        Extractor("entities.v1", "entities", extract_entities),
        Extractor("money.v1", "money", _money),
        Extractor("quantities.v1", "quantities", _quantities),
        # After entities: options read the article's linked entities from the context.
        Extractor("options.v1", "options", extract_options, models=_options_models),
    )
}
