"""Near-duplicate detection: syndicated copies and re-issued stories share a ``story_id``.

Exact copies (same normalised text) are caught earlier by their content hash and become
duplicates. Near-duplicates (a wire story re-issued with a corrected figure, a shortened or
re-headlined copy) stay records: each record's MinHash of word shingles is looked up in a
MinHash LSH index of the records before it, and the record joins the story of its most similar
earlier record when the estimated Jaccard similarity reaches ``DedupSettings.threshold``.
Otherwise the record starts a story of its own (``story_id`` = its ``article_id``).

Signatures are computed where the article is parsed (a worker); the index lives in the
coordinator, which assigns stories in input order so that every engine, and a run resumed after
a crash, gives the same clusters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    minhash = MinHash(num_perm=settings.num_perm, seed=_MINHASH_SEED, scheme=_SCHEME)
    minhash.update_batch(sorted(shingles(text, settings.shingle_words)))
    return np.asarray(minhash.hashvalues, dtype=np.uint64).tobytes()


def _minhash(data: bytes, num_perm: int) -> MinHash:
    return MinHash(num_perm=num_perm, seed=_MINHASH_SEED, hashvalues=np.frombuffer(data, dtype=np.uint64),
                   scheme=_SCHEME)


@dataclass(frozen=True)
class StoryMatch:
    """The story a record joins: its own (``similar_to`` None) or that of a similar earlier record."""

    story_id: str
    similar_to: str | None = None
    similarity: float = 1.0


@dataclass
class StoryIndex:
    """MinHash LSH index of the records seen so far, with their story ids.

    Args:
        settings: Dedup settings (threshold, permutations).
    """

    settings: DedupSettings
    _lsh: MinHashLSH = field(init=False)
    _hashes: dict[str, MinHash] = field(default_factory=dict, init=False)
    _stories: dict[str, str] = field(default_factory=dict, init=False)
    _order: dict[str, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._lsh = MinHashLSH(threshold=self.settings.threshold, num_perm=self.settings.num_perm)

    def add(self, article_id: str, story_id: str, data: bytes) -> None:
        """Index a record already assigned to ``story_id`` (loading the state of earlier runs)."""
        if article_id in self._hashes:
            return
        minhash = _minhash(data, self.settings.num_perm)
        self._lsh.insert(article_id, minhash)
        self._hashes[article_id] = minhash
        self._stories[article_id] = story_id
        self._order[article_id] = len(self._order)

    def assign(self, article_id: str, data: bytes | None) -> StoryMatch:
        """Find the story of a new record and index it.

        Candidates from the LSH are verified with their estimated Jaccard similarity; the most
        similar one wins, the earliest on a tie, so the result does not depend on set order.
        """
        if data is None or not self.settings.near_duplicates:
            return StoryMatch(article_id)
        minhash = _minhash(data, self.settings.num_perm)
        best: tuple[float, int, str] | None = None
        for candidate in self._lsh.query(minhash):
            if candidate == article_id:
                continue
            similarity = float(minhash.jaccard(self._hashes[candidate]))
            if similarity < self.settings.threshold:
                continue
            rank = (-similarity, self._order[candidate], candidate)
            if best is None or rank < best:
                best = rank
        match = StoryMatch(article_id) if best is None else StoryMatch(
            self._stories[best[2]], similar_to=best[2], similarity=round(-best[0], 4))
        if article_id in self._hashes:  # a new version of a record: its old text leaves the index
            self._lsh.remove(article_id)
            del self._hashes[article_id], self._stories[article_id], self._order[article_id]
        self.add(article_id, match.story_id, data)
        return match
