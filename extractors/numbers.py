"""Number surfaces and phrase patterns shared by the money and quantity extractors.

Kept apart from :mod:`extractors.money` because it knows nothing about currencies: how a
written number becomes a ``Decimal`` and how a data-file phrase becomes a regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

# Letters of scripts written without spaces between words (Han, kana). A phrase in those scripts
# has no word edges to respect: "80亿美元" is a number, a magnitude and a currency glued together,
# and a Latin word next to a Chinese character is still a separate word.
SPACELESS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
# Character classes with SPACELESS sit inside "(?-i:...)": under IGNORECASE, Python's regex
# compiler case-folds every one of the ~30,000 CJK code points of a negated class, which made
# compiling a language's patterns take seconds. Case does not matter to these classes.

# A digit number, with grouped thousands (one separator kind, repeated) or without, an optional
# decimal part, and the German price tail ",-". Thousands separators seen in news text: comma,
# point, apostrophe (Swiss), typographic apostrophe, and the spaces typesetters use (plain,
# no-break U+00A0, narrow no-break U+202F). It must not touch a letter, digit or separator
# on the left (so "H100" and "2.5.1" give nothing) nor continue with more digits on the right.
NUMBER_PATTERN = (
    rf"(?<![.,'’]|(?-i:[^\W{SPACELESS}]))"
    r"(?:\d{1,3}(?:(?P<ts>[,.'’\u00a0\u202f ])\d{3})(?:(?P=ts)\d{3})*(?:[.,]\d+)?(?![.,]?\d)"
    r"|\d+(?:[.,]\d+)?(?![.,]?\d))"
    r"(?:,[-–](?!\d))?"
)

# Not followed by a letter of a spaced script: the right edge of a phrase that ends in a letter.
NOT_LETTER_AFTER = rf"(?-i:(?![^\W\d_{SPACELESS}]))"
# Not preceded by a letter of a spaced script (digits are fine: "52.7bn").
NOT_LETTER_BEFORE = rf"(?-i:(?<![^\W\d_{SPACELESS}]))"


def phrase_pattern(phrase: str) -> str:
    """Turn a data-file phrase into a regex fragment.

    A space matches any whitespace run, an apostrophe matches ``'`` and ``’``, a trailing ``*``
    matches the rest of a word, and phrases that start or end with a letter must not touch
    another letter there.

    Args:
        phrase: The phrase as written in a language data file.

    Returns:
        A regex fragment without capturing groups.
    """
    wild = len(phrase) > 1 and phrase.endswith("*")
    core = phrase[:-1] if wild else phrase
    parts: list[str] = []
    for char in core:
        if char.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        elif char in "'’":
            parts.append("['’]")
        else:
            parts.append(re.escape(char))
    body = "".join(parts) + (r"\w*" if wild else "")
    head = NOT_LETTER_BEFORE if core[0].isalpha() else ""
    tail = NOT_LETTER_AFTER if (wild or core[-1].isalpha()) else ""
    return head + body + tail


def alternation(phrases: Iterable[str]) -> str:
    """A non-capturing alternation of phrases, longest first so the longest phrase wins.

    Phrases that start with a letter share one left-edge check, placed before the alternation:
    the regex engine then rejects most text positions with a single test instead of one per
    phrase (the money patterns run over whole articles).
    """
    unique = sorted(set(phrases), key=lambda p: (-len(p), p))
    if not unique:
        return r"(?!x)x"  # matches nothing: a language may leave a list empty
    worded = [p for p in unique if p[0].isalpha()]
    others = [p for p in unique if not p[0].isalpha()]
    branches = []
    if worded:
        bodies = [phrase_pattern(p)[len(NOT_LETTER_BEFORE):] for p in worded]
        # Likewise one shared right-edge check for the phrases that end in a letter: the check
        # is a large character class, and compiling it once per phrase cost seconds per language.
        # Backtracking into the group keeps the semantics of one check per phrase.
        tailed = [b[: -len(NOT_LETTER_AFTER)] for b in bodies if b.endswith(NOT_LETTER_AFTER)]
        untailed = [b for b in bodies if not b.endswith(NOT_LETTER_AFTER)]
        inner = "|".join(untailed + ([rf"(?:{'|'.join(tailed)}){NOT_LETTER_AFTER}"] if tailed else []))
        branches.append(rf"{NOT_LETTER_BEFORE}(?=[^\W\d_])(?:{inner})")
    branches.extend(phrase_pattern(p) for p in others)
    return "(?:" + "|".join(branches) + ")"


def grouped_alternation(groups: Mapping[str, Iterable[str]], prefix: str) -> tuple[str, dict[str, str]]:
    """An alternation with one named group per category, to tell which category matched.

    Args:
        groups: Category → phrases.
        prefix: Group-name prefix, unique within the final regex.

    Returns:
        The pattern and a map from group name to category.
    """
    names: dict[str, str] = {}
    parts: list[str] = []
    # Longest phrases first across categories, so "pounds sterling" beats "pounds".
    ordered = sorted(
        ((phrase, category) for category, phrases in groups.items() for phrase in phrases),
        key=lambda item: (-len(item[0]), item[0]),
    )
    for index, (phrase, category) in enumerate(ordered):
        name = f"{prefix}{index}"
        names[name] = category
        parts.append(f"(?P<{name}>{phrase_pattern(phrase)})")
    if not parts:
        return r"(?!x)x", names
    return "(?:" + "|".join(parts) + ")", names


def category_alternation(groups: Mapping[str, Iterable[str]], prefix: str) -> tuple[str, dict[str, str]]:
    """Like :func:`grouped_alternation` but one named group per category, which is faster.

    Only for patterns that are searched for rather than matched at a fixed place, where the
    leftmost start decides and the order of categories does not.
    """
    names = {f"{prefix}{i}": category for i, category in enumerate(groups)}
    parts = [f"(?P<{name}>{alternation(groups[category])})" for name, category in names.items()]
    return ("(?:" + "|".join(parts) + ")" if parts else r"(?!x)x"), names


def matched_category(match: re.Match[str], names: Mapping[str, str]) -> str | None:
    """The category of the named group that took part in ``match``, if any."""
    for name, category in names.items():
        if match.group(name) is not None:
            return category
    return None


def normalise_key(text: str) -> str:
    """Lookup key for a surface: lower case, one space, straight apostrophe."""
    return " ".join(text.replace("’", "'").split()).lower()


def parse_number(surface: str, decimal_mark: str) -> Decimal:
    """Read a written number as an exact ``Decimal``.

    Spaces and apostrophes always group thousands. When both ``.`` and ``,`` occur, the last one
    is the decimal mark. A single mark followed by exactly three digits is ambiguous ("1.234")
    and resolved with the language's ``decimal_mark``; any other single mark is decimal.

    Args:
        surface: The digits as written (``"1 234,5"``, ``"35.100"``, ``"49,-"``).
        decimal_mark: ``"."`` or ``","``, the language's habit.

    Returns:
        The value.
    """
    text = surface.rstrip("-–").rstrip(",")
    for sep in "'’\u00a0\u202f ":
        text = text.replace(sep, "")
    if "." in text and "," in text:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        return Decimal(text.replace(thousands, "").replace(decimal, "."))
    mark = "." if "." in text else ("," if "," in text else "")
    if not mark:
        return Decimal(text)
    head, _, tail = text.rpartition(mark)
    if text.count(mark) > 1:
        return Decimal(text.replace(mark, ""))
    if len(tail) == 3 and head not in ("0", "") and mark != decimal_mark:
        return Decimal(head + tail)
    return Decimal(f"{head}.{tail}")


def to_decimal(value: object) -> Decimal:
    """A data-file number (int, float or string such as ``"1e9"``) as an exact ``Decimal``."""
    return Decimal(str(value))


__all__ = [
    "NOT_LETTER_AFTER",
    "NOT_LETTER_BEFORE",
    "NUMBER_PATTERN",
    "SPACELESS",
    "alternation",
    "grouped_alternation",
    "matched_category",
    "normalise_key",
    "parse_number",
    "phrase_pattern",
    "to_decimal",
]
