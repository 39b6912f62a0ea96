"""Rebuild ``extractors/data/companies.yaml`` from the source lists and the hand curation.

Run from the repository root::

    python -m extractors.data.build_kb            # rewrite companies.yaml
    python -m extractors.data.build_kb --check    # exit 1 if companies.yaml is stale

Inputs (all in this folder):

* ``sources/eto_providers.csv`` + ``sources/eto_provision.csv`` + ``sources/eto_inputs.csv``:
  the ETO Advanced Semiconductor Supply Chain Dataset (CC BY-NC 4.0). Every provider of type
  ``organization`` becomes an entry; its roles come from what it provides (tools ->
  ``equipment``, EDA software -> ``eda``, chip design -> ``chip_designer``/``memory``,
  materials -> ``other``).
* ``sources/sp500_constituents.csv``: S&P 500 constituents (PDDL). Only the GICS
  sub-industries in :data:`SP500_SUB_INDUSTRIES` plus the symbols in :data:`SP500_SYMBOLS`.
* ``curated.yaml``: hand-made entries (everything the lists lack: Qualcomm's peers, Chinese,
  Japanese and European chip makers, AI labs, agencies, products...) and overrides of source
  entries (canonical name, roles, QID, aliases to drop).

Merging: a source record joins the curated entry that names it in ``same_as`` ("eto:P11",
"sp500:NVDA"); otherwise the entry whose canonical name or alias has the same normalised
form (:func:`extractors.kb.normalize_alias`). A record matching two entries is an error, so
ambiguity is resolved by hand in ``curated.yaml`` rather than by file order. The output is
validated with the same code that loads it, sorted by key and written deterministically.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from extractors.kb import ENTRY_KEYS, ROLES, build_knowledge_base, normalize_alias

HERE = Path(__file__).parent
SOURCES = HERE / "sources"
CURATED = HERE / "curated.yaml"
OUTPUT = HERE / "companies.yaml"

# ETO uses ISO alpha-3 (and "EUR" for Europe); the KB uses alpha-2.
ALPHA3_TO_2: dict[str, str] = {
    "AUT": "AT",
    "BLR": "BY",
    "CHE": "CH",
    "CHN": "CN",
    "CZE": "CZ",
    "DEU": "DE",
    "FRA": "FR",
    "GBR": "GB",
    "HUN": "HU",
    "ISR": "IL",
    "ITA": "IT",
    "JPN": "JP",
    "KOR": "KR",
    "LUX": "LU",
    "MYS": "MY",
    "NLD": "NL",
    "SGP": "SG",
    "SWE": "SE",
    "TWN": "TW",
    "USA": "US",
}

# S&P 500 selection: the chip-relevant GICS sub-industries, with the role they imply.
SP500_SUB_INDUSTRIES: dict[str, str] = {
    "Semiconductors": "chip_designer",
    "Semiconductor Materials & Equipment": "equipment",
    "Technology Hardware, Storage & Peripherals": "oem",
    "Interactive Media & Services": "hyperscaler",
    "Systems Software": "other",
    "Internet Services & Infrastructure": "other",
    "Communications Equipment": "oem",
    "Electronic Components": "other",
    "Electronic Equipment & Instruments": "other",
    "Electronic Manufacturing Services": "oem",
    "Data Center REITs": "other",
    "Investment Banking & Brokerage": "investor",
    "Diversified Banks": "investor",
}
# Single constituents outside those sub-industries that chip news names: cloud and EDA
# software, carmakers designing chips, defence buyers, asset managers funding fabs, gases.
SP500_SYMBOLS: dict[str, str] = {
    "AMZN": "hyperscaler",
    "ORCL": "hyperscaler",
    "CDNS": "eda",
    "SNPS": "eda",
    "ADBE": "other",
    "CRM": "other",
    "PLTR": "other",
    "IBM": "other",
    "ACN": "other",
    "TSLA": "oem",
    "GM": "oem",
    "F": "oem",
    "BLK": "investor",
    "BX": "investor",
    "KKR": "investor",
    "APO": "investor",
    "BRK.B": "investor",
    "HON": "other",
    "DD": "other",
    "LIN": "other",
    "APD": "other",
    "LMT": "other",
    "RTX": "other",
    "NOC": "other",
    "GD": "other",
    "LHX": "other",
    "BA": "other",
    "NFLX": "other",
    "NDAQ": "investor",
    "ICE": "investor",
    "SPGI": "investor",
    "MCO": "investor",
}
# Headquarters outside the U.S. ("Dublin, Ireland"); anything else in the S&P list is U.S.
SP500_FOREIGN_HQ: dict[str, str] = {
    "Ireland": "IE",
    "Netherlands": "NL",
    "United Kingdom": "GB",
    "Switzerland": "CH",
}
# Decorations of source names that are not part of the usual short name.
_NAME_NOISE = re.compile(
    r"\s*\((?:Class [A-Z]|The)\)|,?\s+(?:Inc\.?|Corporation|Corp\.?|Ltd\.?|plc|& Co\.|Co\.)$"
)
# ETO input types -> role. Design resources are refined by id (memory design).
_ETO_TYPE_ROLE: dict[str, str] = {
    "tool_resource": "equipment",
    "material_resource": "other",  # conglomerates supply materials too; pure plays are curated as materials
    "design_resource": "chip_designer",
}
_ETO_INPUT_ROLE: dict[str, str] = {
    "N5": "memory",  # memory chip design
    "N84": "eda",  # EDA software
    "N85": "chip_designer",  # core IP (Arm, Imagination, Ceva...)
}
# The curation file takes an entry's keys (less "sources", which the build sets) plus merge directives.
_CURATED_KEYS = (ENTRY_KEYS - {"sources"}) | {"same_as", "drop_aliases"}
_HEADER = """\
# chipwire knowledge base of the chip industry: organisations and products.
#
# GENERATED FILE - do not edit by hand. Edit extractors/data/curated.yaml (or the source CSVs in
# extractors/data/sources/) and run `python -m extractors.data.build_kb` from the repo root.
# Loaded and validated by extractors/kb.py (load_kb).
#
# Attribution:
#   * Contains data from the ETO Advanced Semiconductor Supply Chain Dataset by the Emerging
#     Technology Observatory (CSET, Georgetown University), licensed CC BY-NC 4.0
#     (https://creativecommons.org/licenses/by-nc/4.0/); names, countries and roles derived.
#   * Contains data from "S&P 500 Companies" (datasets/s-and-p-500-companies, from Wikipedia),
#     ODC Public Domain Dedication and License (PDDL) 1.0.
#   * Everything else is chipwire's own curation (extractors/data/curated.yaml).
#   See extractors/data/sources/LICENSES.md.
#
# Fields of an entry:
#   key          stable snake_case id, referenced by parent / maker
#   canonical    output name: the usual short name without legal suffixes (docs: ANNOTATION.md)
#   kind         org | product
#   wikidata     Wikidata QID, only where certain; null otherwise (a wrong id is worse than none)
#   country      ISO 3166-1 alpha-2 of the headquarters ("EU" for EU institutions)
#   roles        (orgs) subset of:
#                  chip_designer  designs chips or licenses chip IP
#                  foundry        manufactures chips for others
#                  idm            designs and manufactures its own chips
#                  memory         DRAM / NAND / HBM makers
#                  equipment      fab, packaging and test equipment vendors
#                  eda            electronic design automation software
#                  materials      wafers, substrates, photomasks and process chemicals for fabs
#                  hyperscaler    cloud / large internet platforms
#                  ai_lab         builds AI models
#                  oem            device, server, network-gear and car makers
#                  investor       investors, banks, brokers, analyst firms, exchanges
#                  government     ministries, agencies, regulators, legislatures
#                  media          news agencies and publications
#                  association    industry associations, research institutes, consortia
#                  other          OSATs, software, conglomerates...
#   tickers      stock tickers (not matched unless also listed as aliases)
#   parent       key of the parent organisation
#   maker        (products) key of the organisation that makes it
#   chip         (products) in_house: a chip its maker designs for its own products or cloud
#                (Google's TPU); merchant: a chip sold to others (NVIDIA's H100)
#   aliases      surface forms matched case- and accent-insensitively after normalisation
#                (casefold, accents, punctuation, leading "the", legal suffixes Inc/Corp/Ltd/...)
#   case_sensitive_aliases
#                surface forms whose lower-case form is an ordinary word (Apple/apple,
#                Meta/méta, Arm/arm): case_sensitive: true, the matcher must require exact case
#   former_names {name, until} pairs, oldest first: the name output for articles dated before
#                `until` (an ISO date), e.g. Matsushita Electric Industrial for Panasonic before 2008
#   sources      eto / sp500 / curated
"""


class BuildError(RuntimeError):
    """The inputs cannot be merged into a valid knowledge base."""


@dataclass
class Draft:
    """An entry being assembled."""

    key: str
    canonical: str
    kind: str = "org"
    wikidata: str | None = None
    country: str | None = None
    roles: list[str] = field(default_factory=list)
    roles_fixed: bool = False
    tickers: list[str] = field(default_factory=list)
    parent: str | None = None
    maker: str | None = None
    chip: str | None = None
    aliases: list[str] = field(default_factory=list)
    cs_aliases: list[str] = field(default_factory=list)
    drop: set[str] = field(default_factory=set)
    former_names: list[dict[str, str]] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    source_roles: list[str] = field(default_factory=list)
    source_countries: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceRecord:
    """One organisation from a source list."""

    ref: str  # "eto:P11" / "sp500:NVDA"
    source: str
    canonical: str
    names: list[str]
    country: str | None
    roles: list[str]
    tickers: list[str] = field(default_factory=list)


def slug(name: str) -> str:
    """A snake_case key from a name ("X-FAB" -> "x_fab", "台积电" stays readable as-is)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = text.replace("&", " and ")
    key = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not key:
        raise BuildError(f"cannot derive a key from {name!r}; give one in curated.yaml")
    return key


def _read_csv(name: str) -> list[dict[str, str]]:
    with (SOURCES / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def eto_records() -> list[SourceRecord]:
    """Organisations of the ETO providers list, one record per provider id."""
    types = {row["input_id"]: row["type"] for row in _read_csv("eto_inputs.csv")}
    roles: dict[str, set[str]] = defaultdict(set)
    for row in _read_csv("eto_provision.csv"):
        input_id = row["provided_id"]
        role = _ETO_INPUT_ROLE.get(input_id) or _ETO_TYPE_ROLE.get(types.get(input_id, ""))
        if role:
            roles[row["provider_id"]].add(role)
    by_id: dict[str, SourceRecord] = {}
    for row in _read_csv("eto_providers.csv"):
        if row["provider_type"] != "organization":
            continue
        pid = row["provider_id"]
        rec = by_id.get(pid)
        if rec is None:
            found = sorted(roles.get(pid, ()))
            # A specific role makes "other" (materials) redundant only if it is the lesser one.
            rec = SourceRecord(
                ref=f"eto:{pid}",
                source="eto",
                # "Hoya Corporation" -> "Hoya": canonical names carry no legal suffix.
                canonical=_strip_legal(row["provider_name"]),
                names=[row["provider_name"].strip()],
                country=ALPHA3_TO_2.get(row["country"].strip()),
                roles=found or ["other"],
            )
            by_id[pid] = rec
        for name in (row["provider_name"], row["alias"]):
            name = name.strip()
            if name and name not in rec.names:
                rec.names.append(name)
    return [by_id[k] for k in sorted(by_id, key=lambda p: int(p[1:]))]


def _strip_legal(name: str) -> str:
    """Drop share-class notes and trailing legal forms: "Apple Inc." -> "Apple"."""
    name = name.strip()
    while True:
        cleaned = _NAME_NOISE.sub("", name).strip().rstrip(",")
        if cleaned == name:
            return name
        name = cleaned


def sp500_records() -> list[SourceRecord]:
    """The selected S&P 500 constituents, one record per company (CIK)."""
    by_cik: dict[str, SourceRecord] = {}
    for row in _read_csv("sp500_constituents.csv"):
        symbol = row["Symbol"].strip()
        role = SP500_SYMBOLS.get(symbol) or SP500_SUB_INDUSTRIES.get(row["GICS Sub-Industry"].strip())
        if role is None:
            continue
        cik = row["CIK"].strip()
        rec = by_cik.get(cik)
        if rec is None:
            name = _strip_legal(row["Security"])
            last = row["Headquarters Location"].rsplit(",", 1)[-1].strip()
            rec = SourceRecord(
                ref=f"sp500:{symbol}",
                source="sp500",
                canonical=name,
                names=[name],
                country=SP500_FOREIGN_HQ.get(last, "US"),
                roles=[role],
            )
            by_cik[cik] = rec
        rec.tickers.append(symbol)
        raw = re.sub(r"\s*\((?:Class [A-Z]|The)\)", "", row["Security"]).strip()
        if raw not in rec.names:
            rec.names.append(raw)
    return sorted(by_cik.values(), key=lambda r: r.ref)


def _common_words(extra: list[str]) -> frozenset[str]:
    """Ordinary words of en/fr/de/es that must not be case-insensitive aliases."""
    words: set[str] = set()
    # spaCy's stop-word lists are plain Python sets; importing them loads no model.
    from spacy.lang.de.stop_words import STOP_WORDS as DE
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.es.stop_words import STOP_WORDS as ES
    from spacy.lang.fr.stop_words import STOP_WORDS as FR

    for stop in (EN, FR, DE, ES):
        words.update(normalize_alias(w) for w in stop)
    words.update(normalize_alias(w) for w in extra)
    words.discard("")
    return frozenset(words)


def _load_curated() -> tuple[list[dict[str, Any]], list[str], set[str]]:
    data = yaml.safe_load(CURATED.read_text(encoding="utf-8")) or {}
    unknown = set(data) - {"entries", "common_words", "drop_sources"}
    if unknown:
        raise BuildError(f"curated.yaml: unknown top-level key(s) {sorted(unknown)}")
    entries = data.get("entries") or []
    for pos, raw in enumerate(entries):
        if not isinstance(raw, dict):
            raise BuildError(f"curated.yaml entry #{pos}: must be a mapping")
        bad = set(raw) - _CURATED_KEYS
        if bad:
            raise BuildError(f"curated.yaml entry {raw.get('key') or raw.get('canonical')!r}: unknown {sorted(bad)}")
    return entries, list(data.get("common_words") or []), set(data.get("drop_sources") or [])


class Builder:
    """Merges curated entries and source records into drafts."""

    def __init__(self, common_words: frozenset[str]) -> None:
        self.common = common_words
        self.drafts: dict[str, Draft] = {}
        self.claims: dict[str, str] = {}  # source ref -> key
        self.norms: dict[str, set[str]] = defaultdict(set)  # normalised name -> keys
        self.warnings: list[str] = []

    def _index(self, draft: Draft, name: str) -> None:
        norm = normalize_alias(name)
        if norm:
            self.norms[norm].add(draft.key)

    def add_curated(self, raw: dict[str, Any]) -> None:
        canonical = str(raw["canonical"]).strip()
        key = raw.get("key") or slug(canonical)
        if key in self.drafts:
            raise BuildError(f"curated.yaml: duplicate key {key!r}")
        kind = raw.get("kind", "org")
        draft = Draft(
            key=key,
            canonical=canonical,
            kind=kind,
            wikidata=raw.get("wikidata"),
            country=raw.get("country"),
            roles=list(raw.get("roles") or []),
            roles_fixed=bool(raw.get("roles")),
            tickers=list(raw.get("tickers") or []),
            parent=raw.get("parent"),
            maker=raw.get("maker"),
            chip=raw.get("chip"),
            # A former name is matched like any alias ("Matsushita Electric" in a 1987 article).
            aliases=[str(a) for a in [*(raw.get("aliases") or []), *(f["name"] for f in raw.get("former_names") or [])]],
            cs_aliases=[str(a) for a in raw.get("case_sensitive_aliases") or []],
            drop={normalize_alias(str(a), fold=False) for a in raw.get("drop_aliases") or []},
            former_names=list(raw.get("former_names") or []),
            sources={"curated"},
        )
        # YAML 1.1 reads NO (Norway) or ON as booleans: insist on strings.
        for name, value in (("canonical", raw["canonical"]), ("country", draft.country), ("wikidata", draft.wikidata)):
            if value is not None and not isinstance(value, str):
                raise BuildError(f"curated.yaml entry {key!r}: {name} must be a string (quote it), got {value!r}")
        for role in draft.roles:
            if role not in ROLES:
                raise BuildError(f"curated.yaml entry {key!r}: unknown role {role!r}")
        # Common words may only be aliases when explicitly case-sensitive.
        dropped = {normalize_alias(d) for d in draft.drop}
        for alias in draft.aliases + [canonical]:
            if alias in draft.cs_aliases or normalize_alias(alias) in dropped:
                continue
            if normalize_alias(alias) in self.common:
                raise BuildError(
                    f"curated.yaml entry {key!r}: alias {alias!r} is an ordinary word; "
                    "list it under case_sensitive_aliases"
                )
        self.drafts[key] = draft
        for name in [canonical, *draft.aliases, *draft.cs_aliases]:
            self._index(draft, name)
        for ref in raw.get("same_as") or []:
            if ref in self.claims:
                raise BuildError(f"curated.yaml: {ref} claimed by {self.claims[ref]!r} and {key!r}")
            self.claims[ref] = key

    def add_source(self, rec: SourceRecord) -> None:
        key = self.claims.get(rec.ref)
        if key is None:
            hits: set[str] = set()
            for name in rec.names:
                hits |= self.norms.get(normalize_alias(name), set())
            if len(hits) > 1:
                raise BuildError(
                    f"{rec.ref} ({rec.canonical!r}) matches several entries {sorted(hits)}; "
                    "add same_as to one of them in curated.yaml"
                )
            key = next(iter(hits), None)
        if key is None:
            key = slug(rec.canonical)
            if key in self.drafts:
                raise BuildError(
                    f"{rec.ref} ({rec.canonical!r}): key {key!r} is taken by another entry; "
                    "disambiguate in curated.yaml"
                )
            self.drafts[key] = Draft(key=key, canonical=rec.canonical)
        draft = self.drafts[key]
        draft.sources.add(rec.source)
        draft.source_roles.extend(r for r in rec.roles if r not in draft.source_roles)
        if rec.country:
            draft.source_countries.setdefault(rec.source, rec.country)
        for ticker in rec.tickers:
            if ticker not in draft.tickers:
                draft.tickers.append(ticker)
        for name in rec.names:
            exact = normalize_alias(name, fold=False)
            if exact in draft.drop or normalize_alias(name) in {normalize_alias(d) for d in draft.drop}:
                continue
            if normalize_alias(name) in self.common:
                # A source name that is an ordinary word ("Screen", "Nova") is kept only
                # with its exact case, so "screen" or "nova" in running text never match.
                if name not in draft.cs_aliases:
                    draft.cs_aliases.append(name)
                    self.warnings.append(f"{key}: source name {name!r} made case-sensitive")
                continue
            draft.aliases.append(name)
            self._index(draft, name)

    def finish(self) -> list[dict[str, Any]]:
        """Resolve roles/countries, dedupe aliases and return sorted plain entries."""
        out: list[dict[str, Any]] = []
        for key in sorted(self.drafts):
            d = self.drafts[key]
            if d.kind == "org" and not d.roles_fixed:
                roles = list(dict.fromkeys(d.roles + d.source_roles))
                if len(roles) > 1 and "other" in roles:
                    roles.remove("other")
                d.roles = roles or ["other"]
            country = d.country or d.source_countries.get("eto") or d.source_countries.get("sp500")
            aliases, cs_aliases = self._dedupe_aliases(d)
            entry: dict[str, Any] = {
                "key": d.key,
                "canonical": d.canonical,
                "kind": d.kind,
                "wikidata": d.wikidata,
            }
            if country:
                entry["country"] = country
            if d.kind == "org":
                entry["roles"] = sorted(d.roles)
            if d.tickers:
                entry["tickers"] = list(d.tickers)
            if d.parent:
                entry["parent"] = d.parent
            if d.maker:
                entry["maker"] = d.maker
            if d.chip:
                entry["chip"] = d.chip
            entry["aliases"] = aliases
            if cs_aliases:
                entry["case_sensitive_aliases"] = cs_aliases
            if d.former_names:
                entry["former_names"] = d.former_names
            entry["sources"] = sorted(d.sources)
            out.append(entry)
        return out

    def _dedupe_aliases(self, d: Draft) -> tuple[list[str], list[str]]:
        cs: list[str] = []
        seen_exact: set[str] = set()
        for alias in d.cs_aliases:
            exact = normalize_alias(alias, fold=False)
            if exact and exact not in seen_exact:
                seen_exact.add(exact)
                cs.append(alias.strip())
        ci: list[str] = []
        seen: set[str] = set()
        # Canonical first; then the first spelling of each normalised form wins.
        dropped = {normalize_alias(x) for x in d.drop}
        for alias in [d.canonical, *d.aliases]:
            alias = alias.strip()
            norm = normalize_alias(alias)
            if not norm or norm in seen or alias in cs or norm in dropped:
                continue
            # Very short Latin forms ("HP", "LG", "3M") collide with ordinary abbreviations
            # in lower case, so they are matched with their exact case only (CJK has no case).
            if len(norm.replace(" ", "")) <= 2 and alias.isascii():
                if normalize_alias(alias, fold=False) not in seen_exact:
                    seen_exact.add(normalize_alias(alias, fold=False))
                    cs.append(alias)
                continue
            seen.add(norm)
            ci.append(alias)
        head = ci[:1] if ci and ci[0] == d.canonical else []
        ci = head + sorted(ci[len(head) :], key=lambda a: (a.casefold(), a))
        cs = sorted(cs, key=lambda a: (a.casefold(), a))
        return ci, cs


def build() -> tuple[str, list[str]]:
    """Build the YAML text of ``companies.yaml``.

    Returns:
        The file content and the builder's warnings.

    Raises:
        BuildError: When the inputs conflict.
        extractors.kb.KBError: When the result does not validate.
    """
    curated, extra_words, drop_sources = _load_curated()
    builder = Builder(_common_words(extra_words))
    for raw in curated:
        builder.add_curated(raw)
    for rec in [*eto_records(), *sp500_records()]:
        if rec.ref in drop_sources:
            continue
        builder.add_source(rec)
    entries = builder.finish()
    # Validate with the loader itself, so a file that builds always loads.
    build_knowledge_base({"entries": entries}, OUTPUT)
    body = yaml.safe_dump(
        {"entries": entries},
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=100,
    )
    return _HEADER + "\n" + body, builder.warnings


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="fail if companies.yaml is out of date")
    parser.add_argument("--verbose", action="store_true", help="print merge warnings")
    args = parser.parse_args(argv)
    text, warnings = build()
    if args.verbose:
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run python -m extractors.data.build_kb", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    data = yaml.safe_load(text)["entries"]
    orgs = sum(1 for e in data if e["kind"] == "org")
    print(f"wrote {OUTPUT}: {orgs} organisations, {len(data) - orgs} products")
    return 0


if __name__ == "__main__":
    sys.exit(main())
