"""Entity linking to the chip-industry knowledge base.

Two steps, in the order a reader would resolve a name:

1. Before the statistical NER, two spaCy ``entity_ruler`` components mark every
   knowledge-base alias (one on lower-cased tokens, one on exact case for aliases
   that are ordinary words: "Apple", "Meta", "Arm"). The NER then predicts
   around them, and each ruler span carries the entry's key as ``ent_id_``.
2. Remaining NER entities are looked up by normalised alias, then by fuzzy
   matching (rapidfuzz) above a threshold measured on the development set.

Linked entities get the entry's canonical name and an id: the Wikidata QID
when the knowledge base has one, else ``kb:<key>``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process
from spacy.language import Language

from extractors.kb import KBEntry, KnowledgeBase, load_kb, normalize_alias

RULER_CASELESS = "kb_ruler"
RULER_EXACT = "kb_ruler_exact"
KB_ID_PREFIX = "kb:"


def entry_id(entry: KBEntry) -> str:
    """The id recorded for a linked entity: Wikidata QID when known, else ``kb:<key>``."""
    return entry.wikidata or f"{KB_ID_PREFIX}{entry.key}"


def entry_label(entry: KBEntry) -> str:
    """chipwire label of an entry: products are PRODUCT, everything else ORG."""
    return "PRODUCT" if entry.kind == "product" else "ORG"


def add_kb_rulers(nlp: Language, kb: KnowledgeBase, name_suffixes: Sequence[str] = ()) -> None:
    """Add the knowledge-base rulers to ``nlp``: before ``ner`` when there is one, else at the end.

    The caseless ruler matches on ``LOWER`` so "NVIDIA", "Nvidia" and "nvidia" all match;
    aliases that are ordinary words only match with their exact case. ``name_suffixes``
    are the language's endings glued to names (German genitive "AMDs"): each alias is
    also matched with them.
    """
    where: dict[str, Any] = {"before": "ner"} if nlp.has_pipe("ner") else {}
    caseless = nlp.add_pipe("entity_ruler", name=RULER_CASELESS,
                            config={"phrase_matcher_attr": "LOWER", "validate": False}, **where)
    exact = nlp.add_pipe("entity_ruler", name=RULER_EXACT,
                         config={"phrase_matcher_attr": "ORTH", "validate": False}, **where)
    caseless_patterns: list[dict[str, Any]] = []
    exact_patterns: list[dict[str, Any]] = []
    for alias, entry, case_sensitive in kb.patterns():
        # A multi-word name is hyphenated inside compounds ("Snapdragon-810-Chip",
        # "GeForce-RTX-5000-Familie"), which blank tokenizers split at the hyphens.
        names = (alias, alias.replace(" ", "-")) if " " in alias else (alias,)
        for form in (*names, *(name + suffix for name in names for suffix in name_suffixes)):
            pattern = {"label": entry_label(entry), "pattern": form, "id": entry.key}
            (exact_patterns if case_sensitive else caseless_patterns).append(pattern)
    with nlp.select_pipes(enable=[]):
        caseless.add_patterns(caseless_patterns)  # type: ignore[attr-defined]
        exact.add_patterns(exact_patterns)  # type: ignore[attr-defined]


# Fuzzy results kept per linker; cleared when full, so a long run's memory stays bounded.
_FUZZY_CACHE_SIZE = 50_000


@dataclass(frozen=True)
class Linker:
    """Resolves a surface form to a knowledge-base entry: exact alias first, then fuzzy.

    Attributes:
        kb: The knowledge base.
        fuzzy_threshold: Minimum rapidfuzz ``ratio`` (0–100) for a fuzzy link.
        min_fuzzy_chars: Shorter normalised forms are never fuzzy-matched: one edit in a
            short name is another name ("Intel" / "Itel").
    """

    kb: KnowledgeBase
    fuzzy_threshold: float
    min_fuzzy_chars: int
    _choices: dict[str, KBEntry] = field(default_factory=dict, repr=False)
    _fuzzy_cache: dict[str, KBEntry | None] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def create(cls, kb: KnowledgeBase, fuzzy_threshold: float, min_fuzzy_chars: int) -> Linker:
        """Index the caseless aliases of ``kb`` for fuzzy matching."""
        choices: dict[str, KBEntry] = {}
        for alias, entry, case_sensitive in kb.patterns():
            norm = normalize_alias(alias)
            if not case_sensitive and len(norm) >= min_fuzzy_chars:
                choices.setdefault(norm, entry)
        return cls(kb, fuzzy_threshold, min_fuzzy_chars, choices)

    def link(self, text: str) -> KBEntry | None:
        """The entry for ``text``, or None."""
        entry = self.kb.lookup(text)
        if entry is not None or self.fuzzy_threshold > 100:
            return entry
        norm = normalize_alias(text)
        if len(norm) < self.min_fuzzy_chars:
            return None
        # The same unlinked names (people, places) recur across a batch, and each fuzzy search
        # compares against every alias of the knowledge base.
        if norm not in self._fuzzy_cache:
            if len(self._fuzzy_cache) >= _FUZZY_CACHE_SIZE:
                self._fuzzy_cache.clear()
            best = process.extractOne(norm, self._choices.keys(), scorer=fuzz.ratio,
                                      score_cutoff=self.fuzzy_threshold)
            self._fuzzy_cache[norm] = self._choices[best[0]] if best and self._same_head(norm, best[0]) else None
        return self._fuzzy_cache[norm]

    def _same_head(self, name: str, alias: str) -> bool:
        """True when the first words of ``name`` and ``alias`` are the same name.

        A shared generic tail lifts the whole-string ratio over the threshold while the
        distinctive word differs ("Avera Semiconductor" / "Axera Semiconductor"): the first word
        must itself be a fuzzy match, and a short one must be exact, as a short whole name is.
        """
        head, alias_head = name.split(" ", 1)[0], alias.split(" ", 1)[0]
        if head == alias_head:
            return True
        if min(len(head), len(alias_head)) < self.min_fuzzy_chars:
            return False
        return fuzz.ratio(head, alias_head) >= self.fuzzy_threshold


@lru_cache(maxsize=8)
def default_linker(fuzzy_threshold: float, min_fuzzy_chars: int) -> Linker:
    """The linker over the bundled knowledge base, built once per process and threshold."""
    return Linker.create(load_kb(), fuzzy_threshold, min_fuzzy_chars)


# --- per-article entity summary ----------------------------------------------------------------

@dataclass(frozen=True)
class EntitySummary:
    """What an analyst filters on: how salient an entity is in one article.

    Attributes:
        canonical: Canonical name.
        id: Wikidata QID, ``kb:<key>``, or None for unlinked entities.
        label: chipwire label.
        mentions: Number of mentions.
        first_offset: Offset of the first mention in the record's text.
        in_title: Whether it is mentioned in the title.
        roles: Knowledge-base roles (``chip_designer``, ``hyperscaler``…), empty when unlinked.
        maker: For products, the canonical name of the maker.
    """

    canonical: str
    id: str | None
    label: str
    mentions: int
    first_offset: int
    in_title: bool
    roles: tuple[str, ...] = ()
    maker: str | None = None


def summarize_entities(entities: Sequence[Any], body_start: int, kb: KnowledgeBase) -> tuple[EntitySummary, ...]:
    """Group an article's entity mentions by (canonical, label), most mentioned first.

    Args:
        entities: The article's ``Entity`` records.
        body_start: Offset of the body in the text; mentions before it are in the title.
        kb: The knowledge base, for roles and makers.
    """
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for ent in entities:
        groups[(ent.canonical, ent.label)].append(ent)
    out = []
    for (canonical, label), mentions in groups.items():
        ids = Counter(m.id for m in mentions if m.id)
        ent_id = ids.most_common(1)[0][0] if ids else None
        entry = _entry_of(ent_id, canonical, kb)
        maker = kb.get(entry.maker) if entry and entry.maker else None
        out.append(EntitySummary(
            canonical=canonical, id=ent_id, label=label, mentions=len(mentions),
            first_offset=min(m.start for m in mentions),
            in_title=any(m.end <= body_start for m in mentions) if body_start else False,
            roles=entry.roles if entry else (), maker=maker.canonical if maker else None,
        ))
    return tuple(sorted(out, key=lambda s: (-s.mentions, s.first_offset)))


def _entry_of(ent_id: str | None, canonical: str, kb: KnowledgeBase) -> KBEntry | None:
    if ent_id is None:
        return None
    if ent_id.startswith(KB_ID_PREFIX):
        return kb.get(ent_id[len(KB_ID_PREFIX):])
    return kb.lookup(canonical)


def merge_person_names(names: Iterable[tuple[int, str]]) -> dict[int, str]:
    """Map short person mentions to the full name they abbreviate within one article.

    ``Altman`` (or ``M. Altman`` after title removal) becomes ``Sam Altman`` when exactly
    one multi-word person name in the article ends with that word; failing that, a first name
    alone becomes the one full name starting with it.

    Args:
        names: ``(index, name)`` of every PERSON mention.

    Returns:
        ``{index: full name}`` for the mentions to rename.
    """
    items = list(names)
    by_last: dict[str, set[str]] = defaultdict(set)
    by_first: dict[str, set[str]] = defaultdict(set)
    for _, name in items:
        words = name.split()
        if len(words) >= 2:
            by_last[words[-1].casefold()].add(name)
            by_first[words[0].casefold()].add(name)
    renamed: dict[int, str] = {}
    for index, name in items:
        words = name.split()
        if len(words) != 1:
            continue
        key = words[0].casefold()
        if len(by_last.get(key, ())) == 1:
            renamed[index] = next(iter(by_last[key]))
        elif key not in by_last and len(by_first.get(key, ())) == 1:
            # A first name alone after the full name ("Warren" after "Warren Buffet").
            renamed[index] = next(iter(by_first[key]))
    return renamed
