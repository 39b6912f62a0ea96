"""Near-duplicate detection: syndicated copies and re-issued stories share a ``story_id``.

Exact copies (same normalised text) are caught earlier by their content hash and become
duplicates. Near-duplicates (a wire story re-issued with a corrected figure, a shortened or
re-headlined copy) stay records: each record's MinHash of word shingles is looked up in a
MinHash LSH index of the records before it, and the record joins the story of its most similar
earlier record when the estimated Jaccard similarity reaches ``DedupSettings.threshold``.
Otherwise the record starts a story of its own (``story_id`` = its ``article_id``).

Signatures are computed where the article is parsed (a worker); the index lives with the
coordinator, which assigns stories in input order so that every engine, and a run resumed after
a crash, gives the same clusters. The LSH bands are datasketch's (:class:`MinHashLSH` chooses the
number of bands and rows for the threshold); their keys are kept in the state database next to
the signatures (:class:`BandStore`), so the index costs no memory per record and is not rebuilt
at the start of every run. Only the records of the chunk being committed are held in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

import numpy as np
import regex
from datasketch import MinHash, MinHashLSH

from pipeline.config import DedupSettings

# Han, kana and Thai have no spaces between words: one character is one token there.
_TOKEN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}]|[\p{L}\p{N}]+")
_MINHASH_SEED = 1
# Named explicitly: datasketch refuses to guess the scheme of stored hash values.
_SCHEME = "affine32"


def shingles(text: str, size: int) -> set[bytes]:
    """Lower-cased word ``size``-grams of ``text`` (the whole text when it is shorter)."""
    words = _TOKEN.findall(text.casefold())
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i:i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def signature(text: str, settings: DedupSettings) -> bytes:
    """The MinHash signature of ``text`` as bytes (what workers return and the state stores)."""
    minhash = MinHash(num_perm=settings.num_perm, seed=_MINHASH_SEED, scheme=_SCHEME,
                      permutations=_permutations(settings.num_perm))
    minhash.update_batch(sorted(shingles(text, settings.shingle_words)))
    return np.asarray(minhash.hashvalues, dtype=np.uint64).tobytes()


@cache
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The seed's permutations, drawn once: drawing them took a fifth of every signature's time."""
    perms: tuple[np.ndarray, np.ndarray] = MinHash(num_perm=num_perm, seed=_MINHASH_SEED, scheme=_SCHEME).permutations
    return perms


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal hash values
    (what ``MinHash.jaccard`` computes)."""
    left, right = np.frombuffer(a, dtype=np.uint64), np.frombuffer(b, dtype=np.uint64)
    return float(np.count_nonzero(left == right)) / float(len(left))


@dataclass(frozen=True)
class Banding:
    """How signatures are cut into LSH bands: datasketch's choice of bands and rows for the
    threshold, and a 64-bit key per band (the band's number and hash values, hashed)."""

    bands: int
    rows: int

    @classmethod
    def for_settings(cls, settings: DedupSettings) -> Banding:
        """The banding datasketch's ``MinHashLSH`` would use for these settings."""
        lsh = MinHashLSH(threshold=settings.threshold, num_perm=settings.num_perm)
        return cls(bands=lsh.b, rows=lsh.r)

    @property
    def layout(self) -> str:
        """A name of the layout, stored with the keys so that a change rebuilds them."""
        return f"minhash-lsh:{self.bands}x{self.rows}"

    def keys(self, data: bytes) -> tuple[int, ...]:
        """The band keys of a signature, as signed 64-bit integers (SQLite's INTEGER)."""
        values = np.frombuffer(data, dtype=np.uint64)
        out = []
        for band in range(self.bands):
            chunk = values[band * self.rows:(band + 1) * self.rows].tobytes()
            digest = hashlib.blake2b(band.to_bytes(2, "little") + chunk, digest_size=8).digest()
            out.append(int.from_bytes(digest, "little", signed=True))
        return tuple(out)


@dataclass(frozen=True)
class Candidate:
    """An indexed record sharing a band with a query: its story, its order of indexing, its signature."""

    article_id: str
    story_id: str
    order: int
    minhash: bytes


class BandStore(Protocol):
    """Where the committed records' band keys live (the state database, in a run)."""

    def candidates(self, keys: Sequence[int]) -> list[Candidate]:
        """Committed records that share at least one of ``keys``."""
        ...


@dataclass
class MemoryBands:
    """Band keys held in memory: the records of a chunk not committed yet, or a whole index in tests."""

    _by_key: dict[int, list[str]] = field(default_factory=dict)
    _records: dict[str, Candidate] = field(default_factory=dict)
    _keys: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def add(self, candidate: Candidate, keys: Iterable[int]) -> None:
        """Index one record (replacing an earlier version of it)."""
        self.remove(candidate.article_id)
        self._records[candidate.article_id] = candidate
        self._keys[candidate.article_id] = tuple(keys)
        for key in self._keys[candidate.article_id]:
            self._by_key.setdefault(key, []).append(candidate.article_id)

    def remove(self, article_id: str) -> None:
        """Forget one record."""
        if self._records.pop(article_id, None) is None:
            return
        for key in self._keys.pop(article_id):
            self._by_key[key].remove(article_id)

    def candidates(self, keys: Sequence[int]) -> list[Candidate]:
        """Records sharing at least one key."""
        found = {aid for key in keys for aid in self._by_key.get(key, ())}
        return [self._records[aid] for aid in found]

    def clear(self) -> None:
        """Forget everything (the chunk was committed: the store has it now)."""
        self._by_key.clear()
        self._records.clear()
        self._keys.clear()


@dataclass(frozen=True)
class StoryMatch:
    """The story a record joins: its own (``similar_to`` None) or that of a similar earlier record."""

    story_id: str
    similar_to: str | None = None
    similarity: float = 1.0


# Records of this run rank after every committed one, in the order they were assigned.
_PENDING_ORDER = 1 << 62


@dataclass
class StoryIndex:
    """MinHash LSH index of the records seen so far, with their story ids.

    Args:
        settings: Dedup settings (threshold, permutations).
        store: The committed records' band keys (the state database); None keeps every record in
            memory (tests, or a caller without a state).
    """

    settings: DedupSettings
    store: BandStore | None = None
    banding: Banding = field(init=False)
    _pending: MemoryBands = field(default_factory=MemoryBands, init=False)
    _assigned: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.banding = Banding.for_settings(self.settings)

    def assign(self, article_id: str, data: bytes | None) -> StoryMatch:
        """Find the story of a new record and index it.

        Candidates sharing a band are verified with their estimated Jaccard similarity; the most
        similar one wins, the earliest indexed on a tie, so the result does not depend on set order.
        """
        if data is None or not self.settings.near_duplicates:
            return StoryMatch(article_id)
        keys = self.banding.keys(data)
        pending = {c.article_id: c for c in self._pending.candidates(keys)}
        committed = [c for c in self.store.candidates(keys) if c.article_id not in pending] if self.store else []
        best: tuple[float, int, str] | None = None
        best_story = ""
        for candidate in [*committed, *pending.values()]:
            if candidate.article_id == article_id:
                continue  # an earlier version of this record
            score = similarity(data, candidate.minhash)
            if score < self.settings.threshold:
                continue
            rank = (-score, candidate.order, candidate.article_id)
            if best is None or rank < best:
                best, best_story = rank, candidate.story_id
        match = StoryMatch(article_id) if best is None else StoryMatch(
            best_story, similar_to=best[2], similarity=round(-best[0], 4))
        self._assigned += 1
        self._pending.add(Candidate(article_id, match.story_id, _PENDING_ORDER + self._assigned, data), keys)
        return match

    def keys(self, data: bytes | None) -> tuple[int, ...]:
        """The band keys to store with a record's signature (none when near-duplicates are off)."""
        return self.banding.keys(data) if data is not None and self.settings.near_duplicates else ()

    def committed(self) -> None:
        """The records assigned so far are in the store now; drop them from memory."""
        if self.store is not None:
            self._pending.clear()
