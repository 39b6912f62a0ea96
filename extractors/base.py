"""What every extractor receives and how it is registered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spacy.tokens import Doc

from pipeline.config import EntitySettings

# The record fields an extractor may fill.
FIELDS = ("entities", "money", "quantities", "options")
_TEXT_KEY = "chipwire.text"


def remember_text(doc: Doc, text: str) -> None:
    """Record that ``doc`` was made from ``text`` (spaCy keeps the text exactly), so that
    :func:`doc_text` need not rebuild it from the tokens."""
    doc.user_data[_TEXT_KEY] = text


def doc_text(doc: Doc) -> str:
    """``doc.text``, built once per document and kept in ``doc.user_data``.

    spaCy rebuilds ``doc.text`` from every token on each access (about 1 µs a token); the
    extractors read it many times per article, so the first build is kept with the ``Doc``.
    """
    text = doc.user_data.get(_TEXT_KEY)
    if text is None:
        text = doc.user_data[_TEXT_KEY] = doc.text
    return str(text)


@dataclass(frozen=True)
class ExtractContext:
    """What an extractor may know besides the ``Doc``.

    Attributes:
        lang: ISO 639-1 code of the article (``und`` when unknown).
        title: The normalised title, or None.
        published: ISO 8601 publication date (partial allowed), or None.
        body_start: Offset of the body in ``doc.text`` (0 when there is no title).
        found: Items already extracted by earlier extractors, by record field.
        entity_settings: Entity linking settings of the run.
    """

    lang: str
    title: str | None = None
    published: str | None = None
    body_start: int = 0
    found: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    entity_settings: EntitySettings = field(default_factory=EntitySettings)


ExtractFn = Callable[[Doc, ExtractContext], tuple[Any, ...]]


@dataclass(frozen=True)
class Extractor:
    """A registered extractor.

    Attributes:
        name: Versioned name (``money.v1``), recorded in provenance; bump it when output changes.
        field: The record field it fills (one of ``FIELDS``).
        func: The pure function ``(doc, context) -> tuple of items``.
        models: Returns ``{name: version or hash}`` of the learned models it uses, for provenance.
    """

    name: str
    field: str
    func: ExtractFn
    models: Callable[[], dict[str, str]] | None = None

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise ValueError(f"extractor {self.name}: unknown field {self.field!r}; expected one of {FIELDS}")
