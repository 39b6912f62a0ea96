"""Whether a capitalised word is a common word of its language, from simplemma's dictionaries.

German capitalises every noun, so case says nothing about names: "steigerte der Konzern Umsatz"
and "meldete der Stahlkonzern Voestalpine" look alike. simplemma's lemmatisation dictionary of a
language lists its inflected words (and the best-known names, which the knowledge base has
anyway); a word it does not know, and that is no compound of two words it knows, can be a name.
"""

from __future__ import annotations

from functools import lru_cache

import simplemma
from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

# Distinct words remembered per process: a long run meets new names without end, so the memo is
# bounded to keep memory flat; the common words that repeat stay in it.
_MEMO_WORDS = 65_536
# The parts of a compound: a head of at least this many letters and a tail of at least
# this many ("Quartals|umsatz", "Halbleiter|branche"); shorter tails match by accident.
_MIN_HEAD, _MIN_TAIL = 3, 5


def has_lexicon(lang: str) -> bool:
    """Whether simplemma has a dictionary for ``lang``."""
    return lang in SUPPORTED_LANGUAGES


@lru_cache(maxsize=_MEMO_WORDS)
def known_word(word: str, lang: str) -> bool:
    """Whether ``word`` is a word of ``lang``'s dictionary, or a compound of two such words.

    A linking "s" between the parts is allowed ("Quartalsumsatz"). Always False for a language
    without a dictionary, so that callers fall back to treating the word as unknown.
    """
    if not has_lexicon(lang):
        return False
    if simplemma.is_known(word, lang):
        return True
    for cut in range(len(word) - _MIN_TAIL, _MIN_HEAD - 1, -1):
        tail = word[cut:]
        if not simplemma.is_known(tail.capitalize(), lang):
            continue
        head = word[:cut]
        if simplemma.is_known(head, lang) or (head.endswith("s") and len(head) > _MIN_HEAD
                                              and simplemma.is_known(head[:-1], lang)):
            return True
    return False
