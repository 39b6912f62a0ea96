"""Knowledge base of the chip industry: organisations and products with canonical names.

The data lives in ``extractors/data/companies.yaml`` (rebuilt by ``python -m
extractors.data.build_kb``). This module loads it once per process into frozen
dataclasses, validates it (a broken entry fails loudly, naming the entry, rather
than silently mis-linking entities at run time) and offers the two lookups the
pipeline needs:

* :meth:`KnowledgeBase.lookup` resolves a surface form ("Nvidia Corp.",
  "台积电", "Advanced Micro Devices Inc") to its entry through
  :func:`normalize_alias`;
* :meth:`KnowledgeBase.patterns` yields ``(alias, entry, case_sensitive)``
  triples for building a spaCy ``EntityRuler`` or ``PhraseMatcher``.

Aliases whose lower-case form is an ordinary word ("Apple"/"apple",
"Meta"/"méta", "Arm"/"arm") are *case-sensitive*: they only match when the text
has exactly the listed case and accents.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).parent / "data" / "companies.yaml"
_DEFAULT_RESOLVED = DEFAULT_PATH.resolve()

#: Roles an organisation may have. Kept closed so that downstream code can
#: switch on them; documented in the header of ``companies.yaml``.
ROLES: frozenset[str] = frozenset(
    {
        "chip_designer",  # designs chips or licenses chip IP (fabless or not)
        "foundry",  # manufactures chips for others
        "idm",  # designs and manufactures its own chips
        "memory",  # DRAM / NAND / HBM makers
        "equipment",  # fab, packaging and test equipment vendors
        "eda",  # electronic design automation software
        "materials",  # wafers, substrates, photomasks and process chemicals for fabs
        "hyperscaler",  # cloud / large internet platforms running data centres
        "ai_lab",  # builds AI models
        "oem",  # device, server, network-gear and car makers
        "investor",  # investors, banks, brokers, analyst firms, exchanges
        "government",  # governments' ministries, agencies, regulators, legislatures
        "media",  # news agencies and publications
        "association",  # industry associations, research consortia, standards bodies
        "other",  # OSATs, software, conglomerates, materials arms of conglomerates...
    }
)
KINDS: frozenset[str] = frozenset({"org", "product"})
#: What a chip product is to its maker: designed for its own use, or sold to others.
CHIP_KINDS: frozenset[str] = frozenset({"in_house", "merchant"})

ENTRY_KEYS: frozenset[str] = frozenset(
    {
        "key",
        "canonical",
        "kind",
        "wikidata",
        "aliases",
        "case_sensitive_aliases",
        "tickers",
        "country",
        "roles",
        "parent",
        "maker",
        "chip",
        "sources",
        "note",
        "former_names",
    }
)
_TOP_KEYS: frozenset[str] = frozenset({"entries"})
_SOURCES: frozenset[str] = frozenset({"eto", "sp500", "curated"})
_QID = re.compile(r"Q[1-9][0-9]*")
_KEY = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# ISO 3166-1 alpha-2, plus "EU" (exceptionally reserved) for EU institutions.
_COUNTRY = re.compile(r"[A-Z]{2}")

# Legal-form suffixes dropped at the end of a name ("Nvidia Corp." -> "nvidia").
# Multi-token forms come first so "co ltd" is removed as one suffix. Compared after
# punctuation became spaces, hence "s a" for "S.A.".
_LEGAL_SUFFIXES: tuple[tuple[str, ...], ...] = tuple(
    tuple(s.split())
    for s in (
        "co ltd",
        "co inc",
        "co kg",
        "s p a",
        "s a",
        "n v",
        "b v",
        "k k",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "ltd",
        "limited",
        "llc",
        "plc",
        "sa",
        "ag",
        "gmbh",
        "nv",
        "bv",
        "spa",
        "kk",
        "kgaa",
        "ab",
        "asa",
        "oyj",
        "srl",
        "sas",
        "lp",
    )
)
# Chinese / Japanese company-form suffixes, which are not space-separated.
_CJK_SUFFIXES: tuple[str, ...] = ("股份有限公司", "有限责任公司", "有限公司", "株式会社", "公司")
_CJK_PREFIXES: tuple[str, ...] = ("株式会社",)
_LEADING_ARTICLES: tuple[str, ...] = ("the",)
# Anything that is neither a letter, a digit nor a combining mark separates words.
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


class KBError(ValueError):
    """The knowledge base file is malformed; the message names the offending entry."""


@dataclass(frozen=True)
class KBEntry:
    """One organisation or product.

    Attributes:
        key: Stable identifier (``snake_case``), referenced by ``parent`` and ``maker``.
        canonical: Name to output, as the gold files spell it ("NVIDIA", "Commerce Department").
        kind: ``"org"`` or ``"product"``.
        wikidata: Wikidata QID, or None when not known with certainty.
        aliases: Surface forms matched case- and accent-insensitively (includes the canonical
            name unless that is case-sensitive).
        case_sensitive_aliases: Surface forms that only match with exactly this case and accents
            because their lower-case form is an ordinary word ("Apple", "Meta", "Arm").
        tickers: Stock tickers (not matched as aliases unless also listed there).
        country: ISO 3166-1 alpha-2 code of the headquarters ("EU" for EU bodies), or None.
        roles: Roles from :data:`ROLES` (empty for products).
        parent: Key of the parent organisation, or None.
        maker: Key of the organisation that makes a product (products only).
        chip: For a chip or chip family (processor, accelerator, modem): ``"in_house"`` when its
            maker designs it for its own products or cloud (Google's TPU), ``"merchant"`` when
            it is sold to others (NVIDIA's H100); None for other products and organisations.
        sources: Where the entry comes from: ``eto``, ``sp500`` and/or ``curated``.
        former_names: ``(name, until)`` pairs, oldest first: the name the organisation had before
            the ISO date ``until`` ("Matsushita Electric Industrial" until 2008-10-01 for Panasonic).
    """

    key: str
    canonical: str
    kind: str
    wikidata: str | None = None
    aliases: tuple[str, ...] = ()
    case_sensitive_aliases: tuple[str, ...] = ()
    tickers: tuple[str, ...] = ()
    country: str | None = None
    roles: tuple[str, ...] = ()
    parent: str | None = None
    maker: str | None = None
    chip: str | None = None
    sources: tuple[str, ...] = ()
    former_names: tuple[tuple[str, str], ...] = ()

    def name_on(self, date: str | None) -> str:
        """The name the entry had on ``date`` (ISO 8601, partial allowed): a former name when the
        date is before its end, else the canonical name (also when the date is unknown)."""
        if date:
            for name, until in self.former_names:
                if date[: len(until)] < until[: len(date)]:
                    return name
        return self.canonical

    @property
    def ticker(self) -> str | None:
        """The primary ticker, or None."""
        return self.tickers[0] if self.tickers else None

    @property
    def is_org(self) -> bool:
        """True for organisations."""
        return self.kind == "org"


# Names repeat across sentences and articles and every candidate span is looked up (about 500
# calls per article on the development set): the pure normalisation is cached.
@lru_cache(maxsize=1 << 16)
def normalize_alias(text: str, *, fold: bool = True) -> str:
    """Normalise a name for lookup.

    Steps: Unicode NFKC (full-width letters, ligatures); optionally case-folding and accent
    stripping; punctuation and ``&`` become spaces; a leading "the" and trailing legal-form
    suffixes (Inc, Corp, Ltd, Co, SA, AG, GmbH, plc, NV, 股份有限公司, 株式会社...) are removed;
    whitespace is collapsed. The eval's alias file normalises the same way, so
    "L.F. Rothschild" -> "l f rothschild" and "X-FAB" -> "x fab".

    Args:
        text: A surface form.
        fold: Case-fold and strip accents. ``False`` keeps both, for case-sensitive aliases
            ("Meta" must not match "méta" or "META"... unless listed too).

    Returns:
        The normalised form; empty if nothing is left.
    """
    text = unicodedata.normalize("NFKC", text)
    if fold:
        text = text.casefold()
        # Strip accents only (Mn marks); NFC afterwards re-composes Hangul jamo.
        decomposed = unicodedata.normalize("NFKD", text)
        text = unicodedata.normalize(
            "NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
        )
    text = text.strip()
    for prefix in _CJK_PREFIXES:
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix) :]
    changed = True
    while changed:
        changed = False
        for suffix in _CJK_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].strip()
                changed = True
    tokens = _NON_WORD.sub(" ", text).split()
    if len(tokens) > 1 and tokens[0].casefold() in _LEADING_ARTICLES:
        tokens = tokens[1:]
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for legal in _LEGAL_SUFFIXES:
            n = len(legal)
            # Keep at least one token: "Co" or "AG" alone is not a name to erase.
            if len(tokens) > n and tuple(t.casefold() for t in tokens[-n:]) == legal:
                tokens = tokens[:-n]
                changed = True
                break
    return " ".join(tokens)


def without_legal_form(name: str, joins: frozenset[str] = frozenset()) -> str:
    """``name`` without the legal forms at its end, case and spelling kept ("Sanwa Bank Ltd" →
    "Sanwa Bank", "Northern Telecom LTd" → "Northern Telecom").

    A form right after one of ``joins`` (the language's words between partners' names, case-folded)
    belongs to a partner's name and stays ("Oppenheimer and Co"); so does a name that would be
    left empty or with one letter ("AG", "X Corp").
    """
    words = name.split()
    while len(words) > 1:
        folded = [_NON_WORD.sub(" ", w).strip().casefold() for w in words]
        cuts = [len(legal) for legal in _LEGAL_SUFFIXES
                if len(words) > len(legal) and tuple(" ".join(folded[-len(legal):]).split()) == legal]
        rest = next((words[:-n] for n in cuts if words[-n - 1].casefold() not in joins
                     and len("".join(words[:-n])) >= 2), None)
        if rest is None:
            break
        words = rest
    return " ".join(words).rstrip(",")


def has_legal_form(name: str) -> bool:
    """Whether ``name`` ends with a legal form ("Quist Inc", "Fairchild Co.", "Siemens AG")."""
    tokens = _NON_WORD.sub(" ", unicodedata.normalize("NFKC", name).casefold()).split()
    return any(len(tokens) > len(legal) and tuple(tokens[-len(legal):]) == legal for legal in _LEGAL_SUFFIXES)


@dataclass(frozen=True)
class _AliasRef:
    """An alias as indexed: its entry and, for case-sensitive aliases, the exact form."""

    entry: KBEntry
    exact: str | None


@dataclass(frozen=True)
class KnowledgeBase:
    """The loaded, validated knowledge base.

    Attributes:
        entries: Entries by key, in file order (sorted by key).
        path: File the data came from.
    """

    entries: Mapping[str, KBEntry]
    path: Path
    _index: Mapping[str, tuple[_AliasRef, ...]] = field(repr=False, default_factory=dict)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[KBEntry]:
        return iter(self.entries.values())

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def get(self, key: str) -> KBEntry | None:
        """The entry with this key, or None."""
        return self.entries.get(key)

    @property
    def orgs(self) -> tuple[KBEntry, ...]:
        """All organisations."""
        return tuple(e for e in self.entries.values() if e.kind == "org")

    @property
    def products(self) -> tuple[KBEntry, ...]:
        """All products."""
        return tuple(e for e in self.entries.values() if e.kind == "product")

    def lookup(self, alias: str) -> KBEntry | None:
        """Resolve a surface form to its entry.

        Case-insensitive aliases match after :func:`normalize_alias`; case-sensitive ones
        only when the form, normalised without folding, is identical ("Apple" but not
        "apple", "Meta" but not "méta").

        Args:
            alias: Text of a mention, e.g. "Nvidia Corp." or "Taiwan Semiconductor
                Manufacturing Co Ltd".

        Returns:
            The entry, or None when nothing matches.
        """
        norm = normalize_alias(alias)
        if not norm:
            return None
        refs = self._index.get(norm, ())
        exact: str | None = None
        for ref in refs:
            if ref.exact is None:
                return ref.entry
            if exact is None:
                exact = normalize_alias(alias, fold=False)
            if ref.exact == exact:
                return ref.entry
        return None

    def canonical(self, alias: str) -> str | None:
        """Canonical name for a surface form, or None (shortcut for ``lookup(...).canonical``)."""
        entry = self.lookup(alias)
        return entry.canonical if entry else None

    def parent_chain(self, key: str) -> tuple[KBEntry, ...]:
        """The parents of an entry, nearest first (Annapurna Labs -> Amazon)."""
        chain: list[KBEntry] = []
        entry = self.entries.get(key)
        while entry is not None and entry.parent is not None:
            entry = self.entries[entry.parent]
            chain.append(entry)
        return tuple(chain)

    def patterns(self) -> Iterator[tuple[str, KBEntry, bool]]:
        """Yield ``(alias, entry, case_sensitive)`` for every alias, for spaCy matchers.

        Case-insensitive aliases belong in a ``PhraseMatcher(attr="LOWER")`` (or an
        EntityRuler pattern on ``LOWER``), case-sensitive ones in a matcher on ``ORTH``.
        """
        for entry in self.entries.values():
            for alias in entry.aliases:
                yield alias, entry, False
            for alias in entry.case_sensitive_aliases:
                yield alias, entry, True

    def aliases(self) -> Iterator[tuple[str, KBEntry]]:
        """Yield ``(alias, entry)`` pairs, case-sensitive ones included (see :meth:`patterns`)."""
        for alias, entry, _ in self.patterns():
            yield alias, entry


def _fail(where: str, msg: str) -> KBError:
    return KBError(f"{where}: {msg}")


def _str_list(raw: Any, where: str, name: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise _fail(where, f"{name} must be a list of non-empty strings")
    return tuple(x.strip() for x in raw)


def _parse_entry(raw: Any, pos: int) -> KBEntry:
    where = f"entry #{pos}"
    if not isinstance(raw, dict):
        raise _fail(where, "must be a mapping")
    key = raw.get("key")
    if isinstance(key, str):
        where = f"entry {key!r}"
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise _fail(where, f"unknown field(s) {sorted(unknown)}")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise _fail(where, f"key must be snake_case, got {key!r}")
    canonical = raw.get("canonical")
    if not isinstance(canonical, str) or not canonical.strip():
        raise _fail(where, "canonical name is missing")
    kind = raw.get("kind", "org")
    if kind not in KINDS:
        raise _fail(where, f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    qid = raw.get("wikidata")
    if qid is not None and (not isinstance(qid, str) or not _QID.fullmatch(qid)):
        raise _fail(where, f"malformed Wikidata id {qid!r} (want Q followed by digits)")
    country = raw.get("country")
    if country is not None and (not isinstance(country, str) or not _COUNTRY.fullmatch(country)):
        raise _fail(where, f"country must be an ISO 3166-1 alpha-2 code, got {country!r}")
    roles = _str_list(raw.get("roles"), where, "roles")
    bad_roles = [r for r in roles if r not in ROLES]
    if bad_roles:
        raise _fail(where, f"unknown role(s) {bad_roles}; allowed: {sorted(ROLES)}")
    if kind == "org" and not roles:
        raise _fail(where, "an organisation needs at least one role")
    if kind == "product" and roles:
        raise _fail(where, "products have no roles")
    sources = _str_list(raw.get("sources"), where, "sources")
    bad_sources = [s for s in sources if s not in _SOURCES]
    if bad_sources:
        raise _fail(where, f"unknown source(s) {bad_sources}")
    parent = raw.get("parent")
    maker = raw.get("maker")
    for name, value in (("parent", parent), ("maker", maker)):
        if value is not None and not isinstance(value, str):
            raise _fail(where, f"{name} must be a key")
    if kind == "product" and maker is None:
        raise _fail(where, "a product needs a maker")
    if kind == "org" and maker is not None:
        raise _fail(where, "only products have a maker")
    chip = raw.get("chip")
    if chip is not None and chip not in CHIP_KINDS:
        raise _fail(where, f"chip must be one of {sorted(CHIP_KINDS)}, got {chip!r}")
    if chip is not None and kind != "product":
        raise _fail(where, "only products can be chips")
    aliases = _str_list(raw.get("aliases"), where, "aliases")
    cs_aliases = _str_list(raw.get("case_sensitive_aliases"), where, "case_sensitive_aliases")
    former = _former_names(raw.get("former_names"), where)
    # The canonical name is normally an alias too, but not when it is too ambiguous to
    # match on its own (Google Cloud's "N4" machine series vs TSMC's N4 process).
    if not aliases and not cs_aliases:
        raise _fail(where, "needs at least one alias")
    return KBEntry(
        key=key,
        canonical=canonical.strip(),
        kind=kind,
        wikidata=qid,
        aliases=aliases,
        case_sensitive_aliases=cs_aliases,
        tickers=_str_list(raw.get("tickers"), where, "tickers"),
        country=country,
        roles=roles,
        parent=parent,
        maker=maker,
        chip=chip,
        sources=sources,
        former_names=former,
    )


def _former_names(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    """Validate ``former_names``: a list of ``{name, until}`` with an ISO date, oldest first."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail(where, "former_names must be a list of {name, until} mappings")
    out: list[tuple[str, str]] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"name", "until"}:
            raise _fail(where, "each former name needs exactly 'name' and 'until'")
        name, until = item["name"], item["until"]
        if not isinstance(name, str) or not name.strip():
            raise _fail(where, "a former name must be a non-empty string")
        if not isinstance(until, str) or not _DATE.fullmatch(until):
            raise _fail(where, f"'until' must be a quoted ISO date YYYY-MM-DD, got {until!r}")
        out.append((name.strip(), until))
    if [u for _, u in out] != sorted(u for _, u in out):
        raise _fail(where, "former_names must be listed oldest first")
    return tuple(out)


def build_knowledge_base(data: Any, path: Path) -> KnowledgeBase:
    """Validate parsed YAML and index it.

    Args:
        data: The parsed YAML document (a mapping with ``entries``).
        path: Where it came from, for messages.

    Returns:
        The knowledge base.

    Raises:
        KBError: On unknown fields or roles, malformed QIDs, dangling parent/maker keys,
            duplicate keys, or an alias that would resolve to two different entries.
    """
    if not isinstance(data, dict):
        raise KBError(f"{path}: top level must be a mapping with 'entries'")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise KBError(f"{path}: unknown top-level key(s) {sorted(unknown)}")
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list):
        raise KBError(f"{path}: 'entries' must be a list")
    entries: dict[str, KBEntry] = {}
    for pos, raw in enumerate(raw_entries):
        entry = _parse_entry(raw, pos)
        if entry.key in entries:
            raise KBError(f"entry {entry.key!r}: duplicate key")
        entries[entry.key] = entry
    for entry in entries.values():
        if entry.parent is not None and entry.parent not in entries:
            raise KBError(f"entry {entry.key!r}: parent {entry.parent!r} is not a known key")
        if entry.maker is not None:
            maker = entries.get(entry.maker)
            if maker is None:
                raise KBError(f"entry {entry.key!r}: maker {entry.maker!r} is not a known key")
            if maker.kind != "org":
                raise KBError(f"entry {entry.key!r}: maker {entry.maker!r} is not an organisation")
        if entry.parent == entry.key:
            raise KBError(f"entry {entry.key!r}: is its own parent")
    _check_parent_cycles(entries)
    index: dict[str, list[_AliasRef]] = {}
    owner: dict[str, str] = {}
    for entry in entries.values():
        forms: list[tuple[str, str | None]] = [(a, None) for a in entry.aliases]
        forms += [(a, normalize_alias(a, fold=False)) for a in entry.case_sensitive_aliases]
        for alias, exact in forms:
            norm = normalize_alias(alias)
            if not norm:
                raise KBError(f"entry {entry.key!r}: alias {alias!r} normalises to nothing")
            # One normalised form, one entry: otherwise a lookup would depend on file order.
            if norm in owner and owner[norm] != entry.key:
                raise KBError(
                    f"entry {entry.key!r}: alias {alias!r} (normalised {norm!r}) "
                    f"also belongs to entry {owner[norm]!r}"
                )
            owner[norm] = entry.key
            refs = index.setdefault(norm, [])
            if exact is None:
                # A case-insensitive form wins over case-sensitive ones of the same entry.
                refs.insert(0, _AliasRef(entry, None))
            else:
                refs.append(_AliasRef(entry, exact))
    return KnowledgeBase(
        entries=entries,
        path=path,
        _index={k: tuple(v) for k, v in index.items()},
    )


def _check_parent_cycles(entries: Mapping[str, KBEntry]) -> None:
    for entry in entries.values():
        seen = {entry.key}
        cur = entry
        while cur.parent is not None:
            if cur.parent in seen:
                raise KBError(f"entry {entry.key!r}: parent chain loops through {cur.parent!r}")
            seen.add(cur.parent)
            cur = entries[cur.parent]


def parse_kb_file(path: Path) -> KnowledgeBase:
    """Read and validate a knowledge base file without caching (for tests and the builder)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KBError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise KBError(f"{path}: invalid YAML: {exc}") from exc
    return build_knowledge_base(data, path)


_CACHE: dict[Path, KnowledgeBase] = {}


def load_kb(path: Path | str | None = None) -> KnowledgeBase:
    """Load the knowledge base, once per process and path.

    Args:
        path: A YAML file; defaults to ``extractors/data/companies.yaml``.

    Returns:
        The validated knowledge base.

    Raises:
        KBError: If the file is missing or invalid (the message names the entry).
    """
    # The default is looked up once per article: resolving a path costs system calls each time.
    resolved = Path(path).resolve() if path is not None else _DEFAULT_RESOLVED
    kb = _CACHE.get(resolved)
    if kb is None:
        kb = parse_kb_file(resolved)
        _CACHE[resolved] = kb
    return kb
