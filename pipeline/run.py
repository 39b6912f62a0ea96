"""The batch runner: the stages called top to bottom, one outcome per input item.

ingest → look up the state → normalise → deduplicate exactly → [engine: detect language →
spaCy (batched per language) → extractors → MinHash] → story clustering → commit → regenerate
the outputs. Every input item ends as exactly one of a :class:`Record`, a :class:`Duplicate` or an
:class:`ErrorEntry`, either made by this run or found unchanged in the state database of the
output folder (:mod:`pipeline.state`); only this module (and the worker side of the engines)
catches broadly, so one bad item never stops a batch.

The coordinator (this process) reads, plans and commits in input order; the expensive middle
runs in an engine (:mod:`pipeline.engines`): in this process, in local worker processes or on a
Dask cluster. Each chunk of items is committed in one transaction, so a run killed at any moment
and started again carries on from its last committed chunk and ends with the same outputs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal, TypeVar

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from chipwire.store import update_database
from extractors.base import ExtractContext, Extractor, remember_text
from extractors.kb import load_kb
from extractors.linking import summarize_entities
from extractors.registry import EXTRACTORS
from pipeline import __version__
from pipeline.config import Settings
from pipeline.dedup import StoryIndex, signature
from pipeline.engines import AnalysedBatch, Engine, make_engine
from pipeline.errors import Code, ItemError, Stage
from pipeline.fetch import Fetcher, canonical_url, is_url
from pipeline.ingest import iter_items
from pipeline.langid import LanguageDetector
from pipeline.memory import release_free_heap
from pipeline.nlp import ModelPool
from pipeline.normalize import Normalizer, build_normalizer, normalize_article
from pipeline.progress import estimate_items
from pipeline.records import Article, Duplicate, ErrorEntry, LangGuess, Provenance, RawArticle, Record
from pipeline.state import Committed, StateStore, StoredItem
from pipeline.write import (
    duplicate_row,
    duplicate_to_dict,
    encode_payload,
    encode_rows,
    error_row,
    error_to_dict,
    export_outputs,
    record_to_dict,
    story_row,
    table_rows,
    write_summary,
)

Outcome = Record | Duplicate | ErrorEntry
T = TypeVar("T")
Status = Literal["new", "updated", "unchanged"]


@dataclass
class Tools:
    """What a run loads once (per process or worker) and reuses for every article."""

    settings: Settings
    normalizer: Normalizer
    detector: LanguageDetector
    models: ModelPool
    extractors: tuple[Extractor, ...]
    # Provenance is the same for every article of a language: built once, not per record
    # (it hashes the settings and reads package metadata from disk).
    _provenance: dict[str, Provenance] = field(default_factory=dict, repr=False)

    def provenance(self, lang: str) -> Provenance:
        """The provenance of records in ``lang``, built on first use."""
        if lang not in self._provenance:
            self._provenance[lang] = Provenance(
                pipeline_version=__version__,
                config_hash=self.settings.config_hash(),
                models={"nlp": self.models.describe(lang), "spacy": spacy.__version__,
                        "langdetect": version("langdetect"),
                        **{k: v for e in self.extractors if e.models for k, v in e.models().items()}},
                extractors=tuple(e.name for e in self.extractors),
            )
        return self._provenance[lang]

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

    @classmethod
    def load_for_worker(cls, settings: Settings) -> Tools:
        """Tools for an engine's worker, with the statistical pipelines loaded up front.

        A worker that joins loads its heavy models before it takes work, not in the middle of a
        batch while the other workers wait for its chunk.
        """
        tools = cls.load(settings)
        for lang in settings.models:
            tools.models.get(lang)
        return tools


@dataclass
class RunSummary:
    """Counts and timings of one run.

    ``inputs == records + duplicates + errors`` always holds for the run's own input items, and
    ``inputs == new + updated + unchanged`` says how many of them had to be processed. ``totals``
    counts what the output files hold after the run (they accumulate across runs).
    """

    records: int = 0
    duplicates: int = 0
    errors: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    near_duplicates: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)
    errors_by_code: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    totals: dict[str, int] = field(default_factory=dict)
    engine: str = "local"

    @property
    def inputs(self) -> int:
        """Input items seen (each ended as a record, a duplicate or an error)."""
        return self.records + self.duplicates + self.errors

    def count(self, kind: str, stats: dict[str, Any], status: Status) -> None:
        """Account for one item's outcome (``kind``: record, duplicate or error)."""
        setattr(self, status, getattr(self, status) + 1)
        if kind == "record":
            self.records += 1
            self.languages[stats["language"]] += 1
            self.items.update(stats.get("items", {}))
            self.near_duplicates += bool(stats.get("near_duplicate"))
        elif kind == "duplicate":
            self.duplicates += 1
        else:
            self.errors += 1
            self.errors_by_code[stats["code"]] += 1

    def to_dict(self) -> dict[str, Any]:
        """The summary as written to ``summary.json``."""
        return {
            "inputs": self.inputs,
            "records": self.records,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "near_duplicates": self.near_duplicates,
            "languages": dict(sorted(self.languages.items())),
            "items": dict(sorted(self.items.items())),
            "errors_by_code": dict(sorted(self.errors_by_code.items())),
            "totals": dict(sorted(self.totals.items())),
            "engine": self.engine,
            "seconds_by_stage": {k: round(v, 3) for k, v in self.seconds.items()},
        }


class _Timer:
    def __init__(self, seconds: dict[str, float], stage: str) -> None:
        self.seconds, self.stage = seconds, stage

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds[self.stage] += time.perf_counter() - self.t0


# --- the worker side: language, spaCy, extractors, signature ----------------------------------

def analyse_batch(articles: list[Article], tools: Tools) -> AnalysedBatch:
    """Detect the language of, parse and extract from ``articles``; results keep their order.

    This is what an engine runs, in this process or in a worker; it never raises for an article.
    """
    seconds: dict[str, float] = defaultdict(float)
    results: list[tuple[Record | ErrorEntry, bytes | None] | None] = [None] * len(articles)
    by_lang: dict[str, list[tuple[int, Article, LangGuess]]] = defaultdict(list)
    for index, article in enumerate(articles):
        with _Timer(seconds, Stage.LANGUAGE):
            guess = tools.detector.detect(article.text)
        by_lang[guess.code].append((index, article, guess))
    for lang, group in by_lang.items():
        try:
            with _Timer(seconds, "load"):
                nlp = tools.models.get(lang)
        except Exception as exc:  # noqa: BLE001 - a model that cannot load fails its articles, not the run
            for index, article, _ in group:
                results[index] = (ErrorEntry(article.source, Stage.NLP.value, Code.NLP_FAILED.value,
                                             f"cannot load the spaCy pipeline for {lang!r}: {exc}"), None)
            continue
        # Strings spaCy interns while parsing are freed when the zone closes, so the vocabulary
        # (and the process) does not grow with the number of articles in a long run.
        zone: AbstractContextManager[Any] = nlp.memory_zone() if tools.settings.run.memory_zone else nullcontext()
        with zone:
            texts = [a.text for _, a, _ in group]
            docs = _timed(_parse(nlp, texts, tools.settings.batch_size, tools.settings.run.batch_chars),
                          seconds, Stage.NLP)
            # Each Doc is extracted from as it comes out of nlp.pipe and then dropped, so only one
            # nlp.pipe batch of Docs is alive at a time, not the whole chunk.
            for (index, article, guess), doc in zip(group, docs, strict=True):
                if isinstance(doc, Exception):
                    results[index] = (ErrorEntry(article.source, Stage.NLP.value, Code.NLP_FAILED.value,
                                                 f"spaCy failed: {type(doc).__name__}: {doc}"), None)
                    continue
                remember_text(doc, article.text)
                outcome = _extract(article, guess, doc, tools, seconds)
                sig = None
                if isinstance(outcome, Record):
                    with _Timer(seconds, "dedup"):
                        sig = signature(article.text, tools.settings.dedup)
                results[index] = (outcome, sig)
    done = [r for r in results if r is not None]
    assert len(done) == len(articles)  # every article got exactly one result above
    return AnalysedBatch(done, dict(seconds))


def _parse(nlp: Language, texts: list[str], batch_size: int, batch_chars: int) -> Iterator[Doc | Exception]:
    """Parse texts with ``nlp.pipe``, yielding each Doc as it is ready.

    Batches hold at most ``batch_size`` texts and ``batch_chars`` characters, so the memory a
    batch needs is bounded whatever the mix of article lengths. If the pipe fails, the texts
    it has not yielded yet are parsed one by one, so the failure is attributed to its own text
    and the others still get their Doc.
    """
    done = 0
    try:
        for batch in _batches(texts, batch_size, batch_chars):
            for doc in nlp.pipe(batch, batch_size=len(batch)):
                done += 1
                yield doc
    except Exception:  # noqa: BLE001 - retried per text below, where the failure is attributed
        for text in texts[done:]:
            try:
                yield nlp(text)
            except Exception as exc:  # noqa: BLE001
                yield exc


def _batches(texts: list[str], max_items: int, max_chars: int) -> Iterator[list[str]]:
    """Consecutive runs of ``texts`` with at most ``max_items`` items and ``max_chars`` characters.

    A text longer than ``max_chars`` is a batch of its own.
    """
    batch: list[str] = []
    chars = 0
    for text in texts:
        if batch and (len(batch) == max_items or chars + len(text) > max_chars):
            yield batch
            batch, chars = [], 0
        batch.append(text)
        chars += len(text)
    if batch:
        yield batch


def _timed(items: Iterator[T], seconds: dict[str, float], stage: str) -> Iterator[T]:
    """``items``, with the time spent producing them added to ``seconds[stage]``."""
    while True:
        start = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            seconds[stage] += time.perf_counter() - start
            return
        seconds[stage] += time.perf_counter() - start
        yield item


def _extract(article: Article, guess: LangGuess, doc: Doc, tools: Tools, seconds: dict[str, float]
             ) -> Record | ErrorEntry:
    found: dict[str, tuple[Any, ...]] = {}
    for extractor in tools.extractors:
        ctx = ExtractContext(lang=guess.code, title=article.title, published=article.published,
                             body_start=article.body_start, found=found,
                             entity_settings=tools.settings.entities)
        try:
            # Timed per extractor: each one's share of the pipeline's time is a target of its own.
            with _Timer(seconds, f"{Stage.EXTRACT}:{extractor.name}"):
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
        provenance=tools.provenance(guess.code),
        extra=article.extra,
    )


# --- the coordinator side: plan a chunk, then finalise and commit it --------------------------

@dataclass
class Slot:
    """One input item of a chunk: its identity in the state and its outcome so far.

    Exactly one of ``stored`` (unchanged, nothing to do), ``outcome`` (decided while planning:
    an error or an exact duplicate) and ``article`` (to be analysed by the engine) is set.
    """

    item_key: str
    input_hash: str
    status: Status
    stored: StoredItem | None = None
    outcome: Duplicate | ErrorEntry | None = None
    article: Article | None = None


@dataclass
class Planner:
    """Turns ingested items into slots, in input order, remembering what this run has seen.

    Args:
        tools: The coordinator's tools (only the normaliser and settings are used here).
        state: The output folder's state.
        fetcher: Follows feed items' links when ``fetch.follow_links`` is on.
    """

    tools: Tools
    state: StateStore
    fetcher: Fetcher | None
    seconds: dict[str, float]
    _seen_content: dict[str, str] = field(init=False)
    _state_ids: set[str] = field(init=False)
    _run_ids: set[str] = field(default_factory=set, init=False)
    _run_keys: set[str] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._seen_content = self.state.content_index()
        self._state_ids = self.state.article_ids()

    def plan(self, items: list[RawArticle | ErrorEntry]) -> list[Slot]:
        """The slots of a chunk of ingested items, in order.

        Items are looked up in the state one by one (in input order, as ids are handed out), then
        the links of those still to process are followed together, and each is prepared.
        """
        slots: list[Slot | tuple[str, str, Status, StoredItem | None, RawArticle]] = []
        for item in items:
            key = item_key(item.source)
            digest = input_hash(item)
            if key in self._run_keys:
                # Same key twice in one run with another content (a JSONL file reusing an id): both stay.
                key = f"{key}#{digest[:8]}"
            self._run_keys.add(key)
            stored = self.state.current(key)
            if stored and stored.input_hash == digest and stored.process_key == self.state.process_key:
                if stored.article_id:
                    self._run_ids.add(stored.article_id)
                slots.append(Slot(key, digest, "unchanged", stored=stored))
                continue
            status: Status = "updated" if stored else "new"
            if isinstance(item, ErrorEntry):
                slots.append(Slot(key, digest, status, outcome=item))
            else:
                slots.append((key, digest, status, stored, item))
        pending = [p for p in slots if not isinstance(p, Slot)]
        raws = [raw for *_, raw in pending]
        if self.fetcher is not None:
            with _Timer(self.seconds, "fetch"):
                raws = self.fetcher.follow_all(raws, self.tools.settings.limits.min_html_letters)
        followed = iter(raws)
        out: list[Slot] = []
        for entry in slots:
            if isinstance(entry, Slot):
                out.append(entry)
                continue
            key, digest, status, stored, _ = entry
            prepared = self._prepare(next(followed), stored)
            if isinstance(prepared, Article):
                out.append(Slot(key, digest, status, article=prepared))
            else:
                out.append(Slot(key, digest, status, outcome=prepared))
        return out

    def _prepare(self, raw: RawArticle, stored: StoredItem | None) -> Article | Duplicate | ErrorEntry:
        """Normalise, size-check and deduplicate one article exactly."""
        limit = self.tools.settings.limits.max_article_chars
        raw_chars = len(raw.body) + len(raw.title or "")
        if raw_chars > 2 * limit:
            # Refused before normalising: a 50 MB body would cost seconds of regex work for nothing.
            return ErrorEntry(raw.source, Stage.NORMALIZE.value, Code.TOO_LARGE.value,
                              f"article has {raw_chars} characters before normalisation, limit is {limit}")
        try:
            with _Timer(self.seconds, Stage.NORMALIZE):
                article = normalize_article(raw, self.tools.normalizer)
        except ItemError as exc:
            return ErrorEntry(raw.source, Stage.NORMALIZE.value, exc.code.value, exc.reason)
        if not article.text:
            return ErrorEntry(raw.source, Stage.NORMALIZE.value, Code.EMPTY_TEXT.value, "no text after normalisation")
        if len(article.text) > limit:
            return ErrorEntry(raw.source, Stage.NORMALIZE.value, Code.TOO_LARGE.value,
                              f"article has {len(article.text)} characters after normalisation, limit is {limit}")
        own_id = stored.article_id if stored else None
        first = self._seen_content.get(article.content_hash)
        if first is not None and first not in (article.article_id, own_id):
            return Duplicate(raw.source, first, article.content_hash)
        taken = article.article_id in self._run_ids or (
            article.article_id in self._state_ids and article.article_id != own_id)
        if taken:
            # Same source key, different content (e.g. a JSONL file reusing an id): keep both, apart.
            article = replace(article, article_id=f"{article.article_id}-{article.content_hash[:8]}")
        self._run_ids.add(article.article_id)
        self._seen_content.setdefault(article.content_hash, article.article_id)
        return article


def item_key(source: Any) -> str:
    """The state key of an item: its canonical URL when it has one, else its own id."""
    url = getattr(source, "url", None)
    return canonical_url(url) if url and is_url(url) else str(source.id)


def input_hash(item: RawArticle | ErrorEntry) -> str:
    """Hash of everything an item's outcome depends on, so a changed input is a new version."""
    if isinstance(item, ErrorEntry):
        parts: list[Any] = ["error", item.source.path, item.stage, item.code, item.reason]
    else:
        parts = ["article", item.fmt, item.source.id, item.source.path, item.source.url, item.source.feed,
                 item.title, item.body, item.published, item.extra]
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Finisher:
    """Turns analysed slots into committed rows: story ids, payloads and Parquet rows."""

    state: StateStore
    stories: StoryIndex
    _chunk_stories: dict[str, str] = field(default_factory=dict, init=False)

    def finish(self, slots: list[Slot], analysed: list[tuple[Record | ErrorEntry, bytes | None]]
               ) -> list[Committed]:
        """The rows to commit for one chunk, in input order."""
        results = iter(analysed)
        self._chunk_stories.clear()
        out: list[Committed] = []
        for slot in slots:
            if slot.stored is not None:
                continue
            outcome: Outcome
            sig: bytes | None = None
            if slot.article is not None:
                outcome, sig = next(results)
            else:
                assert slot.outcome is not None
                outcome = slot.outcome
            out.append(self._committed(slot, outcome, sig))
        return out

    def _committed(self, slot: Slot, outcome: Outcome, sig: bytes | None) -> Committed:
        if isinstance(outcome, Record):
            match = self.stories.assign(outcome.article_id, sig)
            self._chunk_stories[outcome.article_id] = match.story_id
            rows = table_rows(outcome)
            rows["stories"] = [story_row(match.story_id, outcome.article_id, outcome.source.id, "record",
                                         match.similar_to, match.similarity)]
            stats = {"language": outcome.language, "near_duplicate": match.similar_to is not None,
                     "items": {name: len(getattr(outcome, name))
                               for name in ("entities", "money", "quantities", "options")}}
            payload = {"story_id": match.story_id, **record_to_dict(outcome)}
            return Committed(slot.item_key, slot.input_hash, "record", outcome.article_id,
                             _content_hash(slot), match.story_id, stats, encode_payload(payload),
                             encode_rows(rows), sig,
                             self.stories.keys(sig))
        if isinstance(outcome, Duplicate):
            story = self._chunk_stories.get(outcome.duplicate_of) or self.state.story_of(outcome.duplicate_of)
            rows = {"duplicates": [duplicate_row(outcome)],
                    "stories": [story_row(story, None, outcome.source.id, "duplicate", outcome.duplicate_of, 1.0)]}
            payload = {**duplicate_to_dict(outcome), "story_id": story}
            return Committed(slot.item_key, slot.input_hash, "duplicate", None, outcome.content_hash, story,
                             {}, encode_payload(payload), encode_rows(rows))
        return Committed(slot.item_key, slot.input_hash, "error",
                         slot.article.article_id if slot.article else None, _content_hash(slot), None,
                         {"code": outcome.code}, encode_payload(error_to_dict(outcome)),
                         encode_rows({"errors": [error_row(outcome)]}))


def _content_hash(slot: Slot) -> str | None:
    return slot.article.content_hash if slot.article else None


def run_batch(
    inputs: Iterable[Path | str],
    out_dir: Path,
    settings: Settings,
    *,
    tools: Tools | None = None,
    engine: Engine | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> RunSummary:
    """Process every input into the output folder's state and regenerate its outputs.

    Items already in the state with the same input and pipeline are not processed again;
    ``records.jsonl``, ``errors.jsonl``, ``duplicates.jsonl``, the Parquet tables under
    ``parquet/`` and ``summary.json`` are rewritten (each atomically) from the state at the end.

    Args:
        inputs: Files, folders, feed URLs (``http(s)://``) or feed lists (``.opml``, ``.feeds``).
        out_dir: Output folder (created if needed); its ``state.sqlite`` makes runs incremental.
        settings: The run's settings.
        tools: Already loaded tools to reuse in this process (tests, long-lived callers); loaded
            from ``settings`` when None.
        engine: The engine to analyse articles with; built from ``settings.run`` when None.
        on_progress: Called with the number of items just finished (progress display).
        on_total: Called once with the number of items expected, when it can be estimated cheaply.
    """
    summary = RunSummary(engine=settings.run.engine if engine is None else type(engine).__name__)
    t0 = time.perf_counter()
    with _Timer(summary.seconds, "load"):
        tools = tools or Tools.load(settings)
    process_key = f"{__version__}:{settings.config_hash()}"
    # The engine starts only once the output folder is locked (a refused run starts no workers).
    with StateStore.open(out_dir, process_key) as state, \
            (nullcontext(engine) if engine is not None
             else make_engine(settings, tools, analyse_batch, Tools.load_for_worker)) as active, \
            Fetcher(settings.fetch, state) as fetcher:
        state.begin_run()
        stories = StoryIndex(settings.dedup, store=state)
        if settings.dedup.near_duplicates:
            state.ensure_bands(stories.banding.layout, stories.banding.keys)
        planner = Planner(tools, state, fetcher if settings.fetch.follow_links else None, summary.seconds)
        finisher = Finisher(state, stories)
        sources = fetcher.expand(inputs, settings.limits)
        if on_total is not None:
            total = estimate_items(sources)
            if total:
                on_total(total)
        items = iter_items(sources, settings.limits, fetcher=fetcher)

        def plans() -> Iterator[tuple[list[Slot], list[Article]]]:
            while True:
                with _Timer(summary.seconds, "plan"):
                    chunk = planner.plan(list(itertools.islice(items, settings.run.chunk_size)))
                if not chunk:
                    return
                yield chunk, [s.article for s in chunk if s.article is not None]

        for slots, batch in active.map(plans()):
            for stage, secs in batch.seconds.items():
                summary.seconds[stage] += secs
            with _Timer(summary.seconds, "commit"):
                committed = finisher.finish(slots, batch.results)
                state.commit(committed)
                stories.committed()
            by_key = {c.item_key: c for c in committed}
            for slot in slots:
                if slot.stored is not None:
                    summary.count(slot.stored.kind, slot.stored.stats, "unchanged")
                else:
                    done = by_key[slot.item_key]
                    summary.count(done.kind, done.stats, slot.status)
            if on_progress is not None:
                on_progress(len(slots))
        # Validators are stored only now, when every item of those feeds is committed: a crash
        # before this point refetches the feed in full instead of skipping its items as unmodified.
        state.save_validators(fetcher.validators)
        # Analysis is over: hand its freed heap back before the outputs and the database are built.
        release_free_heap()
        with _Timer(summary.seconds, Stage.WRITE):
            export_outputs(out_dir, state.iter_current)
        # The analysts' database is loaded from the finished outputs while the folder is still
        # locked, so no other run can change them underneath; it is one transaction of its own.
        with _Timer(summary.seconds, "database"):
            update_database(out_dir, summary.to_dict())
        summary.totals = state.totals()
        summary.seconds["total"] = time.perf_counter() - t0
        state.finish_run(summary.to_dict())
        write_summary(out_dir / "summary.json", summary.to_dict())
    return summary
