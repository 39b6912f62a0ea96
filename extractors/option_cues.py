"""Cue patterns of the strategic options, loaded from ``extractors/lang/options/<lang>.yaml``.

The language files hold every phrase the options extractor knows: option cues (with the
argument structure around them), status, attribution, background and example cues, anaphors,
argument markers and chip words. This module loads and validates them once per language and
offers the matching primitives; it knows nothing about entities or articles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from extractors.langdata import LangDataError, available_languages, load_section

OPTIONS: tuple[str, ...] = ("build", "partner", "diversify", "acquire")
# Status values in the order in which a clause's cues take precedence (strongest first).
STATUS_PRECEDENCE: tuple[str, ...] = (
    "denied", "abandoned", "considered", "completed", "in_progress", "announced", "planned",
)
STATUSES: frozenset[str] = frozenset(STATUS_PRECEDENCE)
#: Hedges ("could", "would", "si"): a status of their own in the data files, weaker than every
#: other cue, read as ``considered`` when nothing else in the clause states the move's stage.
HEDGED = "hedged"
#: A closing still ahead ("expected to close", "sous réserve de l'approbation"): a status of its own in
#: the data files, read as ``in_progress`` (OPTIONS.md: "deal pending approval"). It outranks
#: ``completed`` because the same clause often names the completion it waits for ("se espera que la
#: transacción se complete").
CLOSING = "closing"
_STATUS_KEYS: tuple[str, ...] = (*STATUS_PRECEDENCE[:3], CLOSING, *STATUS_PRECEDENCE[3:], HEDGED)
ATTRIBUTIONS: tuple[str, ...] = (
    "actor_statement", "counterparty_statement", "anonymous_sources", "analyst", "regulator", "filing",
)
SUBTYPES: dict[str, frozenset[str]] = {
    "build": frozenset({"in_house_design", "custom_asic_with_partner"}),
    "partner": frozenset({"co_development", "strategic_supply", "investment", "joint_venture"}),
    "diversify": frozenset({"add_supplier", "second_source", "reduce_dependence"}),
    "acquire": frozenset({"acquisition"}),
}
# How arguments sit around a cue (documented in base.yaml).
FORMS: frozenset[str] = frozenset({"verb", "passive", "noun", "sale", "supply", "pair", "funding", "invest", "talks",
                                   "accord", "bare"})
_LIST_KEYS: tuple[str, ...] = (
    "background", "examples", "anaphora", "agent_markers", "target_markers", "recipient_markers",
    "dominant_markers", "with_markers", "custom_words", "chip_terms", "company_terms", "share_terms", "deal_terms",
    "deal_refs", "deal_anchors", "generic_deals", "object_pronouns", "plural_anaphora", "descriptions", "chipmaker_names",
    "fronted_groups", "fronted_copulas", "consortium_refs", "between_markers", "group_subjects",
    "source_markers", "possessives", "indefinites", "possessive_pronouns", "conjunctions", "use_verbs",
    "control_terms", "relative_pronouns", "subject_pronouns",
    "passive_auxiliaries", "foundry_terms", "object_clitics", "oem_descriptions", "chipmaker_descriptions",
    "plural_descriptions", "software_terms", "same_move", "task_objects", "partnership_refs",
)
SCHEMA: frozenset[str] = frozenset({"options", "status", "attribution", "clause_breaks", "year", "verb_final",
                                    *_LIST_KEYS})
_BACKREF = re.compile(r"\\[1-9]|\(\?P=")
_CUE_KEYS: frozenset[str] = frozenset({"pattern", "subtype", "form", "status", "chip", "own_words", "codesign"})


@dataclass(frozen=True)
class OptionCue:
    """One option cue pattern.

    Attributes:
        option: build / partner / diversify / acquire.
        subtype: The OPTIONS.md subtype the cue signals, or None.
        form: Argument structure around the cue (see ``FORMS``).
        status: Default status when the clause has no status cue.
        chip: True when the cue itself names chips.
        regex: The compiled pattern.
        own_words: False when status words inside the cue say nothing of the move's stage ("is
            testing a rival accelerator" weighs a supplier: ``considered``, not ``in_progress``).
        codesign: True for partner cues that say the parties design or develop something together.
    """

    option: str
    subtype: str | None
    form: str
    status: str
    chip: bool
    regex: re.Pattern[str]
    own_words: bool = True
    codesign: bool = False


@dataclass(frozen=True)
class CueMatch:
    """A match of an option cue in a text (offsets relative to that text)."""

    cue: OptionCue
    start: int
    end: int


@dataclass(frozen=True)
class OptionLangData:
    """The validated ``options`` language data of one language."""

    lang: str
    cues: tuple[OptionCue, ...]
    status: tuple[tuple[str, re.Pattern[str]], ...]
    attribution: tuple[tuple[str, re.Pattern[str]], ...]
    lists: dict[str, re.Pattern[str] | None]
    clause_breaks: re.Pattern[str]
    year: re.Pattern[str]
    #: All option cues as one alternation: a text it does not match has no cue (a cheap gate
    #: before the per-cue scan). None when the cues cannot be combined (then every text is scanned).
    any_cue: re.Pattern[str] | None = None
    #: Verbs close their clause ("AMD will seinen Konkurrenten Xilinx ... kaufen"): a verb cue at
    #: the end of its clause has its object before it.
    verb_final: bool = False

    def pattern(self, key: str) -> re.Pattern[str] | None:
        """The alternation of the list ``key`` (None when the language lists nothing)."""
        return self.lists[key]


def _expand(pattern: str) -> str:
    """Apply the file conventions: a space matches a whitespace run (" ?" an optional one), ' both apostrophes."""
    return pattern.replace("'", "['’]").replace(" ?", r"\s*").replace(" ", r"\s+")


def _compile(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise LangDataError(f"{where}: a pattern must be a non-empty string, got {pattern!r}")
    try:
        return re.compile(_expand(pattern), re.IGNORECASE)
    except re.error as exc:
        raise LangDataError(f"{where}: bad regular expression {pattern!r}: {exc}") from exc


def _alternation(patterns: Any, where: str) -> re.Pattern[str] | None:
    if not isinstance(patterns, list):
        raise LangDataError(f"{where}: must be a list of patterns")
    for i, p in enumerate(patterns):
        _compile(p, f"{where}[{i}]")  # each alone, so an error names the culprit
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_expand(p)})" for p in patterns), re.IGNORECASE)


def _parse_cue(option: str, raw: Any, where: str) -> OptionCue:
    if not isinstance(raw, dict):
        raise LangDataError(f"{where}: a cue must be a mapping with 'pattern'")
    unknown = set(raw) - _CUE_KEYS
    if unknown:
        raise LangDataError(f"{where}: unknown keys {sorted(unknown)}")
    subtype = raw.get("subtype")
    if subtype is not None and subtype not in SUBTYPES[option]:
        raise LangDataError(f"{where}: subtype {subtype!r} is not one of {sorted(SUBTYPES[option])}")
    form = raw.get("form", "bare")
    if form not in FORMS:
        raise LangDataError(f"{where}: form {form!r} is not one of {sorted(FORMS)}")
    status = raw.get("status", "announced")
    if status not in STATUSES:
        raise LangDataError(f"{where}: status {status!r} is not one of {sorted(STATUSES)}")
    chip = raw.get("chip", False)
    if not isinstance(chip, bool):
        raise LangDataError(f"{where}: chip must be true or false")
    flags = {key: raw.get(key, default) for key, default in (("own_words", True), ("codesign", False))}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise LangDataError(f"{where}: {key} must be true or false")
    return OptionCue(option, subtype, form, status, chip, _compile(raw.get("pattern"), where),
                     flags["own_words"], flags["codesign"])


@cache
def option_data(lang: str) -> OptionLangData:
    """Load and validate ``extractors/lang/options/<lang>.yaml`` over ``base.yaml`` (cached per process).

    Raises:
        LangDataError: On an unknown key, option, status, attribution type, form or subtype, or a
            pattern that does not compile; the message names the file section.
    """
    data = load_section("options", lang)
    where = f"options/{lang}"
    unknown = set(data) - SCHEMA
    if unknown:
        raise LangDataError(f"{where}: unknown keys {sorted(unknown)}")
    raw_options = data.get("options") or {}
    if not isinstance(raw_options, dict) or set(raw_options) - set(OPTIONS):
        raise LangDataError(f"{where}: 'options' must map {list(OPTIONS)} to lists of cues")
    cues: list[OptionCue] = []
    for option in OPTIONS:
        raw_cues = raw_options.get(option) or []
        if not isinstance(raw_cues, list):
            raise LangDataError(f"{where}.options.{option}: must be a list")
        cues += [_parse_cue(option, c, f"{where}.options.{option}[{i}]") for i, c in enumerate(raw_cues)]
    raw_status = data.get("status") or {}
    if not isinstance(raw_status, dict) or set(raw_status) - set(_STATUS_KEYS):
        raise LangDataError(f"{where}: 'status' keys must be among {sorted(_STATUS_KEYS)}")
    status = tuple(
        (name, pat)
        for name in _STATUS_KEYS
        if (pat := _alternation(raw_status.get(name) or [], f"{where}.status.{name}")) is not None
    )
    raw_attr = data.get("attribution") or {}
    if not isinstance(raw_attr, dict) or set(raw_attr) - set(ATTRIBUTIONS):
        raise LangDataError(f"{where}: 'attribution' keys must be among {list(ATTRIBUTIONS)}")
    attribution = tuple(
        (name, pat)
        for name in ATTRIBUTIONS
        if (pat := _alternation(raw_attr.get(name) or [], f"{where}.attribution.{name}")) is not None
    )
    lists = {key: _alternation(data.get(key) or [], f"{where}.{key}") for key in _LIST_KEYS}
    for key in ("clause_breaks", "year"):
        if not isinstance(data.get(key), str):
            raise LangDataError(f"{where}: '{key}' must be a pattern string")
    try:
        clause_breaks = re.compile(data["clause_breaks"])
        year = re.compile(data["year"])
    except re.error as exc:
        raise LangDataError(f"{where}: bad clause_breaks/year pattern: {exc}") from exc
    verb_final = data.get("verb_final", False)
    if not isinstance(verb_final, bool):
        raise LangDataError(f"{where}: 'verb_final' must be true or false")
    return OptionLangData(lang, tuple(cues), status, attribution, lists, clause_breaks, year, _any_cue(cues), verb_final)


def _any_cue(cues: list[OptionCue]) -> re.Pattern[str] | None:
    """One alternation of every cue (same flags), or None if they do not combine.

    Back-references would point at other groups once the patterns are joined, so a cue set with
    any of them (or with differing flags) is not combined.
    """
    if not cues or any(c.regex.flags != cues[0].regex.flags or _BACKREF.search(c.regex.pattern) for c in cues):
        return None
    try:
        return re.compile("|".join(f"(?:{c.regex.pattern})" for c in cues), cues[0].regex.flags)
    except re.error:
        return None


def option_languages() -> list[str]:
    """Languages with an options data file."""
    return available_languages("options")


def find_cues(text: str, data: OptionLangData) -> list[CueMatch]:
    """All option cue matches in ``text``, in text order; overlapping matches of one option keep the longest."""
    if data.any_cue is not None and data.any_cue.search(text) is None:
        return []  # no cue can match where their alternation does not
    found: list[CueMatch] = []
    for cue in data.cues:
        found += [CueMatch(cue, m.start(), m.end()) for m in cue.regex.finditer(text) if m.end() > m.start()]
    found.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[CueMatch] = []
    for match in found:
        if any(k.cue.option == match.cue.option and k.start < match.end and match.start < k.end for k in kept):
            continue
        kept.append(match)
    return kept


def has_chip_term(text: str, data: OptionLangData) -> bool:
    """True when ``text`` names chips or chip companies."""
    pat = data.pattern("chip_terms")
    return bool(pat and pat.search(text))


def sentence_cue_labels(text: str, lang: str) -> set[str]:
    """Options whose cues fire in a sentence on its own, for sentence-level evaluation.

    A cue counts when it names chips itself or the sentence has a chip word; the extractor
    applies further checks (actor, target, article scope) that need the whole article.
    """
    data = option_data(lang)
    chip = has_chip_term(text, data)
    return {m.cue.option for m in find_cues(text, data) if m.cue.chip or chip}
