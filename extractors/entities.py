"""Named entities: spaCy NER mapped to one label set across languages, with clean spans.

Spans are trimmed of surrounding punctuation and never cross a sentence
boundary: when the statistical NER merges text across one (glued sentences),
the longest in-sentence piece is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from spacy.tokens import Doc, Span

from extractors.base import ExtractContext
from extractors.langdata import LangDataError, load_section
from pipeline.records import Entity

LABELS = frozenset({"ORG", "PERSON", "LOCATION", "PRODUCT", "EVENT", "MISC"})


# A name glued after a title continues over at most this many capitalised tokens.
_MAX_NAME_CONTINUATION = 2


@dataclass(frozen=True)
class NerData:
    """The ``ner`` language data of one language, validated."""

    labels: dict[str, str | None]
    trim_chars: str
    person_titles: frozenset[str]


@cache
def ner_data(lang: str) -> NerData:
    """Load and validate ``extractors/lang/ner/<lang>.yaml`` over ``base.yaml``."""
    data = load_section("ner", lang)
    unknown = set(data) - {"labels", "trim_chars", "person_titles"}
    if unknown:
        raise LangDataError(f"ner/{lang}: unknown keys {sorted(unknown)}")
    labels = data.get("labels")
    if not isinstance(labels, dict):
        raise LangDataError(f"ner/{lang}: 'labels' must be a mapping")
    bad = {k: v for k, v in labels.items() if v is not None and v not in LABELS}
    if bad:
        raise LangDataError(f"ner/{lang}: labels map to unknown chipwire labels {bad}; allowed {sorted(LABELS)}")
    titles = data.get("person_titles", [])
    if not isinstance(titles, list) or not all(isinstance(t, str) for t in titles):
        raise LangDataError(f"ner/{lang}: 'person_titles' must be a list of strings")
    return NerData(labels, str(data.get("trim_chars", "")), frozenset(t.casefold() for t in titles))


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
    """Return the document's named entities with chipwire labels and trimmed, in-sentence spans.

    Args:
        doc: A parsed document; blank pipelines simply have no entities.
        ctx: The extraction context (only ``lang`` is used).
    """
    if not doc.ents:
        return ()
    data = ner_data(ctx.lang)
    bounds = sentence_bounds(doc)
    text = doc.text
    out: list[Entity] = []
    for ent in doc.ents:
        label = data.labels.get(ent.label_, "MISC")
        if label is None:
            continue
        ent, had_title = _strip_title(ent, data.person_titles)
        if had_title:
            label = "PERSON"
        start, end = _clip_to_sentence(ent.start_char, ent.end_char, bounds)
        start, end = _trim(text, start, end, data.trim_chars)
        surface = text[start:end]
        if not any(ch.isalnum() for ch in surface):
            continue
        name = clean_surface(surface)
        out.append(Entity(text=surface, label=label, canonical=name, id=None, start=start, end=end))
    return tuple(out)
