"""Named entities: spaCy NER mapped to one label set across languages, with clean spans.

Spans are trimmed of surrounding punctuation and never cross a sentence
boundary: when the statistical NER merges text across one (glued sentences),
the longest in-sentence piece is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import regex
from spacy.attrs import LOWER, ORTH
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span

from extractors.base import ExtractContext, doc_text
from extractors.kb import KBEntry, KnowledgeBase, has_legal_form, load_kb, normalize_alias, without_legal_form
from extractors.langdata import LangDataError, load_section
from extractors.lexicon import has_lexicon, known_word
from extractors.linking import Linker, default_linker, entry_id, entry_label, merge_person_names
from pipeline.records import Entity

LABELS = frozenset({"ORG", "PERSON", "LOCATION", "PRODUCT", "EVENT", "MISC"})
# "National's Series 32000" names the product, not National's possession of it.
_POSSESSIVE = regex.compile(r"['’]s\b")
_HYPHEN = regex.compile(r"(?<=\w)[-‐‑](?=\w)")
_PLURAL_MODEL = regex.compile(r"(?<=\d)s$")
_NAME_GAP = regex.compile(r" (?:[(“\"']\p{Lu}\p{L}+[)”\"'] )?")


# A name glued after a title continues over at most this many capitalised tokens.
_MAX_NAME_CONTINUATION = 2
# The generated place gazetteer (extractors/data/build_places.py): world.json holds the names every
# language shares (subdivisions, cities), <lang>.json the country names in that language.
PLACES_DIR = Path(__file__).parent / "data" / "places"


@dataclass(frozen=True)
class NerData:
    """The ``ner`` language data of one language, validated."""

    labels: dict[str, str | None]
    trim_chars: str
    person_titles: frozenset[str]
    honorifics: frozenset[str]
    not_names: frozenset[str]
    locations: tuple[str, ...]
    places: frozenset[str]
    name_suffixes: tuple[str, ...]
    capitalised_names: bool
    given_names: frozenset[str]
    name_particles: frozenset[str]
    org_words: frozenset[str]
    institutions: frozenset[str]
    model_words: frozenset[str]
    name_conjunctions: frozenset[str]
    determiners: frozenset[str]
    place_words: frozenset[str]
    common_noun_endings: tuple[str, ...]
    common_nouns: frozenset[str]
    role_orgs: dict[str, str]
    government_words: frozenset[str]
    firm_conjunctions: frozenset[str]
    site_domains: frozenset[str]
    org_descriptors: tuple[str, ...]
    name_links: frozenset[str]
    company_words: frozenset[str]
    firm_name_particles: frozenset[str]
    legal_name_words: frozenset[str]
    maker_nouns: frozenset[str]
    appositive_articles: frozenset[str]
    appositive_heads: tuple[str, ...]
    role_links: frozenset[str]
    body_heads: frozenset[str]
    market_indices: regex.Pattern[str] | None
    thing_articles: frozenset[str]
    verb_clitics: frozenset[str]
    word_list: bool


@cache
def ner_data(lang: str) -> NerData:
    """Load and validate ``extractors/lang/ner/<lang>.yaml`` over ``base.yaml``."""
    data = load_section("ner", lang)
    lists = ("person_titles", "honorifics", "not_names", "locations", "name_suffixes", "name_particles", "org_words", "institutions",
             "given_names", "model_words", "name_conjunctions", "determiners", "place_words", "common_noun_endings",
             "common_nouns", "government_words", "firm_conjunctions", "site_domains", "org_descriptors",
             "name_links", "company_words", "firm_name_particles", "maker_nouns", "role_links",
             "appositive_articles", "appositive_heads",
             "body_heads", "market_indices", "thing_articles", "verb_clitics", "legal_name_words")
    unknown = set(data) - {"labels", "trim_chars", "capitalised_names", "gazetteer", "word_list", "role_orgs", *lists}
    role_orgs = data.get("role_orgs", {})
    if not isinstance(role_orgs, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in role_orgs.items()):
        raise LangDataError(f"ner/{lang}: 'role_orgs' must map words to organisation words")
    for flag in ("capitalised_names", "gazetteer", "word_list"):
        if not isinstance(data.get(flag, False), bool):
            raise LangDataError(f"ner/{lang}: '{flag}' must be true or false")
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
    common_nouns = {w.casefold() for w in [*base.get("common_nouns", []), *data.get("common_nouns", [])]}
    given_names = frozenset(data.get("given_names", []))
    places = set(locations)
    if data.get("gazetteer", False):
        # Words the language's rules read otherwise stay theirs, a place named after a person is read
        # as the person ("Álvaro Obregón", "João Pessoa"), and knowledge-base names always win.
        given = {w.casefold() for w in given_names}
        words = given | {w.casefold() for key in ("person_titles", "org_words", "not_names")
                         for w in [*base.get(key, []), *data.get(key, [])]}
        places |= {name for name in gazetteer(lang)
                   if name not in words and name.split()[0] not in given} - _kb_alias_places(lang)
    return NerData(
        labels=labels,
        trim_chars=str(data.get("trim_chars", "")),
        person_titles=frozenset(t.casefold() for t in data.get("person_titles", [])),
        honorifics=frozenset(t.casefold() for t in data.get("honorifics", [])),
        not_names=frozenset(not_names),
        locations=tuple(sorted(locations, key=len, reverse=True)),
        places=frozenset(places),
        name_suffixes=tuple(data.get("name_suffixes", [])),
        capitalised_names=bool(data.get("capitalised_names", False)),
        given_names=given_names,
        name_particles=frozenset(w.casefold() for w in data.get("name_particles", [])),
        org_words=frozenset(w.casefold() for w in data.get("org_words", [])),
        institutions=frozenset(data.get("institutions", [])),
        model_words=frozenset(w.casefold() for w in data.get("model_words", [])),
        name_conjunctions=frozenset(w.casefold() for w in data.get("name_conjunctions", [])),
        determiners=frozenset(w.casefold() for w in data.get("determiners", [])),
        place_words=frozenset(w.casefold() for w in data.get("place_words", [])),
        common_noun_endings=tuple(w.casefold() for w in data.get("common_noun_endings", [])),
        common_nouns=frozenset(common_nouns),
        role_orgs={k.casefold(): v for k, v in role_orgs.items()},
        government_words=frozenset(w.casefold() for w in data.get("government_words", [])),
        firm_conjunctions=frozenset(w.casefold() for w in data.get("firm_conjunctions", [])),
        site_domains=frozenset(w.casefold().lstrip(".") for w in data.get("site_domains", [])),
        org_descriptors=tuple(w.casefold() for w in data.get("org_descriptors", [])),
        name_links=frozenset(w.casefold() for w in data.get("name_links", [])),
        company_words=frozenset(data.get("company_words", [])),
        firm_name_particles=frozenset(w.casefold() for w in data.get("firm_name_particles", [])),
        legal_name_words=frozenset(w.casefold() for w in data.get("legal_name_words", [])),
        maker_nouns=frozenset(w.casefold() for w in data.get("maker_nouns", [])),
        appositive_articles=frozenset(w.casefold() for w in data.get("appositive_articles", [])),
        appositive_heads=tuple(w.casefold() for w in data.get("appositive_heads", [])),
        role_links=frozenset(w.casefold() for w in data.get("role_links", [])),
        body_heads=frozenset(w.casefold() for w in data.get("body_heads", [])),
        market_indices=_alternation([*base.get("market_indices", []), *data.get("market_indices", [])]),
        thing_articles=frozenset(w.casefold() for w in data.get("thing_articles", [])),
        verb_clitics=frozenset(w.casefold().replace("’", "'") for w in data.get("verb_clitics", [])),
        # simplemma's list costs 50-70 MB per language and process: only languages whose rules need it load it.
        word_list=bool(data.get("word_list", False)) and has_lexicon(lang),
    )


def _alternation(names: list[str]) -> regex.Pattern[str] | None:
    """One case-insensitive pattern for ``names``, a space or hyphen matching either ("Nasdaq-100")."""
    if not names:
        return None
    parts = sorted({regex.escape(n).replace(r"\ ", "[ -]") for n in names}, key=len, reverse=True)
    return regex.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", regex.IGNORECASE)


@cache
def gazetteer(lang: str) -> frozenset[str]:
    """Case-folded place names of ``lang``: the shared ``world.json`` and ``<lang>.json`` if there is one.

    Raises:
        LangDataError: when a gazetteer file is malformed.
    """
    names: set[str] = set()
    for path in (PLACES_DIR / "world.json", PLACES_DIR / f"{lang}.json"):
        if not path.exists():
            continue
        try:
            listed = json.loads(path.read_text(encoding="utf-8")).get("names")
        except (ValueError, AttributeError) as exc:
            raise LangDataError(f"{path}: not a gazetteer file: {exc}") from exc
        if not isinstance(listed, list) or not all(isinstance(n, str) and n for n in listed):
            raise LangDataError(f"{path}: 'names' must be a list of non-empty strings")
        names.update(n.casefold() for n in listed)
    return frozenset(names)


def _kb_alias_places(lang: str) -> set[str]:
    """Gazetteer names of ``lang`` that are also knowledge-base aliases in any case ("Nokia", "Toyota",
    "Hitachi"): the company wins, even over a case-sensitive alias."""
    aliases = _kb_aliases()
    return {name for name in gazetteer(lang) if normalize_alias(name) in aliases}


@cache
def _kb_aliases() -> frozenset[str]:
    return frozenset(normalize_alias(alias) for alias, _ in load_kb().aliases())


def map_label(label: str, lang: str) -> str | None:
    """Map a statistical NER label to chipwire's label set; None means "drop", unknown labels become MISC."""
    return ner_data(lang).labels.get(label, "MISC")


def _strip_title(ent: Span, titles: frozenset[str], honorifics: frozenset[str]) -> tuple[Span | None, bool]:
    """Drop leading titles ("PDG", "CEO", "M.") from ``ent``; extend the rest over the name they cut.

    A function's lower-case complement goes with it ("ministre de la Santé Roman Prymula" is Roman
    Prymula); after an honorific a particle belongs to the name ("M. de Villepin"). Returns the
    new span, or None when the span was only a function ("ministre de la Santé", "CEO"), and
    whether a title was removed (the remainder is then a person).
    """
    doc = ent.doc
    start = ent.start
    while start < ent.end:
        if start + 2 <= ent.end and doc[start:start + 2].text.casefold() in titles:
            start += 2  # a title of two words ("Premier ministre", "Prime Minister")
        elif doc[start].text.casefold() in titles:
            start += 1
        else:
            break
    if start == ent.start:
        return ent, False
    if start < ent.end and doc[start].is_lower and doc[start - 1].text.casefold() not in honorifics:
        # "de la Santé", "of Commerce": particles, then the one capitalised word they govern
        while start < ent.end and doc[start].is_lower:
            start += 1
        start += 1
    if start >= ent.end:
        return None, False
    end = ent.end
    # NER that swallowed a title usually cut the name short ("PDG Sam" + "Altman").
    while end < len(doc) and end - ent.end < _MAX_NAME_CONTINUATION:
        token = doc[end]
        if not (token.is_alpha and token.is_title and not token.is_stop and not doc[end - 1].whitespace_.count("\n")):
            break
        end += 1
    return doc[start:end], True


def _without_leading_common_words(ent: Span, data: NerData) -> Span | None:
    """Drop the lower-case words a statistical NER put before a name ("le tabloïd Blesk" gives
    "tabloïd Blesk"): a name starts with a capital or with a name particle ("de Gaulle"). A title
    stays, for :func:`_strip_title` to take with its complement ("ministre de la Santé Roman Prymula")."""
    start = ent.start
    doc = ent.doc
    while (start < ent.end and doc[start].is_lower and doc[start].is_alpha and doc[start].lower_ not in data.name_particles
           and doc[start].lower_ not in data.person_titles):
        start += 1
    if start == ent.start:
        return ent
    return Span(doc, start, ent.end, label=ent.label_) if start < ent.end else None


def _without_trailing_clitic(ent: Span, data: NerData) -> Span:
    """Drop an elided pronoun or negation the NER glued after a name ("Monsanto n’est" gives
    "Monsanto n’"): it belongs to the verb that follows. An elided article or preposition stays
    ("l’Agence des participations de l’"): there the NER cut a longer name."""
    end = ent.end
    while end - ent.start > 1 and ent.doc[end - 1].lower_.replace("’", "'") in data.verb_clitics:
        end -= 1
    return ent if end == ent.end else Span(ent.doc, ent.start, end, label=ent.label_)


def _lone_common_word(ent: Span, data: NerData, lang: str) -> bool:
    """An unlinked organisation or thing that a statistical NER named by one common word of the
    language: cut from a longer name ("Conseil" of "Conseil des ministres"), or capitalised by its
    place at a sentence start ("Membre de la coalition…") and nowhere else in the article. Persons
    are kept: surnames are often common words ("Fischer", "Leblanc"); so are places ("Japan", also
    a word for lacquer).
    """
    doc = ent.doc
    token = doc[ent.start]
    if not (len(ent) == 1 and ent.label_ not in {"PER", "PERSON"} and token.is_title and token.is_alpha
            and token.text.casefold() not in data.places and data.word_list and known_word(token.lower_, lang)):
        return False
    if ent.end < len(doc) and doc[ent.end].pos_ in {"ADP", "DET"} and doc[ent.end].is_lower:
        return True
    return _sentence_start(doc, ent.start) and not any(
        t.text == token.text and not _sentence_start(doc, t.i) for t in doc if t.i != token.i)


def _maker_named_first(surface: str, entry: KBEntry, kb: KnowledgeBase) -> tuple[str, KBEntry] | None:
    """The maker a product's name starts with ("Intel Xeon", "Microsoft Windows"): the article
    names the company too. Returns the maker's words and entry."""
    if entry.kind != "product" or not entry.maker:
        return None
    words = surface.split(" ")
    for n in range(min(3, len(words) - 1), 0, -1):
        head = " ".join(words[:n])
        found = kb.lookup(head)
        if found is not None and found.key == entry.maker:
            return head, found
    return None


def _from_given_name(ent: Span, data: NerData) -> Span:
    """A person's name starts at its given name when words before it are a function or a title.

    The statistical NER takes the end of a job title into the name ("de la Santé Olivier Véran"
    after "ministre", "Président Emmanuel Macron"); a name that starts with a given name
    ("Pilar del Río", "Charles de Gaulle") or has none inside is left as it is.
    """
    doc = ent.doc
    if len(ent) < 3 or ent[0].text in data.given_names:
        return ent
    for k in range(ent.start + 1, ent.end - 1):
        rest = doc[k:ent.end]
        if doc[k].text in data.given_names and all(_name_like(t.text) for t in rest):
            return rest
    return ent


def _name_like(word: str) -> bool:
    """A capitalised word of letters, hyphens or apostrophes ("Véran", "Jean-Pierre", "O'Neil")."""
    return word[:1].isupper() and word.replace("-", "").replace("'", "").replace("’", "").isalpha()


def sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    """Character bounds of the sentences, repairing the parser's splits inside names.

    The statistical parser sometimes starts a sentence in the middle of a name
    ("Le PDG Sam | Altman a fait", "les GeForce RTX 5070 | Ti, se"). A sentence ends
    with punctuation or a line break: a boundary with neither before it is such a
    split and is ignored.
    """
    bounds: list[tuple[int, int]] = []
    for sent in doc.sents:
        first = sent[0]
        if bounds and first.i > 0:
            prev = doc[first.i - 1]
            if not (prev.is_punct or prev.is_space) and "\n" not in prev.whitespace_:
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
    text = doc_text(doc)
    out: list[Entity] = []
    rules = settings.rules
    found = [*doc.ents, *(_titled_persons(doc, data, ctx.lang) + _site_names(doc, data) if rules else [])]
    statistical = {(ent.start, ent.end) for ent in doc.ents if not ent.id_}
    names: dict[tuple[int, int], str] = {}
    terms = _common_term_acronyms(doc) if rules else frozenset()
    if rules and data.capitalised_names and not doc.has_annotation("POS") and not doc.has_annotation("TAG"):
        by_case, names = _capitalised_names(doc, data, found, terms)
        found += by_case
    if rules and (data.org_descriptors or data.company_words):
        found += _described_organisations(doc, data, ctx.lang, found)
    apposed: set[tuple[int, int]] = set()
    if rules and data.appositive_heads:
        apposed = _appositive_organisations(doc, data, ctx.lang, found)
        found += [Span(doc, a, b, label="ORG") for a, b in apposed
                  if not any(ent.start == a and ent.end == b for ent in found)]
    # A stock index is no organisation, even named after its exchange ("Nasdaq 100", "CAC 40").
    indices = ([m.span() for m in data.market_indices.finditer(text)]
               if rules and data.market_indices is not None else [])
    models: set[tuple[int, int]] = set()
    if rules and linker is not None:
        found, models = _with_model_numbers(doc, found, data, linker.kb)
    if rules:
        found = _whole_firm_names(doc, found, data)
    for ent in sorted(found, key=lambda e: e.start):
        label = data.labels.get(ent.label_, "MISC")
        if (ent.start, ent.end) in apposed:
            label = "ORG"  # "Upmem, une start-up française": the apposition says what it is
        if label is None or (ent.id_ and (_inside_longer_word(text, ent)
                                          or _lower_case_phrase(ent, linker.kb if linker else None, data, ctx.lang))):
            continue
        if rules and (ent.text.casefold() in data.not_names
                      or any(a <= ent.start_char and ent.end_char <= b for a, b in indices)):
            continue
        if rules and not ent.id_ and (_is_noise(ent) or _in_capitals_line(ent) or _names_a_term(ent, terms, data)
                                      or _ticker(ent) or _model_word_after_number(ent, data)):
            continue
        if rules and ent.id_ and (_common_word_before_maker(ent, data, ctx.lang)
                                  or (linker is not None and _lower_word_inside(ent, linker.kb, data, ctx.lang))):
            continue
        if rules and not ent.id_ and (ent.start, ent.end) in statistical:
            trimmed = _without_leading_common_words(_without_trailing_clitic(ent, data), data)
            if trimmed is None or _lone_common_word(trimmed, data, ctx.lang):
                continue
            ent = trimmed
            if label in {"MISC", "PERSON"} and _after_org_descriptor(doc, ent.start, data):
                label = "ORG"  # "le tabloïd Blesk", "la maison d'édition Actes Sud", "venture firm Activate"
            if label == "ORG" and _place_before_region(ent, data, ctx.lang):
                label = "LOCATION"
            body = _body_of_role(ent, data) if label == "ORG" else None
            if body is not None:
                names[(ent.start, ent.end)] = f"{body} {doc[ent.start - 1].text} {ent.text}"
        named = names.get((ent.start, ent.end))
        stripped, had_title = (_strip_title(ent, data.person_titles, data.honorifics) if rules and not named
                               else (ent, False))
        if stripped is None:
            continue
        ent = stripped
        if had_title:
            label = "PERSON"
        if rules and label == "PERSON" and not named:
            ent = _from_given_name(ent, data)
        start, end = _clip_to_sentence(ent.start_char, ent.end_char, bounds)
        start, end = _trim(text, start, end, data.trim_chars)
        surface = text[start:end]
        if not any(ch.isalnum() for ch in surface):
            continue
        name = clean_surface(named or surface)
        if named is not None and name[:1].islower():
            name = name[:1].upper() + name[1:]  # "el ministerio de Seguridad Pública"
        if (ent.start, ent.end) in models:
            # "Snapdragon-888-Chip" names the Snapdragon 888; "RTX 3080s" are RTX 3080 cards.
            name = _PLURAL_MODEL.sub("", _HYPHEN.sub(" ", name))
        if rules and not ent.id_:
            if name.casefold() in data.places or name.casefold() + "." in data.places:
                out.append(Entity(surface, "LOCATION", name, None, start, end))
                continue
            if label in {"ORG", "MISC"}:
                name = _without_leading_place(name, data.locations)
            if not name or name.casefold() in data.not_names:
                continue
        entry = _link(ent.id_, name, label, linker, exact=(ent.start, ent.end) in models)
        if entry is not None:
            # A company is named as it was when the article appeared ("Matsushita" in 1987, not Panasonic).
            out.append(Entity(surface, entry_label(entry), entry.name_on(ctx.published), entry_id(entry), start, end))
            maker = _maker_named_first(surface, entry, linker.kb) if linker is not None and rules else None
            if maker is not None:
                out.append(Entity(maker[0], "ORG", maker[1].name_on(ctx.published), entry_id(maker[1]),
                                  start, start + len(maker[0])))
        else:
            name = _POSSESSIVE.sub("", name)
            # The usual short name, as a linked company's canonical is ("Sanwa Bank", not "Sanwa Bank Ltd").
            out.append(Entity(surface, label, without_legal_form(name, data.firm_conjunctions) if label == "ORG" else name, None, start, end))
    if not rules:
        return tuple(out)
    out = _join_adjacent_persons(out, text)
    out = _with_firm_partners(out, text, data)
    # A legal form left alone ("AG" cut from "Siemens AG" by the NER) names nothing.
    out = [e for e in out if e.id is not None or normalize_alias(f"x {e.canonical}") != "x"]
    renamed = merge_person_names((i, e.canonical) for i, e in enumerate(out) if e.label == "PERSON")
    out = [replace(e, canonical=renamed[i]) if i in renamed else e for i, e in enumerate(out)]
    out = [e for i, e in enumerate(out) if i in renamed or not _lone_word_at_start(e, text, bounds)]
    return tuple(_short_org_names(out))


# Reuters gives a listed company's exchange code after its full name: "Siemens AG <SIEG.F>", "(MIET.T)".
_TICKER_CODE = regex.compile(r"[A-Z][A-Z0-9]{0,5}(?:\.[A-Z]{1,2})?")
# A blank line, or a line break before an indented line, starts a new paragraph (or the body after a
# headline): a firm's name never runs over one, a name wrapped at a line's end does.
_PARAGRAPH_BREAK = regex.compile(r"\n[ \t]*\n|\n[ \t]")
# At most this many tokens lie between a recognised piece of a firm's name and its ticker.
_MAX_NAME_PIECES = 4


def _ticker_at(doc: Doc, k: int) -> bool:
    """Whether tokens ``k``… are an exchange code in angle brackets ("<", "PGLO.AS", ">")."""
    return (k + 2 < len(doc) and doc[k].text == "<" and doc[k + 2].text == ">"
            and _TICKER_CODE.fullmatch(doc[k + 1].text) is not None)


def _in_brackets(ent: Span) -> bool:
    doc = ent.doc
    return (ent.start > 0 and ent.end < len(doc) and doc[ent.start - 1].text in {"(", "<"}
            and doc[ent.end].text in {")", ">"})


def _legal_form_token(token: Any) -> bool:
    return bool(token.is_alpha and has_legal_form(f"x {token.text}"))


def _firm_name_end(doc: Doc, span: Span, data: NerData) -> tuple[int, bool]:
    """Where the firm name that ``span`` starts really ends, and whether it is still the same firm.

    Before a Reuters ticker every capitalised piece belongs to it ("NV Philips" +
    "Gloeilampenfabrieken <PGLO.AS>", "Beeba" + "'s Creations Inc <BEBA>"): the firm's full name. A particle with
    capitalised words ("Barclays de Zoete Wedd") or a bracketed place and a legal form
    ("Salomon Brothers (Asia) Ltd") name another firm, a subsidiary named after the known one.
    """
    end = span.end
    legal = end
    while legal < len(doc) and _legal_form_token(doc[legal]):
        legal += 1
    k = end
    while k < len(doc) and k - end < _MAX_NAME_PIECES and not _PARAGRAPH_BREAK.search(doc[k].text) and (
            doc[k].is_space or doc[k].lower_ in {"'s", "’s"} or _legal_form_token(doc[k])
            or (doc[k].is_alpha and not doc[k].is_lower)):
        k += 1
    if k > legal and _ticker_at(doc, k):
        while doc[k - 1].is_space:
            k -= 1
        return k, True
    body = _body_end(doc, span, data)
    if body is not None:
        return body, False
    end = legal  # a legal form alone adds nothing to the name ("Texas Instruments Inc")
    if end == span.end and span.id_:
        # The registered name spelled out ("Rivian Automotive Inc.", "Mobileye Global Inc."): generic
        # business words and a legal form after the known name are the same firm, not another one.
        k = end
        while k < len(doc) and k - end < _MAX_NAME_PIECES and doc[k].lower_ in data.legal_name_words:
            k += 1
        if k > end and k < len(doc) and has_legal_form(f"x {doc[k].text.rstrip('.')}"):
            return k + 1, True
    if end < len(doc) and doc[end].lower_ in data.firm_name_particles and span.id_:
        k = end + 1
        while k < len(doc) and _name_word(doc[k]):
            k += 1
        if k > end + 1:
            return k + (k < len(doc) and _legal_form_token(doc[k])), False
    if (end + 3 < len(doc) and doc[end].text == "(" and _name_word(doc[end + 1]) and doc[end + 2].text == ")"
            and _legal_form_token(doc[end + 3])):
        return end + 4, False
    return span.end, True


def _body_end(doc: Doc, span: Span, data: NerData) -> int | None:
    """The end of a body named after a known organisation ("Senate Finance Committee", "White
    House Economic Policy Council"): capitalised words, at least one before the body's head word,
    possibly wrapped over a line. None when no such name follows ``span``."""
    if not span.id_ or not data.body_heads:
        return None
    k, words, end = span.end, 0, None
    while k < len(doc):
        token = doc[k]
        if token.is_space and token.text.count("\n") <= 1 and not _PARAGRAPH_BREAK.search(token.text):
            k += 1
            continue
        if not (token.is_alpha and token.is_title and not token.is_stop):
            break
        words += 1
        k += 1
        if token.lower_ in data.body_heads and words >= 2:
            end = k
    return end


def _whole_firm_names(doc: Doc, spans: list[Span], data: NerData) -> list[Span]:
    """Extend organisations over the rest of their firm's name (see :func:`_firm_name_end`).

    Spans the longer name covers are dropped. A name that is still the known firm keeps its
    link; a subsidiary named after it is unlinked, to be linked (or not) by its whole name.
    """
    out: list[Span] = []
    extended: list[Span] = []
    for span in spans:
        if span.label_ == "ORG":
            end, same = _firm_name_end(doc, span, data)
            if end > span.end:
                span = (Span(doc, span.start, end, label="ORG", span_id=span.id_) if same
                        else Span(doc, span.start, end, label="ORG"))
                extended.append(span)
        out.append(span)
    return [span for span in out if not any(
        longer is not span and longer.start <= span.start < longer.end for longer in extended)]


def _ticker(ent: Span) -> bool:
    """An exchange code in brackets ("<BEBA>", "(MIET.T)"): Reuters' ticker, not a name.

    In round brackets only a code with an exchange suffix counts: "(FCC)" is an acronym.
    """
    if not _in_brackets(ent) or _TICKER_CODE.fullmatch(ent.text) is None:
        return False
    return ent.doc[ent.start - 1].text == "<" or "." in ent.text


def _common_word_before_maker(ent: Span, data: NerData, lang: str) -> bool:
    """A one-word company alias that is a common noun, used as one before "maker" ("a U.S.
    Microchip maker"): the article means the thing the firms make, not the company."""
    doc = ent.doc
    return (len(ent) == 1 and ent.end < len(doc) and doc[ent.end].lower_ in data.maker_nouns
            and data.word_list and known_word(ent[0].lower_, lang))


def _lower_word_inside(ent: Span, kb: KnowledgeBase, data: NerData, lang: str) -> bool:
    """A company's name that starts with a function word, matched in a phrase of common words with
    one in lower case as no alias writes it ("the U.S. On semiconductor trade" is not onsemi).
    Other names stay, whatever their case ("U.S. Trade representative": a wire's stray lower case)."""
    words = ent.text.split()  # words, not tokens: character-segmented scripts split every letter
    entry = kb.get(ent.id_) if len(words) > 1 and data.word_list else None
    if entry is None or entry.kind != "org":
        return False
    written = {word for alias in (entry.canonical, *entry.aliases, *entry.case_sensitive_aliases)
               for word in alias.split() if word.islower()}
    vocab = ent.doc.vocab
    return (vocab[words[0].casefold()].is_stop and all(known_word(w.casefold(), lang) for w in words)
            and any(w.isalpha() and w.islower() and not vocab[w].is_stop and w not in written for w in words[1:]))


def _place_before_region(ent: Span, data: NerData, lang: str) -> bool:
    """A one-word "organisation" that is a known place followed by its region ("Sendai, northern
    Japan", "Hsinchu, Taiwan"): the place itself, as the NER's place label would have it."""
    doc = ent.doc
    k = ent.end
    if len(ent) != 1 or ent[0].lower_ not in gazetteer(lang) or k + 1 >= len(doc) or doc[k].text != ",":
        return False
    k += 1
    if doc[k].is_lower and doc[k].is_alpha and k + 1 < len(doc):
        k += 1  # "northern"
    while doc[k].is_space and k + 1 < len(doc):
        k += 1
    return doc[k].ent_type_ in {"GPE", "LOC"} or doc[k].text.casefold() in data.locations


def _body_of_role(ent: Span, data: NerData) -> str | None:
    """The body an office names ("Minister of International Trade and Industry" → "Ministry"),
    for a statistical NER span that kept only the office's portfolio."""
    doc = ent.doc
    if ent.start < 2 or doc[ent.start - 1].lower_ not in data.role_links:
        return None
    return data.role_orgs.get(doc[ent.start - 2].lower_)


def _lone_word_at_start(ent: Entity, text: str, bounds: list[tuple[int, int]]) -> bool:
    """An unlinked one-word person or organisation that is a whole line ("Références", "Articles"), or a
    one-word person starting a sentence ("Nécessité de…", "Followin the…") that names nobody else in
    the article: capitalised by position, not a name.
    """
    if ent.id is None and ent.label in {"PERSON", "ORG", "MISC"} and " " not in ent.canonical:
        line_start = text.rfind("\n", 0, ent.start) + 1
        line_end = text.find("\n", ent.end)
        line = text[line_start:len(text) if line_end < 0 else line_end]
        if line.strip(" #*-–—:.\t") == ent.text:
            return True
        return ent.label == "PERSON" and any(start == ent.start for start, _ in bounds)
    return False


# Partners' firms: "Hambrecht and Quist Inc", "Procter & Gamble Co" (the NER keeps the last name only).
# The conjunction is the language's (``firm_conjunctions``).
_FIRM_PARTNER = regex.compile(r"\b(\p{Lu}[\p{L}.]+) (\S+) $")


def _with_firm_partners(entities: list[Entity], text: str, data: NerData) -> list[Entity]:
    """Extend an unlinked firm name with a legal form over a partner named before it ("Hambrecht and")."""
    out = []
    for ent in entities:
        before = _FIRM_PARTNER.search(text, max(0, ent.start - 40), ent.start)
        if (ent.id is None and ent.label == "ORG" and before and before.group(2).casefold() in data.firm_conjunctions
                and has_legal_form(ent.text)):
            surface = text[before.start():ent.end]
            ent = Entity(surface, "ORG", clean_surface(surface), None, before.start(), ent.end)
        out.append(ent)
    return out


def _short_org_names(entities: list[Entity]) -> list[Entity]:
    """A one-word unlinked organisation that is the first word of exactly one longer organisation
    named in the article is that organisation ("National's" after "National Semiconductor")."""
    longer: dict[str, set[tuple[str, str | None]]] = {}
    for ent in entities:
        words = ent.canonical.split()
        # "GenCorp Inc" is GenCorp itself, not a longer name.
        if ent.label == "ORG" and len(normalize_alias(ent.canonical).split()) >= 2:
            longer.setdefault(words[0].casefold(), set()).add((ent.canonical, ent.id))
    out = []
    for ent in entities:
        full = longer.get(ent.canonical.casefold(), set())
        if ent.label == "ORG" and ent.id is None and " " not in ent.canonical and len(full) == 1:
            canonical, ent_id = next(iter(full))
            ent = replace(ent, canonical=canonical, id=ent_id)
        out.append(ent)
    return out


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
    """A knowledge-base alias written all in lower case ("microchip technology") is a phrase, not a name.

    Only for names written entirely in a cased script: "骁龙8cx" is a Chinese name with a model number.
    """
    letters = [ch for ch in surface if ch.isalpha()]
    if any(ch.lower() == ch.upper() for ch in letters):
        return False
    return surface == surface.lower() and surface != surface.upper()


def _lower_case_phrase(ent: Span, kb: KnowledgeBase | None, data: NerData, lang: str) -> bool:
    """A knowledge-base alias written in lower case and made of the language's words ("microchip
    technology"). A name that is no word stays a name in any case ("nvidia" in a list of firms),
    and so does a name whose own spelling is lower case ("dpa"); without a dictionary, lower case
    alone decides."""
    surface = ent.text
    if not _all_lower(surface):
        return False
    entry = kb.get(ent.id_) if kb is not None else None
    if entry is not None and surface in {entry.canonical, *entry.aliases, *entry.case_sensitive_aliases}:
        return False
    return not data.word_list or all(known_word(w, lang) for w in surface.split())


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


def _common_term_acronyms(doc: Doc) -> frozenset[str]:
    """Acronyms the article introduces for a common noun phrase, in brackets after its lower-case
    words: "proposta de emenda à Constituição (PEC)", "projeto de decreto legislativo (PDL)". They
    name kinds of things, not organisations. The initials of the phrase's content words must spell
    the acronym and the phrase must start in lower case.
    """
    found: set[str] = set()
    text = doc_text(doc)
    at = text.find("(")
    while at != -1:
        bracket = doc.char_span(at, at + 1)
        at = text.find("(", at + 1)
        if bracket is None or not 1 <= bracket.start < len(doc) - 2:
            continue
        i = bracket.start + 1
        acronym = doc[i].text
        if not (doc[i + 1].text == ")" and acronym.isalpha() and acronym.isupper() and len(acronym) >= 2):
            continue
        words = [t for t in doc[max(0, i - 1 - 3 * len(acronym)):i - 1] if t.is_alpha and not t.is_stop]
        phrase = words[-len(acronym):]
        if (len(phrase) == len(acronym) and phrase[0].is_lower
                and "".join(t.text[0] for t in phrase).casefold() == acronym.casefold()):
            found.add(acronym)
    return frozenset(found)


def _names_a_term(ent: Span, terms: frozenset[str], data: NerData) -> bool:
    """An unlinked entity that is a common term: an acronym the article defines as one, or a phrase
    followed by such an acronym or a generic one in brackets ("Application Specific Integrated
    Circuits (ASIC)")."""
    if ent.text in terms:
        return True
    doc = ent.doc
    k = ent.end
    if k + 2 < len(doc) and doc[k].text == "(" and doc[k + 2].text == ")":
        return doc[k + 1].text in terms or doc[k + 1].text.casefold() in data.not_names
    return False


def _in_capitals_line(ent: Span) -> bool:
    """An unlinked entity in an all-capitals line (a wire headline): NER on such text is guesswork."""
    if not ent.text.isupper():
        return False
    words = [t for t in ent.sent if t.is_alpha and len(t) > 1]
    return bool(words and sum(t.is_upper for t in words) >= 0.8 * len(words))


@cache
def _string_ids(words: frozenset[str]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """spaCy's string ids (hashes, the same in every vocabulary) of ``words``."""
    return np.array(sorted(get_string_id(w) for w in words), dtype=np.uint64)


def _titled_persons(doc: Doc, data: NerData, lang: str) -> list[Span]:
    """Person names outside other entities: after a title ("Nvidia-Chef Jensen Huang", "CEO Lisa Su")
    or starting with a known given name ("Logan Purk").

    Pipelines without a statistical NER (blank languages) find persons only this way; with one,
    it adds the names the NER missed.
    """
    taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
    found: list[Span] = []
    # Only a title or a given name can start a name: find those words in spaCy's arrays of
    # string ids instead of making a Python object of every token (the loop's main cost).
    lower = doc.to_array(LOWER)
    starts = np.isin(lower, _string_ids(data.person_titles))
    if not data.capitalised_names:
        starts |= np.isin(doc.to_array(ORTH), _string_ids(data.given_names))
    for i in np.flatnonzero(starts).tolist():
        token = doc[i]
        if token.i in taken:
            continue
        if token.text.casefold() in data.person_titles:
            start = token.i + 1
        elif token.text in data.given_names and token.is_title and not data.capitalised_names:
            # (where names are found by capitalisation, that rule sees the whole name)
            start = token.i
        else:
            continue
        end, words = start, 0
        while end < len(doc) and words < 3 and end not in taken:
            if _name_word(doc[end]):
                end, words = end + 1, words + 1
            elif words and _double_given_name(doc, end, data):
                end += 1  # the hyphen of "Jean-Claude", which blank tokenizers split off
            else:
                break
        # A double surname ("Peter Wolf-Karnitschnig"), not a compound of the name and a noun
        # ("Müller-Aktien").
        while (words >= 2 and _glued_hyphen(doc, end) and end + 1 not in taken
               and not (data.word_list and known_word(doc[end + 1].lower_, lang))):
            end += 2
        if words >= 2:  # a first and a last name: one capitalised word alone is too often a noun
            found.append(Span(doc, start, end, label="PERSON"))
            taken.update(range(start, end))
    return found


# A capitalised site name: "Meteo.it", "Boursorama.com", "Yahoo.co.jp" (not in a URL: no slash, no "www.").
_SITE_NAME = regex.compile(r"\p{Lu}[\p{L}\d]*(?:-[\p{L}\d]+)*((?:\.\p{Ll}{2,4}){1,2})")


def _site_names(doc: Doc, data: NerData) -> list[Span]:
    """Websites named as sources ("Meteo.it comunica", "selon Boursorama.com"): organisations.

    The domain must be one of the language data's ``site_domains`` so that file names
    ("Rapport.pdf") stay out.
    """
    found: list[Span] = []
    for match in _SITE_NAME.finditer(doc_text(doc)):
        # One whole token only: a match inside a longer token (a URL) has no token-aligned span.
        span = doc.char_span(match.start(), match.end(), label="ORG")
        if span is not None and len(span) == 1 and match.group(1).lstrip(".") in data.site_domains:
            found.append(span)
    if not found:
        return found
    taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
    return [span for span in found if span.start not in taken]


def _glued_word(doc: Doc, i: int) -> str:
    """The word token ``i`` ends when hyphens glue it to the tokens before ("US-Chipkonzern", "Start-up")."""
    j = i
    while j > 0 and not doc[j - 1].whitespace_ and (doc[j - 1].text in _HYPHENS or doc[j].text in _HYPHENS):
        j -= 1
    return doc[j:i + 1].text.casefold()


def _unknown_name_word(token: Any, data: NerData, lang: str) -> bool:
    """A capitalised word that is no word of the language's dictionary, no place and no title."""
    text = token.text
    return bool(text[:1].isupper() and token.is_alpha and not token.is_stop and text.casefold() not in data.not_names
                and text.casefold() not in data.places and text.casefold() not in data.person_titles
                and (text.isupper() or not (data.word_list and known_word(text, lang))))


def _after_org_descriptor(doc: Doc, start: int, data: NerData) -> bool:
    """Whether the name at token ``start`` follows a noun that introduces an organisation by its
    trade ("l'hebdomadaire Respekt", "der Chipkonzern Infineon"), a linking word allowed between."""
    j = start - 1
    while j >= 0 and doc[j].lower_ in data.name_links:
        j -= 1
    # (an empty tuple of descriptors matches nothing)
    return j >= 0 and doc[j].is_alpha and _glued_word(doc, j).endswith(data.org_descriptors)


def _described_organisations(doc: Doc, data: NerData, lang: str, known: list[Span]) -> list[Span]:
    """Organisations named where nouns are capitalised too (German), by two cues.

    * After a noun that introduces a company by its trade ("der Stahlkonzern Voestalpine",
      "Analysehaus Bernstein", "ein Start-up namens Knowm"), a capitalised word that the language's
      dictionary does not know; company words or acronyms after it continue the name.
    * A capitalised run that ends with a company word ("Franklin Resources", "CI Financial",
      "Nationwide Fund Advisors"), from its first word that the dictionary does not know.

    Every other mention of a name found so is the organisation too ("Voestalpine hat …").
    """
    taken = {i for ent in known for i in range(ent.start, ent.end)}
    found: list[Span] = []

    def take(start: int, end: int) -> None:
        found.append(Span(doc, start, end, label="ORG"))
        taken.update(range(start, end))

    def continues(k: int) -> bool:
        return (k < len(doc) and k not in taken and bool(doc[k - 1].whitespace_)
                and (doc[k].text in data.company_words or (doc[k].text.isupper() and doc[k].is_alpha)))

    for token in doc:
        i = token.i
        if i in taken or not data.org_descriptors or not token.is_alpha:
            continue
        if not _glued_word(doc, i).endswith(data.org_descriptors) or not token.whitespace_:
            continue
        k = i + 1
        while k < len(doc) and doc[k].lower_ in data.name_links and doc[k].whitespace_:
            k += 1
        if k >= len(doc) or k in taken or not _unknown_name_word(doc[k], data, lang):
            continue
        end = k + 1
        while end - k < 4 and continues(end):
            end += 1
        take(k, end)
    for token in doc:
        i = token.i
        # Without a dictionary every capitalised word would look unknown: the run needs one.
        if i in taken or token.text not in data.company_words or not data.word_list:
            continue
        # Before a legal form every capitalised word belongs to the name, common words too ("Casinos
        # Austria AG", "Leipnik-Lundenburger Invest Beteiligungs AG"); before a company word the name
        # starts at its first word that the dictionary does not know ("Konkurrent Franklin Resources").
        legal = has_legal_form(f"x {token.text}")
        start = i
        while start > 0 and i - start < (6 if legal else 3) and start - 1 not in taken:
            before = doc[start - 1]
            glued = legal and not before.whitespace_ and (before.text in _HYPHENS or doc[start].text in _HYPHENS)
            if not (glued or (before.whitespace_ == " " and before.is_alpha and before.text[:1].isupper()
                              and not before.is_stop
                              and not _glued_word(doc, start - 1).endswith(data.org_descriptors))):
                break
            start -= 1
        while start < i and (doc[start].text in _HYPHENS or (
                not legal and not _unknown_name_word(doc[start], data, lang))):
            start += 1
        end = i + 1
        while end - start < 5 and continues(end):
            end += 1
        if start < i:
            take(start, end)
    names = {span.text for span in found}
    for token in doc:
        if token.i in taken or not token.is_alpha:
            continue
        for name in names:
            words = len(name.split())
            text = doc[token.i:token.i + words].text
            if (text == name or (words == 1 and text == name + "s")) and not any(
                    j in taken for j in range(token.i, token.i + words)):
                take(token.i, token.i + words)
                break
    return found


#: Tokens at most between an apposition's article and its company noun ("an AI software startup").
_APPOSITION_WORDS = 4
#: Tokens at most in a name described by an apposition.
_APPOSED_NAME_TOKENS = 4


def _apposed_name_token(token: Any, data: NerData) -> bool:
    """A token that may belong to a company's name: capitalised, or letters with digits ("MK1")."""
    text = token.text
    return (bool(text) and text.isalnum() and not token.is_stop and text.casefold() not in data.places
            and text.casefold() not in data.person_titles and (text[:1].isupper() or (
                any(c.isdigit() for c in text) and any(c.isupper() for c in text))))


def _appositive_organisations(doc: Doc, data: NerData, lang: str, known: list[Span]) -> set[tuple[int, int]]:
    """Token spans of names that the apposition after them makes organisations.

    "AMD has acquired MK1, an AI software startup", "un contrato con Tsavorite Scalable
    Intelligence, una firma estadounidense": a capitalised run right before a comma, then an
    indefinite article and, a few plain words on, a company noun of the language. New companies
    appear in the news this way before any list has them. A preposition or other function word
    before the noun ("a co-founder of the startup") or a run of dictionary words only ("In July,
    a company ...") makes no name. A name already found unlinked and read as something else
    (the model's MISC, a rule's person) is the organisation; a linked one keeps its entry.
    """
    # The statistical model's persons stay persons ("Tim Cook, a company veteran"); a rule's guess
    # from capitals alone yields to the apposition.
    model_persons = {(ent.start, ent.end) for ent in doc.ents if ent.label_ in {"PERSON", "PER"}}
    unlinked = {ent.end: ent for ent in known if not ent.id_ and ent.label_ != "ORG"
                and (ent.start, ent.end) not in model_persons}
    taken = {i for ent in known for i in range(ent.start, ent.end)}
    found: set[tuple[int, int]] = set()
    for comma in doc:
        k = comma.i
        if comma.text != "," or k == 0 or k + 2 >= len(doc) or doc[k + 1].lower_ not in data.appositive_articles:
            continue
        head = None
        for j in range(k + 2, min(len(doc), k + 3 + _APPOSITION_WORDS)):
            if _glued_word(doc, j).endswith(data.appositive_heads) and doc[j].is_alpha:
                head = j
                break
            if doc[j].is_stop or (doc[j].is_punct and doc[j].text not in _HYPHENS):
                break
        if head is None:
            continue
        before = unlinked.get(k)
        if before is not None and all(_apposed_name_token(t, data) for t in before):
            found.add((before.start, k))
            continue
        start = k
        while start > 0 and k - start < _APPOSED_NAME_TOKENS and start - 1 not in taken \
                and _apposed_name_token(doc[start - 1], data) and (start == k or doc[start - 1].whitespace_):
            start -= 1
        if start == k or (start > 0 and start - 1 in taken):
            continue
        run = doc[start:k]
        if not any(_unknown_name_word(t, data, lang) or not t.is_alpha or t.text.isupper() for t in run):
            continue
        found.add((start, k))
        taken.update(range(start, k))
    return found


def _capitalised_names(doc: Doc, data: NerData, known: list[Span], terms: frozenset[str]
                       ) -> tuple[list[Span], dict[tuple[int, int], str]]:
    """Names found by capitalisation, for languages with no statistical NER whose nouns are lower case.

    A run of two or more capitalised words (the language's name particles allowed inside: "Luiz
    Fux", "Caja del Seguro Social") is a name; it is an ORG when one of its words is an
    organisation word of the language, a place when it starts with a place word ("Valle Roveto",
    "Castel di Sangro"), else a PERSON unless a word has a common-noun ending ("Seguridad Pública").
    An all-capitals word of three or more letters is an acronym, an ORG, and so is a capitalised word
    that names one institution on its own ("el Congreso", "do Senado"). Also:

    * heading words: at the start of a line a capitalised word is capitalised by position, so a
      section label glued to a name ("Origen Rusia", "- Política Câmara aprova") is dropped: words
      before the first organisation word, or a first word that is no given name;
    * an organisation's name goes on over a list inside it ("Ministerio de Ciencia, Tecnología y
      Telecomunicaciones", "Parco Nazionale d'Abruzzo, Lazio e Molise");
    * a ministry named after its minister or in lower case ("ministro de Hacienda", "el ministerio de
      Seguridad Pública") is the ministry, with the language's name for it;
    * an abbreviation in brackets after an organisation ("(Micitt)") and single capitalised words
      listed with organisations ("Racsa, el Ministerio de…", "… y Fodesaf") are organisations;
    * an acronym in ``terms`` (defined by the article for a common phrase) is no organisation.

    Returns:
        The spans, and the names of those whose name is not their text (ministries).
    """
    taken = {i for ent in known for i in range(ent.start, ent.end)}
    lower_words = {t.lower_ for t in doc if t.is_lower}
    found: list[Span] = []
    names: dict[tuple[int, int], str] = {}
    in_runs: set[int] = set()  # words of multi-word names, kept or not ("Estados Unidos")
    i = 0
    while i < len(doc):
        token = doc[i]
        # An organisation word starts a name even where it is also a stop word ("Frente de Todos").
        if i in taken or not (_name_word(token) or (token.is_title and token.lower_ in data.org_words)):
            if i not in taken and _acronym(token, data) and token.text not in terms:
                found.append(Span(doc, i, i + 1, label="ORG"))
            i += 1
            continue
        end = _run_end(doc, i, data, taken)
        nickname = _after_nickname(doc, end, data, taken) if doc[i].text in data.given_names else None
        if nickname is not None:
            # 'Fernando "El Chino" Navarro' is Fernando Navarro: the nickname is no part of the name.
            rest, last = nickname
            names[(i, last)] = f"{doc[i:end].text} {doc[rest:last].text}"
            found.append(Span(doc, i, last, label="PERSON"))
            in_runs.update(range(i, last))
            i = last
            continue
        if end - i >= 2:
            in_runs.update(range(i, end))
        start = _without_heading_words(doc, i, end, data)
        i = end
        prefix = _ministry_prefix(doc, start, data, taken)
        if prefix is None:
            start = _organisation_complement(doc, start, end, data)
        span = Span(doc, start, end)
        is_org = prefix is not None or any(t.lower_ in data.org_words for t in span) \
            or span[-1].text in data.company_words
        if is_org:
            end = _org_list_end(doc, end, data, taken, lower_words)
        if span[0].lower_ in data.government_words and len(span) > 1 and span[1].lower_ in data.name_particles:
            pass  # a government named by its place ("Gobierno de Costa Rica") is the place
        elif prefix is not None:
            first, head = prefix
            names[(first, end)] = f"{head} {doc[first + 1:end].text}" if head else doc[first:end].text
            found.append(Span(doc, first, end, label="ORG"))
        elif span[0].lower_ in data.role_orgs and len(span) > 2 and span[1].lower_ in data.name_particles:
            names[(start, end)] = f"{data.role_orgs[span[0].lower_]} {doc[start + 1:end].text}"
            found.append(Span(doc, start, end, label="ORG"))
        elif end - start >= 2:
            if span[0].lower_ in data.place_words or span.text.casefold() in data.places:
                found.append(Span(doc, start, end, label="LOC"))
            elif (_sentence_start(doc, start) and span[1:].text.casefold() in data.places
                    and span[0].text not in data.given_names):
                # "Interessate Marche, Abruzzo…": the first word is capitalised by its position
                found.append(Span(doc, start + 1, end, label="LOC"))
            elif is_org:
                found.append(Span(doc, start, end, label="ORG"))
            elif _person_like(span, data):
                found.append(Span(doc, start, end, label="PERSON"))
        elif span.text in data.institutions and not _line_start(doc, start):
            found.append(Span(doc, start, end, label="ORG"))
    taken.update(j for ent in found for j in range(ent.start, ent.end))
    found += _abbreviations(doc, found, taken)
    found += _listed_with_organisations(doc, [*known, *found], taken | in_runs, data)
    return found, names


_OPENING_QUOTES = frozenset({'"', "“", "«", "'", "‘"})
_CLOSING_QUOTES = frozenset({'"', "”", "»", "'", "’"})


def _after_nickname(doc: Doc, k: int, data: NerData, taken: set[int]) -> tuple[int, int] | None:
    """A quoted nickname of one to three capitalised words at ``k`` and the surname after it
    ('"El Chino" Navarro', '“Wado” de Pedro'): the bounds of the surname, particles included."""
    if k >= len(doc) or doc[k].text not in _OPENING_QUOTES:
        return None
    q = k + 1
    while q < len(doc) and q - k <= 3 and doc[q].is_alpha and doc[q].text[:1].isupper():
        q += 1
    if q == k + 1 or q >= len(doc) or doc[q].text not in _CLOSING_QUOTES:
        return None
    rest = j = q + 1
    while j < len(doc) and j - rest < 2 and doc[j].lower_ in data.name_particles:
        j += 1
    if j >= len(doc) or j in taken or not _name_word(doc[j]):
        return None
    return rest, _run_end(doc, j, data, taken)


def _run_end(doc: Doc, i: int, data: NerData, taken: set[int]) -> int:
    """End of the run of capitalised words from ``i``, name particles allowed between them (one or
    two: "Caja del Seguro Social", "Fiscalía de la Nación")."""
    end = i + 1
    while end < len(doc) and end not in taken:
        token = doc[end]
        if _inner_name_word(token):
            end += 1
            continue
        particles = 0
        while (end + particles < len(doc) and particles < 2 and end + particles not in taken
               and doc[end + particles].lower_ in data.name_particles):
            particles += 1
        after = end + particles
        if not (particles and after < len(doc) and after not in taken and _inner_name_word(doc[after])):
            break
        end = after + 1
    return end


def _inner_name_word(token: Any) -> bool:
    """A word that continues a name: inside one a capitalised stop word is part of it ("Parco
    Nazionale", "Frente de Todos")."""
    return _name_word(token) or (token.is_alpha and token.is_title and len(token) > 3)


def _organisation_complement(doc: Doc, start: int, end: int, data: NerData) -> int:
    """Start of the organisation a run names after a particle when its head is no organisation.

    Romance names put the head first: in "Sala Penal Especial de la Corte Suprema", "Presidente del
    Banco Central" or "Esplanada dos Ministérios" the organisation word after "de" is a complement,
    so the organisation (if any) starts there and the head is not one.
    """
    for j in range(start, end):
        token = doc[j]
        if token.lower_ in data.org_words:
            return start
        if token.lower_ in data.name_particles:
            break
    else:
        return start
    for k in range(j + 1, end):
        if doc[k].lower_ in data.org_words and doc[k - 1].lower_ in data.name_particles:
            return k
    return start


def _person_like(span: Span, data: NerData) -> bool:
    """Whether a capitalised run that is no place nor organisation can be a person's name.

    Not when a word is a common noun of the language ("Libertad", "Forças Armadas", "Seguridad
    Pública") or an article that news never puts before a person's name comes first ("el
    Magdalena Medio"); and a run with a particle inside needs a given name first ("Alexandre de Moraes"):
    "Ley de Inteligencia", "Venti di Maestrale" or "Bancada do Amazonas" name things, not people.
    """
    if any(_common_noun(t, data) for t in span):
        return False
    if span.start > 0 and span.doc[span.start - 1].lower_ in data.thing_articles:
        return False  # "el Magdalena Medio", "la Casa Rosada", "del Doctorado Honoris Causa"
    if any(t.lower_ in data.name_particles for t in span[1:-1]):
        return span[0].text in data.given_names
    return True


def _sentence_start(doc: Doc, i: int) -> bool:
    """Whether token ``i`` starts a sentence or a line (its capital then says nothing)."""
    j = i - 1
    while j >= 0 and doc[j].is_space and "\n" not in doc[j].text:
        j -= 1
    return j < 0 or doc[j].text in {".", "!", "?", ":"} or doc[j].is_space or "\n" in doc[j].whitespace_


_BULLETS = frozenset({"-", "–", "—", "•", "*", "·"})


def _line_start(doc: Doc, i: int) -> bool:
    j = i - 1
    if j >= 0 and doc[j].text in _BULLETS:
        j -= 1
    return j < 0 or (doc[j].is_space and "\n" in doc[j].text) or "\n" in doc[j].whitespace_


def _without_heading_words(doc: Doc, start: int, end: int, data: NerData) -> int:
    """Start of the name once heading words glued before it at a line start are dropped.

    A label or section name before an organisation ("Hackers Grupo Conti", "Objetivos Ministerios
    de Hacienda") goes; before anything else the first word goes unless it is a given name, an
    organisation word or a place word ("Origen Rusia", "Comunicato Stampa", "Política Câmara").
    """
    if end - start < 2 or not _line_start(doc, start):
        return start
    first = doc[start].lower_
    if first in data.org_words or first in data.place_words or first in data.role_orgs:
        return start
    for j in range(start + 1, end):
        if doc[j].lower_ in data.org_words:
            return j
    return start if doc[start].text in data.given_names else start + 1


def _org_list_end(doc: Doc, end: int, data: NerData, taken: set[int], lower_words: set[str]) -> int:
    """Extend an organisation's name over a list of capitalised words that belongs to it.

    "A, B y C" after the name is part of it; "y C" alone only when C is a common noun the
    article writes in lower case elsewhere ("Ministerio de Ciencia y Tecnología") or closes an
    unpunctuated list ("d'Abruzzo Lazio e Molise"); not "Ministerio de Trabajo y Fodesaf".
    An item with an organisation word of its own is another organisation.
    """
    in_list = False
    while end + 1 < len(doc):
        comma = doc[end].text == ","
        j = end + 1 if comma else end
        conj = j < len(doc) and doc[j].lower_ in data.name_conjunctions
        j += 1 if conj else 0
        if not (comma or conj) or j >= len(doc) or j in taken or not _name_word(doc[j]):
            return end
        item_end = _run_end(doc, j, data, taken)
        item = doc[j:item_end]
        # Only the hand-listed places end the list: a region can be part of the name ("d'Abruzzo, Lazio e Molise").
        if any(t.lower_ in data.org_words for t in item) or item.text.casefold() in data.locations:
            return end
        if comma and not conj:
            after = item_end + 1 if item_end < len(doc) and doc[item_end].text == "," else item_end
            if not (after < len(doc) and doc[after].lower_ in data.name_conjunctions):
                return end
            in_list = True
        elif not (in_list or item[0].lower_ in lower_words or _unpunctuated_list(doc, end, data)):
            return end
        end = item_end
    return end


def _unpunctuated_list(doc: Doc, end: int, data: NerData) -> bool:
    """Two or more capitalised words after the name's last particle: a list without commas."""
    count = 0
    for j in range(end - 1, -1, -1):
        if doc[j].lower_ in data.name_particles or not doc[j].is_title:
            break
        count += 1
    return count >= 2 and doc[end - count - 1].lower_ in data.name_particles


def _ministry_prefix(doc: Doc, start: int, data: NerData, taken: set[int]) -> tuple[int, str] | None:
    """A lower-case ministry or minister word and particles before a name ("ministro de Hacienda").

    Returns the span start and the ministry word to name it by ("" to keep the text).
    """
    j = start - 1
    while j >= 0 and j >= start - 2 and doc[j].lower_ in data.name_particles:
        j -= 1
    if j == start - 1 or j < 0 or j in taken or not doc[j].is_lower or doc[j].lower_ not in data.role_orgs:
        return None
    head = data.role_orgs[doc[j].lower_]
    return j, head


def _common_noun(token: Any, data: NerData) -> bool:
    """A common noun or adjective capitalised inside a name, never part of a person's name: a listed one
    ("Asuntos Exteriores", "Forças Armadas") or one with an ending no name has ("Educación", "Pública")."""
    return token.text not in data.given_names and (
        token.lower_ in data.common_nouns or token.lower_.endswith(data.common_noun_endings))


def _abbreviations(doc: Doc, orgs: list[Span], taken: set[int]) -> list[Span]:
    """A capitalised word in brackets right after an organisation, with its initial ("... (Micitt)")."""
    found = []
    for org in orgs:
        k = org.end + 1
        if org.label_ != "ORG" or k + 1 >= len(doc) or doc[org.end].text != "(" or doc[k + 1].text != ")":
            continue
        word = doc[k]
        if k not in taken and word.is_alpha and word.text[0].isupper() and word.text[0] == org.text[0].upper():
            found.append(Span(doc, k, k + 1, label="ORG"))
            taken.add(k)
    return found


def _listed_with_organisations(doc: Doc, spans: list[Span], taken: set[int], data: NerData) -> list[Span]:
    """Single capitalised words listed next to organisations ("Racsa, el Ministerio de…", "… y Fodesaf").

    A list item next to an organisation, separated by a comma or a conjunction (and maybe an
    article), is an organisation too; chains are followed ("Racsa, Imas, Caja del Seguro Social").
    A word starting a sentence, a known place or a given name is not taken.
    """
    orgs = {j: span for span in spans if data.labels.get(span.label_) == "ORG" for j in (span.start, span.end - 1)}
    found: list[Span] = []
    changed = True
    while changed:
        changed = False
        for token in doc:
            k = token.i
            if k in taken or not _name_word(token) or token.text in data.given_names:
                continue
            if token.lower_ in data.places or token.lower_ in data.not_names or _sentence_initial(doc, k, data):
                continue
            if (k > 0 and doc[k - 1].lower_ in data.name_particles) or _common_noun(token, data):
                continue  # "… y de Trabajo" ends a name; "Tecnología" is a common noun
            right = _skip_separators(doc, k + 1, data, forward=True)
            left = _skip_separators(doc, k - 1, data, forward=False)
            # The first item of a list follows a lower-case word ("edición Racsa, el Ministerio"), not a
            # number or a name ("Android 6.0 Marshmallow, Google").
            first_item = left is None and k > 0 and doc[k - 1].is_alpha and doc[k - 1].is_lower
            if (right is not None and right in orgs and (left is not None or first_item)) or (
                    left is not None and left in orgs):
                span = Span(doc, k, k + 1, label="ORG")
                found.append(span)
                taken.add(k)
                orgs[k] = span
                changed = True
    return found


def _skip_separators(doc: Doc, j: int, data: NerData, *, forward: bool) -> int | None:
    """Index of the list item after (or before) the separator at ``j``, or None if there is none."""
    step = 1 if forward else -1
    seen = False
    while 0 <= j < len(doc):
        token = doc[j]
        if token.text == "," or token.lower_ in data.name_conjunctions:
            seen = True
        elif not (token.is_space or (forward and seen and token.lower_ in data.determiners)):
            return j if seen else None
        j += step
    return None


def _sentence_initial(doc: Doc, k: int, data: NerData) -> bool:
    """A word that starts a sentence or a line, follows a preposition ("Em Minas, o PSD") or ends a longer
    capitalised name: not a list item of its own."""
    j = k - 1
    while j >= 0 and doc[j].is_space:
        j -= 1
    return j < 0 or doc[j].is_sent_end or doc[j].text in {".", "!", "?", ":", "\n"} or (
        j < k - 1 and doc[j].text != ",") or (doc[j].is_stop and doc[j].lower_ not in data.name_conjunctions) or (
        doc[j].is_alpha and doc[j].is_title)  # the end of a longer name ("Estados Unidos")


def _acronym(token: Any, data: NerData) -> bool:
    text = token.text
    if not (len(text) >= 3 and text.isalpha() and text.isupper()):
        return False
    # In an all-capitals headline every word looks like an acronym.
    doc = token.doc
    neighbours = [doc[j] for j in (token.i - 1, token.i + 1) if 0 <= j < len(doc) and doc[j].is_alpha]
    if any(n.is_upper and len(n) > 1 for n in neighbours):
        return False
    return text.casefold() not in data.not_names and text.casefold() not in data.places


def _double_given_name(doc: Doc, i: int, data: NerData) -> bool:
    """Whether token ``i`` is a hyphen glued between two given names ("Jean-Claude", "Karl-Heinz")."""
    return (doc[i].text in _HYPHENS and i + 1 < len(doc) and not doc[i - 1].whitespace_
            and not doc[i].whitespace_ and doc[i - 1].text in data.given_names
            and doc[i + 1].text in data.given_names)


_HYPHENS = frozenset({"-", "\u2010", "\u2011"})


def _glued_hyphen(doc: Doc, i: int) -> bool:
    """Whether token ``i`` is a hyphen glued between two capitalised words ("Wolf-Karnitschnig")."""
    return (i + 1 < len(doc) and doc[i].text in _HYPHENS and not doc[i - 1].whitespace_
            and not doc[i].whitespace_ and _name_word(doc[i + 1]))


def _name_word(token: Any) -> bool:
    return bool(token.is_alpha and token.is_title and not token.is_stop and token.whitespace_ != "\n")


def _join_adjacent_persons(entities: list[Entity], text: str) -> list[Entity]:
    """Join two unlinked person spans separated by one space or a nickname in brackets: NER split a
    name ("Bhasker" "Kode", "Bhasker (Bosky) Kode")."""
    out: list[Entity] = []
    for ent in sorted(entities, key=lambda e: e.start):
        prev = out[-1] if out else None
        if (prev is not None and prev.label == ent.label == "PERSON" and prev.id is None and ent.id is None
                and _NAME_GAP.fullmatch(text[prev.end:ent.start])):
            surface = text[prev.start:ent.end]
            out[-1] = Entity(surface, "PERSON", f"{prev.canonical} {ent.canonical}", None, prev.start, ent.end)
        else:
            out.append(ent)
    return out


def _link(kb_key: str, name: str, label: str, linker: Linker | None, *, exact: bool = False) -> KBEntry | None:
    if linker is None:
        return None
    if kb_key:
        return linker.kb.get(kb_key)
    # Model numbers one character apart are different products ("Snapdragon 888" / "808").
    if label == "PERSON" or exact:
        return linker.kb.lookup(name)
    return linker.link(name)


# Makers of hardware, whose product families take model numbers ("Snapdragon 810", "Xperia Z4");
# a number after a software product is a version ("Windows 11"), folded into the product.
_HARDWARE_ROLES = frozenset({"chip_designer", "foundry", "idm", "memory", "equipment", "oem"})
# A model number: letters and digits with at least one digit ("810", "8cx", "Z4", "5070"), glued to a
# name in a script without spaces ("骁龙8cx"), else after a space or a hyphen. A dotted number is a
# version ("6.0") and a bare year is a date, not a model.
_MODEL_NUMBER = regex.compile(
    r"(?:[ \-‐‑]|(?<=[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]))([A-Za-z]{0,3}\d[A-Za-z\d]{0,5}\+?)(?![\w]|\.\d)")
_MODEL_WORD = regex.compile(r"[ \-‐‑](\p{L}+\+?)(?!\w)")
# A series code between a family and its number ("GeForce GTX 970M", "Radeon RX 7900"): capitals only,
# and only with a model number right after it.
_SERIES_CODE = regex.compile(r"[ \-‐‑]\p{Lu}{2,4}(?=[ \-‐‑][A-Za-z]{0,3}\d)")
_YEAR = regex.compile(r"(?:19|20)\d\d")


def _model_word_after_number(ent: Span, data: NerData) -> bool:
    """True for a lone model word after a number ("les Pixel 6 et 6 Pro"): the end of a product's
    name that the statistical model cut off, never a name of its own."""
    return (len(ent) == 1 and ent.text.casefold() in data.model_words and ent.start > 0
            and ent.doc[ent.start - 1].text.isdigit())


def _model_tail(text: str, end: int, has_number: bool, model_words: frozenset[str]) -> int:
    """End of the model designation that continues a product name ending at ``end``.

    Model numbers continue any family, also after a series code ("GeForce GTX 970M"); the language's
    model words ("Ti", "Pro", "Gen") only continue a designation that already has a number ("RTX 5070
    Ti", "Snapdragon 8 Gen 3").
    """
    series = _SERIES_CODE.match(text, end)
    if series and not has_number:
        number = _MODEL_NUMBER.match(text, series.end())
        if number and not _YEAR.fullmatch(number.group(1)):
            end = series.end()
    while True:
        number = _MODEL_NUMBER.match(text, end)
        if number and not _YEAR.fullmatch(number.group(1)):
            end, has_number = number.end(), True
            continue
        word = _MODEL_WORD.match(text, end)
        if has_number and word and word.group(1).casefold() in model_words:
            end = word.end()
            continue
        return end


def _stands_alone(text: str, family: Span, end_char: int) -> bool:
    """Whether the model after ``family`` is also named on its own in the text ("Xeon N4" and "the N4
    instance"): then it is a name of its own, not this family's model. Only for models with letters;
    a bare number on its own is a count.
    """
    model = regex.match(r"[ \-‐‑]?([\w+]+)", text[family.end_char:end_char])
    if model is None or model.group(1).isdigit():
        return False
    name, family_text = model.group(1), family.text
    at = text.find(name)
    while at >= 0:
        end = at + len(name)
        whole = (at == 0 or not (text[at - 1].isalnum() or text[at - 1] in "_-‐‑")) and (
            end == len(text) or not (text[end].isalnum() or text[end] == "_"))
        if whole and not text[:at].rstrip(" -‐‑").endswith(family_text):
            return True
        at = text.find(name, at + 1)
    return False


def _with_model_numbers(doc: Doc, spans: list[Span], data: NerData,
                        kb: KnowledgeBase) -> tuple[list[Span], set[tuple[int, int]]]:
    """Extend knowledge-base product families over the model number that follows them.

    "Snapdragon 810", "GeForce RTX 5070 Ti", "Xperia Z4": the family alone would lose the model. An
    extended name that is an alias of its own links to that entry; otherwise it is a product of its
    own, linked only by exact alias (returned token bounds). A family of the same maker just before
    the extended name joins it ("GeForce" + "RTX 5070 Ti").
    """
    text = doc_text(doc)
    out: list[Span] = []
    extended: set[tuple[int, int]] = set()
    by_end = {span.end: span for span in spans if span.id_}
    taken = {i for span in spans for i in range(span.start, span.end)}
    merged: set[int] = set()
    for span in sorted(spans, key=lambda e: e.start):
        entry = kb.get(span.id_) if span.id_ else None
        maker = kb.get(entry.maker) if entry is not None and entry.maker else None
        if entry is None or maker is None or not _HARDWARE_ROLES & set(maker.roles):
            out.append(span)
            continue
        end_char = _model_tail(text, span.end_char, any(ch.isdigit() for ch in span.text), data.model_words)
        longer = doc.char_span(span.start_char, end_char, alignment_mode="expand") if end_char > span.end_char else None
        if longer is None or any(i in taken for i in range(span.end, longer.end)) or _stands_alone(text, span, end_char):
            out.append(span)
            continue
        start = span.start
        family = by_end.get(span.start) or by_end.get(span.start - 1)
        if family is not None and family.end <= span.start and id(family) != id(span):
            family_entry = kb.get(family.id_)
            gap = text[family.end_char:span.start_char]
            if family_entry is not None and family_entry.maker == entry.maker and gap in {" ", "-"}:
                start = family.start
                merged.add(id(family))
        whole = Span(doc, start, longer.end, label="PRODUCT")
        own = kb.lookup(whole.text)
        if own is not None:
            whole = Span(doc, start, longer.end, label=entry_label(own), span_id=own.key)
        else:
            extended.add((whole.start, whole.end))
        out.append(whole)
    return [span for span in out if id(span) not in merged], extended
