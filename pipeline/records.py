"""The record types that flow through chipwire's stages.

Every stage receives and returns these frozen dataclasses; only the writer
flattens them into JSON Lines and Parquet tables. Money values are exact
(``Decimal``) and every extracted item keeps its character offsets into the
record's normalised ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class Source:
    """Where an input item came from.

    Attributes:
        id: The item's own id: the JSONL ``id``, the feed item id, or the file path.
        path: The file the item was read from.
        url: The article's URL when known.
        feed: The feed's URL or title when the item came from a feed.
    """

    id: str
    path: str
    url: str | None = None
    feed: str | None = None


@dataclass(frozen=True)
class RawArticle:
    """One article as ingested, before normalisation.

    Attributes:
        source: Provenance of the item.
        title: Title as found, or None.
        body: Body text as found (not normalised).
        published: ISO 8601 date, partial allowed (``2023-10``), or None.
        fmt: Input format that produced it (``text``, ``jsonl``, ``html``, ``feed``).
        extra: Input keys that have no field of their own, kept verbatim.
    """

    source: Source
    title: str | None
    body: str
    published: str | None
    fmt: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorEntry:
    """An input item, or part of one, that could not become a record.

    Attributes:
        source: Where the failing item came from.
        stage: Pipeline stage that failed (``ingest``, ``normalize``, ...).
        code: A stable code from :mod:`pipeline.errors`.
        reason: A human-readable explanation.
    """

    source: Source
    stage: str
    code: str
    reason: str


@dataclass(frozen=True)
class Article:
    """A normalised article ready for language detection and NLP.

    ``text`` is the normalised title, a blank line, then the normalised body
    (just the body when there is no title); every offset refers to it.
    """

    article_id: str
    source: Source
    title: str | None
    published: str | None
    text: str
    body_start: int
    fmt: str
    content_hash: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LangGuess:
    """Result of language identification.

    Attributes:
        code: ISO 639-1 code, or ``und`` when undecidable.
        probability: The detector's probability for ``code`` (0.0 for ``und``).
        reason: Why the language is ``und``, else None.
    """

    code: str
    probability: float
    reason: str | None = None


@dataclass(frozen=True)
class Entity:
    """A named entity mention.

    Attributes:
        text: Surface form, trimmed of surrounding punctuation.
        label: One of ORG, PERSON, LOCATION, PRODUCT, EVENT, MISC.
        canonical: Canonical name (the cleaned surface form until linked).
        id: Knowledge-base id (Wikidata QID) when linked, else None.
        start: Character offset into the record's text.
        end: End offset (exclusive).
    """

    text: str
    label: str
    canonical: str
    id: str | None
    start: int
    end: int


@dataclass(frozen=True)
class Money:
    """A monetary figure.

    ``value`` is set for point amounts; ``lower``/``upper`` for ranges and
    vague amounts (``vague`` true for "hundreds of millions").
    """

    text: str
    value: Decimal | None
    lower: Decimal | None
    upper: Decimal | None
    currency: str
    approximate: bool
    qualifier: str | None
    vague: bool
    period: str | None
    per: str | None
    start: int
    end: int
    sentence: str


@dataclass(frozen=True)
class Quantity:
    """A percentage or count that is not money (``80 %``, ``10 000 GPU``)."""

    text: str
    value: Decimal
    unit: str
    start: int
    end: int


@dataclass(frozen=True)
class Evidence:
    """A quoted span of the record's text: ``quote == text[start:end]``."""

    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class Option:
    """A strategic option (build / partner / diversify / acquire)."""

    option: str
    actor: str
    counterparty: tuple[str, ...]
    status: str
    evidence: tuple[Evidence, ...]
    confidence: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Provenance:
    """Which code and models produced a record."""

    pipeline_version: str
    config_hash: str
    models: dict[str, str]
    extractors: tuple[str, ...]


@dataclass(frozen=True)
class Record:
    """The structured output for one article."""

    article_id: str
    source: Source
    title: str | None
    published: str | None
    language: str
    language_probability: float
    text: str
    entities: tuple[Entity, ...]
    money: tuple[Money, ...]
    quantities: tuple[Quantity, ...]
    options: tuple[Option, ...]
    provenance: Provenance
    extra: dict[str, Any] = field(default_factory=dict)
    language_reason: str | None = None
    entity_summary: tuple[Any, ...] = ()
    schema_version: str = SCHEMA_VERSION


@dataclass(frozen=True)
class Duplicate:
    """An input item whose normalised content equals an earlier record's."""

    source: Source
    duplicate_of: str
    content_hash: str
