"""Monetary figures and non-money quantities in a spaCy ``Doc``.

Everything a language contributes (currency names and symbols, magnitude words, number words,
approximation, range, rate and unit-price cues) lives in ``extractors/lang/money/<lang>.yaml``
merged over ``base.yaml``; the code below never branches on the language. Each language's data
is validated and compiled into a handful of regexes once per process.

The passes over ``doc.text``:

1. *atoms*: a number (digits or a number word) with its optional sign, currency before,
   magnitudes ("bn", "milliards d'"), and currency after;
2. *vague* amounts: a cue ("hundreds of", "des centaines de") or a bare plural magnitude, then
   a currency name;
3. atoms joined into *ranges* ("between $2 and $3 billion", "$2-3bn", "de 2 à 3 milliards");
4. a number + magnitude with no currency takes the currency of the money just before it
   ("120 milliards de dollars ..., contre 4,4 milliards") when what follows allows it;
5. qualifier before, rate or unit price after, sentence.

Quantities (percentages, counts of GPUs, chips, wafers, employees) are a separate pass that
skips anything inside a money span.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from spacy.attrs import IDX, SENT_START, SPACY
from spacy.tokens import Doc

from extractors.langdata import LangDataError, available_languages, load_section
from extractors.numbers import (
    NUMBER_PATTERN,
    alternation,
    category_alternation,
    grouped_alternation,
    matched_category,
    normalise_key,
    parse_number,
    to_decimal,
)
from pipeline.records import Money, Quantity

SECTION = "money"
QUALIFIERS = ("about", "over", "under", "at_least", "at_most")
PERIODS = ("year", "quarter", "month", "week", "day")
_ISO_4217 = re.compile(r"[A-Z]{3}")
# How far before an amount a qualifier or range starter may begin.
_CUE_WINDOW = 60
# A bare amount needs a magnitude word at least this large to take a neighbour's currency:
# "4,4 milliards" is money in a money context, "12 000" is not.
_BARE_MIN_MAGNITUDE = Decimal("1e6")
# Minimum magnitude word length to stand without a number ("billions of dollars"), so that
# abbreviations such as "m" or "Md" never do.
_VAGUE_MAGNITUDE_MIN_LEN = 5
_BARE_PLURAL_SPAN = (Decimal(1), Decimal(1000))


# --------------------------------------------------------------------------- data validation

def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        to_decimal(value)
    except ArithmeticError:
        return False
    return isinstance(value, (int, float, str))


def _check_currency(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_ISO_4217.fullmatch(value))
    if not isinstance(value, dict) or set(value) - {"code", "scale", "ambiguous"}:
        return False
    return (
        isinstance(value.get("code"), str)
        and bool(_ISO_4217.fullmatch(value["code"]))
        and ("scale" not in value or _is_number(value["scale"]))
        and isinstance(value.get("ambiguous", False), bool)
    )


def _mapping_of(check: Any, keys: Sequence[str] | None = None) -> Any:
    def validate(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if keys is not None and set(value) - set(keys):
            return False
        return all(isinstance(k, str) and k and check(v) for k, v in value.items())

    return validate


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_number(v) for v in value)
        and to_decimal(value[0]) <= to_decimal(value[1])
    )


# key → (validator, what it must be). Every key is required once base and language are merged.
_SCHEMA: dict[str, tuple[Any, str]] = {
    "decimal_mark": (lambda v: v in (".", ","), '"." or ","'),
    "currencies_before": (_mapping_of(lambda v: isinstance(v, str) and bool(_ISO_4217.fullmatch(v))),
                          "a mapping of symbol → ISO 4217 code"),
    "currencies_after": (_mapping_of(_check_currency),
                         "a mapping of name → ISO code or {code, scale, ambiguous}"),
    "magnitudes": (_mapping_of(_is_number), "a mapping of word → number"),
    "connectors": (_is_str_list, "a list of words"),
    "number_words": (_mapping_of(_is_number), "a mapping of word → number"),
    "qualifiers": (_mapping_of(_is_str_list, QUALIFIERS), f"a mapping of {QUALIFIERS} → phrases"),
    "approximate_qualifiers": (lambda v: _is_str_list(v) and set(v) <= set(QUALIFIERS),
                               f"a list drawn from {QUALIFIERS}"),
    "qualifier_articles": (_is_str_list, "a list of words"),
    "vague": (_mapping_of(_is_pair), "a mapping of cue → [low, high]"),
    "range_separators": (_is_str_list, "a list of separators"),
    "range_pairs": (_mapping_of(lambda v: isinstance(v, str) and bool(v)), "a mapping of starter → separator"),
    "range_blockers": (_is_str_list, "a list of words"),
    "per_words": (_is_str_list, "a list of words"),
    "periods": (_mapping_of(_is_str_list, PERIODS), f"a mapping of {PERIODS} → nouns"),
    "per_nouns": (_mapping_of(_is_str_list), "a mapping of unit → nouns"),
    "standalone_periods": (_mapping_of(_is_str_list, PERIODS), f"a mapping of {PERIODS} → phrases"),
    "standalone_per": (_mapping_of(_is_str_list), "a mapping of unit → phrases"),
    "period_blockers": (_is_str_list, "a list of words"),
    "unit_cues_before": (_is_str_list, "a list of words"),
    "period_fillers": (_is_str_list, "a list of words"),
    "bare_followers": (_is_str_list, "a list of words"),
    "money_nouns": (_is_str_list, "a list of words"),
    "bare_lookback": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                      "a non-negative integer"),
    "quantity_units": (_mapping_of(_is_str_list), "a mapping of unit → phrases"),
}

# Keys whose phrases are looked up exactly after matching, so wildcards cannot be used there.
_EXACT_KEYS = ("currencies_before", "currencies_after", "magnitudes", "number_words")


def validate_data(data: Mapping[str, Any], lang: str) -> None:
    """Check merged money data for one language.

    Args:
        data: ``load_section("money", lang)``.
        lang: The language code, for the error message.

    Raises:
        LangDataError: naming the first missing, unknown or malformed key.
    """
    where = f"money data for {lang!r}"
    unknown = sorted(set(data) - set(_SCHEMA))
    if unknown:
        raise LangDataError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_SCHEMA)})")
    for key, (check, expected) in _SCHEMA.items():
        if key not in data:
            raise LangDataError(f"{where}: missing key {key!r}")
        if not check(data[key]):
            raise LangDataError(f"{where}: key {key!r} must be {expected}, got {data[key]!r}")
    for key in _EXACT_KEYS:
        seen: dict[str, Any] = {}
        for surface, value in data[key].items():
            if surface.endswith("*"):
                raise LangDataError(f"{where}: key {key!r}: wildcard not allowed in {surface!r}")
            norm = normalise_key(surface)
            if norm in seen and seen[norm] != value:
                raise LangDataError(f"{where}: key {key!r}: {surface!r} clashes with another spelling")
            seen[norm] = value


# --------------------------------------------------------------------------- compiled lexicon

@dataclass(frozen=True)
class _Currency:
    code: str
    scale: Decimal
    ambiguous: bool


@dataclass(frozen=True)
class _Lexicon:
    """One language's data, compiled. Built once per language per process."""

    decimal_mark: str
    before: Mapping[str, str]
    after: Mapping[str, _Currency]
    magnitudes: Mapping[str, Decimal]
    number_words: Mapping[str, Decimal]
    vague: Mapping[str, tuple[Decimal, Decimal]]
    approximate: frozenset[str]
    range_pairs: Mapping[str, str]
    bare_lookback: int
    atom: re.Pattern[str]
    vague_re: re.Pattern[str]
    magnitude_re: re.Pattern[str]
    qualifier_re: re.Pattern[str]
    qualifier_names: Mapping[str, str]
    range_free_re: re.Pattern[str]
    range_starter_re: re.Pattern[str]
    range_blocker_re: re.Pattern[str]
    after_re: re.Pattern[str]
    after_names: Mapping[str, str]
    unit_before_re: re.Pattern[str]
    unit_before_names: Mapping[str, str]
    bare_follow_re: re.Pattern[str]
    quantity_re: re.Pattern[str]
    quantity_names: Mapping[str, str]


def _currency(value: str | Mapping[str, Any]) -> _Currency:
    if isinstance(value, str):
        return _Currency(value, Decimal(1), False)
    return _Currency(value["code"], to_decimal(value.get("scale", 1)), bool(value.get("ambiguous", False)))


@cache
def _lexicon(lang: str) -> _Lexicon:
    data = load_section(SECTION, lang)
    validate_data(data, lang)

    before = data["currencies_before"]
    after = data["currencies_after"]
    mags = data["magnitudes"]
    words_after = [p for p in after if p[0].isalpha()]
    vague_mags = [m for m in mags if m.isalpha() and len(m) >= _VAGUE_MAGNITUDE_MIN_LEN]

    cur_before = alternation(before)
    cur_after = alternation(after)
    cur_words = alternation(words_after)
    mag = alternation(mags)
    conn = alternation(data["connectors"])
    gap = r"(?:\s{1,2}|-)?"
    # A number word is read only when a magnitude, a currency or a range separator follows it:
    # "three" alone is not an amount, "between three and four billion dlrs" is.
    range_words = alternation([*data["range_separators"], *data["range_pairs"].values()])
    # Word magnitudes join with a space, abbreviations may be glued ("52.7bn", "2,9 Md€").
    atom = (
        r"(?P<neg>(?<![\w)\]])[-−](?=\S))?"
        rf"(?:(?P<cpre>{cur_before})\s?)?"
        rf"(?P<num>{NUMBER_PATTERN}|(?P<nw>{alternation(data['number_words'])})(?=[\s-]+(?:{mag}|{cur_words}|{range_words})))"
        rf"(?:(?P<mags>(?:{gap}{mag})+)(?:\s?(?P<conn>{conn})\s?(?={cur_after}))?)?"
        rf"(?:{gap}(?P<cpost>{cur_after}))?"
        r"(?![^\W_])"
    )
    vague = (
        rf"(?<![\w.,])(?=(?:{alternation(data['vague'])}|{alternation(vague_mags)}))"
        rf"(?:(?P<vq>{alternation(data['vague'])})\s*)?"
        rf"(?:(?P<mags>{alternation(vague_mags)}(?:\s+{alternation(vague_mags)})*)\s*)?"
        rf"(?:(?P<conn>{conn})\s?)?"
        rf"(?P<cpost>{cur_words})"
        r"(?![^\W_])"
    )
    qualifier, qualifier_names = category_alternation(data["qualifiers"], "q")
    articles = alternation(data["qualifier_articles"])
    stand_periods, sp_names = grouped_alternation(data["standalone_periods"], "sp")
    stand_per, su_names = grouped_alternation(data["standalone_per"], "su")
    noun_periods, np_names = grouped_alternation(data["periods"], "np")
    noun_per, nu_names = grouped_alternation(data["per_nouns"], "nu")
    after_names = {
        **{k: f"period:{v}" for k, v in {**sp_names, **np_names}.items()},
        **{k: f"per:{v}" for k, v in {**su_names, **nu_names}.items()},
    }
    after_cue = (
        r"^(?P<fill>\s+" + alternation(data["period_fillers"]) + r"\s*[^\W\d_][\w-]*)?\s+"
        rf"(?:{stand_periods}|{stand_per}|{alternation(data['per_words'])}\s+(?:{noun_periods}|{noun_per}))"
        rf"(?!\s+{alternation(data['period_blockers'])})(?!\s*\d)"
    )
    unit_before, unit_before_names = grouped_alternation(data["per_nouns"], "ub")
    followers = alternation(data["bare_followers"])
    money_nouns = alternation(data["money_nouns"])
    bare_follow = rf"\s*(?:{followers}|(?:{conn}\s*)?{money_nouns}|[.,;:)\]]|$)"
    qty_units, qty_names = grouped_alternation(data["quantity_units"], "qu")
    quantity = (
        rf"{NUMBER_PATTERN}(?P<mags>(?:{gap}{mag})*)(?:\s?{conn})?\s?{qty_units}"
    )
    flags = re.IGNORECASE
    return _Lexicon(
        decimal_mark=data["decimal_mark"],
        before={normalise_key(k): v for k, v in before.items()},
        after={normalise_key(k): _currency(v) for k, v in after.items()},
        magnitudes={normalise_key(k): to_decimal(v) for k, v in mags.items()},
        number_words={normalise_key(k): to_decimal(v) for k, v in data["number_words"].items()},
        vague={normalise_key(k): (to_decimal(a), to_decimal(b)) for k, (a, b) in data["vague"].items()},
        approximate=frozenset(data["approximate_qualifiers"]),
        range_pairs={normalise_key(k): normalise_key(v) for k, v in data["range_pairs"].items()},
        bare_lookback=data["bare_lookback"],
        atom=re.compile(atom, flags),
        vague_re=re.compile(vague, flags),
        magnitude_re=re.compile(mag, flags),
        qualifier_re=re.compile(rf"{qualifier}(?:\s+{articles})?\s*$", flags),
        qualifier_names=qualifier_names,
        range_free_re=re.compile(rf"\s*{alternation(data['range_separators'])}\s*", flags),
        range_starter_re=re.compile(rf"(?P<starter>{alternation(data['range_pairs'])})\s+$", flags),
        range_blocker_re=re.compile(
            rf"{alternation(data['range_blockers'])}\s+(?:{alternation(data['range_pairs'])}\s+)?$", flags
        ),
        after_re=re.compile(after_cue, flags),
        after_names=after_names,
        unit_before_re=re.compile(
            rf"{alternation(data['unit_cues_before'])}\s+(?:[\w-]+\s+){{0,2}}?{unit_before}", flags
        ),
        unit_before_names=unit_before_names,
        bare_follow_re=re.compile(bare_follow, flags),
        quantity_re=re.compile(quantity, flags),
        quantity_names=qty_names,
    )


def check_language_data(lang: str) -> None:
    """Validate and compile one language's money data (for the integrity test and start-up).

    Raises:
        LangDataError: when the data file is malformed.
        re.error: when a phrase produces an invalid pattern.
    """
    _lexicon(lang)


def money_languages() -> list[str]:
    """Language codes with a money data file."""
    return available_languages(SECTION)


# --------------------------------------------------------------------------- amounts

@dataclass(frozen=True)
class _Atom:
    """A number with whatever currency and magnitude sit right next to it."""

    start: int
    end: int
    number: Decimal
    magnitude: Decimal | None  # None when no magnitude word follows
    big_word: bool  # a magnitude word large enough for a bare amount to count as money
    currency: _Currency | None
    negative: bool
    year_like: bool


@dataclass(frozen=True)
class _Span:
    """A money figure before qualifiers, rates and sentences are attached."""

    start: int
    end: int
    value: Decimal | None
    lower: Decimal | None
    upper: Decimal | None
    currency: str
    vague: bool


def _magnitude(surfaces: str, lex: _Lexicon) -> tuple[Decimal, bool]:
    total, big = Decimal(1), False
    for m in lex.magnitude_re.finditer(surfaces):
        surface = normalise_key(m.group())
        total *= lex.magnitudes[surface]
        big = big or len(surface.rstrip(".")) >= 2
    return total, big and total >= _BARE_MIN_MAGNITUDE


def _atoms(text: str, lex: _Lexicon) -> list[_Atom]:
    atoms: list[_Atom] = []
    for m in lex.atom.finditer(text):
        if m.group("nw"):
            number = lex.number_words[normalise_key(m.group("nw"))]
        else:
            number = parse_number(m.group("num"), lex.decimal_mark)
        magnitude, big = _magnitude(m.group("mags"), lex) if m.group("mags") else (None, False)
        pre = lex.before.get(normalise_key(m.group("cpre"))) if m.group("cpre") else None
        post = lex.after.get(normalise_key(m.group("cpost"))) if m.group("cpost") else None
        end = m.end()
        year_like = (
            not m.group("nw") and magnitude is None and pre is None
            and bool(re.fullmatch(r"(?:19|20)\d\d", m.group("num")))
        )
        if post is not None and pre is not None and post.code != pre:
            # "$1 billion mark": the symbol before decides; what follows is not a currency.
            end, post = m.start("cpost"), None
        if post is not None and post.ambiguous and year_like:
            end, post = m.start("cpost"), None
        if post is not None and _in_compound(text, m):
            # "18 Euro-Finanzminister": the currency starts a compound noun; "750-Euro-Marke",
            # glued to its number by a hyphen, is still a price.
            end, post = m.start("cpost"), None
        currency = post or (_Currency(pre, Decimal(1), False) if pre else None)
        end = len(text[:end].rstrip())
        atoms.append(_Atom(m.start(), end, number, magnitude, big, currency, bool(m.group("neg")), year_like))
    return atoms


def _in_compound(text: str, m: re.Match[str]) -> bool:
    after = text[m.end("cpost"):m.end("cpost") + 2]
    glued = text[m.start("cpost") - 1:m.start("cpost")] == "-"
    return len(after) == 2 and after[0] == "-" and after[1].isalpha() and not glued


def _atom_value(atom: _Atom, magnitude: Decimal | None = None, currency: _Currency | None = None) -> Decimal:
    scale = (currency or atom.currency or _Currency("XXX", Decimal(1), False)).scale
    value = atom.number * (atom.magnitude or magnitude or Decimal(1)) * scale
    return -value if atom.negative else value


def _exact(value: Decimal) -> Decimal:
    """Plain notation for whole amounts (48100000000, not 4.81E+10); trailing zeros dropped."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _point(atom: _Atom) -> _Span | None:
    if atom.currency is None:
        return None
    return _Span(atom.start, atom.end, _atom_value(atom), None, None, atom.currency.code, False)


def _range(text: str, first: _Atom, second: _Atom, lex: _Lexicon) -> _Span | None:
    """Join two atoms into a range when a separator or a starter pair links them.

    After a change verb ("est passé de 2 à 3 milliards") the pair is two amounts, not a range:
    the first one is returned alone, with the magnitude and currency it shares with the second.
    """
    between = text[first.end:second.start]
    window = text[max(0, first.start - _CUE_WINDOW):first.start]
    change = lex.range_blocker_re.search(window) is not None
    starter = lex.range_starter_re.search(window)
    start = first.start
    if starter and normalise_key(between) == lex.range_pairs.get(normalise_key(starter.group("starter"))):
        start = first.start - len(window) + starter.start()
    elif lex.range_free_re.fullmatch(between):
        if starter:
            start = first.start - len(window) + starter.start()
    else:
        return None
    currency = second.currency or first.currency
    if currency is None or first.year_like or first.negative or second.negative:
        return None
    if first.currency is not None and second.currency is not None and first.currency.code != second.currency.code:
        return None
    if first.magnitude is not None and second.magnitude is None:
        return None
    lower = _atom_value(first, second.magnitude, currency)
    upper = _atom_value(second, None, currency)
    if change:
        return _Span(first.start, first.end, lower, None, None, currency.code, False) if first.currency is None else None
    if not lower < upper:
        return None
    return _Span(start, second.end, None, lower, upper, currency.code, False)


def _vague(text: str, lex: _Lexicon) -> list[_Span]:
    spans: list[_Span] = []
    for m in lex.vague_re.finditer(text):
        cue, mags = m.group("vq"), m.group("mags")
        if not cue and (not mags or lex.magnitude_re.fullmatch(mags) is None):
            continue  # only a single plural magnitude stands without a cue ("billions of dollars")
        low, high = lex.vague[normalise_key(cue)] if cue else _BARE_PLURAL_SPAN
        magnitude = _magnitude(mags, lex)[0] if mags else Decimal(1)
        currency = lex.after[normalise_key(m.group("cpost"))]
        unit = magnitude * currency.scale
        spans.append(_Span(m.start(), m.end(), None, low * unit, high * unit, currency.code, True))
    return spans


def _without_overlaps(spans: list[_Span]) -> list[_Span]:
    """Keep the earliest, then longest, of overlapping spans."""
    kept: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def _inherit(text: str, atoms: list[_Atom], spans: list[_Span], lex: _Lexicon) -> list[_Span]:
    """Give bare "number + magnitude word" amounts the currency of the money just before them."""
    taken = sorted(spans, key=lambda s: s.start)
    starts = [s.start for s in taken]
    for atom in atoms:
        if atom.currency is not None or not atom.big_word:
            continue
        i = bisect.bisect_right(starts, atom.start)
        if i and taken[i - 1].end > atom.start:
            continue  # inside a figure already found (a range's first bound)
        if i < len(taken) and taken[i].start < atom.end:
            continue
        if not lex.bare_follow_re.match(text, atom.end):
            continue
        previous = taken[i - 1] if i else None
        if previous is None or atom.start - previous.end > lex.bare_lookback:
            continue
        currency = _Currency(previous.currency, Decimal(1), False)
        span = _Span(atom.start, atom.end, _atom_value(atom, None, currency), None, None, previous.currency, False)
        taken.insert(i, span)
        starts.insert(i, span.start)
    return taken


def _find_spans(text: str, lex: _Lexicon) -> list[_Span]:
    """Every money figure of ``text`` in order: points, ranges, vague and bare amounts."""
    atoms = _atoms(text, lex)
    spans = [s for s in map(_point, atoms) if s is not None]
    for first, second in itertools.pairwise(atoms):
        joined = _range(text, first, second, lex)
        if joined is not None:
            spans.append(joined)
    spans = _without_overlaps(spans + _vague(text, lex))
    return _inherit(text, atoms, spans, lex)


# --------------------------------------------------------------------------- attributes

def _sentence_bounds(doc: Doc) -> tuple[list[int], list[int]]:
    """Start and end offsets of ``doc.sents``, read from token arrays (no Span objects: faster)."""
    if not len(doc):
        return [], []
    table = doc.to_array([IDX, SENT_START, SPACY]).tolist()
    first_tokens = [i for i, (_, flag, _) in enumerate(table) if flag == 1 or i == 0]
    starts = [table[i][0] for i in first_tokens]
    # A sentence ends where its last token ends: the next sentence's start minus the last
    # token's trailing space (spaCy's Span.end_char).
    ends = [table[i][0] - table[i - 1][2] for i in first_tokens[1:]]
    ends.append(len(doc.text) - table[-1][2])
    return starts, ends


def _sentence_of(start: int, end: int, bounds: tuple[list[int], list[int]]) -> tuple[int, int]:
    """The sentence(s) holding ``[start, end)``: a splitter may cut inside a figure ("7,6 mrd. euro")."""
    starts, ends = bounds
    if not starts:
        return 0, 0
    first = max(bisect.bisect_right(starts, start) - 1, 0)
    last = max(bisect.bisect_right(starts, max(end - 1, start)) - 1, first)
    return starts[first], ends[last]


def _qualifier(text: str, start: int, lex: _Lexicon) -> tuple[str | None, int]:
    window_start = max(0, start - _CUE_WINDOW)
    m = lex.qualifier_re.search(text, window_start, start)
    if m is None:
        return None, start
    return matched_category(m, lex.qualifier_names), m.start()


def _rate(text: str, end: int, lex: _Lexicon) -> tuple[str | None, str | None, int]:
    """Period or unit price right after the amount; the new end when the cue is adjacent."""
    m = lex.after_re.match(text[end:end + 80])
    if m is None:
        return None, None, end
    category = matched_category(m, lex.after_names) or ""
    kind, _, value = category.partition(":")
    new_end = end if m.group("fill") else end + m.end()
    return (value, None, new_end) if kind == "period" else (None, value, new_end)


def _unit_before(text: str, sent_start: int, start: int, floor: int, lex: _Lexicon) -> str | None:
    """A unit named before the amount in its sentence ("each query costs ...")."""
    last = None
    for m in lex.unit_before_re.finditer(text, max(sent_start, floor), start):
        last = m
    return matched_category(last, lex.unit_before_names) if last else None


# --------------------------------------------------------------------------- public API

def extract_money(doc: Doc, *, lang: str) -> tuple[Money, ...]:
    """Find the monetary figures of a document.

    Args:
        doc: A parsed document with sentence boundaries; ``doc.text`` is the normalised text.
        lang: ISO 639-1 code selecting the language data (an unknown code uses ``base.yaml``).

    Returns:
        The figures in text order, with exact ``Decimal`` values and offsets into ``doc.text``.

    Raises:
        LangDataError: when the language data file is malformed.
    """
    lex = _lexicon(lang)
    text = doc.text
    spans = _find_spans(text, lex)
    if not spans:
        return ()
    bounds = _sentence_bounds(doc)
    figures: list[Money] = []
    previous_end = 0
    for span in spans:
        qualifier, start = _qualifier(text, span.start, lex)
        start = max(start, previous_end)
        period, per, end = _rate(text, span.end, lex)
        sent_start, sent_end = _sentence_of(start, end, bounds)
        if per is None and period is None:
            per = _unit_before(text, sent_start, start, previous_end, lex)
        figures.append(Money(
            text=text[start:end],
            value=None if span.value is None else _exact(span.value),
            lower=None if span.lower is None else _exact(span.lower),
            upper=None if span.upper is None else _exact(span.upper),
            currency=span.currency,
            approximate=span.vague or qualifier in lex.approximate,
            qualifier=qualifier,
            vague=span.vague,
            period=period,
            per=per,
            start=start,
            end=end,
            sentence=text[sent_start:sent_end],
        ))
        previous_end = end
    return tuple(figures)


def extract_quantities(doc: Doc, *, lang: str) -> tuple[Quantity, ...]:
    """Find percentages and counts (GPUs, chips, wafers, employees) that are not money.

    Args:
        doc: A parsed document; ``doc.text`` is the normalised text.
        lang: ISO 639-1 code selecting the language data.

    Returns:
        The quantities in text order, with offsets into ``doc.text``.
    """
    lex = _lexicon(lang)
    text = doc.text
    money = _find_spans(text, lex)
    money_starts = [m.start for m in money]
    found: list[Quantity] = []
    for m in lex.quantity_re.finditer(text):
        i = bisect.bisect_right(money_starts, m.start())
        if (i and money[i - 1].end > m.start()) or (i < len(money) and money[i].start < m.end()):
            continue
        number = parse_number(_number_text(m), lex.decimal_mark)
        magnitude = _magnitude(m.group("mags"), lex)[0] if m.group("mags") else Decimal(1)
        unit = matched_category(m, lex.quantity_names) or ""
        found.append(Quantity(text=m.group(0), value=_exact(number * magnitude), unit=unit, start=m.start(), end=m.end()))
    return tuple(found)


def _number_text(m: re.Match[str]) -> str:
    """The digits of a quantity match: everything before its magnitude words."""
    return m.string[m.start():m.start("mags")].rstrip()


__all__ = ["check_language_data", "extract_money", "extract_quantities", "money_languages", "validate_data"]
