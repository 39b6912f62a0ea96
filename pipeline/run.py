"""The batch runner: the stages called top to bottom, one outcome per input item.

ingest → normalise → deduplicate → detect language → spaCy (batched per
language) → extractors → record. Every input item ends as exactly one of a
:class:`Record`, a :class:`Duplicate` or an :class:`ErrorEntry`; only this
module catches broadly, so one bad item never stops a batch.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from extractors.base import ExtractContext, Extractor
from extractors.kb import load_kb
from extractors.linking import summarize_entities
from extractors.registry import EXTRACTORS
from pipeline import __version__
from pipeline.config import Settings
from pipeline.errors import Code, ItemError, Stage
from pipeline.ingest import iter_items
from pipeline.langid import LanguageDetector
from pipeline.nlp import ModelPool
from pipeline.normalize import Normalizer, build_normalizer, normalize_article
from pipeline.records import Article, Duplicate, ErrorEntry, LangGuess, Provenance, RawArticle, Record
from pipeline.write import (
    JsonlSink,
    atomic_file,
    duplicate_row,
    duplicate_to_dict,
    error_row,
    error_to_dict,
    record_to_dict,
    table_rows,
    write_parquet,
)

Outcome = Record | Duplicate | ErrorEntry
# Items are processed in chunks so that spaCy sees batches while output keeps input order.
CHUNK_SIZE = 64


@dataclass
class Tools:
    """What a run loads once and reuses for every article."""

    settings: Settings
    normalizer: Normalizer
    detector: LanguageDetector
    models: ModelPool
    extractors: tuple[Extractor, ...]

    @classmethod
    def load(cls, settings: Settings) -> Tools:
        """Build the normaliser and language detector; spaCy pipelines load lazily per language."""
        return cls(
            settings=settings,
            normalizer=build_normalizer(),
            detector=LanguageDetector.create(settings.language),
            models=ModelPool(settings),
            extractors=tuple(EXTRACTORS[name] for name in settings.extractors),
        )


@dataclass
class RunSummary:
    """Counts and timings of one run; ``inputs == records + duplicates + errors`` always holds."""

    records: int = 0
    duplicates: int = 0
    errors: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)
    errors_by_code: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def inputs(self) -> int:
        """Input items seen (each ended as a record, a duplicate or an error)."""
        return self.records + self.duplicates + self.errors

    def count(self, outcome: Outcome) -> None:
        """Account for one outcome."""
        if isinstance(outcome, Record):
            self.records += 1
            self.languages[outcome.language] += 1
            for name in ("entities", "money", "quantities", "options"):
                self.items[name] += len(getattr(outcome, name))
        elif isinstance(outcome, Duplicate):
            self.duplicates += 1
        else:
            self.errors += 1
            self.errors_by_code[outcome.code] += 1

    def to_dict(self) -> dict[str, Any]:
        """The summary as written to ``summary.json``."""
        return {
            "inputs": self.inputs,
            "records": self.records,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "languages": dict(sorted(self.languages.items())),
            "items": dict(sorted(self.items.items())),
            "errors_by_code": dict(sorted(self.errors_by_code.items())),
            "seconds_by_stage": {k: round(v, 3) for k, v in self.seconds.items()},
        }


class _Timer:
    def __init__(self, seconds: dict[str, float], stage: str) -> None:
        self.seconds, self.stage = seconds, stage

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds[self.stage] += time.perf_counter() - self.t0


def process(items: Iterable[RawArticle | ErrorEntry], tools: Tools, summary: RunSummary) -> Iterator[Outcome]:
    """Turn ingested items into outcomes, in input order."""
    seen_content: dict[str, str] = {}
    used_ids: set[str] = set()
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, CHUNK_SIZE)):
        outcomes: list[Outcome | None] = [None] * len(chunk)
        pending: list[tuple[int, Article, LangGuess]] = []
        for index, item in enumerate(chunk):
            if isinstance(item, ErrorEntry):
                outcomes[index] = item
                continue
            prepared = _prepare(item, tools, summary, seen_content, used_ids)
            if isinstance(prepared, tuple):
                pending.append((index, *prepared))
            else:
                outcomes[index] = prepared
        for index, analysed in _analyse(pending, tools, summary):
            outcomes[index] = analysed
        for outcome in outcomes:
            assert outcome is not None  # every item got exactly one outcome above
            summary.count(outcome)
            yield outcome


def _prepare(
    raw: RawArticle, tools: Tools, summary: RunSummary, seen_content: dict[str, str], used_ids: set[str]
) -> tuple[Article, LangGuess] | Outcome:
    """Normalise, size-check, deduplicate and detect the language of one article."""
    try:
        with _Timer(summary.seconds, Stage.NORMALIZE):
            article = normalize_article(raw, tools.normalizer)
    except ItemError as exc:
        return ErrorEntry(raw.source, Stage.NORMALIZE.value, exc.code.value, exc.reason)
    if not article.text:
        return ErrorEntry(raw.source, Stage.NORMALIZE.value, Code.EMPTY_TEXT.value, "no text after normalisation")
    limit = tools.settings.limits.max_article_chars
    if len(article.text) > limit:
        return ErrorEntry(
            raw.source, Stage.NORMALIZE.value, Code.TOO_LARGE.value,
            f"article has {len(article.text)} characters after normalisation, limit is {limit}",
        )
    if article.content_hash in seen_content:
        return Duplicate(raw.source, seen_content[article.content_hash], article.content_hash)
    if article.article_id in used_ids:
        # Same source key, different content (e.g. a JSONL file reusing an id): keep both, apart.
        article = replace(article, article_id=f"{article.article_id}-{article.content_hash[:8]}")
    used_ids.add(article.article_id)
    seen_content[article.content_hash] = article.article_id
    with _Timer(summary.seconds, Stage.LANGUAGE):
        guess = tools.detector.detect(article.text)
    return article, guess


def _analyse(
    pending: list[tuple[int, Article, LangGuess]], tools: Tools, summary: RunSummary
) -> Iterator[tuple[int, Outcome]]:
    """Parse the pending articles with their language's pipeline, then run the extractors."""
    by_lang: dict[str, list[tuple[int, Article, LangGuess]]] = defaultdict(list)
    for entry in pending:
        by_lang[entry[2].code].append(entry)
    for lang, group in by_lang.items():
        with _Timer(summary.seconds, Stage.NLP):
            try:
                nlp = tools.models.get(lang)
            except Exception as exc:  # noqa: BLE001 - a model that cannot load fails its articles, not the run
                for index, article, _ in group:
                    yield index, ErrorEntry(article.source, Stage.NLP.value, Code.NLP_FAILED.value,
                                            f"cannot load the spaCy pipeline for {lang!r}: {exc}")
                continue
            docs = _parse(nlp, [a.text for _, a, _ in group], tools.settings.batch_size)
        for (index, article, guess), doc in zip(group, docs, strict=True):
            if isinstance(doc, Exception):
                yield index, ErrorEntry(article.source, Stage.NLP.value, Code.NLP_FAILED.value,
                                        f"spaCy failed: {type(doc).__name__}: {doc}")
                continue
            yield index, _extract(article, guess, doc, tools, summary)


def _parse(nlp: Language, texts: list[str], batch_size: int) -> list[Doc | Exception]:
    """Parse texts in one ``nlp.pipe`` batch; if the batch fails, parse one by one to isolate the culprit."""
    try:
        return list(nlp.pipe(texts, batch_size=batch_size))
    except Exception:  # noqa: BLE001 - retried per text below, where the failure is attributed
        docs: list[Doc | Exception] = []
        for text in texts:
            try:
                docs.append(nlp(text))
            except Exception as exc:  # noqa: BLE001
                docs.append(exc)
        return docs


def _extract(article: Article, guess: LangGuess, doc: Doc, tools: Tools, summary: RunSummary) -> Outcome:
    found: dict[str, tuple[Any, ...]] = {}
    for extractor in tools.extractors:
        ctx = ExtractContext(lang=guess.code, title=article.title, published=article.published,
                             body_start=article.body_start, found=found,
                             entity_settings=tools.settings.entities)
        try:
            # Timed per extractor: each one's share of the pipeline's time is a target of its own.
            with _Timer(summary.seconds, f"{Stage.EXTRACT}:{extractor.name}"):
                found[extractor.field] = found.get(extractor.field, ()) + tuple(extractor.func(doc, ctx))
        except Exception as exc:  # noqa: BLE001 - one article's failure must not stop the batch
            return ErrorEntry(article.source, Stage.EXTRACT.value, Code.EXTRACTOR_FAILED.value,
                              f"{extractor.name} failed: {type(exc).__name__}: {exc}")
    return Record(
        article_id=article.article_id,
        source=article.source,
        title=article.title,
        published=article.published,
        language=guess.code,
        language_probability=guess.probability,
        language_reason=guess.reason,
        text=article.text,
        entities=found.get("entities", ()),
        entity_summary=summarize_entities(found.get("entities", ()), article.body_start, load_kb()),
        money=found.get("money", ()),
        quantities=found.get("quantities", ()),
        options=found.get("options", ()),
        provenance=_provenance(guess.code, tools),
        extra=article.extra,
    )


def _provenance(lang: str, tools: Tools) -> Provenance:
    return Provenance(
        pipeline_version=__version__,
        config_hash=tools.settings.config_hash(),
        models={"nlp": tools.models.describe(lang), "spacy": spacy.__version__,
                "langdetect": version("langdetect"),
                **{k: v for e in tools.extractors if e.models for k, v in e.models().items()}},
        extractors=tuple(e.name for e in tools.extractors),
    )


def run_batch(
    inputs: Iterable[Path],
    out_dir: Path,
    settings: Settings,
    *,
    tools: Tools | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> RunSummary:
    """Process every input and write the output folder; returns the run's summary.

    Writes ``records.jsonl``, ``errors.jsonl``, ``duplicates.jsonl``, the Parquet tables
    under ``parquet/`` and ``summary.json``, each atomically.

    Args:
        inputs: Files or folders to read.
        out_dir: Output folder (created if needed).
        settings: The run's settings.
        tools: Already loaded tools to reuse (tests, long-lived workers); loaded from
            ``settings`` when None.
        on_outcome: Called after each outcome is written (progress display).
    """
    summary = RunSummary()
    t0 = time.perf_counter()
    tools = tools or Tools.load(settings)
    summary.seconds["load"] += time.perf_counter() - t0
    sinks = {name: JsonlSink(out_dir / f"{name}.jsonl") for name in ("records", "errors", "duplicates")}
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    try:
        for outcome in process(iter_items(inputs, settings.limits), tools, summary):
            with _Timer(summary.seconds, Stage.WRITE):
                if isinstance(outcome, Record):
                    sinks["records"].write(record_to_dict(outcome))
                    for table, table_rows_ in table_rows(outcome).items():
                        rows[table].extend(table_rows_)
                elif isinstance(outcome, Duplicate):
                    sinks["duplicates"].write(duplicate_to_dict(outcome))
                    rows["duplicates"].append(duplicate_row(outcome))
                else:
                    sinks["errors"].write(error_to_dict(outcome))
                    rows["errors"].append(error_row(outcome))
            if on_outcome:
                on_outcome(outcome)
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    with _Timer(summary.seconds, Stage.WRITE):
        for sink in sinks.values():
            sink.commit()
        for table in ("articles", "entities", "money", "quantities", "options", "errors", "duplicates"):
            write_parquet(out_dir / "parquet" / f"{table}.parquet", table, rows[table])
    summary.seconds["total"] = time.perf_counter() - t0
    with atomic_file(out_dir / "summary.json") as handle:
        json.dump(summary.to_dict(), handle, indent=1, sort_keys=False)
    return summary
