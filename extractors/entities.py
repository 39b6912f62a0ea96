"""Named entities: spaCy NER mapped to one label set across languages, with clean spans.

Spans are trimmed of surrounding punctuation and never cross a sentence
boundary: when the statistical NER merges text across one (glued sentences),
the longest in-sentence piece is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import regex
from spacy.tokens import Doc, Span

from extractors.base import ExtractContext
from extractors.kb import KBEntry
from extractors.langdata import LangDataError, load_section
from extractors.linking import Linker, default_linker, entry_id, entry_label, merge_person_names
from pipeline.records import Entity

LABELS = frozenset({"ORG", "PERSON", "LOCATION", "PRODUCT", "EVENT", "MISC"})
# "National's Series 32000" names the product, not National's possession of it.
_POSSESSIVE = regex.compile(r"['’]s\b")


# A name glued after a title continues over at most this many capitalised tokens.
_MAX_NAME_CONTINUATION = 2


@dataclass(frozen=True)
class NerData:
    """The ``ner`` language data of one language, validated."""

    labels: dict[str, str | None]
    trim_chars: str
    person_titles: frozenset[str]
    not_names: frozenset[str]
    locations: tuple[str, ...]
    name_suffixes: tuple[str, ...]
    capitalised_names: bool
    given_names: frozenset[str]
    name_particles: frozenset[str]
    org_words: frozenset[str]


@cache
def ner_data(lang: str) -> NerData:
    """Load and validate ``extractors/lang/ner/<lang>.yaml`` over ``base.yaml``."""
    data = load_section("ner", lang)
    lists = ("person_titles", "not_names", "locations", "name_suffixes", "name_particles", "org_words", "given_names")
    unknown = set(data) - {"labels", "trim_chars", "capitalised_names", *lists}
    if not isinstance(data.get("capitalised_names", False), bool):
        raise LangDataError(f"ner/{lang}: 'capitalised_names' must be true or false")
    if unknown:
        raise LangDataError(f"ner/{lang}: unknown keys {sorted(unknown)}")
    labels = data.get("labels")
    if not isinstance(labels, dict):
        raise LangDataError(f"ner/{lang}: 'labels' must be a mapping")
    bad = {k: v for k, v in labels.items() if v is not None and v not in LABELS}
    if bad:
        raise LangDataError(f"ner/{lang}: labels map to unknown chipwire labels {bad}; allowed {sorted(LABELS)}")
    for key in lists:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
            raise LangDataError(f"ner/{lang}: '{key}' must be a list of non-empty strings")
    base = load_section("ner", "base")
    # Language files extend the shared place names and non-names instead of replacing them.
    locations = {loc.casefold() for loc in [*base.get("locations", []), *data.get("locations", [])]}
    not_names = {w.casefold() for w in [*base.get("not_names", []), *data.get("not_names", [])]}
    return NerData(
        labels=labels,
        trim_chars=str(data.get("trim_chars", "")),
        person_titles=frozenset(t.casefold() for t in data.get("person_titles", [])),
        not_names=frozenset(not_names),
        locations=tuple(sorted(locations, key=len, reverse=True)),
        name_suffixes=tuple(data.get("name_suffixes", [])),
        capitalised_names=bool(data.get("capitalised_names", False)),
        given_names=frozenset(data.get("given_names", [])),
        name_particles=frozenset(w.casefold() for w in data.get("name_particles", [])),
        org_words=frozenset(w.casefold() for w in data.get("org_words", [])),
    )


def map_label(label: str, lang: str) -> str | None:
    """Map a statistical NER label to chipwire's label set; None means "drop", unknown labels become MISC."""
    return ner_data(lang).labels.get(label, "MISC")


def _strip_title(ent: Span, titles: frozenset[str]) -> tuple[Span, bool]:
    """Drop leading titles ("PDG", "CEO", "M.") from ``ent``; extend the rest over the name they cut.

    Returns the new span and whether a title was removed (the remainder is then a person).
    """
    start = ent.start
    while start < ent.end and ent.doc[start].text.casefold() in titles:
        start += 1
    if start == ent.start or start == ent.end:
        return ent, False
    end = ent.end
    # NER that swallowed a title usually cut the name short ("PDG Sam" + "Altman").
    while end < len(ent.doc) and end - ent.end < _MAX_NAME_CONTINUATION:
        token = ent.doc[end]
        if not (token.is_alpha and token.is_title and not token.is_stop and not ent.doc[end - 1].whitespace_.count("\n")):
            break
        end += 1
    return ent.doc[start:end], True


def sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    """Character bounds of the sentences, repairing the parser's splits inside names.

    The statistical parser sometimes starts a sentence in the middle of a name
    ("Le PDG Sam | Altman a fait"). A boundary with no punctuation and no line
    break before it, between two capitalised words, is such a split and is ignored.
    """
    bounds: list[tuple[int, int]] = []
    for sent in doc.sents:
        first = sent[0]
        if bounds and first.i > 0:
            prev = doc[first.i - 1]
            if prev.is_alpha and prev.is_title and first.is_title and "\n" not in prev.whitespace_:
                bounds[-1] = (bounds[-1][0], sent.end_char)
                continue
        bounds.append((sent.start_char, sent.end_char))
    return bounds


def _clip_to_sentence(start: int, end: int, bounds: list[tuple[int, int]]) -> tuple[int, int]:
    """The longest part of [start, end) that lies inside one sentence."""
    best = (start, start)
    for s_start, s_end in bounds:
        lo, hi = max(start, s_start), min(end, s_end)
        if hi - lo > best[1] - best[0]:
            best = (lo, hi)
        if s_start >= end:
            break
    return best


def _trim(text: str, start: int, end: int, chars: str) -> tuple[int, int]:
    while start < end and text[start] in chars:
        start += 1
    while end > start and text[end - 1] in chars:
        end -= 1
    return start, end


def clean_surface(text: str) -> str:
    """The surface form with inner whitespace folded to single spaces."""
    return " ".join(text.split())


def extract_entities(doc: Doc, ctx: ExtractContext) -> tuple[Entity, ...]:
    """Return the document's named entities with chipwire labels, trimmed in-sentence spans and links.

    Entities marked by the knowledge-base rulers carry their entry; the others are linked
    by alias and fuzzy matching (persons only by exact alias: a person's name that looks
    like a company's is still a person). Single-word person mentions take the full name
    they abbreviate in the same article ("M. Altman" → "Sam Altman").

    Args:
        doc: A parsed document; blank pipelines only have the rulers' entities.
        ctx: The extraction context (``lang`` and ``entity_settings`` are used).
    """
    data = ner_data(ctx.lang)
    settings = ctx.entity_settings
    linker = default_linker(settings.fuzzy_threshold, settings.min_fuzzy_chars) if settings.linking else None
    bounds = sentence_bounds(doc)
    text = doc.text
    out: list[Entity] = []
    rules = settings.rules
    found = [*doc.ents, *(_titled_persons(doc, data) if rules else [])]
    if rules and data.capitalised_names and not doc.has_annotation("POS") and not doc.has_annotation("TAG"):
        found += _capitalised_names(doc, data, found)
    for ent in sorted(found, key=lambda e: e.start):
        label = data.labels.get(ent.label_, "MISC")
        if label is None or (ent.ent_id_ and (_inside_longer_word(text, ent) or _all_lower(ent.text))):
            continue
        if rules and ent.text.casefold() in data.not_names:
            continue
        if rules and not ent.ent_id_ and (_is_noise(ent) or _in_capitals_line(ent)):
            continue
        ent, had_title = _strip_title(ent, data.person_titles) if rules else (ent, False)
        if had_title:
            label = "PERSON"
        start, end = _clip_to_sentence(ent.start_char, ent.end_char, bounds)
        start, end = _trim(text, start, end, data.trim_chars)
        surface = text[start:end]
        if not any(ch.isalnum() for ch in surface):
            continue
        name = clean_surface(surface)
        if rules and not ent.ent_id_:
            if name.casefold() in data.locations or name.casefold() + "." in data.locations:
                out.append(Entity(surface, "LOCATION", name, None, start, end))
                continue
            if label in {"ORG", "MISC"}:
                name = _without_leading_place(name, data.locations)
            if not name or name.casefold() in data.not_names:
                continue
        entry = _link(ent.ent_id_, name, label, linker)
        if entry is not None:
            out.append(Entity(surface, entry_label(entry), entry.canonical, entry_id(entry), start, end))
        else:
            out.append(Entity(surface, label, _POSSESSIVE.sub("", name), None, start, end))
    if not rules:
        return tuple(out)
    out = _join_adjacent_persons(out, text)
    renamed = merge_person_names((i, e.canonical) for i, e in enumerate(out) if e.label == "PERSON")
    return tuple(replace(e, canonical=renamed[i]) if i in renamed else e for i, e in enumerate(out))


def _inside_longer_word(text: str, ent: Span) -> bool:
    """True when a knowledge-base match is part of a longer Latin word ("HP" in "HPC").

    Character-segmented scripts (Chinese) tokenise every letter, so an alias can match
    inside a longer name; a Chinese name followed by a model number ("骁龙8cx") is fine.
    """
    first, last = text[ent.start_char], text[ent.end_char - 1]
    before = text[ent.start_char - 1] if ent.start_char else " "
    after = text[ent.end_char] if ent.end_char < len(text) else " "
    return (_latin_alnum(first) and _latin_alnum(before)) or (_latin_alnum(last) and _latin_alnum(after))


def _all_lower(surface: str) -> bool:
    """A knowledge-base alias written all in lower case ("microchip technology") is a phrase, not a name."""
    return surface == surface.lower() and surface != surface.upper()


def _latin_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _without_leading_place(name: str, locations: tuple[str, ...]) -> str:
    """Drop a leading place name from an organisation ("U.S. Commerce Department" → "Commerce Department").

    Returns "" when nothing name-like is left ("U.S. firms", "U.S. government"): a country's
    generic bodies are not named organisations.
    """
    folded = name.casefold()
    for place in locations:
        if folded.startswith(place + " "):
            rest = name[len(place) + 1:].strip()
            # One capitalised word left ("Firms" in a title-cased headline) is a common noun.
            return rest if sum(word[:1].isupper() for word in rest.split()) >= 2 else ""
    return name


# Parts of speech that are never a whole name: a NER span made only of them is noise
# ("Repenser", "Qu'", "It"); nouns are kept because product and company names are tagged NOUN.
_NOT_NAME_POS = frozenset({"VERB", "AUX", "ADJ", "ADV", "PRON", "DET", "ADP", "CCONJ", "SCONJ", "PART", "INTJ"})


def _is_noise(ent: Span) -> bool:
    """An unlinked NER span that cannot be a name.

    No two letters; only stop words; one word of a part of speech names never have; two or
    more lower-case content words (a phrase, not a name: "an indispensable monopoly"); all in
    lower case ("designate": names are capitalised in cased scripts); or a
    U+FFFD replacement character (text whose accents were lost cannot give a canonical name).
    """
    if sum(ch.isalpha() for ch in ent.text) < 2 or all(t.is_stop or t.is_punct for t in ent):
        return True
    if "\ufffd" in ent.text or ent.text.islower():
        return True
    if sum(t.is_alpha and t.is_lower and not t.is_stop for t in ent) >= 2:
        return True
    return len(ent) == 1 and ent[0].pos_ in _NOT_NAME_POS


def _in_capitals_line(ent: Span) -> bool:
    """An unlinked entity in an all-capitals line (a wire headline): NER on such text is guesswork."""
    words = [t for t in ent.sent if t.is_alpha and len(t) > 1]
    return bool(ent.text.isupper() and words and sum(t.is_upper for t in words) >= 0.8 * len(words))


def _titled_persons(doc: Doc, data: NerData) -> list[Span]:
    """Person names outside other entities: after a title ("Nvidia-Chef Jensen Huang", "CEO Lisa Su")
    or starting with a known given name ("Logan Purk").

    Pipelines without a statistical NER (blank languages) find persons only this way; with one,
    it adds the names the NER missed.
    """
    taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
    found: list[Span] = []
    for token in doc:
        if token.i in taken:
            continue
        if token.text.casefold() in data.person_titles:
            start = token.i + 1
        elif token.text in data.given_names and token.is_title and not data.capitalised_names:
            # (where names are found by capitalisation, that rule sees the whole name)
            start = token.i
        else:
            continue
        end = start
        while end < len(doc) and end - start < 3 and end not in taken and _name_word(doc[end]):
            end += 1
        if end - start >= 2:  # a first and a last name: one capitalised word alone is too often a noun
            found.append(Span(doc, start, end, label="PERSON"))
            taken.update(range(start, end))
    return found


def _capitalised_names(doc: Doc, data: NerData, known: list[Span]) -> list[Span]:
    """Names found by capitalisation, for languages with no statistical NER whose nouns are lower case.

    A run of two or more capitalised words that are not stop words (the language's name
    particles allowed inside: "Luiz Fux", "Caja del Seguro Social") is a name; it is an ORG
    when one of its words is an organisation word of the language, else a PERSON. An
    all-capitals word of three or more letters is an acronym, an ORG. Known places are skipped.
    """
    taken = {i for ent in known for i in range(ent.start, ent.end)}
    found: list[Span] = []
    i = 0
    while i < len(doc):
        token = doc[i]
        if i in taken or not _name_word(token):
            if i not in taken and _acronym(token, data):
                found.append(Span(doc, i, i + 1, label="ORG"))
            i += 1
            continue
        end = i + 1
        while end < len(doc) and end not in taken and (
                _name_word(doc[end]) or (doc[end].lower_ in data.name_particles and end + 1 < len(doc)
                                         and _name_word(doc[end + 1]))):
            end += 1
        span = Span(doc, i, end)
        if end - i >= 2 and span.text.casefold() not in data.locations:
            is_org = any(t.lower_ in data.org_words for t in span)
            found.append(Span(doc, i, end, label="ORG" if is_org else "PERSON"))
        i = end
    return found


def _acronym(token: Any, data: NerData) -> bool:
    text = token.text
    if not (len(text) >= 3 and text.isalpha() and text.isupper()):
        return False
    # In an all-capitals headline every word looks like an acronym.
    doc = token.doc
    neighbours = [doc[j] for j in (token.i - 1, token.i + 1) if 0 <= j < len(doc) and doc[j].is_alpha]
    if any(n.is_upper and len(n) > 1 for n in neighbours):
        return False
    return text.casefold() not in data.not_names and text.casefold() not in data.locations


def _name_word(token: Any) -> bool:
    return bool(token.is_alpha and token.is_title and not token.is_stop and token.whitespace_ != "\n")


def _join_adjacent_persons(entities: list[Entity], text: str) -> list[Entity]:
    """Join two unlinked person spans separated by one space: NER split a name ("Bhasker" "Kode")."""
    out: list[Entity] = []
    for ent in sorted(entities, key=lambda e: e.start):
        prev = out[-1] if out else None
        if (prev is not None and prev.label == ent.label == "PERSON" and prev.id is None and ent.id is None
                and text[prev.end:ent.start] == " "):
            surface = text[prev.start:ent.end]
            out[-1] = Entity(surface, "PERSON", clean_surface(surface), None, prev.start, ent.end)
        else:
            out.append(ent)
    return out


def _link(kb_key: str, name: str, label: str, linker: Linker | None) -> KBEntry | None:
    if linker is None:
        return None
    if kb_key:
        return linker.kb.get(kb_key)
    if label == "PERSON":
        return linker.kb.lookup(name)
    return linker.link(name)
