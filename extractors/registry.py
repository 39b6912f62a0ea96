"""The explicit list of extractors, by versioned name.

A run's settings name the extractors to apply, in order; their names go into
every record's provenance, so a change of output must come with a new version.
"""

from __future__ import annotations

from spacy.tokens import Doc

from extractors.base import ExtractContext, Extractor
from extractors.entities import extract_entities
from extractors.money import extract_money, extract_quantities
from pipeline.records import Money, Quantity


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
    )
}
