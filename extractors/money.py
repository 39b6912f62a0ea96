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
import dataclasses
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from spacy.attrs import IDX, SENT_START, SPACY
from spacy.tokens import Doc

from extractors.base import doc_text
from extractors.langdata import LangDataError, available_languages, load_section
from extractors.numbers import (
    NUMBER_PATTERN,
    SPACELESS,
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
# Not followed by a letter or digit of a spaced script: the right edge of an amount.
_AMOUNT_END = rf"(?-i:(?![^\W_{SPACELESS}]))"
# Sentence and clause punctuation (Latin and CJK) that may end a bare amount.
_CLOSING_PUNCT = r"[.,;:!?…)\]，。；：！？、）]"
# Shortest misspelt magnitude word read by the typo rule ("Mird." for "Mrd."), letters only.
_TYPO_MIN_LEN = 3
# A unit price stated before a first amount carries over to a second one in the same sentence
# ("earnings per share of 12 cts, against 15 cts") when the two are this close ...
_PER_CARRY_GAP = 40
# ... and within this factor of each other (a unit price, not the total that follows it).
_PER_CARRY_RATIO = Decimal(10)


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
    if not isinstance(value, dict) or set(value) - {"code", "scale", "ambiguous", "defer_to"}:
        return False
    return (
        isinstance(value.get("code"), str)
        and bool(_ISO_4217.fullmatch(value["code"]))
        and ("scale" not in value or _is_number(value["scale"]))
        and isinstance(value.get("ambiguous", False), bool)
        and _is_str_list(value.get("defer_to", []))
        and all(_ISO_4217.fullmatch(c) for c in value.get("defer_to", []))
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
                         "a mapping of name → ISO code or {code, scale, ambiguous, defer_to}"),
    "magnitudes": (_mapping_of(_is_number), "a mapping of word → number"),
    "connectors": (_is_str_list, "a list of words"),
    "number_words": (_mapping_of(_is_number), "a mapping of word → number"),
    "qualifiers": (_mapping_of(_is_str_list, QUALIFIERS), f"a mapping of {QUALIFIERS} → phrases"),
    "approximate_qualifiers": (lambda v: _is_str_list(v) and set(v) <= set(QUALIFIERS),
                               f"a list drawn from {QUALIFIERS}"),
    "qualifier_articles": (_is_str_list, "a list of words"),
    "qualifiers_after": (_mapping_of(_is_str_list, QUALIFIERS),
                         f"a mapping of {QUALIFIERS} → phrases right after the amount"),
    "vague": (_mapping_of(_is_pair), "a mapping of cue → [low, high]"),
    "range_separators": (_is_str_list, "a list of separators"),
    "range_pairs": (_mapping_of(lambda v: isinstance(v, str) and bool(v)), "a mapping of starter → separator"),
    "range_blockers": (_is_str_list, "a list of words"),
    "change_pairs": (_mapping_of(lambda v: isinstance(v, str) and bool(v)),
                     "a mapping of starter → separator"),
    "per_words": (_is_str_list, "a list of words"),
    "periods": (_mapping_of(_is_str_list, PERIODS), f"a mapping of {PERIODS} → nouns"),
    "per_nouns": (_mapping_of(_is_str_list), "a mapping of unit → nouns"),
    "standalone_periods": (_mapping_of(_is_str_list, PERIODS), f"a mapping of {PERIODS} → phrases"),
    "standalone_per": (_mapping_of(_is_str_list), "a mapping of unit → phrases"),
    "period_blockers": (_is_str_list, "a list of words"),
    "periods_before": (_mapping_of(_is_str_list, PERIODS), f"a mapping of {PERIODS} → phrases"),
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
    # A unit name shared by several currencies ("元" is the yuan's, the Taiwan and Hong Kong
    # dollar's): it means one of these when the last explicitly named currency before it is one.
    defer_to: tuple[str, ...] = ()


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
    change_pairs: Mapping[str, str]
    bare_lookback: int
    atom: re.Pattern[str]
    vague_re: re.Pattern[str]
    magnitude_re: re.Pattern[str]
    qualifier_re: re.Pattern[str]
    qualifier_names: Mapping[str, str]
    qualifier_after_re: re.Pattern[str]
    qualifier_after_names: Mapping[str, str]
    range_free_re: re.Pattern[str]
    range_starter_re: re.Pattern[str]
    range_blocker_re: re.Pattern[str]
    after_re: re.Pattern[str]
    after_names: Mapping[str, str]
    unit_before_re: re.Pattern[str]
    unit_before_names: Mapping[str, str]
    period_before_re: re.Pattern[str]
    period_before_names: Mapping[str, str]
    typo_re: re.Pattern[str]
    typo_magnitudes: Mapping[str, Decimal]
    bare_follow_re: re.Pattern[str]
    quantity_re: re.Pattern[str]
    quantity_range_re: re.Pattern[str]
    quantity_names: Mapping[str, str]


def _currency(value: str | Mapping[str, Any]) -> _Currency:
    if isinstance(value, str):
        return _Currency(value, Decimal(1), False)
    return _Currency(value["code"], to_decimal(value.get("scale", 1)), bool(value.get("ambiguous", False)),
                     tuple(value.get("defer_to", ())))


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
        rf"(?P<num>{NUMBER_PATTERN}|(?P<nw>{alternation(data['number_words'])})(?=[\s-]*(?:{mag}|{cur_words}|{range_words})))"
        rf"(?:(?P<mags>(?:{gap}{mag})+)(?:\s?(?P<conn>{conn})\s?(?={cur_after}))?)?"
        rf"(?:{gap}(?P<cpost>{cur_after}))?"
        + _AMOUNT_END
    )
    # After a cue any magnitude may follow ("数十亿美元"); without one, only a long word
    # ("billions of dollars"), never an abbreviation.
    vague = (
        rf"(?<![.,]|(?-i:[^\W{SPACELESS}]))(?=(?:{alternation(data['vague'])}|{alternation(vague_mags)}))"
        rf"(?:(?P<vq>{alternation(data['vague'])})\s*)?"
        rf"(?:(?P<mags>(?(vq){mag}(?:\s*{mag})*|{alternation(vague_mags)}(?:\s+{alternation(vague_mags)})*))\s*)?"
        rf"(?:(?P<conn>{conn})\s?)?"
        rf"(?P<cpost>{cur_words})"
        + _AMOUNT_END
    )
    # A misspelt magnitude between a number and a currency ("26,04 Mird. Dollar").
    typo = rf"(?P<num>{NUMBER_PATTERN})\s?(?P<typo>[^\W\d_]{{{_TYPO_MIN_LEN},8}})\.?\s(?P<cpost>{cur_after}){_AMOUNT_END}"
    typo_magnitudes = {
        key: to_decimal(v) for k, v in mags.items()
        if len(key := normalise_key(k).rstrip(".")) >= _TYPO_MIN_LEN and key.isalpha()
    }
    qualifier, qualifier_names = category_alternation(data["qualifiers"], "q")
    qualifier_after, qualifier_after_names = grouped_alternation(data["qualifiers_after"], "qa")
    period_before, period_before_names = grouped_alternation(data["periods_before"], "pb")
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
        r"^(?P<fill>\s+" + alternation(data["period_fillers"]) + r"\s*[^\W\d_][\w-]*)?\s*"
        rf"(?:{stand_periods}|{stand_per}|{alternation(data['per_words'])}\s*(?:{noun_periods}|{noun_per}))"
        rf"(?!\s+{alternation(data['period_blockers'])})(?!\s*\d)"
    )
    unit_before, unit_before_names = grouped_alternation(data["per_nouns"], "ub")
    followers = alternation(data["bare_followers"])
    money_nouns = alternation(data["money_nouns"])
    bare_follow = rf"\s*(?:{followers}|(?:{conn}\s*)?{money_nouns}|{_CLOSING_PUNCT}|$)"
    qty_units, qty_names = grouped_alternation(data["quantity_units"], "qu")
    quantity = (
        rf"{NUMBER_PATTERN}(?P<mags>(?:{gap}{mag})*)(?:\s?{conn})?"
        # a model or brand name may sit between a count and its unit ("350,000 H100 GPUs")
        rf"(?P<model>(?:[^\S\n](?:(?-i:[A-Z])[\w.+-]*|[\w.+-]*\d[\w.+-]*)){{1,2}}(?=\s))?"
        rf"\s?{qty_units}"
    )
    # The first bound of a quantity range whose unit is written once ("12 à 13 %").
    # "between 12 and 13 %": a starter's own separator only after that starter.
    quantity_range = (
        rf"(?:(?P<starter>{alternation(data['range_pairs'])})\s*)?"
        rf"(?P<first>{_renamed(NUMBER_PATTERN, '0')})\s*"
        rf"(?:{alternation(data['range_separators'])}|(?(starter){alternation(data['range_pairs'].values())}|(?!x)x))"
        rf"\s*(?={_renamed(NUMBER_PATTERN, '1')}\s?{qty_units})"
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
        change_pairs={normalise_key(k): normalise_key(v) for k, v in data["change_pairs"].items()},
        bare_lookback=data["bare_lookback"],
        atom=re.compile(atom, flags),
        vague_re=re.compile(vague, flags),
        magnitude_re=re.compile(mag, flags),
        qualifier_re=re.compile(rf"{qualifier}(?:\s+{articles})?\s*$", flags),
        qualifier_names=qualifier_names,
        qualifier_after_re=re.compile(rf"\s*{qualifier_after}{_AMOUNT_END}", flags),
        qualifier_after_names=qualifier_after_names,
        range_free_re=re.compile(rf"\s*{alternation(data['range_separators'])}\s*", flags),
        range_starter_re=re.compile(
            rf"(?P<starter>{alternation([*data['range_pairs'], *data['change_pairs']])})\s*$", flags
        ),
        range_blocker_re=re.compile(
            rf"{alternation(data['range_blockers'])}\s+(?:{alternation(data['range_pairs'])}\s+)?$", flags
        ),
        after_re=re.compile(after_cue, flags),
        after_names=after_names,
        unit_before_re=re.compile(
            rf"{alternation(data['unit_cues_before'])}\s*(?:[\w-]+\s+){{0,2}}?{unit_before}", flags
        ),
        unit_before_names=unit_before_names,
        period_before_re=re.compile(period_before, flags),
        period_before_names=period_before_names,
        typo_re=re.compile(typo, flags),
        typo_magnitudes=typo_magnitudes,
        bare_follow_re=re.compile(bare_follow, flags),
        quantity_re=re.compile(quantity, flags),
        quantity_range_re=re.compile(quantity_range, flags),
        quantity_names=qty_names,
    )


def _renamed(pattern: str, suffix: str) -> str:
    """``pattern`` with its named groups renamed, to use it twice in one regex."""
    return re.sub(r"\(\?P([<=])(\w+)", lambda m: f"(?P{m.group(1)}{m.group(2)}{suffix}", pattern)


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
    defer_to: tuple[str, ...] = ()


def _magnitude(surfaces: str, lex: _Lexicon) -> tuple[Decimal, bool]:
    total, big = Decimal(1), False
    for m in lex.magnitude_re.finditer(surfaces):
        surface = normalise_key(m.group())
        total *= lex.magnitudes[surface]
        # "m" may be metres; "Md", "亿" are magnitude words (a spaceless script has no abbreviations)
        big = big or len(surface.rstrip(".")) >= 2 or not surface.isascii()
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
    return _with_typos(text, atoms, lex)


def _typo_magnitude(word: str, lex: _Lexicon) -> Decimal | None:
    """The magnitude a misspelt word stands for: one edit away from one magnitude value only.

    The first letter must agree (typos rarely hit it), which keeps "ten" from reading as "trn".
    """
    word = normalise_key(word)
    values = {
        value for key, value in lex.typo_magnitudes.items()
        if key[0] == word[0] and _one_edit(word, key)
    }
    return values.pop() if len(values) == 1 else None


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by exactly one insertion, deletion or substitution."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _with_typos(text: str, atoms: list[_Atom], lex: _Lexicon) -> list[_Atom]:
    """Replace bare numbers followed by a misspelt magnitude and a currency with amounts."""
    bare = {a.start: i for i, a in enumerate(atoms) if a.currency is None and a.magnitude is None}
    for m in lex.typo_re.finditer(text):
        word = m.group("typo")
        if m.start() not in bare or normalise_key(word) in lex.after or normalise_key(word) in lex.magnitudes:
            continue
        magnitude = _typo_magnitude(word, lex)
        if magnitude is None:
            continue
        currency = lex.after[normalise_key(m.group("cpost"))]
        number = parse_number(m.group("num"), lex.decimal_mark)
        old = atoms[bare[m.start()]]
        atoms[bare[m.start()]] = _Atom(
            m.start(), m.end(), number, magnitude, magnitude >= _BARE_MIN_MAGNITUDE, currency, old.negative, False
        )
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
    return _Span(atom.start, atom.end, _atom_value(atom), None, None, atom.currency.code, False,
                 atom.currency.defer_to)


def _range(text: str, first: _Atom, second: _Atom, lex: _Lexicon) -> _Span | None:
    """Join two atoms into a range when a separator or a starter pair links them.

    After a change verb ("est passé de 2 à 3 milliards") the pair is two amounts, not a range:
    the first one is returned alone, with the magnitude and currency it shares with the second.
    """
    # Most neighbouring numbers of a text cannot form a money range at all; these checks need
    # no pattern search, so they come first.
    currency = second.currency or first.currency
    if currency is None or first.year_like or first.negative or second.negative:
        return None
    if first.currency is not None and second.currency is not None and first.currency.code != second.currency.code:
        return None
    if first.magnitude is not None and second.magnitude is None:
        return None
    between = text[first.end:second.start]
    # a qualifier of the second bound ("von gut 6,2 auf knapp 16,6 Milliarden") is not a separator
    cue = lex.qualifier_re.search(between)
    if cue is not None and cue.start() > 0:
        between = between[:cue.start()]
    window = text[max(0, first.start - _CUE_WINDOW):first.start]
    # the first bound's own qualifier may sit between the starter and the number ("von gut 6,2")
    own_cue = lex.qualifier_re.search(window)
    starter_window = window[:own_cue.start()] if own_cue is not None else window
    change = lex.range_blocker_re.search(starter_window) is not None
    starter = lex.range_starter_re.search(starter_window)
    start = first.start
    starter_key = normalise_key(starter.group("starter")) if starter else ""
    if starter and normalise_key(between) == lex.change_pairs.get(starter_key):
        change = True
    elif starter and normalise_key(between) == lex.range_pairs.get(starter_key):
        start = first.start - len(window) + starter.start()
    elif lex.range_free_re.fullmatch(between):
        if starter:
            start = first.start - len(window) + starter.start()
    else:
        return None
    lower = _atom_value(first, second.magnitude, currency)
    upper = _atom_value(second, None, currency)
    if change:
        return _Span(first.start, first.end, lower, None, None, currency.code, False) if first.currency is None else None
    if not lower < upper:
        return None
    return _Span(start, second.end, None, lower, upper, currency.code, False, currency.defer_to)


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
    """Give bare "number + magnitude word" amounts a currency from the money before them.

    A figure repeated from earlier in the article (the title's "5,5 milliards d'euros", then
    "la France souhaite investir 5,5 milliards") takes the currency it was first written with,
    however far back; otherwise the amount takes the currency of the money just before it,
    within ``bare_lookback`` characters.
    """
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
        value = _atom_value(atom)
        earlier = {s.currency for s in taken[:i] if s.value == value}
        previous = taken[i - 1] if i else None
        if len(earlier) == 1:
            code = earlier.pop()
        elif previous is not None and atom.start - previous.end <= lex.bare_lookback:
            code = previous.currency
        else:
            continue
        currency = _Currency(code, Decimal(1), False)
        span = _Span(atom.start, atom.end, _atom_value(atom, None, currency), None, None, code, False)
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
    return _deferred(_inherit(text, atoms, spans, lex))


def _doc_spans(doc: Doc, lang: str, lex: _Lexicon) -> list[_Span]:
    """:func:`_find_spans` over ``doc``, kept with the ``Doc``: money and quantities both need them."""
    key = f"chipwire.money_spans.{lang}"
    spans = doc.user_data.get(key)
    if spans is None:
        spans = doc.user_data[key] = _find_spans(doc_text(doc), lex)
    return list(spans)


def _deferred(spans: list[_Span]) -> list[_Span]:
    """Resolve shared unit names ("元") to the last explicitly named currency when it is one of theirs."""
    out: list[_Span] = []
    last: str | None = None
    for span in spans:
        if not span.defer_to:
            last = span.currency
        elif last in span.defer_to:
            span = dataclasses.replace(span, currency=last, defer_to=())
        out.append(span)
    return out


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
    ends.append(len(doc_text(doc)) - table[-1][2])
    return starts, ends


def _sentence_of(start: int, end: int, bounds: tuple[list[int], list[int]]) -> tuple[int, int]:
    """The sentence(s) holding ``[start, end)``: a splitter may cut inside a figure ("7,6 mrd. euro")."""
    starts, ends = bounds
    if not starts:
        return 0, 0
    first = max(bisect.bisect_right(starts, start) - 1, 0)
    last = max(bisect.bisect_right(starts, max(end - 1, start)) - 1, first)
    return starts[first], ends[last]


def _qualifier(text: str, start: int, floor: int, lex: _Lexicon) -> tuple[str | None, int]:
    """A qualifier right before the amount, not inside the previous figure; where it starts."""
    window_start = max(0, start - _CUE_WINDOW)
    m = lex.qualifier_re.search(text, window_start, start)
    if m is None or m.start() < floor:
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


def _qualifier_after(text: str, end: int, lex: _Lexicon) -> tuple[str | None, int]:
    """A qualifier right after the amount ("$5 billion or more", "80亿美元以上"); the new end."""
    m = lex.qualifier_after_re.match(text, end)
    if m is None:
        return None, end
    return matched_category(m, lex.qualifier_after_names), m.end()


def _period_before(text: str, sent_start: int, start: int, floor: int, lex: _Lexicon) -> str | None:
    """A rate named shortly before the amount in its sentence ("cada día pierden unos $38 millones")."""
    last = None
    for m in lex.period_before_re.finditer(text, max(sent_start, floor, start - _CUE_WINDOW), start):
        last = m
    if last is None or any(c.isdigit() for c in text[last.end():start]):
        return None  # another figure sits between: the rate is that one's
    if re.search(r"[\d%]\s*$", text[max(0, last.start() - 3):last.start()]):
        return None  # "grew 20% each year to $5 billion": the rate belongs to the figure before it
    return matched_category(last, lex.period_before_names)


def _unit_peers(text: str, first: Money, second: Money) -> bool:
    """Whether two figures of one sentence share a unit price named before or after both.

    "earnings per share of 12 cts, against 15 cts", "at 12 dlrs and 14 dlrs a share": close,
    in the same currency, of the same order of size, with no other number in between (so
    "$5 million, or 12 cts a share" keeps the total apart).
    """
    if first.currency != second.currency or first.sentence != second.sentence:
        return False
    if not first.value or not second.value:
        return False
    between = text[first.end:second.start]
    if len(between) > _PER_CARRY_GAP or any(c.isdigit() for c in between):
        return False
    ratio = abs(second.value / first.value)
    return 1 / _PER_CARRY_RATIO <= ratio <= _PER_CARRY_RATIO


def _share_units(text: str, figures: list[Money], sources: list[str]) -> list[Money]:
    """Carry a unit price forward from a cue before a figure, backward from a cue after one."""
    for i in range(1, len(figures)):
        prev, cur = figures[i - 1], figures[i]
        if sources[i - 1] == "before" and cur.per is None and cur.period is None and _unit_peers(text, prev, cur):
            figures[i], sources[i] = dataclasses.replace(cur, per=prev.per), "before"
    for i in range(len(figures) - 2, -1, -1):
        cur, nxt = figures[i], figures[i + 1]
        if sources[i + 1] == "after" and cur.per is None and cur.period is None and _unit_peers(text, cur, nxt):
            figures[i], sources[i] = dataclasses.replace(cur, per=nxt.per), "after"
    return figures


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
    text = doc_text(doc)
    spans = _doc_spans(doc, lang, lex)
    if not spans:
        return ()
    bounds = _sentence_bounds(doc)
    figures: list[Money] = []
    previous_end = 0
    sources: list[str] = []  # where each figure's unit price was read: "before", "after" or ""
    for span in spans:
        qualifier, start = _qualifier(text, span.start, previous_end, lex)
        after_qualifier, end = _qualifier_after(text, span.end, lex)
        qualifier = qualifier or after_qualifier
        period, per, end = _rate(text, end, lex)
        sent_start, sent_end = _sentence_of(start, end, bounds)
        if per is None and period is None:
            period = _period_before(text, sent_start, start, previous_end, lex)
        sources.append("after" if per else "")
        if per is None and period is None:
            per = _unit_before(text, sent_start, start, previous_end, lex)
            sources[-1] = "before" if per else ""
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
    return tuple(_share_units(text, figures, sources))


def extract_quantities(doc: Doc, *, lang: str) -> tuple[Quantity, ...]:
    """Find percentages and counts (GPUs, chips, wafers, employees) that are not money.

    Args:
        doc: A parsed document; ``doc.text`` is the normalised text.
        lang: ISO 639-1 code selecting the language data.

    Returns:
        The quantities in text order, with offsets into ``doc.text``.
    """
    lex = _lexicon(lang)
    text = doc_text(doc)
    money = _doc_spans(doc, lang, lex)
    money_starts = [m.start for m in money]
    found: list[Quantity] = []

    def inside_money(start: int, end: int) -> bool:
        i = bisect.bisect_right(money_starts, start)
        return bool((i and money[i - 1].end > start) or (i < len(money) and money[i].start < end))

    for m in lex.quantity_re.finditer(text):
        if inside_money(m.start(), m.end()):
            continue
        number_text = _number_text(m)
        if m.group("model") and re.fullmatch(r"(?:19|20)\d\d", number_text):
            continue  # "in 2023 Nvidia GPUs ...": a year, not a count
        number = parse_number(number_text, lex.decimal_mark)
        magnitude = _magnitude(m.group("mags"), lex)[0] if m.group("mags") else Decimal(1)
        unit = matched_category(m, lex.quantity_names) or ""
        found.append(Quantity(text=m.group(0), value=_exact(number * magnitude), unit=unit, start=m.start(), end=m.end()))
    # the first bound of "12 à 13 %" shares the second's unit
    starts = {q.start: q for q in found}
    for m in lex.quantity_range_re.finditer(text):
        second = starts.get(m.end())
        if second is None or inside_money(m.start(), m.end()) or second.text.startswith(m.group()):
            continue
        number = parse_number(m.group("first"), lex.decimal_mark)
        if not number < second.value:
            continue  # "de 23,1 % en 2018 à 10 %": not a range
        found.append(Quantity(text=m.group("first"), value=_exact(number), unit=second.unit,
                              start=m.start("first"), end=m.end("first")))
    return tuple(sorted(found, key=lambda q: q.start))


def _number_text(m: re.Match[str]) -> str:
    """The digits of a quantity match: everything before its magnitude words."""
    return m.string[m.start():m.start("mags")].rstrip()


__all__ = ["check_language_data", "extract_money", "extract_quantities", "money_languages", "validate_data"]
