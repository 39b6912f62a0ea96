"""Strategic options (build / partner / diversify / acquire) with their arguments, status and evidence.

Hybrid detection: per-language cue patterns (:mod:`extractors.option_cues`) find candidate
mentions and carry the recall; a sentence classifier (:mod:`extractors.option_classifier`) gives a
confidence signal. Arguments come from the article's organisations (the entities extractor's ORG
mentions, completed by knowledge-base aliases for pipelines without NER) and their knowledge-base
roles: the *actor* is the company whose chip strategy it is, never a chipmaker that is only the
counterparty; anaphors ("the company", "l'entreprise", "its own") resolve to the article's salient
company. Mentions of one (actor, option, counterparties) merge into one record per article.

Nothing here branches on the language: every phrase is in ``extractors/lang/options/<lang>.yaml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise
from typing import Any, NamedTuple

from spacy.tokens import Doc

from extractors.base import ExtractContext, doc_text
from extractors.entities import sentence_bounds
from extractors.kb import KBEntry, KnowledgeBase, has_legal_form, load_kb, normalize_alias
from extractors.option_classifier import Calibration, ShippedModel, shipped_model
from extractors.option_confidence import RecordCalibration, record_features
from extractors.option_cues import (
    CLOSING,
    HEDGED,
    CueMatch,
    OptionCue,
    OptionLangData,
    find_cues,
    has_chip_term,
    option_data,
)
from pipeline.records import Entity, Evidence, Option, Quantity

#: Knowledge-base roles of companies that make chips (or chip tools): they are counterparties of
#: chip buyers, and their own products are not a "build" option.
CHIP_ROLES: frozenset[str] = frozenset({"chip_designer", "foundry", "idm", "memory", "equipment", "eda", "materials"})
#: Roles that never hold a chip strategy of their own in news (they report, fund or regulate).
NON_PARTY_ROLES: frozenset[str] = frozenset({"government", "media", "association"})
#: Roles of the bodies a company may join as a partner option (a research consortium such as Sematech).
CONSORTIUM_ROLES: frozenset[str] = frozenset({"association"})
#: Status ranks for merging mentions: the furthest stage asserted wins.
# Characters between an option cue and a status cue beyond which the status cue is not its own
# ("the proposed takeover would make Fujitsu ... at a time when Japan has not bought ...").
_STATUS_REACH = 80
#: A denial governs the whole report it answers ("denied reports that the semiconductor giant was
#: in active discussions with Intel regarding a chipmaking joint venture").
_DENIAL_REACH = 160
_RANK = {"considered": 0, "planned": 1, "announced": 2, "in_progress": 3, "completed": 4}
_OFF = frozenset({"abandoned", "denied"})
#: Words between a talks cue and the option cue it governs ("in talks to acquire").
_GOVERNING_WORDS = 3
#: Stages an option cue may state in its own words ("the planned acquisition", "has acquired",
#: "travaille sur une puce"); its modal words ("will supply", "hopes to") are only its default.
_OWN_STAGES = frozenset({"completed", "abandoned", "announced", "in_progress", CLOSING})
#: The status a data-file key that is no status of its own stands for.
_READ_AS = {HEDGED: "considered", CLOSING: "in_progress"}
#: Statuses of a move not yet committed, and of one under way or done.
_OPEN_STATUSES = frozenset({"considered", "planned"})
_TAKEN_STATUSES = frozenset({"in_progress", "completed"})
#: A non-chipmaker's own chip named by its name is a build of its maker (OPTIONS.md: "Like Google,
#: whose TPU was developed in-house years ago" -> build for Google, completed). The knowledge base
#: finds these names (:func:`own_chips`); this cue stands for them, so that status, background and
#: evidence are read as for any cue. Its default stage is done: a named chip exists.
_OWN_CHIP = OptionCue("build", "in_house_design", "own_chip", "completed", True, re.compile(r"(?!)"))
#: A company that uses, orders or tests another's own chip adds a supplier (OPTIONS.md: "X will
#: run models on AMD accelerators alongside its NVIDIA fleet" -> diversify; "X is testing a rival
#: accelerator" -> diversify, considered): ByteDance ordering Huawei's Ascend chips, Apple training
#: on Google's TPUs. The buyer of another company's own chip is never its incumbent supplier.
_CHIP_USE = OptionCue("diversify", "add_supplier", "chip_use", "in_progress", True, re.compile(r"(?!)"))
#: Characters between a use verb and the chip it governs ("plans to use Huawei's Ascend 910B").
_USE_REACH = 40
#: Attribution types that make a record a rumour when nothing confirms it.
_RUMOUR = frozenset({"anonymous_sources", "analyst", "journalist"})
#: How far (characters) after a cue its object may start.
_OBJECT_WINDOW = 90
#: Title mentions count this many times in salience.
_TITLE_WEIGHT = 3
#: Below this classifier probability a mention whose cue names no chip and whose counterparties
#: are no known chip companies is dropped. 0.0 (no filter) was chosen by 5-fold cross-validation
#: of the extractor itself on the train split (``python -m extractors.data.options.train``):
#: every threshold from 0.02 up removed only true mentions there; see the data README.
MIN_PROB = 0.0
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
#: Unicode hyphens read as "-" (one character for one, so offsets hold): web text writes
#: "in\u2011house" with a non-breaking hyphen, which the cue patterns would not match.
_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-"})
_WORD = re.compile(r"\w+(?:[.&'’-]\w+)*", re.UNICODE)


@dataclass(frozen=True)
class Org:
    """An organisation mention with what the knowledge base knows about it."""

    name: str
    canonical: str
    id: str | None
    roles: frozenset[str]
    start: int
    end: int
    parent: str | None = None
    #: The mention names one of the company's chips ("GB300", "Trainium"), not the company.
    chip_product: bool = False

    @property
    def chipmaker(self) -> bool:
        """True for companies that only make chips or chip tools (no chip-buying role)."""
        return bool(self.roles) and self.roles <= CHIP_ROLES

    @property
    def party(self) -> bool:
        """False for governments, media, investors and associations."""
        return not (self.roles and self.roles <= NON_PARTY_ROLES)

    def as_dict(self, role: str | None = None, via_coref: bool | None = None) -> dict[str, Any]:
        """The JSON form used in ``details``."""
        out: dict[str, Any] = {"name": self.name, "canonical": self.canonical, "id": self.id}
        if role is not None:
            out["role"] = role
        if via_coref is not None:
            out["via_coref"] = via_coref
        return out


@dataclass
class Mention:
    """One sentence-level finding of an option."""

    option: str
    subtype: str | None
    actor: Org | None
    via_coref: bool
    counterparties: list[tuple[Org, str]]
    unnamed_target: bool
    dominant: Org | None
    status: str
    status_cues: list[tuple[int, int, str]]
    attribution: tuple[str, str | None]
    year: str | None
    background: bool
    start: int
    end: int
    sentence: tuple[int, int]
    prob: float
    scoped: bool = True
    #: Kept only because a stronger mention states the same move (:func:`_corroborated`): it adds
    #: evidence but no status of its own.
    corroborating: bool = False
    #: The status comes from a status word of the clause (not a hedge, not the cue's default).
    stated: bool = False
    #: Found from a chip's name (:func:`own_chips`), not from a cue phrase.
    named_chip: bool = False
    #: Found from talks with a company: it yields to another option of the same actor in its
    #: sentence, which the talks are about.
    talks: bool = False
    #: Found from an agreement between two companies: it yields to a takeover of one by the other.
    accord: bool = False

    @property
    def cp_key(self) -> frozenset[str]:
        """Canonical names of the counterparties (the record identity with actor and option)."""
        return frozenset(o.canonical for o, _ in self.counterparties)


@dataclass
class _Record:
    option: str
    actor: Org
    mentions: list[Mention] = field(default_factory=list)

    @property
    def cp_key(self) -> frozenset[str]:
        return frozenset().union(*(m.cp_key for m in self.mentions)) if self.mentions else frozenset()


# ---------------------------------------------------------------------------------------------
# Organisations


def _entry_org(entry: KBEntry, kb: KnowledgeBase) -> KBEntry | None:
    """The organisation an entry stands for: itself, or a product's maker (Facebook -> Meta)."""
    if entry.is_org:
        return entry
    return kb.get(entry.maker) if entry.maker else None


def _org_from_entry(name: str, entry: KBEntry | None, start: int, end: int, kb: KnowledgeBase) -> Org:
    if entry is None:
        return Org(name, " ".join(name.split()), None, frozenset(), start, end)
    org = _entry_org(entry, kb) or entry
    return Org(name, org.canonical, org.wikidata, frozenset(org.roles), start, end, org.parent,
               chip_product=not entry.is_org and entry.chip is not None)


@cache
def _alias_first_tokens() -> frozenset[str]:
    """First tokens of every normalised knowledge-base alias (what a matching name must start with)."""
    return frozenset(normalize_alias(alias).split()[0] for alias, _ in load_kb().aliases() if normalize_alias(alias))


def _may_start_alias(text: str, word: re.Match[str]) -> bool:
    """False only when no knowledge-base alias can start with ``word`` (a gate before the lookups).

    The normalised form of a name starts with the first token of its first word normalised alone
    (:func:`normalize_alias` only drops a leading article and trailing legal forms), unless that
    word is the article itself, holds CJK characters (company-form affixes are stripped there) or
    runs into a character that folds into a letter or digit: those are always looked up.
    """
    w = word.group()
    norm = normalize_alias(w)
    # A word whose first token is dropped when something follows it is a leading article.
    if not norm or _CJK.search(w) or normalize_alias(f"{w} x").split()[0] != norm.split()[0]:
        return True
    nxt = text[word.end():word.end() + 1]
    if nxt and not nxt.isspace() and any(ch.isalnum() for ch in unicodedata.normalize("NFKC", nxt)):
        return True
    return norm.split()[0] in _alias_first_tokens()


@cache
def _cjk_aliases() -> tuple[tuple[str, str], ...]:
    """CJK aliases of organisations (matched as substrings: those scripts have no spaces)."""
    kb = load_kb()
    out = [(alias, entry.key) for alias, entry in kb.aliases() if entry.is_org and _CJK.search(alias)]
    return tuple(sorted(out, key=lambda a: -len(a[0])))


def _kb_names(text: str, kb: KnowledgeBase, accept: Callable[[KBEntry], bool],
              free: Callable[[int, int], bool]) -> list[tuple[int, int, KBEntry]]:
    """Knowledge-base names in ``text`` whose entry ``accept`` takes, longest first at each word.

    Only capitalised word n-grams are looked up (names are capitalised in the Latin scripts we
    handle); a hit where ``free`` refuses the span is skipped word by word.
    """
    found: list[tuple[int, int, KBEntry]] = []
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words):
        hit = None
        head = words[i].group()[0]
        if (head.isupper() or head.isdigit()) and _may_start_alias(text, words[i]):
            for n in range(min(5, len(words) - i), 0, -1):
                s, e = words[i].start(), words[i + n - 1].end()
                if "\n\n" in text[s:e]:
                    continue
                entry = kb.lookup(text[s:e])
                if entry is not None and accept(entry) and len(normalize_alias(text[s:e])) > 2:
                    hit = (s, e, entry, n)
                    break
        if hit is not None and free(hit[0], hit[1]):
            found.append(hit[:3])
            i += hit[3]
        else:
            i += 1
    return found


def _kb_scan(text: str, taken: list[tuple[int, int]], kb: KnowledgeBase) -> list[Org]:
    """Knowledge-base organisations named in ``text`` outside the spans already ``taken``.

    Pipelines without NER (blank de/es/zh) get their parties from here: capitalised names
    (:func:`_kb_names`) plus CJK aliases.
    """
    spans = list(taken)

    def free(s: int, e: int) -> bool:
        if all(e <= a or s >= b for a, b in spans):
            spans.append((s, e))
            return True
        return False

    found = [_org_from_entry(text[s:e], entry, s, e, kb)
             for s, e, entry in _kb_names(text, kb, lambda entry: entry.is_org, free)]
    # A CJK alias holds a CJK character, so a text without one has none of them.
    for alias, key in _cjk_aliases() if _CJK.search(text) else ():
        pos = text.find(alias)
        while pos >= 0:
            end = pos + len(alias)
            if free(pos, end):
                entry = kb.get(key)
                found.append(_org_from_entry(alias, entry, pos, end, kb))
            pos = text.find(alias, end)
    return found


_HYPHEN_HEAD = re.compile(r"\b([A-Z]\w{1,30})-(\w+)")


def _own_chip(entry: KBEntry) -> bool:
    """True for an in-house chip of a company that is not only a chipmaker (:func:`_chip_owner`)."""
    kb = load_kb()
    maker = kb.get(entry.maker) if entry.chip == "in_house" and entry.maker else None
    return maker is not None and _chip_owner(maker, kb) is not None


def _chip_owner(maker: KBEntry, kb: KnowledgeBase) -> KBEntry | None:
    """The company whose own chip ``maker``'s in-house chip is, or None for a chipmaker's product.

    A chip-design unit of a company that is not only a chipmaker designs for its parent
    (HiSilicon's Kirin is Huawei's own chip, as Samsung's Exynos is Samsung's).
    """
    if not set(maker.roles) <= CHIP_ROLES:
        return maker
    parent = kb.get(maker.parent) if maker.parent else None
    return parent if parent is not None and not set(parent.roles) <= CHIP_ROLES else None


@cache
def _own_chip_gate() -> re.Pattern[str]:
    """Every alias of an in-house chip, case-insensitively: a text it does not match names none.

    Every article passes through :func:`own_chips`, and almost none names such a chip; one search
    spares them the word-by-word lookups.
    """
    names = sorted({alias for alias, entry in load_kb().aliases() if _own_chip(entry)}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")", re.IGNORECASE)


def own_chips(text: str, data: OptionLangData) -> list[Org]:
    """Chips that companies other than chipmakers design for themselves, named in ``text``.

    Each is returned as its maker, placed at the chip's name ("Trainium" -> Amazon): the
    knowledge base's in-house chips (Google's TPU, Apple's M-series, Samsung's Exynos for its
    phones), not merchant chips (NVIDIA's H100, Motorola's 68020).
    """
    if _own_chip_gate().search(text) is None:
        return []
    kb = load_kb()
    found = [_owner_org(text[s:e], entry, s, e, kb)
             for s, e, entry in _kb_names(text, kb, _own_chip, lambda s, e: True)]
    # A name glued to a chip word is that chip ("die Trainium-Chips", "TPU-based"): its head is the name.
    for m in _HYPHEN_HEAD.finditer(text):
        entry = kb.lookup(m.group(1))
        if entry is not None and _own_chip(entry) and has_chip_term(m.group(2), data):
            found.append(_owner_org(m.group(1), entry, m.start(1), m.end(1), kb))
    return sorted(found, key=lambda o: o.start)


def _owner_org(name: str, chip: KBEntry, start: int, end: int, kb: KnowledgeBase) -> Org:
    """The mention of an in-house chip as the company that owns it ("Kirin" -> Huawei)."""
    maker = kb.get(chip.maker) if chip.maker else None
    owner = _chip_owner(maker, kb) if maker is not None else None
    if owner is None or owner is maker:
        return _org_from_entry(name, chip, start, end, kb)
    return replace(_org_from_entry(name, owner, start, end, kb), chip_product=True)


def organisations(doc: Doc, entities: Iterable[Entity], *, text: str | None = None,
                  chipmaker_names: re.Pattern[str] | None = None) -> list[Org]:
    """The article's organisation mentions, in text order, linked to the knowledge base.

    Args:
        doc: The article.
        entities: The entities extractor's output (ORG mentions are used).
        text: ``doc.text`` if the caller has it already (spaCy rebuilds it at every access).
        chipmaker_names: Words that make an unknown company's name a chipmaker's ("Inova
            Semiconductors"): the knowledge base cannot list every small chip firm.
    """
    kb = load_kb()
    orgs: list[Org] = []
    products: list[tuple[int, int]] = []
    for ent in entities:
        if ent.label not in ("ORG", "PRODUCT"):
            continue
        # A product stands for its maker ("le propriétaire de Facebook" works on Meta's chip).
        product = kb.lookup(ent.text) if ent.label == "PRODUCT" else None
        if ent.label == "PRODUCT" and not (product is not None and product.kind == "product" and product.maker):
            # A company name inside another product's name is no party ("take over Apple Card").
            products.append((ent.start, ent.end))
            continue
        entry = kb.lookup(ent.canonical) or kb.lookup(ent.text)
        org = _org_from_entry(ent.text, entry, ent.start, ent.end, kb)
        if entry is None:
            named_chipmaker = chipmaker_names is not None and chipmaker_names.search(ent.text) is not None
            org = Org(ent.text, ent.canonical if ent.id is not None else org.canonical, ent.id,
                      frozenset({"chip_designer"} if named_chipmaker else ()), ent.start, ent.end)
        orgs.append(org)
    orgs += _kb_scan(doc_text(doc) if text is None else text, [(o.start, o.end) for o in orgs] + products, kb)
    return sorted(orgs, key=lambda o: o.start)


_APPOSITION = re.compile(r",\s*$")


def _product_appositive(org: Org, text: str, data: OptionLangData) -> bool:
    """True for an unknown name set off after a chip word ("The new microchip, LCA 100K, has ...").

    The name in apposition to a chip word names that chip: a product, not a party (the NER
    often tags such names ORG). Names the knowledge base knows keep their roles.
    """
    if org.roles:
        return False
    comma = _APPOSITION.search(text, max(0, org.start - 4), org.start)
    return bool(comma and _ends_with(data.pattern("chip_terms"), text, max(0, comma.start() - 40), comma.start()))


_HYPHENED_WORD = re.compile(r"-(\w+)")


def _product_modifier(org: Org, text: str, data: OptionLangData) -> bool:
    """True for a company name glued by a hyphen to a chip word ("Nvidia-GPUs", "AMD-Chips").

    The compound names the company's chips, the thing bought or used, not the company as a party
    ("Wie viele dieser Nvidia-GPUs man bereits erworben hat").
    """
    m = _HYPHENED_WORD.match(text, org.end)
    return bool(m and has_chip_term(m.group(1), data))


#: An exchange with its ticker, as press releases list a company's listings ("NYSE: TSM").
_LISTING = re.compile(r"\s*:\s*[A-Z0-9][A-Z0-9.]{0,9}\b")


def _listing_exchange(org: Org, text: str) -> bool:
    """True for a stock exchange named in a listing bracket ("TSMC (TWSE: 2330, NYSE: TSM)").

    The exchange only says where the company's shares trade; it is no party of the news.
    """
    return bool(_LISTING.match(text, org.end)) and text.rfind("(", 0, org.start) > text.rfind(")", 0, org.start)


_CREDIT = re.compile(r"\s*(?:/[^()\n]*)?\)[ \t]*(?:\n|$)")


def _source_credit(org: Org, text: str) -> bool:
    """True for a publisher credited in brackets at the end of a line ("... Granulate
    (Developpez.com)", "(Reuters/onvista)"): it reports the news, it takes no part in it."""
    return text[:org.start].rstrip(" \t").endswith("(") and bool(_CREDIT.match(text, org.end))


def salient_org(orgs: Sequence[Org], body_start: int) -> Org | None:
    """The company the article is about: the most-mentioned party that is not a chipmaker.

    Title mentions weigh more; ties go to the earliest mention. Chipmakers are left out because
    an article about a chip buyer names its suppliers often too (the seed names NVIDIA as often as
    OpenAI); when every party is a chipmaker, the most-mentioned chipmaker is the subject.
    """
    scores: Counter[str] = Counter()
    first: dict[str, Org] = {}
    for org in orgs:
        if not org.party:
            continue
        scores[org.canonical] += _TITLE_WEIGHT if org.start < body_start else 1
        first.setdefault(org.canonical, org)
    if not scores:
        return None
    top = max(scores, key=lambda c: (scores[c], -first[c].start))
    buyers = [c for c in scores if not first[c].chipmaker]
    if buyers:
        best = max(buyers, key=lambda c: (scores[c], -first[c].start))
        # A chip buyer named about as often as the top chipmaker is the subject; a passing
        # mention of a customer in an article about a chipmaker is not.
        if 2 * scores[best] >= scores[top]:
            return first[best]
    return first[top]


# ---------------------------------------------------------------------------------------------
# Sentence-level analysis


def _clauses(sentence: str, start: int, data: OptionLangData) -> list[tuple[int, int]]:
    """Absolute bounds of the clauses of a sentence (split at dashes, semicolons, brackets)."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in data.clause_breaks.finditer(sentence):
        out.append((start + pos, start + m.start()))
        pos = m.end()
    out.append((start + pos, start + len(sentence)))
    return [c for c in out if c[1] > c[0]]


def _search(pat: re.Pattern[str] | None, text: str, start: int) -> list[tuple[int, int, str]]:
    if pat is None:
        return []
    return [(start + m.start(), start + m.end(), m.group()) for m in pat.finditer(text) if m.end() > m.start()]


def _count(pat: re.Pattern[str] | None, text: str, enough: int) -> int:
    """Non-empty matches of ``pat`` in ``text``, counted up to ``enough`` (the scan stops there)."""
    n = 0
    if pat is not None:
        for m in pat.finditer(text):
            n += m.end() > m.start()
            if n >= enough:
                break
    return n


def _between(pat: re.Pattern[str] | None, text: str, a: int, b: int) -> bool:
    """True when ``pat`` occurs in ``text[a:b]`` (absolute offsets)."""
    return bool(pat and a < b and pat.search(text, a, b))


def _status(cue: CueMatch, cue_abs: tuple[int, int], clause_cues: list[tuple[int, int]], text: str,
            clause: tuple[int, int], data: OptionLangData) -> tuple[str, list[tuple[int, int, str]], bool]:
    """Status of one option cue from the status cues of its clause.

    Each status cue belongs to the option cue nearest to it, so that "X scrapped chips; Y builds
    one" gives each its own; within a cue's share the precedence of ``STATUS_PRECEDENCE`` holds,
    and hedges ("would", "pourrait") count only where nothing else does. Returns the status, its
    cue spans and whether a status word (not a hedge, not the cue's default) stated it.
    """
    mine: list[tuple[str, tuple[int, int, str]]] = []
    for name, pat in data.status:
        for s, e, t in _search(pat, text[clause[0]:clause[1]], clause[0]):
            if s < cue_abs[1] and e > cue_abs[0] and (name not in _OWN_STAGES or not cue.cue.own_words):
                continue  # the option cue's own words ("will supply") are no status
            if min(abs(s - cue_abs[1]), abs(cue_abs[0] - e)) > (_DENIAL_REACH if name == "denied" else _STATUS_REACH):
                continue  # far along a long clause, a status word is about something else
            nearest = min(clause_cues, key=lambda c: 0 if s < c[1] and e > c[0] else min(abs(s - c[1]), abs(c[0] - e)))
            # A denial governs every move of the report it answers, not only the nearest cue
            # ("denied a media report that it is considering buying a small stake in").
            if nearest == cue_abs or (name == "denied" and e <= cue_abs[0]):
                mine.append((name, (s, e, t)))
    if not mine:
        return cue.cue.status, [], False
    best = mine[0][0]  # data.status is in precedence order
    spans = [span for name, span in mine if name == best]
    stated = best != HEDGED
    if best == "considered":
        # Talks govern the move only right before its cue ("envisage de racheter", "in talks to
        # buy"); "asked the White House to consider blocking the planned acquisition" weighs
        # something else.
        stated = any(e <= cue_abs[0] and len(text[e:cue_abs[0]].split()) <= _GOVERNING_WORDS for _, e, _ in spans)
    return _READ_AS.get(best, best), spans, stated


def _attribution(text: str, sent: tuple[int, int], data: OptionLangData) -> tuple[str, str | None]:
    order = ("anonymous_sources", "analyst", "regulator", "filing", "counterparty_statement", "actor_statement")
    found = {name: pat.search(text, sent[0], sent[1]) for name, pat in data.attribution}
    for name in order:
        m = found.get(name)
        if m:
            return name, m.group()
    return "journalist", None


def _first_after_marker(orgs: Sequence[Org], markers: re.Pattern[str] | None, text: str,
                        after: int, limit: int) -> Org | None:
    """The first organisation that follows one of ``markers`` between ``after`` and ``limit``."""
    if markers is None:
        return None
    for m in markers.finditer(text, after, limit):
        for org in orgs:
            if m.end() <= org.start <= m.end() + 3 + (2 if _CJK.search(text[m.end():org.start]) else 25):
                gap = text[m.end():org.start]
                if len(gap.split()) <= 3:
                    return org
    return None


class _Found(NamedTuple):
    """Arguments an option cue found: actor, via_coref, counterparties (org, role), unnamed target.

    ``scoped`` is False when nothing in the sentence ties the move to chips: such a finding is
    kept only when the article ties the same move to chips elsewhere (:func:`_corroborated`).
    """

    actor: Org | None
    via: bool
    cps: list[tuple[Org, str]]
    unnamed: bool
    scoped: bool = True


@dataclass
class _SentenceCtx:
    text: str
    sent: tuple[int, int]
    clause: tuple[int, int]
    orgs: list[Org]  # parties in the clause
    sent_orgs: list[Org]  # parties in the sentence
    prev_orgs: list[Org]  # parties of the previous sentence (context for bare mentions)
    salient: Org | None
    anaphor: bool
    data: OptionLangData
    examples_at: int | None  # offset of an examples marker in the clause
    percentages: Sequence[Quantity] = ()  # the article's percentages
    #: Consortia and industry bodies from the cue on in the clause (counterparties of a company that
    #: joins one: "IBM hopes to participate in Sematech"); they are no parties otherwise.
    consortia: Sequence[Org] = ()
    #: The article's organisations and where its body starts (for anaphors: :func:`salient_org`).
    article_orgs: Sequence[Org] = ()
    body_start: int = 0
    #: Consortia the article named before the cue in a sentence about chips: what "participate in
    #: the effort" refers to.
    prior_consortia: Sequence[Org] = ()
    #: Options whose cues fire in the cue's clause (an agreement beside a takeover cue is the takeover's).
    clause_options: frozenset[str] = frozenset()


def _coref(ctx: _SentenceCtx, *, allow_chipmaker: bool) -> Org | None:
    """The salient company, when the sentence has an anaphor standing for it."""
    if ctx.anaphor and ctx.salient is not None and (allow_chipmaker or not ctx.salient.chipmaker):
        return ctx.salient
    return None


def _nearest(orgs: Sequence[Org], pos: int) -> Org | None:
    return min(orgs, key=lambda o: abs(o.start - pos)) if orgs else None


def _is_chip_target(org: Org | None, ctx: _SentenceCtx) -> bool:
    if org is None:
        return has_chip_term(ctx.text[ctx.sent[0]:ctx.sent[1]], ctx.data)
    # A company that also buys chips or sells other things (Apple, Samsung) is a chip target only
    # where the sentence speaks of chips ("will take over Apple Card" is a bank's card business).
    return org.chipmaker or has_chip_term(ctx.text[ctx.sent[0]:ctx.sent[1]], ctx.data)


def _gap_words(text: str, a: int, b: int) -> int:
    gap = text[a:b]
    return len(gap) if _CJK.search(gap) else len(gap.split())


#: Words an object may stand after a cue when a company noun heads it ("l'acquisition pour 5,4
#: milliards de dollars du fabricant israélien de puces Tower Semiconductor").
_APPOSED_WORDS = 12
#: Characters before a name within which that company noun must stand.
_HEAD_REACH = 40


def _object(orgs: Sequence[Org], text: str, b: int, limit: int, max_words: int,
            marker: re.Pattern[str] | None, heads: re.Pattern[str] | None = None) -> Org | None:
    """The first organisation right after a cue (at most ``max_words`` words away, after ``marker`` if given).

    With ``heads`` (the language's company nouns), a name set after such a noun ("the Israeli
    chipmaker Tower", "du fabricant de puces X") may stand up to ``_APPOSED_WORDS`` words away:
    the noun phrase describes the object rather than naming something else.
    """
    for org in orgs:
        if org.start < b or org.start >= limit:
            continue
        gap = _gap_words(text, b, org.start)
        if gap > max_words and not (gap <= _APPOSED_WORDS and heads is not None
                                    and heads.search(text, max(b, org.start - _HEAD_REACH), org.start)):
            return None
        if marker is None or marker.search(text, b, org.start):
            return org
    return None


def _ends_with(pat: re.Pattern[str] | None, text: str, a: int, b: int) -> bool:
    """True when a match of ``pat`` ends where ``text[a:b]`` ends (a cue that holds a marker)."""
    return bool(pat and any(m.end() == b for m in pat.finditer(text, a, b)))


def _control_stake(a: int, b: int, ctx: _SentenceCtx) -> bool:
    """True when a stake cue names more than half of the capital, or control: that is an acquisition.

    The percentages are the quantities extractor's (its language data knows "pct", "Prozent"...);
    the share may stand inside the cue or right before it ("a 51 per cent stake in its programmable
    chip business", "a majority stake in Altera").
    """
    return any(a - _SHARE_REACH <= q.start and q.end <= b and q.value > 50 for q in ctx.percentages) \
        or _between(ctx.data.pattern("control_terms"), ctx.text, max(ctx.clause[0], a - _SHARE_REACH), b)


def _acquire(cue: CueMatch, a: int, b: int, ctx: _SentenceCtx) -> list[_Found]:
    """Acquirer and target around an acquisition cue: [(actor, via_coref, counterparties, unnamed)]."""
    text, data = ctx.text, ctx.data
    # Actors are looked for in the clause first, then in the sentence (appositions between
    # dashes split clauses: "Fujitsu -- Japan's biggest computer maker -- bid for Fairchild").
    before = [o for o in ctx.orgs if o.end <= a] or [o for o in ctx.sent_orgs if o.end <= a]
    window_end = min(ctx.sent[1], b + _OBJECT_WINDOW)
    agent_pat = data.pattern("agent_markers")
    form = cue.cue.form
    actor: Org | None = None
    target: Org | None = None
    if form == "accord":
        # "Rebellions and Sapeon agreed to merge": the first named takes the other over (gold
        # files name a merger's other side as an alternative actor).
        pair = _coordinated_pair(a, ctx)
        if pair is not None:
            return _acquire_found(*pair, ctx)
        # Read as a verb only where its two sides stand around it: a with-object follows ("Rebellions
        # has signed an agreement to merge with Sapeon"), or the verb closes its clause ("Synopsys
        # und Ansys teilten die Absicht mit, miteinander zu fusionieren").
        with_marker = data.pattern("with_markers")
        if not data.verb_final and (with_marker is None or not with_marker.match(text, _skip_space(text, b))):
            return []
        form = "verb"
    if form == "passive":
        target = before[-1] if before else _anaphoric_subject(a, ctx)
        actor = _object(ctx.sent_orgs, text, b, window_end, 4, agent_pat)
    elif form == "sale":
        target = _object(ctx.sent_orgs, text, b, window_end, 6, None)
        if target is not None and _between(data.pattern("recipient_markers"), text, b, target.start):
            target = None  # "the sale of its ... business to Infineon": the buyer, not the thing sold
        start = target.end if target is not None else b
        pronouns = data.pattern("possessive_pronouns")
        if target is None and before and pronouns is not None and pronouns.match(text, _skip_space(text, b)):
            # "Marvell closed the sale of its automotive Ethernet business to Infineon": the
            # seller's own unit is sold, so the seller stands for the target.
            target = before[-1]
        if target is not None:
            actor = _object(ctx.sent_orgs, text, start, window_end, 8, data.pattern("recipient_markers"))
        elif data.verb_final and len(before) >= 2 and _clause_ends(text, b, ctx.clause[1]):
            sold = _own_unit_sold(before, a, ctx)
            if sold is not None:
                return _acquire_found(*sold, ctx)
    elif form == "noun":
        target_pat = data.pattern("target_markers")
        if _ends_with(target_pat, text, a, b):
            target_pat = None  # the cue holds its marker ("take control of", "controlling interest in")
        target = _object(ctx.sent_orgs, text, b, window_end, 4, target_pat, data.pattern("company_terms"))
        if target is None:
            # The agent may come first: "a proposed takeover by Fujitsu of Fairchild".
            agent = _object(ctx.sent_orgs, text, b, window_end, 4, agent_pat)
            if agent is not None:
                # "l'acquisition par Nokia NOKIA pour 2,3 milliards de dollars du fabricant
                # américain de semi-conducteurs Infinera": the object's window opens after the
                # agent, and the agent's ticker repeated is not the object.
                target = _object([o for o in ctx.sent_orgs if o.canonical != agent.canonical], text, agent.end,
                                 min(ctx.sent[1], agent.end + _OBJECT_WINDOW), 4, target_pat,
                                 data.pattern("company_terms"))
                actor = agent if target is not None else None
        start = target.end if target is not None else b
        actor = actor or _object(ctx.sent_orgs, text, start, window_end, 4, agent_pat)
        pair = _coordinated_pair(a, ctx, through_possessive=True) if actor is None and target is None else None
        if pair is not None:
            # "Wise Road Capital and U.S. chipmaker Magnachip have terminated their merger
            # agreement": the pair's own deal; a financial investor is the buyer, else the first.
            first, second = pair
            return _acquire_found(*((second, first) if _investor(second) and not _investor(first) else pair), ctx)
        if actor is None and before and _gap_words(text, before[-1].end, a) <= 3:
            actor = before[-1]  # "Fujitsu's takeover", "son acquisition" after the name
        elif actor is None and before and target is not None:
            actor = before[-1]
    else:
        if _takes_on_task(a, b, ctx):
            return []
        # "Nexperia, une société ... appartenant au chinois Wingtech, a confirmé son intention
        # d'acquérir": a company in an apposition only describes the subject.
        actor = _outside_apposition(before, a, ctx) if before else None
        apposed = actor is not None and actor is not before[-1]
        with_party = _with_party(before, ctx)
        if with_party is not None:
            actor = before[-2]  # "SK Hynix ha llegado a un acuerdo con Intel para comprarle ..."
        relative = _relative_object(before, a, b, ctx) if before and not apposed and \
            _object(ctx.sent_orgs, text, b, window_end, 6, None) is None else None
        if relative is not None:
            # "Annapurna Labs, which Amazon acquired in 2015": bought in a relative clause.
            bought, buyer = relative
            subject = buyer or ctx.salient
            found = _acquire_found(subject, bought, ctx) if subject is not None else []
            return [f._replace(via=buyer is None) for f in found]
        if data.verb_final and _clause_ends(text, b, ctx.clause[1]) \
                and _object(ctx.sent_orgs, text, b, window_end, 6, None) is None:
            # "Der Chipkonzern AMD will seinen Konkurrenten Xilinx ... kaufen": the object stands
            # between the subject and the verb that closes the clause.
            if len(before) >= 2:
                subject, obj = before[-2], before[-1]
                if _between(data.pattern("passive_auxiliaries"), text, subject.end, obj.start) \
                        and _ends_with(agent_pat, text, subject.end, len(text[:obj.start].rstrip())):
                    subject, obj = obj, subject  # "Mobileye wurde 2017 ... von Intel übernommen"
                return _acquire_found(subject, obj, ctx)
            pronouns = data.pattern("subject_pronouns")
            if len(before) == 1 and ctx.salient is not None and pronouns is not None \
                    and pronouns.search(text, ctx.clause[0], before[0].start):
                # "..., dass sie den Chiphersteller TSI übernommen hat": the pronoun subject
                # stands for the article's company.
                found = _acquire_found(ctx.salient, before[0], ctx)
                return [f._replace(via=True) for f in found]
        groups = data.pattern("group_subjects")
        if actor is not None and groups is not None and groups.search(text, actor.end, a):
            # "… will make Japanese companies more cautious in their efforts to acquire U.S. firms":
            # a group of companies is the buyer, not the company named before it (OPTIONS.md: a
            # generic group is no actor).
            return []
        # "Western Digital (which had bought it ...)": a company does not buy itself, so the
        # pronoun stands for another one.
        target = _object(ctx.sent_orgs, text, b, window_end, 6, None, data.pattern("company_terms"))
        named = target is not None
        target = target or _pronoun_target(a, b, ctx, actor)
        if target is None and with_party is not None and _sold_unit_follows(b, ctx):
            # "... un acuerdo con Intel para comprarle la división de SSD", "agreed with Intel to
            # buy its NAND business": the company dealt with sells its own unit.
            target = with_party
        # What follows a company named after the verb says what is bought; an antecedent's own
        # words elsewhere ("NXP's market capitalization ... to buy the company") do not.
        if named and target is not None and (_between(data.pattern("source_markers"), text, b, target.start)
                                             or _possessed_thing(target, ctx) or _product_object(b, target, ctx)):
            # "buying DRAM supplies from Samsung", "buy out as much of TSMC's processor capacity",
            # "buy chips made by TSMC": the company sells, owns or makes what is bought; a
            # purchase, not a takeover.
            return []
    if target is not None and (target.chip_product or _brand_of_chips(target, ctx)):
        # "the purchase of one GB300 ... supercomputer", "buy NVIDIA GPUs": the maker's chips are
        # bought, not the maker.
        return []
    obj_end = target.start if target is not None else window_end
    shares = data.pattern("share_terms")
    # Buying shares or stock is a trade or a stake, not a takeover, unless the stake is control
    # ("to acquire a majority stake in Altera").
    share = shares.search(text, b, min(obj_end, b + 40)) if shares is not None else None
    if share is not None and not _between(data.pattern("control_terms"), text, b,
                                          min(obj_end, share.end() + _CONTROL_AFTER)):
        return []
    if shares is not None and target is not None:
        # The company names the shares bought ("Kauf von 18,7 Millionen Nvidia-Aktien", "bought
        # 1.9 million Nvidia shares"): a trade in its stock, not a takeover of it.
        after = target.end + (1 if text[target.end:target.end + 1] in {"-", "\u2010", "\u2011", " "} else 0)
        if shares.match(text, after):
            return []
    if (target is None or not target.roles) and _between(data.pattern("software_terms"), text, b,
                                                          min(ctx.sent[1], b + _SOFTWARE_REACH)):
        # "acquérir la partie entreprise de l'éditeur de solutions de cybersécurité": what is
        # bought is described as a kind of software that chips are not sold with (AI software
        # start-ups are: "AMD finalizó la adquisición de Nod.ai, una startup de software de IA").
        return []
    unnamed = False
    if target is None:
        company = data.pattern("company_terms")
        # "the acquisition of a chipmaker", "une cible d'acquisition": a company word next to the cue.
        unnamed = bool(company and (company.search(text, b, min(window_end, b + 30))
                                    or company.search(text, max(ctx.sent[0], a - 12), a)))
        if not unnamed and form == "verb":
            # A buying verb whose object is neither a named company nor a company word buys
            # something else ("buy chips", "has not bought any supercomputers"): a purchase, not
            # a takeover, so it must not lend its past tense to a takeover record elsewhere.
            return []
        if not unnamed and _names_product(text, b, window_end, data):
            # The same for a deal noun whose object is chips ("halting the sale of microchips").
            return []
    if target is not None and actor is not None and target.canonical == actor.canonical:
        actor = None
    via = False
    if actor is None and (target is not None or unnamed):
        coref = _coref(ctx, allow_chipmaker=True)
        # The anaphor may be the target itself ("L'entreprise dit rejoindre la famille Qualcomm").
        if coref is None:
            coref = _described_subject(a, ctx)
        if coref is not None and (target is None or coref.canonical != target.canonical):
            actor, via = coref, True
    if target is not None and actor is not None and target.canonical == actor.canonical:
        return []
    # A chipmaker's takeover of a start-up no list knows ("NVIDIA has finalized a $400 million
    # acquisition of CentML, a Toronto-based AI startup") builds its chip business: its AI software
    # and teams are what the chips are sold with.
    scoped = _is_chip_target(target, ctx) or (actor is not None and actor.chipmaker and target is not None
                                                and not target.roles)
    if not scoped and target is None:
        # "Western Digital habe andere Kaufinteressenten ausgestochen": a named bidder with no
        # object and no chip word speaks of a deal named elsewhere; it counts only where the
        # article states the same actor's takeover with chip support (:func:`_corroborated`).
        return [_Found(actor, via, [], False, False)] if actor is not None and not unnamed else []
    if target is None and not unnamed:
        # No object: the mention can only add evidence and status to a record found elsewhere.
        return [_Found(None, False, [], False)]
    cps = [(target, "target")] if target is not None else []
    fronted = _fronted_actors(a, target.end if target is not None else b, ctx)
    if fronted:
        return [_Found(o, False, cps, target is None, scoped) for o in fronted if o.canonical not in
                {t.canonical for t, _ in cps}]
    # A target the sentence does not tie to chips ("Pourquoi Qualcomm rachète Arduino") is kept
    # unscoped: it counts only where the article ties the same deal to chips elsewhere.
    return [_Found(actor, via, cps, target is None, scoped)]


#: Words at most before a task object that opens a clause (a conjunction, an adverb).
_TASK_LEAD = 2


def _takes_on_task(a: int, b: int, ctx: _SentenceCtx) -> bool:
    """True when a buying verb's object is a task (``task_objects``): right after the verb ("took
    over production"), or opening the clause in German word order ("Die Fertigung selbst
    übernimmt künftig der strategische Partner GlobalFoundries")."""
    tasks = ctx.data.pattern("task_objects")
    if tasks is None:
        return False
    if tasks.match(ctx.text, _skip_space(ctx.text, b)):
        return True
    first = tasks.search(ctx.text, ctx.clause[0], a)
    return first is not None and _gap_words(ctx.text, ctx.clause[0], first.start()) <= _TASK_LEAD \
        and not any(first.end() <= o.start < a for o in ctx.orgs)


def _with_party(before: Sequence[Org], ctx: _SentenceCtx) -> Org | None:
    """The last company before a buying verb when a with-marker joins it to the subject before it.

    "SK Hynix reached an agreement with Intel to buy ...": Intel is the other side of the
    agreement, SK Hynix the buyer.
    """
    if len(before) < 2:
        return None
    gap_end = len(ctx.text[:before[-1].start].rstrip())
    return before[-1] if _ends_with(ctx.data.pattern("with_markers"), ctx.text, before[-2].end, gap_end) else None


def _sold_unit_follows(b: int, ctx: _SentenceCtx) -> bool:
    """True when a company word names the object of a buying verb ("la división de SSD", "its
    NAND business"): a unit, not chips ("to buy its chips")."""
    company = ctx.data.pattern("company_terms")
    return bool(company is not None and company.search(ctx.text, b, min(ctx.clause[1], b + 30)))


def _own_unit_sold(before: Sequence[Org], a: int, ctx: _SentenceCtx) -> tuple[Org, Org] | None:
    """(buyer, seller) of a verb-final sale of the seller's own unit, or None.

    "Elmos darf seine Waferfertigung in Dortmund an den Hersteller Littelfuse verkaufen": the
    subject sells something of its own (a possessive follows it) to the company after the
    recipient marker; the seller stands for the target, as in "the sale of its ... business to
    Infineon". Its own chips ("seine Chips an Bosch verkaufen") are a product sale.
    """
    text, data = ctx.text, ctx.data
    seller = before[0]
    markers, pronouns = data.pattern("recipient_markers"), data.pattern("possessive_pronouns")
    if markers is None or pronouns is None:
        return None
    for m in markers.finditer(text, seller.end, a):
        buyer = next((o for o in before if o.start >= m.end() and o is not seller
                      and _gap_words(text, m.end(), o.start) <= 3), None)
        thing = text[seller.end:m.start()]
        if buyer is not None and pronouns.search(thing) and not has_chip_term(thing, data):
            return buyer, seller
        return None
    return None


def _clause_ends(text: str, b: int, end: int) -> bool:
    """True when at most an auxiliary follows the cue before its clause or a comma ends it
    ("kaufen.", "übernommen hat, um ..."): a comma closes a verb-final clause."""
    comma = text.find(",", b, end)
    return len(_WORD.findall(text, b, comma if comma >= 0 else end)) <= 1


_SPACE = re.compile(r"\s*")


def _skip_space(text: str, pos: int) -> int:
    """The offset of the first non-space character at or after ``pos``."""
    m = _SPACE.match(text, pos)
    return m.end() if m else pos


def _relative_object(before: Sequence[Org], a: int, b: int, ctx: _SentenceCtx) -> tuple[Org, Org | None] | None:
    """The company bought in a relative clause ending at the buying verb ``[a:b]``, and its buyer.

    "Annapurna Labs, which Amazon acquired": the company before the relative pronoun is bought by
    the one after it. "Annapurna Labs, which it acquired" and "an Israeli chip startup the company
    acquired": a pronoun or anaphor is the subject, the company named before it is bought, and the
    buyer (None) is the article's company. None when the verb is not in such a clause, or when
    an object pronoun after the verb makes the relative pronoun its subject.
    """
    text, data = ctx.text, ctx.data
    last = before[-1]
    relative = data.pattern("relative_pronouns")
    anaphora = data.pattern("anaphora")
    subject = None
    for m in anaphora.finditer(text, last.end, a) if anaphora is not None else ():
        subject = m
    if subject is not None and _gap_words(text, subject.end(), a) <= 2:
        return last, None
    objects = data.pattern("object_pronouns")
    if relative is None or _gap_words(text, last.end, a) > 3 \
            or (objects is not None and objects.match(text, _skip_space(text, b))):
        return None  # "Western Digital (which had bought it)": the pronoun is the subject
    if _between(relative, text, last.end, a):
        return last, None
    if len(before) >= 2 and _between(relative, text, before[-2].end, last.start) \
            and _gap_words(text, before[-2].end, last.start) <= 2:
        return before[-2], last
    return None


def _acquire_found(actor: Org, target: Org, ctx: _SentenceCtx) -> list[_Found]:
    """The finding of a takeover whose two sides are known (the verb-final order)."""
    if actor.canonical == target.canonical:
        return []
    return [_Found(actor, False, [(target, "target")], False, _is_chip_target(target, ctx))]


# Up to three lower-case words: the thing named after a company's possessive.
_LOWER_WORDS = re.compile(r"\s*((?:[^\W\d_A-Z][\w-]*\s+){0,2}[^\W\d_A-Z][\w-]*)")


def _possessed_thing(target: Org, ctx: _SentenceCtx) -> bool:
    """True when the company after a buying verb owns what is bought ("TSMC's processor capacity").

    A unit or business of it is still a company ("Fairchild's semiconductor business": the
    language's company terms); a name after the possessive is the target ("Schlumberger's
    Fairchild unit").
    """
    possessive = ctx.data.pattern("possessives")
    marker = possessive.match(ctx.text, target.end) if possessive is not None else None
    m = _LOWER_WORDS.match(ctx.text, marker.end()) if marker is not None else None
    company = ctx.data.pattern("company_terms")
    return m is not None and m.group(1).islower() and not (company is not None and company.search(m.group(1)))


def _anaphoric_subject(a: int, ctx: _SentenceCtx) -> Org | None:
    """The company an anaphor before the cue in its clause stands for, else None.

    The subject of a passive cue is its target: in "L'entreprise dit rejoindre la famille
    Qualcomm" the anaphor stands for the article's subject (:func:`salient_org`).
    """
    anaphora = ctx.data.pattern("anaphora")
    if ctx.salient is None or not _between(anaphora, ctx.text, ctx.clause[0], a):
        return None
    return ctx.salient


def _described_subject(a: int, ctx: _SentenceCtx, *, allow_chipmaker: bool = True) -> Org | None:
    """The article's company when a definite description is the subject of the cue at ``a``.

    "Infineon hat eine Übernahme angekündigt. Der deutsche Chiphersteller erwirbt GaN Systems":
    no company stands between the description and the cue, so the description refers back to the
    subject of the previous sentence (its first company), else to the article's company
    (:func:`salient_org`). The caller rejects a referent that is the cue's own target; a
    chipmaker referent counts only with ``allow_chipmaker`` (as in :func:`_coref`).
    """
    last = _subject_description(a, ctx)
    if last is None:
        return None
    referent = ctx.prev_orgs[0] if ctx.prev_orgs else ctx.salient
    if not (referent is not None and referent.roles & _described_kind(last.group(), ctx.data)):
        referent = _kind_referent(last, ctx) or referent
    return referent if referent is not None and (allow_chipmaker or not referent.chipmaker) else None


def _kind_referent(description: re.Match[str], ctx: _SentenceCtx) -> Org | None:
    """The first company of the previous sentence that makes what ``description`` says, or None.

    "Intel bestätigte, dass Gelsinger BMW ... besucht habe. Der Münchner Autobauer kooperiert
    ...": a description that says what the company makes refers to one that makes it.
    """
    kind = _described_kind(description.group(), ctx.data)
    return next((o for o in ctx.prev_orgs if o.roles & kind), None) if kind else None


def _subject_description(a: int, ctx: _SentenceCtx, key: str = "descriptions") -> re.Match[str] | None:
    """The last match of the list ``key`` before the cue at ``a`` in its clause, with no company
    between it and the cue: the definite description that is the cue's subject."""
    pat = ctx.data.pattern(key)
    last = None
    for last in pat.finditer(ctx.text, ctx.clause[0], a) if pat is not None else ():
        pass
    return None if last is None or any(last.end() <= o.start < a for o in ctx.orgs) else last


def _described_kind(description: str, data: OptionLangData) -> frozenset[str]:
    """The knowledge-base roles a definite description names ("der Autobauer": device and car
    makers; "the chipmaker": chip companies), or none."""
    for key, roles in (("oem_descriptions", BUYER_ROLES & {"oem"}), ("chipmaker_descriptions", CHIP_ROLES)):
        pat = data.pattern(key)
        if pat is not None and pat.search(description):
            return frozenset(roles)
    return frozenset()


def _fronted_actors(a: int, after: int, ctx: _SentenceCtx) -> list[Org]:
    """The acquirers listed after a copula when a fronted group opens the clause.

    "Among the companies that would be interested in bidding for Fairchild are AMD ... and LSI
    Logic": the cue's subject is the fronted group, and each company after "are" is a bidder.
    ``after`` is where the cue's target ends (the copula comes after it).
    """
    data = ctx.data
    if not _between(data.pattern("fronted_groups"), ctx.text, ctx.clause[0], a):
        return []
    copulas = data.pattern("fronted_copulas")
    cop = copulas.search(ctx.text, after, ctx.clause[1]) if copulas else None
    if cop is None:
        return []
    listed = {o.canonical: o for o in ctx.orgs if o.start >= cop.end()}
    return list(listed.values())


_NEXT_WORDS = re.compile(r"(?:\W+\w+){1,3}")


def _product_object(b: int, target: Org, ctx: _SentenceCtx) -> bool:
    """True when a buying verb's object is chips that the company after an agent marker makes
    ("buy chips made by TSMC", "Chips von TSMC kaufen"): a purchase of its products. A chip
    word that describes the company ("buy chip designer Arm") has no agent marker after it."""
    gap = ctx.text[b:target.start]
    chip = ctx.data.pattern("chip_terms")
    agent = ctx.data.pattern("agent_markers")
    m = chip.search(gap) if chip is not None else None
    return m is not None and agent is not None and agent.search(gap, m.end()) is not None


_BRAND_WORDS = re.compile(r"[\s-]+(\w+)(?:\s+(\w+))?")


def _brand_of_chips(target: Org, ctx: _SentenceCtx) -> bool:
    """True when the company name after a buying verb modifies chips ("buy NVIDIA GPUs", "NVIDIA
    H100 chips"): its products are bought. A unit named after the chip word ("Intel's memory
    unit", "SK Hynix memory business") is still a company."""
    m = _BRAND_WORDS.match(ctx.text, target.end)
    if m is None:
        return False
    words = [w for w in m.groups() if w]
    # A capitalised chip word continues the company's name ("Fairchild Semiconductor Corp."); an
    # acronym ("GPUs") or a lower-case word names its products.
    chip = next((i for i, w in enumerate(words) if has_chip_term(w, ctx.data) and not w.istitle()), None)
    if chip is None:
        return False
    company = ctx.data.pattern("company_terms")
    after = ctx.text[m.end():m.end() + 30] if chip == len(words) - 1 else " ".join(words[chip + 1:])
    return not (company is not None and company.match(after.strip()))


def _names_product(text: str, b: int, limit: int, data: OptionLangData) -> bool:
    """True when a chip word is among the three words after a cue (its object is a product)."""
    m = _NEXT_WORDS.match(text, b, limit)
    return bool(m and has_chip_term(m.group(), data))


def _pronoun_target(a: int, b: int, ctx: _SentenceCtx, actor: Org | None = None) -> Org | None:
    """The company a pronoun right after (or, as a clitic, right before) a buying verb stands for
    ("would be willing to buy it", "que Renesas la adquiera").

    The antecedent is the chip company named last before the cue in the sentence, else the last
    one of the previous sentence; a pronoun with no such company, or with a chip word between that
    company and the cue ("NVIDIA's new GPU, and Meta will buy it"), buys something else. The
    ``actor`` (the verb's subject) is never its own object.
    """
    pron = ctx.data.pattern("object_pronouns")
    rest = ctx.text[b:ctx.sent[1]]
    after = pron is not None and pron.match(ctx.text, b + len(rest) - len(rest.lstrip()))
    # Romance object clitics stand before the verb ("que Renesas la adquiera", "l'a rachetée").
    before = _ends_with(ctx.data.pattern("object_clitics"), ctx.text, max(ctx.sent[0], a - 8),
                        len(ctx.text[:a].rstrip()))
    if not after and not before and not ctx.text[max(ctx.sent[0], a - 2):a].endswith(("l'", "l’")):
        return None
    for orgs in ([o for o in ctx.sent_orgs if o.end <= a], ctx.prev_orgs):
        others = [o for o in orgs if actor is None or o.canonical != actor.canonical]
        # "Dialog Semiconductor, proveedor de Apple, se aviene a que Renesas la adquiera": a
        # company in an apposition only describes the antecedent.
        last = _outside_apposition(others, a, ctx) if others else None
        makers = [o for o in others[:others.index(last) + 1] if o.roles & CHIP_ROLES] if last is not None else []
        if makers:
            chips = ctx.data.pattern("chip_terms")
            return None if _between(chips, ctx.text, makers[-1].end, a) else makers[-1]
    return None


def _examples(ctx: _SentenceCtx, a: int) -> list[Org]:
    """Organisations listed as examples before the cue ("such as Google and Amazon, which ...")."""
    if ctx.examples_at is None or ctx.examples_at > a:
        return []
    listed = [o for o in ctx.orgs if ctx.examples_at <= o.start < a and not o.chipmaker]
    parents = {o.parent for o in listed if o.parent}
    kb = load_kb()
    # "Google d'Alphabet": the owner named with its unit is the same example, not another one.
    return [o for o in listed if not any((kb.get(p) or o).canonical == o.canonical for p in parents)]


def _build(cue: CueMatch, a: int, b: int, ctx: _SentenceCtx) -> list[_Found]:
    if cue.cue.form == "verb" and not cue.cue.chip and _builds_something_else(b, ctx):
        return []
    examples = _examples(ctx, a)
    if examples:
        return [_Found(o, False, [], False) for o in examples]
    skip = {id(o) for o in ctx.orgs if ctx.examples_at is not None and o.start >= ctx.examples_at}
    parties = [o for o in ctx.orgs if id(o) not in skip]
    before = [o for o in parties if o.end <= a]
    with_pat = ctx.data.pattern("with_markers")
    designers: list[Org] = []
    makers = _list_ending(before, ctx.text, ctx.data) if before and before[-1].chipmaker else []
    first = next((i for i, o in enumerate(before) if makers and o is makers[0]), 0)
    if first >= 1 and all(o.chipmaker for o in makers) and not before[first - 1].chipmaker \
            and _first_after_marker([makers[0]], with_pat, ctx.text, before[first - 1].end, a) is not None:
        # "OpenAI partnered with Broadcom to build its first in-house AI processors", "Microsoft
        # has worked with AMD and Qualcomm for custom chips": the chipmakers after "with" design
        # it with the subject, whose chip it is.
        designers, before = makers, before[:first]
    pronouns = ctx.data.pattern("possessive_pronouns")
    # "unveil its Silicon One chip": a name after the possessive inside the cue is the chip itself.
    inside = [o for o in parties if a <= o.start < b and not o.chipmaker
              and not _ends_with(pronouns, ctx.text, max(a, o.start - 6), len(ctx.text[:o.start].rstrip()))]
    # "AWS-designed Trainium2 silicon": the company glued to the cue designs the chip.
    # "Arm, majoritairement détenu par SoftBank, commencera à fabriquer ses propres puces": a
    # company in an apposition only describes the subject.
    actor = inside[0] if inside else _outside_apposition(before, a, ctx) if before else None
    described_subject = not inside and bool(before) and _between(
        ctx.data.pattern("descriptions"), ctx.text, before[-1].end, a)
    if described_subject:
        # "Mit der Tochter BYD Semiconductor plant das Unternehmen eigene Chips": the description
        # after the name is the subject; the name was a complement.
        actor = None
    if actor is None and not described_subject:
        after = _listed([o for o in parties if b <= o.start < b + _OBJECT_WINDOW], ctx.text, ctx.data)
        if len(after) > 1 and not any(o.chipmaker for o in after):
            # "the industry's shift toward custom silicon—joining efforts at Google, Amazon,
            # Microsoft and Meta": each company of a list after the cue has taken the option.
            return [_Found(o, False, [], False) for o in after]
        actor = after[0] if after else None
    if actor is not None and actor.chipmaker:
        return []  # a chipmaker's own chip is its product, not a build option (OPTIONS.md)
    subjects = _list_ending(before, ctx.text, ctx.data) if actor is not None and not inside and before else []
    if len(subjects) > 1 and not designers and "," not in ctx.text[before[-1].end:a] \
            and _gap_words(ctx.text, before[-1].end, a) <= _SUBJECT_GAP:
        # "Apple et Samsung conçoivent également leurs propres puces": each subject of a list
        # right before the cue builds its own chip.
        return [_Found(o, False, [], False) for o in [*subjects, *_trailing_examples(b, ctx)] if not o.chipmaker]
    via = False
    if actor is None:
        group = _plural_subject(a, ctx)
        if len(group) > 1:
            # "Zu den Kunden von Nvidia gehören OpenAI, Microsoft, Alphabet und Meta. [...] Die
            # Technologieunternehmen haben begonnen, ihre eigenen internen Chips ... zu entwickeln".
            return [_Found(o, True, [], False) for o in group]
        actor = _coref(ctx, allow_chipmaker=False) or _described_subject(a, ctx, allow_chipmaker=False)
        via = actor is not None
    if actor is None:
        return []
    partner = designers[0] if designers else None
    custom = ctx.data.pattern("custom_words")
    if partner is None and custom is not None and custom.search(ctx.text, a, b) \
            and not _ends_with(pronouns, ctx.text, ctx.sent[0], a):
        # "a custom Nvidia Tegra SoC", "un SoC NVIDIA Tegra personalizado": a chip designer named
        # inside a custom-chip cue makes it for the actor. After a possessive ("its own
        # Arm-based chips", "unveil its Silicon One design") the name says what the chip is.
        partner = next((o for o in parties if a <= o.start < b and o.chipmaker and o.roles & _DESIGN_ROLES
                        and not (pronouns is not None and pronouns.search(ctx.text, a, o.start))), None)
    partner = partner or _first_after_marker([o for o in ctx.orgs if o.chipmaker], with_pat,
                                             ctx.text, ctx.clause[0], ctx.clause[1])
    cps = [(o, "design_partner") for o in designers or ([partner] if partner is not None else [])]
    return [_Found(actor, via, cps, False), *(_Found(o, False, [], False) for o in _trailing_examples(b, ctx)
                                             if o.canonical != actor.canonical)]


def _plural_subject(a: int, ctx: _SentenceCtx) -> list[Org]:
    """The companies a plural description before the cue stands for ("these companies", "die
    Technologieunternehmen"): the last list of two or more companies that are no chipmakers,
    named in the article shortly before the sentence; empty when there is none."""
    if _subject_description(a, ctx, "plural_descriptions") is None:
        return []
    earlier = [o for o in ctx.article_orgs if ctx.sent[0] - _PLURAL_REACH <= o.start and o.end <= ctx.sent[0]
               and o.party and not o.chipmaker]
    for end in range(len(earlier), 1, -1):
        group = _list_ending(earlier[:end], ctx.text, ctx.data)
        if len(group) > 1:
            return group
    return []


def _trailing_examples(b: int, ctx: _SentenceCtx) -> list[Org]:
    """Companies named right after an examples marker that follows a build cue: they have taken the
    move too ("conçoivent leurs propres puces, tout comme Huawei avant que les sanctions ...")."""
    pat = ctx.data.pattern("examples")
    at = ctx.examples_at
    m = pat.match(ctx.text, at) if pat is not None and at is not None and at >= b else None
    if m is None or at is None:
        return []
    # Set off by a comma from the cue's own words ("..., tout comme Huawei"); "commercialise ses
    # propres puces auprès d'acteurs comme Anthropic" lists customers, not builders.
    comma = ctx.text.rfind(",", b, at)
    if comma < 0 or _gap_words(ctx.text, comma + 1, at) > 1:
        return []
    listed = _listed([o for o in ctx.orgs if o.start >= m.end()], ctx.text, ctx.data)
    if not listed or _gap_words(ctx.text, m.end(), listed[0].start) > 0:
        return []
    return [o for o in listed if not o.chipmaker]


_BRACKETED = re.compile(r"^\s*(?:\w+\.?\s+)?\([^()]{1,30}\)")


def _listed(orgs: Sequence[Org], text: str, data: OptionLangData) -> list[Org]:
    """The first organisation of ``orgs`` and those joined to it as a list ("Google, Amazon and Meta").

    Two names belong to one list when only commas and the language's ``conjunctions`` stand between.
    """
    conjunctions = data.pattern("conjunctions")
    out: list[Org] = []
    last_end: int | None = None
    for org in orgs:
        if last_end is not None:
            # A listing in brackets after a name belongs to it ("Nio Inc (NYSE: NIO) and Xpeng").
            gap = _BRACKETED.sub("", text[last_end:org.start], count=1)
            rest = gap.lstrip().lstrip(",").lstrip()
            m = conjunctions.match(rest) if conjunctions is not None and rest else None
            if rest and (m is None or rest[m.end():].strip()):
                break
        last_end = org.end
        if all(o.canonical != org.canonical for o in out):
            out.append(org)
    return out


def _possessor(actor: Org, a: int, ctx: _SentenceCtx) -> bool:
    """True when the cue names the actor's chip as a thing it owns ("Google's custom-designed chips"):
    the chip exists, so the build is done."""
    possessive = ctx.data.pattern("possessives")
    m = possessive.match(ctx.text, actor.end) if possessive is not None else None
    return m is not None and m.end() <= a and _gap_words(ctx.text, m.end(), a) <= 2


_OBJECT_WORDS = re.compile(r"\s+((?:[\w-]+\s+){0,2}[\w-]+)")


def _builds_something_else(b: int, ctx: _SentenceCtx) -> bool:
    """True when "build its own" has an object with no chip in it ("build its own data centers",
    "make their own hardware"): an own-chip move names chips, here or, elliptically ("to design
    its own."), before the cue."""
    m = _OBJECT_WORDS.match(ctx.text, b)
    return m is not None and not has_chip_term(m.group(1), ctx.data)


def _partner(cue: CueMatch, a: int, b: int, ctx: _SentenceCtx) -> list[_Found]:
    if cue.cue.subtype == "investment" and _control_stake(a, b, ctx):
        return []  # "bought 80 pct of Fairchild": control is an acquisition (OPTIONS.md)
    parties = _partner_parties(ctx)
    if cue.cue.form == "supply":
        return _supply(a, parties, ctx)
    if cue.cue.form == "pair":
        return _hyphen_pair(a, b, ctx)
    if cue.cue.form == "funding":
        return _funding(a, b, ctx)
    if cue.cue.form == "invest":
        return _invest(a, b, ctx)
    if cue.cue.form == "accord":
        return _accord(a, b, parties, ctx)
    via = False
    plural = ctx.data.pattern("plural_anaphora")
    named_before = list({o.canonical: o for o in ctx.prev_orgs if o.roles}.values())
    if len(named_before) >= 2 and _between(plural, ctx.text, ctx.clause[0], a):
        # "The firms are planning a joint venture": the companies named in the previous sentence.
        parties, via = named_before, True
    buyers = [o for o in parties if not o.chipmaker]
    # The first company named leads a pair taken from the previous sentence (its subject).
    actor = (buyers[0] if via else _nearest(buyers, a)) if buyers else None
    ahead = [o for o in buyers if o.end <= a]
    if not via and cue.cue.subtype == "investment" and cue.cue.form == "noun" and ahead:
        # "considering buying a small stake in SoftBank Group Corp's chip company Arm": the stake
        # is the subject's; the company it is in, not its owner, is the other side.
        actor = ahead[-1]
        parties = [o for o in parties if o.end <= a or not _possessor_of_next(o, ctx)]
    directed = None if via else (_between_pair(b, ctx) or _with_subject(a, b, parties, ctx)
                                 or (_verb_object(a, b, parties) if cue.cue.form in _VERB_FORMS else None))
    if directed is not None:
        # The cue names its two sides: the counterparty is the other side, not every party around.
        actor, via, other = directed
        # "to develop the chips with Qualcomm, STMicroelectronics and Renesas": every company of
        # a list that the other side opens is a partner.
        listed = _listed([o for o in ctx.orgs if o.start >= other.start and o.canonical != actor.canonical],
                         ctx.text, ctx.data)
        parties = listed if listed and listed[0] is other else [other]
    if directed is None and _unnamed_partner(b, ctx):
        return []
    if directed is None and not via and ctx.salient is not None and _objects_only(a, b, parties, ctx) \
            and any(o.chipmaker for o in parties) and all(o.canonical != ctx.salient.canonical for o in parties):
        # "Der Münchner Autobauer arbeite zudem weiterhin mit Intel und Mobileye zusammen": the
        # companies named are all the subject's partners; the subject is the article's, unless
        # its description fits another company just named.
        description = _subject_description(a, ctx)
        actor, via = (_kind_referent(description, ctx) if description else None) or ctx.salient, True
    if actor is None:
        coref = _coref(ctx, allow_chipmaker=True) or _implicit_subject(ctx) or _described_subject(a, ctx)
        if coref is not None and not any(o.canonical == coref.canonical for o in parties):
            actor, via = coref, True
        elif parties:
            # All parties make chips: a fab's supplier of materials or tools is the other side
            # ("Soitec et STMicroelectronics ... leur coopération": ST's supply is at stake); among
            # the rest the article's subject, if it is one of them, leads.
            users = [o for o in parties if not _supplies_fabs(o)] or list(parties)
            lead = [o for o in users if ctx.salient is not None and o.canonical == ctx.salient.canonical]
            actor = lead[0] if lead else users[0]
    if actor is None:
        return []
    seen: set[str] = {actor.canonical}
    cps: list[tuple[Org, str]] = []
    role = "investor" if cue.cue.subtype == "investment" and actor.chipmaker else "partner"
    for org in parties:
        if org.canonical not in seen:
            seen.add(org.canonical)
            cps.append((org, role))
    if not cps and cue.cue.form == "verb":
        # "hopes to participate in Sematech", "joined the Sematech consortium": the body joined.
        cps = [(org, "partner") for org in ctx.consortia[:1]]
        ref = _consortium_ref(b, ctx) if not cps else None
        if ref is not None:
            # "hopes to participate in the effort": the consortium's own sentence tied it to chips.
            return [_Found(actor, via, [(ref, "partner")], False)]
    if not cps:
        return []
    if not _chip_scoped(actor, cps, ctx):
        # Kept unscoped: it counts only where the article ties the partnership to chips
        # elsewhere (:func:`_partnership_described`).
        return [_Found(actor, via, cps, False, False)]
    foundry_deal = None if via or cue.cue.subtype == "investment" else _foundry_customers([actor, *(o for o, _ in cps)])
    if foundry_deal is not None and (len(foundry_deal[1]) > 1 or foundry_deal[0].canonical == actor.canonical):
        foundry, customers = foundry_deal
        return [_Found(o, False, [(foundry, "partner")], False) for o in customers]
    return [_Found(actor, via, cps, False)]


#: Roles of companies that make chips in their own plants: co-developing one is their trade.
_MAKER_ROLES = frozenset({"idm", "foundry", "memory"})
#: Roles of a chipmaker that can design a customer's chip with it (a foundry only makes it).
_DESIGN_ROLES = frozenset({"chip_designer", "idm"})
#: Roles of a company that only makes chips for others.
_FOUNDRY_ROLES = frozenset({"foundry"})
#: Cue forms whose arguments sit as around a verb (subject before, object after).
_VERB_FORMS = frozenset({"verb", "talks"})
#: Characters after a share word within which a control word may follow it ("participación
#: mayoritaria", "participation majoritaire").
_CONTROL_AFTER = 15
#: Characters before a stake cue within which its share may stand ("a 51 per cent stake in").
_SHARE_REACH = 20
#: Words between the second company of a pair and an agreement cue ("have recently signed").
_ACCORD_GAP = 4
#: Characters after a buying cue within which software words (``software_terms``) describe what is bought.
_SOFTWARE_REACH = 90
#: Words at most before a sentence's opening name (a dateline such as "LONDRES —").
_OPENER_WORDS = 3
#: Characters before a sentence within which a plural description finds the companies it stands for.
_PLURAL_REACH = 600
#: Characters between a switch cue and the own-chip cue that is its object ("switched over to its own").
_SWITCH_OBJECT = 3
#: Words at most between the last of several subjects and a build cue ("Apple and Samsung also design").
_SUBJECT_GAP = 4
#: Words at most between a chip designer and its switch of foundry ("Qualcomm is moving the chip from").
_SWITCH_GAP = 4
#: Characters after "with a/an ..." within which a company name makes the party named after all.
_UNNAMED_REACH = 60


def _possessor_of_next(org: Org, ctx: _SentenceCtx) -> bool:
    """True when ``org`` owns the next company named ("SoftBank Group Corp's chip company Arm")."""
    possessive = ctx.data.pattern("possessives")
    m = possessive.match(ctx.text, _name_end(org, ctx.text)) if possessive is not None else None
    if m is None:
        return False
    nxt = next((o for o in ctx.orgs if o.start >= m.end()), None)
    return nxt is not None and _gap_words(ctx.text, m.end(), nxt.start) <= 4


def _coordinated_pair(a: int, ctx: _SentenceCtx, *, through_possessive: bool = False) -> tuple[Org, Org] | None:
    """The two companies joined by a conjunction right before the cue at ``a``, in text order.

    "Honda and Renesas have signed an agreement", "Apple y Broadcom firmaron un acuerdo": two
    names, a conjunction between them and at most a few words (an auxiliary) before the cue.
    None for any other shape: a third company, a list, or a name far from the cue. With
    ``through_possessive``, a deal noun owned by the pair may stand further away ("... have
    terminated their $1.4 billion merger agreement").
    """
    before = [o for o in ctx.orgs if o.end <= a]
    conjunctions = ctx.data.pattern("conjunctions")
    if len(before) < 2 or conjunctions is None:
        return None
    first, second = before[-2], before[-1]
    # "Toyota Motor Corp. and Denso Corp. are considering": a legal form ends the name.
    first_end, second_end = _name_end(first, ctx.text), _name_end(second, ctx.text)
    if first.canonical == second.canonical or "," in ctx.text[second_end:a] \
            or (_gap_words(ctx.text, second_end, a) > _ACCORD_GAP
                and not (through_possessive and _possessive_close(second_end, a, ctx))):
        return None
    gap = ctx.text[first_end:second.start]
    # "Die Deutsche Telekom und der US-Chiphersteller Nvidia": a company noun may stand before
    # the second name.
    described = _between(ctx.data.pattern("company_terms"), ctx.text, first_end, second.start)
    if not conjunctions.search(gap) or _gap_words(ctx.text, first_end, second.start) > (4 if described else 2):
        return None
    if len(before) > 2 and _gap_words(ctx.text, before[-3].end, first.start) <= 1:
        return None  # "Google, Meta and OpenAI": a list, not the two sides of one agreement
    return first, second


#: Words at most between a possessive and the deal noun it owns ("their $1.4 billion merger").
_POSSESSED_GAP = 3


def _possessive_close(start: int, a: int, ctx: _SentenceCtx) -> bool:
    """True when a possessive stands shortly before the cue at ``a``, within a subject's clause
    (no more than ``_APPOSED_WORDS`` words after ``start``)."""
    pronouns = ctx.data.pattern("possessive_pronouns")
    last = max((m.end() for m in pronouns.finditer(ctx.text, start, a)), default=None) if pronouns else None
    return last is not None and _gap_words(ctx.text, last, a) <= _POSSESSED_GAP \
        and _gap_words(ctx.text, start, a) <= _APPOSED_WORDS


def _investor(org: Org) -> bool:
    """True for a financial investor (a fund, a bank): in a merger with a company, it is the buyer."""
    return bool(org.roles) and org.roles <= {"investor"}


_NEXT_WORD = re.compile(r"\s+[\w.&]+")
#: Legal-form words at most after a company's name ("Group Corp").
_LEGAL_WORDS = 3


def _name_end(org: Org, text: str) -> int:
    """Where a company's name ends in ``text``: after the legal-form words that follow the mention
    ("Denso Corp.", "SoftBank Group Corp"), else at the mention's end."""
    end = org.end
    for _ in range(_LEGAL_WORDS):
        m = _NEXT_WORD.match(text, end)
        if m is None or not has_legal_form(text[org.start:m.end()]):
            break
        end = m.end()
    return end


def _accord(a: int, b: int, parties: Sequence[Org], ctx: _SentenceCtx) -> list[_Found]:
    """An agreement cue: its two sides are the pair before it or the subject and a with-object.

    The chip buyer of the pair is the actor (OPTIONS.md: the strategy at stake is the chip
    buyer's); two chipmakers agreeing to supply a buyer named after a recipient marker ("Samsung y
    SK Hynix firmaron cartas de intenciones para suministrar chips ... a OpenAI") are each the
    buyer's partner. A clause that also holds a takeover cue speaks of that takeover ("signed a
    definitive agreement to combine").
    """
    if "acquire" in ctx.clause_options:
        return []
    sides = _with_subject(a, b, parties, ctx, verb_final=True)
    if sides is None:
        pair = _coordinated_pair(a, ctx)
        if pair is None:
            return []
        first, second = pair
        if first.roles & CHIP_ROLES and second.roles & CHIP_ROLES:
            recipient = ctx.data.pattern("recipient_markers")
            buyer = next((o for o in ctx.sent_orgs if o.start >= b and o.roles & BUYER_ROLES and not o.chipmaker
                          and o.canonical not in {first.canonical, second.canonical}
                          and _between(recipient, ctx.text, b, o.start)), None)
            if buyer is not None:
                return [_Found(buyer, False, [(maker, "partner")], False) for maker in (first, second)]
        sides = (second, False, first) if _buyer_leads(first, second) else (first, False, second)
    actor, via, other = sides
    cps = [(other, "partner")]
    return [_Found(actor, via, cps, False)] if _chip_scoped(actor, cps, ctx) else []


def _objects_only(a: int, b: int, parties: Sequence[Org], ctx: _SentenceCtx) -> bool:
    """True when the clause names companies only after a with-marker inside or right after the cue."""
    marker = ctx.data.pattern("with_markers")
    m = marker.search(ctx.text, a, min(ctx.clause[1], b + 4)) if marker is not None else None
    clause_parties = [o for o in parties if ctx.clause[0] <= o.start < ctx.clause[1]]
    return m is not None and bool(clause_parties) and all(o.start >= m.end() for o in clause_parties)


def _unnamed_partner(b: int, ctx: _SentenceCtx) -> bool:
    """True when a with-marker right after the cue introduces an indefinite party ("a chip
    production contract with an unnamed global client"): the other side is unnamed, so the
    companies of the clause or of the previous sentence are not it. A definite description
    ("its partnership with the fast-growing startup") may stand for a company named before."""
    marker, indefinite = ctx.data.pattern("with_markers"), ctx.data.pattern("indefinites")
    m = marker.match(ctx.text, _skip_space(ctx.text, b)) if marker else None
    if m is None or indefinite is None or indefinite.match(ctx.text, _skip_space(ctx.text, m.end())) is None:
        return False
    # "en partenariat avec des acteurs comme Kioxia": the indefinite group names its members.
    return not any(m.end() <= o.start < m.end() + _UNNAMED_REACH for o in ctx.orgs)


def _money_sides(a: int, b: int, ctx: _SentenceCtx) -> tuple[Org, Org] | None:
    """The company before a money cue and the one right after it, else None: three words at most
    after the cue, or more where a company noun describes it ("invertir en el diseñador de chips
    Arm", "a $800 million investment in Chinese chipmaker and foundry operator Tsinghua Unigroup")."""
    before = [o for o in ctx.orgs if o.end <= a]
    after = _object(ctx.orgs, ctx.text, b, ctx.clause[1], 3, None, ctx.data.pattern("company_terms"))
    if not before or after is None:
        return None
    return before[-1], after


def _funding(a: int, b: int, ctx: _SentenceCtx) -> list[_Found]:
    """Money raised from chipmakers ("OpenAI lève 110 milliards de dollars auprès d'Amazon,
    Softbank et NVIDIA").

    OPTIONS.md: the funded company (the cue's subject) is the actor of a partner (investment)
    record and the chipmakers among the investors named after the cue its counterparties; a
    funded chipmaker is the counterparty of each chip buyer that funds it; funding with no
    chipmaker in it is none. A chipmaker's own investment is the ``invest`` form.
    """
    sides = _money_sides(a, b, ctx)
    if sides is None:
        return []
    if sides[0].chipmaker:
        # "Athos Silicon erhalte eine bedeutende Investition ... von Mercedes-Benz": a chip buyer
        # putting money into a chip company takes a stake in it (its actor, as with ``invest``).
        buyers = [o for o in ctx.orgs if o.start >= b and not o.chipmaker and o.roles
                  and "investor" not in o.roles]
        return [_Found(o, False, [(sides[0], "partner")], False) for o in buyers]
    investors = [o for o in ctx.orgs if o.start >= b and o.chipmaker]
    return [_Found(sides[0], False, [(o, "investor") for o in investors], False)] if investors else []


def _invest(a: int, b: int, ctx: _SentenceCtx) -> list[_Found]:
    """An investment by the cue's subject in the company right after it ("Nvidia invests $5 billion
    in Intel", "Microsoft investit dans d-Matrix").

    OPTIONS.md takes the chip buyer's side: a chipmaker investing in a company makes that company
    the actor and the chipmaker its investor; a company investing in a chipmaker below control
    ("X takes a 10% stake in chip startup Y") is the actor with the chipmaker as partner. An
    investment that involves no chipmaker, or whose object is no company ("invest in new product
    development"), is none.
    """
    sides = _money_sides(a, b, ctx)
    if sides is None:
        return []
    company = ctx.data.pattern("company_terms")
    described = company.search(ctx.text, b, sides[1].start) if company is not None else None
    # The words from a company noun on describe the investee ("in Japanese chipmaker Rapidus").
    if has_chip_term(ctx.text[b:described.start() if described else sides[1].start], ctx.data):
        # "investir 7 milliards de dollars dans l'achat de puces Nvidia": money put into chips
        # bought from the company, not into the company.
        return []
    investor, investee = sides
    if investor.canonical == investee.canonical:
        return []
    if investor.chipmaker:
        return [_Found(investee, False, [(investor, "investor")], False)]
    # A company the knowledge base files under another trade is a chip company where the words
    # describing it say so ("Chinese chipmaker and foundry operator Tsinghua Unigroup").
    if investee.chipmaker or (described is not None and not investor.roles & CHIP_ROLES
                              and has_chip_term(ctx.text[described.start():investee.start], ctx.data)):
        # "Toyota Motor Corp. and Denso Corp. are considering making additional investments in
        # Rapidus": each of two companies joined before the cue invests.
        pair = _coordinated_pair(a, ctx)
        investors = [pair[0], investor] if pair is not None and pair[1].canonical == investor.canonical \
            and not pair[0].chipmaker and pair[0].party else [investor]
        return [_Found(o, False, [(investee, "partner")], False) for o in investors]
    return []


def _partner_parties(ctx: _SentenceCtx) -> list[Org]:
    """The companies a partner cue may join: the clause's, else the sentence's, else the previous sentence's.

    A clause without any ("La firme s'est associée à deux géants : Intel et MediaTek") takes the
    sentence's. A partnership has two sides, so a clause naming one company only takes the
    sentence's companies too when the sentence names another ("Bemerkenswert an GB10: Huang hat
    betont, dass MediaTek an der Entwicklung des SoC mitgearbeitet hat": GB10 is NVIDIA's).
    """
    if len({o.canonical for o in ctx.orgs}) == 1 and len({o.canonical for o in ctx.sent_orgs}) > 1:
        return list(ctx.sent_orgs)
    return list(ctx.orgs) or list(ctx.sent_orgs) or list(ctx.prev_orgs)


def _foundry_customers(parties: Sequence[Org]) -> tuple[Org, list[Org]] | None:
    """A deal between one foundry and other companies: the others are its customers, each the
    actor of a partnership with the foundry ("TSMC, Bosch, Infineon und NXP ... Joint Venture":
    three records with TSMC). A foundry only makes chips for others, so whoever deals with it
    is the chip buyer of the deal, chipmakers with their own fabs too. None otherwise."""
    kb = load_kb()
    named = {o.canonical for o in parties}
    # A unit of another party stands on its parent's side (ESMC, TSMC's venture, beside TSMC).
    parties = [o for o in parties if _parent_name(o, kb) not in named - {o.canonical}]
    foundries = {o.canonical: o for o in parties if o.roles and o.roles <= _FOUNDRY_ROLES}
    if len(foundries) != 1:
        return None
    (foundry,) = foundries.values()
    # Another company with fabs of its own is the foundry's rival, not its customer (Samsung).
    customers = list({o.canonical: o for o in parties if o.canonical != foundry.canonical and o.roles
                      and not o.roles & _FOUNDRY_ROLES}.values())
    return (foundry, customers) if customers else None


def _implicit_subject(ctx: _SentenceCtx) -> Org | None:
    """The article's subject for a sentence that names no company at all, else None.

    "[...] un dîner avec des ingénieurs de SK Hynix. Ce contexte souligne un partenariat
    stratégique [...]": with no company of its own, the sentence speaks of the article's subject
    as an anaphor would, and the company of the previous sentence is the other side.
    """
    return ctx.salient if not ctx.sent_orgs else None


#: Roles of companies that sell to chip plants: wafers, substrates and chemicals, or tools.
_FAB_SUPPLIER_ROLES = frozenset({"materials", "equipment"})
#: Roles of companies that buy chips without making them: partners of chipmakers whose strategy it is.
BUYER_ROLES: frozenset[str] = frozenset({"hyperscaler", "ai_lab", "oem"})
#: How far (characters) after a partner cue a "with" may introduce its counterparty
#: ("exchange of technology and manufacturing agreement with Fujitsu").
_WITH_REACH = 40


def _between_pair(b: int, ctx: _SentenceCtx) -> tuple[Org, bool, Org] | None:
    """The two sides of "a joint venture between A and B": (A, False, B), or None.

    Only a "between" right after the cue counts; the other companies of the sentence ("sold by
    Intel, AT&T and a joint venture between Northern Telecom and Motorola") are not in the deal.
    """
    marker = ctx.data.pattern("between_markers")
    m = marker.search(ctx.text, b, min(ctx.clause[1], b + 12)) if marker else None
    if m is None:
        return None
    sides = list({o.canonical: o for o in ctx.orgs if o.start >= m.end()}.values())
    return (sides[0], False, sides[1]) if len(sides) >= 2 else None


def _with_subject(a: int, b: int, parties: Sequence[Org], ctx: _SentenceCtx, *,
                  verb_final: bool = False) -> tuple[Org, bool, Org] | None:
    """The sides of "X ... <partner cue> with Y": (X, via_coref, Y), the subject X being the actor.

    The subject is the last company before the cue, unless an anaphor comes between it and the
    cue ("Brooks also said the company would attempt ... an agreement with Fujitsu"): that stands
    for the article's most salient company other than Y that the knowledge base knows (Y itself
    cannot be its own partner). None when the clause has no such shape. When a named subject only
    makes chips and Y only buys them, the sides turn: Y's chip strategy is at stake (OPTIONS.md:
    "NVIDIA partners with OpenAI" is OpenAI's option); an anaphoric one gives None.
    """
    with_markers = ctx.data.pattern("with_markers")
    partner = _first_after_marker([o for o in parties if o.start >= b], with_markers,
                                  ctx.text, a, min(ctx.clause[1], b + _WITH_REACH))
    if partner is None and verb_final and ctx.data.verb_final and _clause_ends(ctx.text, b, ctx.clause[1]):
        # An agreement verb that closes its clause ("hat Mercedes mit Nvidia ein „Revenue
        # Sharing“ vereinbart") has its with-object before it.
        partner = _first_after_marker([o for o in parties if o.end <= a], with_markers, ctx.text, ctx.clause[0], a)
    if partner is None:
        return None
    before = [o for o in parties if o.end <= a and o.canonical != partner.canonical]
    anaphora = ctx.data.pattern("anaphora")
    last_anaphor = max((m.start() for m in anaphora.finditer(ctx.text, ctx.clause[0], a)), default=-1) \
        if anaphora else -1
    # A known company that opens the sentence is its subject (an unknown name may be a person's).
    opener = before[0] if before and before[0].roles and len(ctx.text[ctx.sent[0]:before[0].start].split()) <= 2 \
        else None
    if last_anaphor >= 0 and (not before or last_anaphor >= before[-1].end) and opener is not None:
        # "Cerebras, ..., a annoncé qu'elle s'était associée à Mistral": the pronoun of the
        # reported clause stands for the sentence's own subject.
        subject, via = _outside_apposition(before, a, ctx), False
    elif last_anaphor >= 0 and (not before or last_anaphor >= before[-1].end):
        rest = [o for o in ctx.article_orgs if o.roles and o.canonical != partner.canonical]
        found = salient_org(rest, ctx.body_start)
        if found is None:
            return None
        subject, via = found, True
    elif before:
        subject, via = _outside_apposition(before, a, ctx), False
        if subject.chipmaker and partner.chipmaker and opener is not None and not opener.chipmaker:
            # "ZF selbst sieht STMicro ... als einen von mehreren Zulieferern und hat ... eine
            # Kooperation mit dem US-Konzern Wolfspeed bekannt gegeben": the chipmaker between is
            # an object; the buyer that opens the sentence is the subject.
            subject = opener
    else:
        return None
    if _buyer_leads(subject, partner):
        return None if via else (partner, False, subject)
    return subject, via, partner


def _buyer_leads(first: Org, second: Org) -> bool:
    """True when ``second``'s chip supply is at stake rather than ``first``'s, so it is the actor.

    ``first`` only makes chips and ``second`` makes none (OPTIONS.md: "NVIDIA partners with
    OpenAI" is OpenAI's), or ``first`` only supplies fabs and ``second`` runs them.

    A company the knowledge base does not know ("Reliance Industries") counts as a buyer too: the
    chipmakers that matter are in it, so an unknown partner of one is most often its customer.
    Known companies of other trades stay on the side the sentence gives them: an investor funds
    the chipmaker ("Intel signed an agreement with Brookfield" for its fabs), a licensor gives
    it technology ("AMD signed a licensing agreement with AT&T").
    """
    if _supplies_fabs(first) and second.roles & _MAKER_ROLES and not _supplies_fabs(second):
        return True  # "Soitec and STMicroelectronics signed an agreement": the fab buys the wafers
    if first.roles & _MAKER_ROLES and second.roles & BUYER_ROLES and not second.roles & _MAKER_ROLES:
        # "Samsung ha conseguido este acuerdo con Apple": a company with fabs that also sells
        # devices makes the chips of a device maker without fabs, whose supply is at stake.
        return True
    return first.chipmaker and (bool(second.roles & BUYER_ROLES) or not second.roles) \
        and not second.roles & CHIP_ROLES


def _supplies_fabs(org: Org) -> bool:
    """True for a company that only sells fabs their materials or tools (Soitec, ASML)."""
    return bool(org.roles) and org.roles <= _FAB_SUPPLIER_ROLES


def _outside_apposition(before: Sequence[Org], a: int, ctx: _SentenceCtx) -> Org:
    """The subject among the companies ``before`` a cue: the last one, unless it stands in an
    apposition set off by two commas after an earlier one.

    "Cerebras, une entreprise soutenue par G42, a annoncé qu'elle s'était associée à Mistral":
    G42 only describes Cerebras, which is the subject. A list ("Google, Meta and Amazon") has a
    conjunction inside, so it is no apposition.
    """
    last = before[-1]
    conjunctions = ctx.data.pattern("conjunctions")
    for earlier in reversed(before[:-1]):
        gap = ctx.text[earlier.end:a]
        # The earlier name must open the sentence: in "Le principal bailleur de fonds d'OpenAI,
        # Microsoft, développe" the name between commas is the subject a description announced.
        if gap.lstrip().startswith(",") and gap.count(",") == 2 and "," in ctx.text[last.end:a] \
                and not _between(conjunctions, ctx.text, earlier.end, last.start) \
                and _gap_words(ctx.text, ctx.sent[0], earlier.start) <= _OPENER_WORDS:
            return earlier
    return last


def _hyphen_pair(a: int, b: int, ctx: _SentenceCtx) -> list[_Found]:
    """The two sides of a chip named after two companies joined by a hyphen inside the cue.

    "Des puces Nvidia-Intel et Nvidia-MediaTek verront donc le jour": a co-branded chip is made
    together. Only names of companies on both sides of the hyphen count ("puces Wi-Fi" names
    none). The article's subject leads when it is in a pair, else the first name; every other
    name of the pairs is a partner (one move: "Nvidia" with Intel and with MediaTek).
    """
    inside = [o for o in ctx.sent_orgs if a <= o.start and o.end <= b]
    sides: dict[str, Org] = {}
    for left, right in pairwise(inside):
        if ctx.text[left.end:right.start] == "-" and left.canonical != right.canonical:
            sides.setdefault(left.canonical, left)
            sides.setdefault(right.canonical, right)
    if not sides:
        return []
    lead = ctx.salient.canonical if ctx.salient is not None and ctx.salient.canonical in sides else next(iter(sides))
    return [_Found(sides[lead], False, [(o, "partner") for c, o in sides.items() if c != lead], False)]


def _verb_object(a: int, b: int, parties: Sequence[Org]) -> tuple[Org, bool, Org] | None:
    """The sides of a verb cue that holds its object: (subject, False, object), or None.

    "MHS will pay NEC an undisclosed sum for the technology": the company inside the cue is the
    verb's object (the counterparty), the last company before the cue its subject (the actor).
    """
    inside = [o for o in parties if a < o.start and o.end <= b]
    before = [o for o in parties if o.end <= a and (not inside or o.canonical != inside[0].canonical)]
    if not inside or not before:
        return None
    return before[-1], False, inside[0]


def _chip_scoped(actor: Org, cps: Sequence[tuple[Org, str]], ctx: _SentenceCtx) -> bool:
    """True when a partnership is about chips: the sentence names chips, or a party only makes chips.

    A company that also makes chips (IBM, Toshiba) co-develops other things too ("OS/2, developed
    jointly with Microsoft"), so its role alone does not tie the move to chips.
    """
    return (actor.chipmaker or any(o.chipmaker for o, _ in cps)
            or has_chip_term(ctx.text[ctx.sent[0]:ctx.sent[1]], ctx.data))


def _supply(a: int, parties: Sequence[Org], ctx: _SentenceCtx) -> list[_Found]:
    """A supply cue: the recipient after the cue start is the actor, the supplier before it the partner.

    "NEC will supply MHS with manufacturing technology": the chip strategy at stake is the
    recipient's (OPTIONS.md), whatever the knowledge base says about either company's roles.
    """
    recipient = next((o for o in parties if o.start >= a), None)
    if recipient is None:
        return []
    seen = {recipient.canonical}
    cps: list[tuple[Org, str]] = []
    for org in parties:
        if org.end <= a and org.canonical not in seen:
            seen.add(org.canonical)
            cps.append((org, "partner"))
    if not cps or not _chip_scoped(recipient, cps, ctx):
        return []
    return [_Found(recipient, False, cps, False)]


def _consortium_ref(b: int, ctx: _SentenceCtx) -> Org | None:
    """The consortium a joining cue's definite object refers back to ("participate in the effort").

    Only a reference right after the cue (or inside it: "joined the consortium") counts, and it
    stands for the last chip consortium the article named before (``prior_consortia``).
    """
    refs = ctx.data.pattern("consortium_refs")
    if not refs or not ctx.prior_consortia:
        return None
    ref = refs.search(ctx.text, max(ctx.clause[0], b - 20), min(ctx.clause[1], b + 24))
    return ctx.prior_consortia[-1] if ref else None


def _diversify(cue: CueMatch, a: int, b: int, ctx: _SentenceCtx
               ) -> list[_Found]:
    subject = [o for o in ctx.orgs if o.end <= a]
    gap = ctx.text[subject[-1].end:a] if subject else ""
    if cue.cue.form == "verb" and subject and _fabless(subject[-1]) and "," not in gap \
            and len(gap.split()) <= _SWITCH_GAP:
        designer = subject[-1]
        foundries = [o for o in ctx.orgs if o.start >= b and o.roles & _FOUNDRY_ROLES and o.canonical != designer.canonical]
        if foundries:
            # "Qualcomm is moving the chip from Samsung Foundry to TSMC": a chip designer without
            # fabs buys manufacturing, so a new foundry is its new supplier.
            return [_Found(designer, False, [(foundries[0], "new_supplier")], False, True)]
    # The sentence's first chip designer without fabs before the cue is the buyer of wafers
    # ("Nvidia will ... von TSMC und Samsung ... auch bei Intel fertigen zu lassen").
    wafer_buyer = next((o for o in ctx.sent_orgs if o.end <= a and _fabless(o)), None)
    if wafer_buyer is not None:
        foundry_move = _foundry_diversify(wafer_buyer, a, ctx)
        if foundry_move:
            return foundry_move
    if subject and subject[-1].chipmaker and len(gap.split()) <= 1 and "," not in gap \
            and not has_chip_term(gap, ctx.data):
        # "a pressing need for Qualcomm to diversify": a chipmaker spreads its customers, not
        # its chip suppliers (OPTIONS.md: the actor is a chip buyer). "AMD accelerators alongside
        # its Nvidia fleet" names the chipmaker's product, not a subject.
        return []
    buyers = [o for o in ctx.orgs if not o.chipmaker]
    before = [o for o in buyers if o.end <= a]
    # "Alibaba, Tencent and Baidu have begun testing alternatives": each company of the list.
    actors = _list_ending(before, ctx.text, ctx.data)
    via = False
    if not actors:
        # A sentence that names no company speaks of the article's ("Es werde an Alternativen
        # gearbeitet, die Lieferketten zu diversifizieren"), and so does one that names only
        # chipmakers ("dass die Stuttgarter sich weiter von Nvidia abkoppeln").
        coref = _coref(ctx, allow_chipmaker=False) or _described_subject(a, ctx, allow_chipmaker=False)
        if coref is None and not buyers and not subject and _names_the_move(cue, a, ctx):
            coref = ctx.salient
        if coref is not None and coref.chipmaker:
            coref = None
        actors, via = ([coref] if coref is not None else buyers[:1]), coref is not None
    if not actors:
        return []
    names = {o.canonical for o in actors}
    dominant = _dominant(ctx)
    # "Réduire la dépendance à Intel et AMD": every supplier listed with the dominant one is old.
    incumbents = {o.canonical for o in _listed([o for o in ctx.orgs if dominant is not None
                                                and o.start >= dominant.start], ctx.text, ctx.data)}
    makers = [o for o in ctx.orgs if o.roles & CHIP_ROLES and o.canonical not in names
              and o.canonical not in incumbents]
    if cue.cue.form == "verb":
        # "turns to Samsung": the object is the new supplier, a chipmaker before it the incumbent;
        # without a named one, "shifted to 3 nm" is no change of supplier.
        makers = [o for o in makers if o.start >= b]
        if not makers:
            return []
    cps = [(o, "new_supplier") for o in makers]
    # With no chipmaker and no chip word ("Arduino réaffirme qu'il restera multi-vendeurs") the
    # move may be about anything: it counts only where the article ties the same actor's
    # diversification to chips (:func:`_corroborated`).
    # A chipmaker named as the supplier moved away from ties the move to chips too ("sich weiter
    # von Nvidia abkoppeln").
    scoped = bool(cps) or bool(dominant is not None and dominant.roles & CHIP_ROLES) \
        or has_chip_term(ctx.text[ctx.sent[0]:ctx.sent[1]], ctx.data)
    return [_Found(o, via, cps, False, scoped) for o in actors]


def _names_the_move(cue: CueMatch, a: int, ctx: _SentenceCtx) -> bool:
    """True when a diversify cue states the move in its own words and the sentence names no other
    body that could make it: the article's company is then its actor.

    "Es werde an Alternativen gearbeitet, die Lieferketten zu diversifizieren"; but a bare
    marker ("Au-delà de la mémoire, ...") states no move, and "Le Pentagone explore ... pour
    réduire la dépendance" names who does.
    """
    markers = ctx.data.pattern("dominant_markers")
    if markers is not None and markers.fullmatch(ctx.text, a, a + cue.end - cue.start):
        return False
    s, e = ctx.sent
    return not any(s <= o.start < e and not o.chipmaker for o in ctx.article_orgs)


def _foundry_diversify(designer: Org, a: int, ctx: _SentenceCtx) -> list[_Found]:
    """A chip designer without fabs spreading its manufacturing over more foundries, or none.

    Such a designer buys wafers, so its foundries are its suppliers: "Nvidia will Abhängigkeit von
    TSMC und Samsung reduzieren", "auf eine größere Zahl von Fertigungspartnern setzen, um seine
    Abhängigkeit ... zu reduzieren" (the clause names a foundry as the old supplier, or speaks of
    manufacturing). The foundries named from the cue on, other than the old ones, are new suppliers.
    """
    dominant = _dominant(ctx)
    s, e = ctx.sent
    if not (dominant is not None and dominant.roles & _FOUNDRY_ROLES) \
            and not _between(ctx.data.pattern("foundry_terms"), ctx.text, s, e):
        return []
    old = {o.canonical for o in _listed([o for o in ctx.sent_orgs if dominant is not None
                                         and o.start >= dominant.start], ctx.text, ctx.data)}
    new = [(o, "new_supplier") for o in ctx.sent_orgs if o.start >= a and o.roles & _FOUNDRY_ROLES
           and o.canonical != designer.canonical and o.canonical not in old]
    return [_Found(designer, False, new, False, True)]


def _list_ending(orgs: Sequence[Org], text: str, data: OptionLangData) -> list[Org]:
    """The last organisation of ``orgs`` with those listed right before it ("Alibaba, Tencent and Baidu")."""
    start = len(orgs) - 1
    while start > 0 and len(_listed(orgs[start - 1:], text, data)) == len({o.canonical for o in orgs[start - 1:]}):
        start -= 1
    return _listed(orgs[start:], text, data) if orgs else []


def _chip_users(maker: Org, ctx: _SentenceCtx) -> list[_Found]:
    """The companies that use, order or test ``maker``'s own chip named at ``maker``'s position.

    The clause's first company before the use verb is the user ("Alibaba, Tencent and Baidu have
    begun testing ... Huawei's Ascend": each of a list), else the company an anaphor stands for ("The
    company plans to use Huawei's Ascend 910B"), else the first after a fronted use ("By tapping
    Google's TPUs, Anthropic ..."). The maker itself using its chip is its build.
    """
    verbs = ctx.data.pattern("use_verbs")
    uses = [m for m in verbs.finditer(ctx.text, ctx.clause[0], maker.start)
            if maker.start - m.end() <= _USE_REACH] if verbs is not None else []
    if not uses:
        return []
    verb = uses[-1].start()
    # The clause's subject comes first: "Anthropic, boosted by an investment from Amazon, used
    # Google's TPUs" is about Anthropic.
    before = [o for o in ctx.orgs if o.end <= verb and not o.chipmaker and o.canonical != maker.canonical]
    coref = _coref(ctx, allow_chipmaker=False)
    after = [o for o in ctx.orgs if o.start >= maker.end and not o.chipmaker and o.canonical != maker.canonical]
    via = False
    if before:
        users = _listed(before, ctx.text, ctx.data)
    elif coref is not None:
        users, via = [coref], True
    else:
        # A fronted use ("By tapping Google's TPUs, Anthropic gains ..."): the subject follows.
        users = after[:1]
    return [_Found(o, via, [(maker, "new_supplier")], False) for o in users if o.canonical != maker.canonical]


_ARGUMENTS = {"acquire": _acquire, "build": _build, "partner": _partner, "diversify": _diversify}


def _dominant(ctx: _SentenceCtx, cue: CueMatch | None = None, a: int = 0) -> Org | None:
    """The supplier a diversification moves away from: named after a marker, or before a "turn to" cue."""
    found = _first_after_marker(ctx.orgs, ctx.data.pattern("dominant_markers"), ctx.text, ctx.clause[0], ctx.clause[1])
    if found is None and cue is not None and cue.cue.form == "verb":
        # "moving the chip from Samsung Foundry to TSMC" holds the old supplier in the cue itself.
        inside = [o for o in ctx.orgs if o.roles & CHIP_ROLES and a <= o.start < cue.end - cue.start + a]
        before = [o for o in ctx.orgs if o.chipmaker and o.end <= a]
        found = inside[0] if inside else before[-1] if before else None
    return found


def _dominant_of(actor: Org | None, ctx: _SentenceCtx, cue: CueMatch, a: int) -> Org | None:
    """The dominant supplier of ``actor``'s diversification; a company is not its own supplier."""
    if cue.cue.option != "diversify":
        return None
    found = _dominant(ctx, cue, a)
    return None if found is None or (actor is not None and found.canonical == actor.canonical) else found


def _fabless(org: Org) -> bool:
    """True for a chip designer that owns no fab (it buys wafers from foundries)."""
    return "chip_designer" in org.roles and not org.roles & (_MAKER_ROLES | _FOUNDRY_ROLES)


# ---------------------------------------------------------------------------------------------
# Merging mentions into records


def _merge_status(mentions: Sequence[Mention]) -> str:
    """The record's status: the furthest stage asserted, unless the move was later called off.

    An abandonment or denial wins, except over a later mention that shows work under way or done
    (a scrapped first chip followed by "is now working on a new one").
    """
    ordered = sorted([m for m in mentions if not m.corroborating] or mentions, key=lambda m: m.start)
    # Talks the text states outrank a cue's default ("Qualcomm envisage de racheter Intel" before
    # a bare "vendre des parties d'Intel"): unless a status word commits the move somewhere, the
    # mentions with a status word decide.
    stated = [m for m in ordered if m.stated]
    if any(m.status == "considered" for m in stated) and not any(
            _RANK.get(m.status, -1) >= _RANK["announced"] for m in stated):
        ordered = stated
    for i, m in enumerate(ordered):
        if m.status in _OFF and not any(n.status in _TAKEN_STATUSES for n in ordered[i + 1:]):
            return m.status
    live = [m.status for m in ordered if m.status in _RANK]
    return max(live, key=_RANK.__getitem__) if live else ordered[0].status


#: Options whose counterparties are several alike (partners, new suppliers): one named in part
#: restates the record of the whole. A takeover target is one company, so targets never nest.
_NESTING_OPTIONS = frozenset({"partner", "diversify"})


def _group(mentions: list[Mention]) -> list[_Record]:
    records: dict[tuple[str, str, frozenset[str]], _Record] = {}
    for m in sorted(mentions, key=lambda m: (len(m.cp_key) == 0, m.start)):
        assert m.actor is not None
        key = (m.option, m.actor.canonical, m.cp_key)
        if not m.cp_key:
            # A mention without a named counterparty joins the same actor's record that has one.
            same = [r for (o, a, _), r in records.items() if o == m.option and a == m.actor.canonical]
            if same:
                max(same, key=lambda r: len(r.mentions)).mentions.append(m)
                continue
        if m.option == "partner" and len(m.cp_key) == 1:
            # A partnership has two sides: "Intel partners TSMC" and "TSMC partners Intel" are
            # one record, the first found leads.
            mirror = ("partner", next(iter(m.cp_key)), frozenset({m.actor.canonical}))
            if mirror in records:
                records[mirror].mentions.append(m)
                continue
        if m.option in _NESTING_OPTIONS and key not in records:
            # "Et pour lancer Ampere, Renault s'associe à Qualcomm" then "Un accord avec
            # Qualcomm": partners named in part restate the same move, not a second one.
            nested = [r for (o, a, cps), r in records.items() if o == m.option and a == m.actor.canonical
                      and (cps < m.cp_key or m.cp_key < cps)]
            if len(nested) == 1:
                nested[0].mentions.append(m)
                continue
        records.setdefault(key, _Record(m.option, m.actor)).mentions.append(m)
    return list(records.values())


def _to_option(rec: _Record, text: str, published: str | None, model_hash: str,
               calibration: Calibration | None = None, record_calibration: RecordCalibration | None = None) -> Option:
    ms = sorted(rec.mentions, key=lambda m: m.start)
    status = _merge_status(ms)
    background = all(m.background for m in ms)
    if rec.option == "build" and background and status in _OPEN_STATUSES and not any(m.stated for m in ms):
        # A precedent the article cites is a chip effort already under way, whatever the hedge of
        # the subject's own plan around it ("Meta wants to follow Apple, Google and Amazon in
        # designing its own chips"; OPTIONS.md: the seed's others' builds are in progress).
        status = "in_progress"
    cps: dict[str, tuple[Org, str]] = {}
    for m in ms:
        for org, role in m.counterparties:
            if org.canonical != rec.actor.canonical:  # a mirrored partner mention names the actor
                cps.setdefault(org.canonical, (org, role))
    dominant = next((m.dominant for m in ms if m.dominant is not None), None)
    names = [c for c in cps]
    if dominant is not None and dominant.canonical not in names and rec.option == "diversify":
        names.append(dominant.canonical)
    evidence = tuple(Evidence(m.start, m.end, text[m.start:m.end]) for m in ms)
    attributions = [m.attribution for m in ms]
    attr = next((a for a in attributions if a[0] != "journalist"), attributions[0])
    confirmed = any(a[0] in ("actor_statement", "counterparty_statement", "filing", "regulator") for a in attributions)
    year = next((m.year for m in ms if m.year), None)
    prob = max(m.prob for m in ms)
    named = not all(m.via_coref for m in ms)
    if calibration is not None:
        # The classifier's probability for the best-supported mention, calibrated on held-out
        # sentences (extractors/data/options/README.md, "Confidence").
        confidence = calibration(prob)
    else:  # no calibration for this model (stale file): the old heuristic score
        confidence = min(0.95, 0.3 + 0.35 * prob + 0.15 * named + 0.1 * bool(cps or rec.option == "build")
                         + 0.05 * min(len(ms) - 1, 2))
    subtype = next((m.subtype for m in ms if m.subtype), None)
    if rec.option == "build" and any(role == "design_partner" for _, role in cps.values()):
        subtype = "custom_asic_with_partner"
    if rec.option == "acquire":
        subtype = None
    details: dict[str, Any] = {
        "subtype": subtype,
        "actor": rec.actor.as_dict(via_coref=all(m.via_coref for m in ms)),
        "counterparties": [org.as_dict(role=role) for org, role in cps.values()],
        "target_unnamed": rec.option == "acquire" and not cps,
        "dominant_supplier": dominant.as_dict() if dominant else None,
        "status_cues": [{"start": s, "end": e, "text": t} for m in ms for s, e, t in m.status_cues],
        "attribution": {"type": attr[0], "text": attr[1]},
        "rumored": attr[0] in _RUMOUR and attr[1] is not None and not confirmed,
        "time": {"event": year, "precision": "year" if year else None, "status_as_of": published},
        "background": background,
        "evidence": [{"start": m.start, "end": m.end, "quote": text[m.start:m.end],
                      "sentence": text[m.sentence[0]:m.sentence[1]]} for m in ms],
        "classifier_probability": round(prob, 3),
        "model_hash": model_hash,
    }
    if record_calibration is not None:
        # The probability that the record itself is right, fitted on labelled articles' records
        # (extractors/option_confidence.py); the sentence calibration above answers another question.
        confidence = record_calibration(record_features(rec.option, prob, all(m.via_coref for m in ms), len(ms),
                                                        bool(names), background))
    return Option(option=rec.option, actor=rec.actor.canonical, counterparty=tuple(names), status=status,
                  evidence=evidence, confidence=round(confidence, 3), details=details)


_PARAGRAPH = re.compile(r"\n\s*\n")
# A colon or semicolon inside a line joins two clauses of one sentence ("La diversité des puces
# reste : Arduino continuera ...", "... un deal gagnant-gagnant : Qualcomm met ... ; Arduino
# gagne ..."): a parser split after one is a slip like any other split without end punctuation
# (``clause_breaks`` still split there for the arguments).
_ENDS = frozenset(".!?。！？…\"”»")
# "U.S.", "Corp." at the end of a parser's sentence: before a lower-case word it ends no sentence.
_ABBREVIATION_END = re.compile(r"\b(?:[A-Z]\.){2,}\s*$|\b[A-Z][a-z]{0,3}\.\s*$")


def sentences(doc: Doc, *, text: str | None = None) -> list[tuple[int, int]]:
    """Sentence bounds (repaired as the entities extractor does), also split at blank lines.

    Parsers sometimes run a title or heading into the next sentence; a blank line always ends one.
    ``text`` is ``doc.text`` if the caller has it already.
    """
    text = doc_text(doc) if text is None else text
    merged: list[tuple[int, int]] = []
    for s, e in sentence_bounds(doc):
        # A split after no end punctuation and with no line break is a parser slip ("bid for <|Fairchild").
        if merged and "\n" not in text[merged[-1][1]:s] and (
                text[merged[-1][0]:merged[-1][1]].rstrip()[-1:] not in _ENDS
                # "Wise Road Capital and U.S. <|chipmaker Magnachip": an abbreviation's period
                # before a lower-case word ends no sentence.
                or (_ABBREVIATION_END.search(text, merged[-1][0], merged[-1][1]) and _lower_word(text, s))):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    out: list[tuple[int, int]] = []
    for s, e in merged:
        pos = s
        for m in _PARAGRAPH.finditer(text, s, e):
            if text[pos:m.start()].strip():
                out.append((pos, m.start()))
            pos = m.end()
        if text[pos:e].strip():
            out.append((pos, e))
    return out


def _lower_word(text: str, pos: int) -> bool:
    """True when the word at ``pos`` is all lower case ("chipmaker"; not "iPhone")."""
    m = _WORD.match(text, pos)
    return bool(m and m.group().islower())


def _published_year(published: str | None) -> int | None:
    if published and len(published) >= 4 and published[:4].isdigit():
        return int(published[:4])
    return None


def extract_options(doc: Doc, ctx: ExtractContext) -> tuple[Option, ...]:
    """Return the article's strategic options, one record per (actor, option, counterparties).

    Args:
        doc: The parsed article (blank pipelines with a sentencizer work too).
        ctx: The extraction context; ``ctx.found["entities"]`` supplies the ORG mentions.

    Returns:
        Option records with canonical actor and counterparty names, merged status, evidence
        quotes (``quote == doc.text[start:end]``) and details (see ``docs``/OPTIONS.md).
    """
    return detect_options(doc, ctx, model=shipped_model())


def detect_options(doc: Doc, ctx: ExtractContext, *, model: ShippedModel,
                   min_prob: float = MIN_PROB) -> tuple[Option, ...]:
    """:func:`extract_options` with the classifier and its threshold given.

    ``extractors/data/options/train.py`` measures the extractor through this function with
    classifiers fitted on cross-validation folds, so that its figures are the pipeline's own
    decisions (article scope, arguments, knowledge-base roles), not an approximation of them.
    """
    data = option_data(ctx.lang)
    original = doc_text(doc)
    text = original.translate(_HYPHENS)
    # Most articles hold no option cue at all: one scan of the whole text spares them the
    # organisation scan and the per-sentence scans below.
    chips = own_chips(text, data)
    chip_at = {o.start: o for o in chips}
    if not chips and data.any_cue is not None and data.any_cue.search(text) is None:
        return ()
    orgs = organisations(doc, ctx.found.get("entities", ()), text=text,
                         chipmaker_names=data.pattern("chipmaker_names"))
    # Only chip articles: the Reuters non-chip takeovers name no chip and no chipmaker.
    if not chips and not any(o.roles & CHIP_ROLES for o in orgs) and _count(data.pattern("chip_terms"), text, 2) < 2:
        return ()
    salient = salient_org(orgs, ctx.body_start)
    # An in-house chip counts as its maker's build only where the article names the maker: "GPUs
    # and tensor processing units (TPUs)" alone use the chip's name for a kind of chip.
    kb = load_kb()
    named = {name for o in orgs if o.start not in chip_at for name in (o.canonical, _parent_name(o, kb)) if name}
    parties = [o for o in orgs if o.party and not _product_appositive(o, text, data)
               and not _product_modifier(o, text, data) and not _listing_exchange(o, text)
               and not _source_credit(o, text)]
    pub_year = _published_year(ctx.published)
    bounds = sentences(doc, text=text)
    chip_consortia = _chip_consortia(orgs, bounds, text, data)
    percentages = [q for q in ctx.found.get("quantities", ()) if q.unit == "percent"]
    anaphora = data.pattern("anaphora")
    examples = data.pattern("examples")
    background_pat = data.pattern("background")
    mentions: list[Mention] = []
    orphans: list[Mention] = []
    candidates: list[tuple[int, tuple[int, int], list[CueMatch]]] = []
    for idx, (s, e) in enumerate(bounds):
        cues = find_cues(text[s:e], data)
        cues += [CueMatch(cue, o.start - s, o.end - s) for o in chips if s <= o.start < e
                 for cue in (_OWN_CHIP, _CHIP_USE) if cue is _CHIP_USE or o.canonical in named]
        cues.sort(key=lambda c: c.start)
        if cues:
            candidates.append((idx, (s, e), cues))
    # Arguments first, the classifier after: only sentences where a cue found its arguments are
    # classified, all in one batch (the arguments do not depend on the probability).
    pending: list[tuple[int, CueMatch, list[Mention]]] = []
    for ci, (idx, (s, e), cues) in enumerate(candidates):
        sentence = text[s:e]
        prev = bounds[idx - 1] if idx > 0 else None
        prev_orgs = [o for o in parties if prev and prev[0] <= o.start < prev[1]]
        # A name the NER reads in the cue itself ("MoU", "Memorandum of Understanding") is no party.
        sent_orgs = [o for o in parties if s <= o.start < e
                     and not any(c.cue.regex.fullmatch(text, o.start, o.end) for c in cues)]
        anaphor = bool(anaphora and anaphora.search(sentence))
        clauses = _clauses(sentence, s, data)
        abs_cues = [(s + c.start, s + c.end) for c in cues]
        for cue, (a, b) in zip(cues, abs_cues, strict=True):
            clause = next((c for c in clauses if c[0] <= a < c[1]), (s, e))
            clause_text = text[clause[0]:clause[1]]
            ex = examples.search(clause_text) if examples else None
            sctx = _SentenceCtx(
                text=text, sent=(s, e), clause=clause,
                orgs=[o for o in sent_orgs if clause[0] <= o.start < clause[1]],
                sent_orgs=sent_orgs, prev_orgs=prev_orgs, salient=salient, anaphor=anaphor, data=data,
                examples_at=clause[0] + ex.start() if ex else None, percentages=percentages,
                consortia=[o for o in orgs if a <= o.start < clause[1] and CONSORTIUM_ROLES & o.roles],
                prior_consortia=[o for o in chip_consortia if o.end <= a],
                article_orgs=orgs, body_start=ctx.body_start,
                clause_options=frozenset(c.cue.option for c, (ca, _) in zip(cues, abs_cues, strict=True)
                                         if clause[0] <= ca < clause[1]),
            )
            if cue.cue is _OWN_CHIP:
                found = [_Found(chip_at[a], False, [], False)]
            elif cue.cue is _CHIP_USE:
                found = _chip_users(chip_at[a], sctx)
            else:
                found = _ARGUMENTS[cue.cue.option](cue, a, b, sctx)
            found = _without_own_units(found, cue.cue.option)
            if not found:
                continue
            clause_cues = [c for c in abs_cues if clause[0] <= c[0] < clause[1]]
            status, status_cues, stated = _status(cue, (a, b), clause_cues, text, clause, data)
            years = [m.group() for m in data.year.finditer(clause_text)]
            year = years[0] if years else None
            background = _between(background_pat, text, clause[0], clause[1]) or (
                year is not None and pub_year is not None and int(year) < pub_year)
            attribution = _attribution(text, (s, e), data)
            found_mentions: list[Mention] = []
            for actor, via, cps, unnamed, scoped in found:
                m_status = status
                if cue.cue.option == "build" and not status_cues and actor is not None and not via \
                        and _possessor(actor, a, sctx):
                    m_status = "completed"
                is_example = cue.cue.option == "build" and actor is not None and sctx.examples_at is not None and actor.start >= sctx.examples_at
                bg = background or is_example
                own_chip = cue.cue is _OWN_CHIP
                if own_chip and (salient is None or actor is None or actor.canonical != salient.canonical):
                    bg = True  # another company's chip, named beside the article's subject
                if bg and year is not None and pub_year is not None and int(year) < pub_year and m_status in (
                        "considered", "planned", "announced"):
                    m_status = "completed"  # a precedent dated in a past year is done
                found_mentions.append(Mention(
                    option=cue.cue.option, subtype=cue.cue.subtype, actor=actor, via_coref=via,
                    counterparties=cps, unnamed_target=unnamed, dominant=_dominant_of(actor, sctx, cue, a),
                    status=m_status, status_cues=status_cues, stated=stated, attribution=attribution,
                    year=year, background=bg, start=a, end=b, sentence=(s, e), prob=0.0, scoped=scoped,
                    # A chip's name says the chip exists; only a status word makes it more.
                    corroborating=own_chip and not stated, named_chip=own_chip, talks=cue.cue.form == "talks",
                    accord=cue.cue.form == "accord",
                ))
            found_mentions = [_talks_to_use(m, b, sctx) for m in found_mentions]
            found_mentions += [p for m in found_mentions for p in _paired(m, cue.cue.codesign, sctx)]
            pending.append((ci, cue, found_mentions))
    wanted = sorted({ci for ci, _, _ in pending})
    probs = dict(zip(wanted, model.classifier.predict_proba(
        [text[candidates[ci][1][0]:candidates[ci][1][1]] for ci in wanted], [ctx.lang] * len(wanted)), strict=True))
    kept: list[Mention] = []
    weak: list[Mention] = []
    _bought_units([m for _, _, ms in pending for m in ms], parties, kb)
    for ci, cue, found_mentions in pending:
        for mention in found_mentions:
            p = probs[ci].get(mention.option, 0.0)
            mention.prob = p
            # A cue that names no chip and no chip company needs the classifier's support, and a
            # move the sentence does not tie to chips needs the article to tie it elsewhere.
            supported = mention.scoped and (p >= min_prob or cue.cue.chip or _chip_counterparty(mention))
            (kept if supported else weak).append(mention)
    strong = list(kept)
    for mention in weak:
        if _corroborated(mention, strong):
            mention.corroborating = True
            kept.append(mention)
        elif _target_described(mention, text, bounds, parties, data) \
                or _partnership_described(mention, text, bounds, parties, data):
            kept.append(mention)
    kept = [m for m in kept if not _diversify_instead(m, kept) and not _build_instead(m, kept)
            and not _talks_about(m, kept) and not _takeover_agreement(m, kept)]
    kept += _same_moves(kept, bounds, parties, text, data)
    for mention in sorted(kept, key=lambda m: m.start):
        (mentions if mention.actor is not None else orphans).append(mention)
    _to_parents(mentions, kb)
    records = _group(mentions)
    records = [r for r in records if not _supplied_chip(r, records)]
    _attach_orphans(records, orphans)
    _attach_deal_sentences(records, text, bounds, orgs, data)
    _attach_deal_refs(records, doc, text, bounds, orgs, data)
    _mark_precedents(records, salient)
    return tuple(_to_option(r, original, ctx.published, model.model_hash, model.calibration, model.record_calibration)
                 for r in records)


def _bought_units(mentions: Sequence[Mention], parties: Sequence[Org], kb: KnowledgeBase) -> None:
    """Give a takeover that names no target the actor's chip unit that the article names.

    The knowledge base files a bought company under its buyer, so in "Infineon will mit dem Zukauf
    ... stärken" the deal is the one with the unit the article names elsewhere ("der Vertrag mit
    ... Cypress Semiconductors"); the nearest such unit is taken.
    """
    for m in mentions:
        if m.option != "acquire" or m.actor is None or m.counterparties or m.unnamed_target:
            continue
        units = [o for o in parties if o.roles & CHIP_ROLES and _parent_name(o, kb) == m.actor.canonical]
        if units:
            unit = min(units, key=lambda o: abs(o.start - m.start))
            m.counterparties = [(unit, "target")]
            m.scoped = True


def _same_moves(kept: Sequence[Mention], bounds: Sequence[tuple[int, int]], parties: Sequence[Org], text: str,
                data: OptionLangData) -> list[Mention]:
    """Companies said to do the same as a move just stated take that move too.

    "Amazon entwickelt eigene Prozessoren ... Die Konkurrenten Microsoft und Alphabet machen
    dasselbe": each company listed before the phrase (no chipmaker) takes every move with an actor
    of the nearest of the two sentences before it that has one, with its status and counterparties.
    """
    pat = data.pattern("same_move")
    if pat is None:
        return []
    out: list[Mention] = []
    for idx, (s, e) in enumerate(bounds):
        m = pat.search(text, s, e)
        if m is None:
            continue
        doers = _list_ending([o for o in parties if s <= o.start and o.end <= m.start() and not o.chipmaker],
                             text, data)
        for prev in (bounds[idx - 1] if idx >= 1 else None, bounds[idx - 2] if idx >= 2 else None):
            done = [k for k in kept if prev is not None and k.sentence == prev and k.actor is not None]
            if done:
                out += [replace(k, actor=o, via_coref=False, start=m.start(), end=m.end(), sentence=(s, e),
                                status_cues=[], corroborating=False)
                        for k in done for o in doers if k.actor is not None and o.canonical != k.actor.canonical]
                break
    return out


def _to_parents(mentions: Sequence[Mention], kb: KnowledgeBase) -> None:
    """A unit's mention joins its parent's move of the same option in the article: "Alibaba Cloud"
    customising its own server chips beside Alibaba's own chips is one build, the group's."""
    for m in mentions:
        parent = _parent_name(m.actor, kb) if m.actor is not None else None
        if parent is None:
            continue
        lead = next((k.actor for k in mentions if k.option == m.option and k.actor is not None
                     and k.actor.canonical == parent), None)
        if lead is not None:
            m.actor = lead


def _without_own_units(found: list[_Found], option: str) -> list[_Found]:
    """``found`` without counterparties that are units of the actor itself.

    "Mit der Tochtergesellschaft BYD Semiconductor plant das Unternehmen eigene Chips": a company
    working with its own subsidiary has no partner; a unit named beside its parent acts for the
    parent. A build keeps its actor; another option left
    with no other party is none.
    """
    if option == "acquire":
        return found  # the knowledge base files a bought company under its buyer
    kb = load_kb()
    out: list[_Found] = []
    for f in found:
        if f.actor is None or not f.cps:
            out.append(f)
            continue
        actor = f.actor
        parent = next((o for o, _ in f.cps if o.canonical == _parent_name(actor, kb)), None)
        if parent is not None:
            # "VW-Software-Tochter Cariad und der Chip-Riese Qualcomm haben ihre Partnerschaft
            # bekannt gegeben: Volkswagen wird ...": a unit beside its parent acts for the parent.
            actor = parent
            f = f._replace(actor=parent, cps=[(o, r) for o, r in f.cps if o.canonical != parent.canonical])
        cps = [(o, role) for o, role in f.cps if _parent_name(o, kb) != actor.canonical]
        if cps or option == "build":
            out.append(f._replace(cps=cps))
    return out


def _parent_name(org: Org, kb: KnowledgeBase) -> str | None:
    """The canonical name of the company ``org`` is a unit of, per the knowledge base, else None."""
    if not org.parent:
        return None
    return (kb.get(org.parent) or org).canonical


def _talks_to_use(mention: Mention, b: int, ctx: _SentenceCtx) -> Mention:
    """Talks with a company about using its chips are a diversification being weighed.

    OPTIONS.md: buying from a new vendor is ``diversify`` only ("Meta is in discussions with
    Google to spend billions on using Google's AI chips").
    """
    verbs = ctx.data.pattern("use_verbs")
    if not mention.talks or verbs is None:
        return mention
    use = verbs.search(ctx.text, b, ctx.clause[1])
    if use is None or not has_chip_term(ctx.text[use.end():ctx.clause[1]], ctx.data):
        return mention
    return replace(mention, option="diversify", subtype="add_supplier", talks=False,
                   counterparties=[(org, "new_supplier") for org, _ in mention.counterparties])


def _paired(mention: Mention, codesign: bool, ctx: _SentenceCtx) -> list[Mention]:
    """The second record of a custom chip made with a vendor (OPTIONS.md: ``build`` + ``partner``).

    A build whose chip a chipmaker designs with the actor ("is working with Broadcom on a custom
    AI chip") is also a partnership with that design partner; a co-development of a chip between a
    chip buyer and a chipmaker ("Volkswagen and STMicroelectronics will co-develop a new
    semiconductor") is also the buyer's build. Two chipmakers developing together stay partners,
    and so does a company that makes chips itself (Samsung) or develops with a foundry only
    (process technology, "IBM ... to co-develop semiconductor technologies with Rapidus").
    """
    actor = mention.actor
    if actor is None or actor.chipmaker:
        return []
    if mention.option == "build":
        designers = [(org, role) for org, role in mention.counterparties if role == "design_partner"]
        return [replace(mention, option="partner", subtype="co_development", counterparties=designers,
                        named_chip=False)] if designers else []
    if mention.option != "partner" or not codesign or actor.roles & _MAKER_ROLES \
            or not has_chip_term(ctx.text[ctx.clause[0]:ctx.clause[1]], ctx.data):
        return []
    vendors = [(org, "design_partner") for org, _ in mention.counterparties if org.chipmaker and org.roles & _DESIGN_ROLES]
    return [replace(mention, option="build", subtype="custom_asic_with_partner", counterparties=vendors[:1],
                    named_chip=False)] if vendors else []


def _supplied_chip(rec: _Record, records: Sequence[_Record]) -> bool:
    """True for a build found only from chip names whose maker supplies another record's actor.

    A chip bought or rented from its maker is that deal's object ("Anthropic will use up to a
    million of Google's TPUs"), not a move of the maker's own.
    """
    return all(m.named_chip for m in rec.mentions) and any(
        rec.actor.canonical in r.cp_key for r in records if r is not rec)


def _mark_precedents(records: Sequence[_Record], subject: Org | None) -> None:
    """Mark as background the moves of other companies that the subject only weighs.

    An article about a company considering an option cites others that have taken it ("Meta's
    custom-chip efforts … Microsoft is also developing a custom AI chip" beside OpenAI weighing its
    own chip): OPTIONS.md's precedents. Others' moves the subject does not weigh, or that are
    themselves only considered (rival bidders), stay foreground.
    """
    if subject is None:
        return
    weighed = {r.option for r in records if r.actor.canonical == subject.canonical
               and _merge_status(r.mentions) in _OPEN_STATUSES and not any(m.background for m in r.mentions)}
    for rec in records:
        if (rec.actor.canonical != subject.canonical and rec.option in weighed
                and _merge_status(rec.mentions) in _TAKEN_STATUSES):
            for mention in rec.mentions:
                mention.background = True


def _chip_consortia(orgs: Sequence[Org], bounds: Sequence[tuple[int, int]], text: str,
                    data: OptionLangData) -> list[Org]:
    """Consortia named in a sentence that names chips ("a consortium ... known as SEMATECH to build
    an advanced semiconductor manufacturing plant"), in text order."""
    out: list[Org] = []
    for org in orgs:
        if CONSORTIUM_ROLES & org.roles:
            sent = next(((s, e) for s, e in bounds if s <= org.start < e), None)
            if sent is not None and has_chip_term(text[sent[0]:sent[1]], data):
                out.append(org)
    return out


def _diversify_instead(mention: Mention, kept: Sequence[Mention]) -> bool:
    """True for a partner mention whose sentence turns the same actor to the same chipmakers.

    OPTIONS.md: buying from a new vendor is ``diversify`` only ("Tesla, which worked with TSMC at
    7nm, is said to turn to Samsung"): a partner cue there names the new supplier (and the old).
    """
    if mention.option != "partner" or mention.actor is None:
        return False
    # Anywhere in the article, a partner that is only a new supplier of the actor's stated
    # diversification is that diversification ("erwägt eine Zusammenarbeit mit Intel als
    # Vertragsfertiger" beside "auch bei Intel fertigen zu lassen").
    if mention.cp_key and any(d.option == "diversify" and d.actor is not None
                              and d.actor.canonical == mention.actor.canonical and mention.cp_key <= d.cp_key
                              for d in kept):
        return True
    for d in kept:
        if d.option == "diversify" and d.sentence == mention.sentence and d.actor is not None \
                and d.actor.canonical == mention.actor.canonical:
            # A partner who is only the supplier moved away from stays an option of its own
            # ("une collaboration plus étroite avec ... NVIDIA, et la diversification au-delà de NVIDIA").
            suppliers = d.cp_key | ({d.dominant.canonical} if d.dominant is not None else set())
            if mention.cp_key & d.cp_key and mention.cp_key <= suppliers:
                return True
    return False


def _talks_about(mention: Mention, kept: Sequence[Mention]) -> bool:
    """True for talks whose sentence states what they are about: another option of the same actor
    ("Meta is in talks with Google to rent its TPUs" is a diversification under consideration)."""
    return mention.talks and mention.actor is not None and any(
        k.option != mention.option and k.sentence == mention.sentence and k.actor is not None
        and k.actor.canonical == mention.actor.canonical for k in kept)


def _takeover_agreement(mention: Mention, kept: Sequence[Mention]) -> bool:
    """True for an agreement between two companies that the article reports as a takeover of one
    by the other ("Untether AI ... has reached a deal with AMD" beside AMD's acquisition of it),
    or for any agreement in a sentence that states a takeover of two of its parties ("Dialog
    Semiconductor, proveedor de Apple, se aviene a que ... Renesas la adquiera ..., mediante un
    acuerdo con ...")."""
    if mention.option != "partner" or mention.actor is None or mention.subtype == "investment":
        return False
    sides = {mention.actor.canonical, *(o.canonical for o, _ in mention.counterparties)}
    for k in kept:
        if k.option != "acquire" or k.actor is None or not k.counterparties:
            continue
        deal = {k.actor.canonical, *(o.canonical for o, _ in k.counterparties)}
        if (mention.accord and deal == sides) or (k.sentence == mention.sentence and deal <= sides):
            return True
    return False


def _build_instead(mention: Mention, kept: Sequence[Mention]) -> bool:
    """True for a less-reliance mention of an actor the article shows building its own chip.

    OPTIONS.md: "builds its own chip to cut reliance on NVIDIA" is ``build`` only, unless
    diversification is itself named as an option (a diversify cue of another subtype: "la
    diversification de ses fournisseurs au-delà de NVIDIA"). Articles often give the aim a
    sentence of its own ("L'objectif pour OpenAI est de réduire la dépendance ... à l'égard de
    Nvidia"), so the whole article counts.
    """
    if mention.option != "diversify" or mention.actor is None:
        return False
    # A switch whose object is the own chip is that build ("Tesla switched over to its own chips
    # ... from Nvidia's"); a diversification named as such stays ("sa propre puce, ... et la
    # diversification au-delà de NVIDIA").
    return any(k.option == "build" and k.actor is not None and k.actor.canonical == mention.actor.canonical
               and (mention.subtype == "reduce_dependence"
                    or (k.sentence == mention.sentence and 0 <= k.start - mention.end <= _SWITCH_OBJECT))
               for k in kept)


def _target_described(mention: Mention, text: str, bounds: Sequence[tuple[int, int]], parties: Sequence[Org],
                      data: OptionLangData) -> bool:
    """True for a takeover whose target another sentence of the article describes with chip words.

    A target the knowledge base does not know ties the deal to chips where the article says what
    it makes ("Qualcomm ha anunciado la adquisición de Ventana Micro Systems ... Ventana Micro
    Systems es una empresa ... conocida por sus procesadores").
    """
    targets = {org.canonical for org, role in mention.counterparties if role == "target"}
    if mention.option != "acquire" or not targets:
        return False
    for org in parties:
        if org.canonical in targets:
            sent = next(((s, e) for s, e in bounds if s <= org.start < e), None)
            if sent is not None and sent != mention.sentence and has_chip_term(text[sent[0]:sent[1]], data):
                return True
    return False


#: Sentences after a partnership within which a reference to it may say what it is about.
_REF_SENTENCES = 3


def _partnership_described(mention: Mention, text: str, bounds: Sequence[tuple[int, int]],
                           parties: Sequence[Org], data: OptionLangData) -> bool:
    """True for a partnership that a following sentence, referring back to it, ties to chips.

    "Honda und IBM kooperieren ... Die Kollaboration zielt darauf ab, neuartige
    Computertechnologien zu erforschen und zu entwickeln – von leistungsfähigen Chips bis hin zu
    innovativer Software": the reference (``partnership_refs``) names no other company, so the
    chips it speaks of are the partnership's.
    """
    refs = data.pattern("partnership_refs")
    if mention.option != "partner" or not mention.cp_key or mention.actor is None or refs is None:
        return False
    own = {mention.actor.canonical, *mention.cp_key}
    later = [(s, e) for s, e in bounds if s >= mention.sentence[1]][:_REF_SENTENCES]
    return any(refs.search(text, s, e) and has_chip_term(text[s:e], data)
               and all(o.canonical in own for o in parties if s <= o.start < e) for s, e in later)


def _corroborated(mention: Mention, kept: Sequence[Mention]) -> bool:
    """True when a kept mention states the same move: same option, actor and a named counterparty.

    An article that has tied a deal to chips once ("le rachat d'Arduino par Qualcomm ... un géant
    du semi-conducteur") need not do so again in every sentence that restates it. A mention that
    names no counterparty restates its actor's move of that option ("Arduino réaffirme qu'il
    restera multi-vendeurs" after "Arduino continuera de supporter d'autres fabricants que
    Qualcomm"): it needs a kept mention of the same option and actor.
    """
    if not mention.cp_key:
        return mention.actor is not None and any(
            k.option == mention.option and k.actor is not None and k.actor.canonical == mention.actor.canonical
            for k in kept)
    # Same option and a shared named counterparty; the actor too when the mention has one (an
    # orphan such as "Racheter Arduino" joins its record later, see ``_attach_orphans``).
    return any(k.option == mention.option and k.actor is not None and k.cp_key & mention.cp_key
               and (mention.actor is None or k.actor.canonical == mention.actor.canonical) for k in kept)


def _chip_counterparty(mention: Mention) -> bool:
    """True when the knowledge base knows a counterparty of the mention as a chip company."""
    return any(org.roles & CHIP_ROLES for org, _ in mention.counterparties)


def _attach_orphans(records: list[_Record], orphans: list[Mention]) -> None:
    """Mentions with no actor join the record of the same option sharing their target, or the only one."""
    for m in orphans:
        same = [r for r in records if r.option == m.option and (not m.cp_key or m.cp_key <= r.cp_key)]
        if len(same) == 1:
            same[0].mentions.append(m)


def _attach_deal_sentences(records: list[_Record], text: str, bounds: list[tuple[int, int]],
                           orgs: list[Org], data: OptionLangData) -> None:
    """Bare deal sentences ("The Fairchild-Fujitsu deal was abandoned") give status to their record.

    Only decisive stages (abandoned, denied, completed, a closing still ahead) are taken from such
    sentences, and only
    when the sentence names a party of exactly one record. Without such a stage, a sentence that
    names both the actor and a counterparty of that record adds evidence (data README, rule 2).
    """
    deal = data.pattern("deal_terms")
    if deal is None or not records:
        return
    decisive = [(n, p) for n, p in data.status if n in ("denied", "abandoned", CLOSING, "completed")]
    used = {(m.sentence) for r in records for m in r.mentions}
    for s, e in bounds:
        if (s, e) in used:
            continue
        dm = deal.search(text, s, e)
        if not dm:
            continue
        names = {o.canonical for o in orgs if s <= o.start < e}
        # A named actor ties the sentence to its own record ("the termination of the agreement
        # with Fujitsu" where AMD and LSI Logic were also said to be interested in the same target);
        # a record with both sides named comes first ("un deal gagnant-gagnant : Qualcomm ... ;
        # Arduino ..." where Arduino has a record of its own).
        hits = ([r for r in records if r.actor.canonical in names and r.cp_key & names]
                or [r for r in records if r.actor.canonical in names] or [r for r in records if r.cp_key & names])
        if len(hits) != 1:
            continue
        for name, pat in decisive:
            # As for option cues (``_status``): the status word must sit near the deal word, or it
            # is about something else ("the takeover would make Fujitsu ... at a time when Japan
            # has not bought any supercomputers").
            sm = next((m for m in pat.finditer(text, s, e)
                       if min(abs(m.start() - dm.end()), abs(dm.start() - m.end())) <= _STATUS_REACH), None)
            if sm:
                proto = hits[0].mentions[0]
                hits[0].mentions.append(Mention(
                    option=hits[0].option, subtype=None, actor=hits[0].actor, via_coref=False, counterparties=[],
                    unnamed_target=False, dominant=None, status=_READ_AS.get(name, name),
                    status_cues=[(sm.start(), sm.end(), sm.group())], attribution=_attribution(text, (s, e), data),
                    year=None, background=proto.background, start=dm.start(), end=dm.end(), sentence=(s, e),
                    prob=0.0))
                break
        else:
            rec = hits[0]
            if rec.actor.canonical in names and rec.cp_key & names:
                # Both parties named around a deal word ("un deal gagnant-gagnant : Qualcomm ...
                # Arduino") restate the move: evidence, but no status of its own.
                rec.mentions.append(Mention(
                    option=rec.option, subtype=None, actor=rec.actor, via_coref=False, counterparties=[],
                    unnamed_target=False, dominant=None, status=rec.mentions[0].status, status_cues=[],
                    attribution=_attribution(text, (s, e), data), year=None,
                    background=rec.mentions[0].background, start=dm.start(), end=dm.end(), sentence=(s, e),
                    prob=0.0, corroborating=True))


def _compound(doc: Doc, end: int) -> bool:
    """True when the word ending at ``end`` modifies a noun ("the takeover issue"); False without a parser."""
    span = doc.char_span(max(0, end - 1), end, alignment_mode="expand")
    return bool(span is not None and len(span) and span[-1].dep_ == "compound")


def _attach_deal_refs(records: list[_Record], doc: Doc, text: str, bounds: list[tuple[int, int]],
                      orgs: list[Org], data: OptionLangData) -> None:
    """Definite references to the article's takeover ("the sale", "the proposed takeover") join its record.

    A sentence that refers back to an acquisition the article has already named, with no target of
    its own ("the sale would also worsen relations"), states the same move (data README, rule 1).
    Only when the article has exactly one acquire record or the sentence names a party of exactly
    one (otherwise the reference is ambiguous), only after that record's first mention, and not as a time anchor ("following the acquisition"),
    a noun modifier ("the takeover issue") or after a generic plural it stands for ("block sales to
    foreign companies if the sale ..."). The sentence adds evidence; it gives the record a
    status only when a status cue near the reference calls the deal off or puts its closing ahead.
    """
    refs = data.pattern("deal_refs")
    acquire = [r for r in records if r.option == "acquire"]
    if refs is None or not acquire:
        return
    anchors = data.pattern("deal_anchors")
    generic = data.pattern("generic_deals")
    decisive = [(n, p) for n, p in data.status if n in _OFF or n == CLOSING]
    for s, e in bounds:
        names = {o.canonical for o in orgs if s <= o.start < e}
        named = [r for r in acquire if r.actor.canonical in names or r.cp_key & names]
        # The article's only takeover, or the only one whose party the sentence names ("the sale
        # to Fujitsu" where others were also said to be interested in buying the target).
        if len(acquire) == 1:
            rec = acquire[0]
        elif len(named) == 1:
            rec = named[0]
        else:
            continue
        if s <= min(m.sentence[0] for m in rec.mentions) or any(m.sentence == (s, e) for m in rec.mentions):
            continue
        ref = next((m for m in refs.finditer(text, s, e)
                    if not _ends_with(anchors, text, max(s, m.start() - 30), m.start())
                    and not _between(generic, text, s, m.start()) and not _compound(doc, m.end())), None)
        if ref is None:
            continue
        status, cues, corroborating = "announced", [], True
        for name, pat in decisive:
            sm = next((m for m in pat.finditer(text, s, e)
                       if min(abs(m.start() - ref.end()), abs(ref.start() - m.end())) <= _STATUS_REACH), None)
            if sm:
                status = _READ_AS.get(name, name)
                cues, corroborating = [(sm.start(), sm.end(), sm.group())], False
                break
        proto = rec.mentions[0]
        rec.mentions.append(Mention(
            option="acquire", subtype=None, actor=rec.actor, via_coref=False, counterparties=[],
            unnamed_target=False, dominant=None, status=status, status_cues=cues,
            attribution=_attribution(text, (s, e), data), year=None, background=proto.background,
            start=ref.start(), end=ref.end(), sentence=(s, e), prob=0.0, corroborating=corroborating))
