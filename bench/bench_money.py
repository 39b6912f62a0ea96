"""Side-by-side money benchmark: chipwire vs Recognizers-Text, quantulum3 and price-parser.

A benchmark, not a test: it reads ``../shared/money/battery.jsonl`` (a developer's checkout) plus
the repository's ``tests/cases/money/*.yaml`` and prints, per system and language, precision,
recall and F1 of exact (value, currency) pairs, and items (sentences) per second.

Run with ``make bench-money``. Scoring: a point amount is the pair (value, currency); a range or
vague amount is ((lower, upper), currency). Values compare as exact decimals. Peers that return a
range as two points score those as two misses, which is what a consumer of their output would get.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import spacy
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from extractors.money import extract_money  # noqa: E402

BATTERY = REPO.parent / "shared" / "money" / "battery.jsonl"
TABLES = REPO / "tests" / "cases" / "money"

Key = tuple[Any, str]


@dataclass(frozen=True)
class Item:
    source: str  # "battery" or "tables"
    lang: str
    text: str
    gold: tuple[Key, ...]


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).normalize()
    except InvalidOperation:
        return None


def _key(value: Any, lower: Any, upper: Any, currency: str) -> Key:
    if value is not None:
        return (_dec(value), currency)
    return ((_dec(lower), _dec(upper)), currency)


def load_items() -> list[Item]:
    items: list[Item] = []
    for line in BATTERY.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        gold = tuple(_key(g["value"], g["lower"], g["upper"], g["currency"]) for g in row["gold"])
        items.append(Item("battery", row["lang"], row["text"], gold))
    for path in sorted(TABLES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            gold = tuple(_key(m.get("value"), m.get("lower"), m.get("upper"), m["currency"]) for m in case["money"])
            items.append(Item("tables", path.stem, case["text"], gold))
    return items


# ----------------------------------------------------------------------------- systems

def chipwire() -> Callable[[str, str], list[Key]]:
    nlps: dict[str, Any] = {}

    def run(text: str, lang: str) -> list[Key]:
        if lang not in nlps:
            nlps[lang] = spacy.blank(lang)
            nlps[lang].add_pipe("sentencizer")
        doc = nlps[lang](text)  # tokenising is counted in chipwire's time
        return [_key(m.value, m.lower, m.upper, m.currency) for m in extract_money(doc, lang=lang)]

    return run


# Currency names the peers return, mapped to ISO 4217.
_NAMES = {
    "dollar": "USD", "dólar": "USD", "united states dollar": "USD", "us dollar": "USD", "euro": "EUR",
    "pound": "GBP", "pound sterling": "GBP", "british pound": "GBP", "yen": "JPY", "japanese yen": "JPY",
    "chinese yuan": "CNY", "yuan": "CNY", "renminbi": "CNY", "won": "KRW", "south korean won": "KRW",
    "swiss franc": "CHF", "new taiwan dollar": "TWD", "canadian dollar": "CAD", "australian dollar": "AUD",
    "hong kong dollar": "HKD", "brazilian real": "BRL", "real": "BRL", "franc": "FRF",
    "$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "eur": "EUR", "usd": "USD", "chf": "CHF",
    "r$": "BRL", "nt$": "TWD", "c$": "CAD", "a$": "AUD", "hk$": "HKD",
}
_CENTS = {"cent", "penny", "centime", "centavo", "céntimo"}


def _iso(name: str | None) -> tuple[str | None, Decimal]:
    if not name:
        return None, Decimal(1)
    low = name.strip().lower()
    if low in _CENTS:
        return "USD", Decimal("0.01")
    return _NAMES.get(low), Decimal(1)


def recognizers() -> Callable[[str, str], list[Key]]:
    from recognizers_suite import Culture, recognize_currency

    # Python Recognizers-Text 1.0.2a2 has no German culture and no currency model for Italian or
    # Dutch: those fall back to English, as a user of the library would have to.
    cultures = {"en": Culture.English, "fr": Culture.French, "es": Culture.Spanish, "pt": Culture.Portuguese}

    def run(text: str, lang: str) -> list[Key]:
        out = []
        for result in recognize_currency(text, cultures.get(lang, Culture.English)):
            res = result.resolution or {}
            code = res.get("isoCurrency")
            scale = Decimal(1)
            if not code:
                code, scale = _iso(res.get("unit"))
            value = _dec(res.get("value"))
            if code and value is not None:
                out.append(((value * scale).normalize(), code))
        return out

    return run


def quantulum() -> Callable[[str, str], list[Key]]:
    import quantulum3.classifier
    from quantulum3 import parser

    # The bundled classifier pickle does not load with this environment's scikit-learn; the
    # library's own no-classifier path is used instead (as when scikit-learn is absent).
    quantulum3.classifier.USE_CLF = False

    def run(text: str, lang: str) -> list[Key]:
        out = []
        for q in parser.parse(text, lang="en_US"):  # quantulum3 only ships English
            if q.unit.entity.name != "currency":
                continue
            code = getattr(q.unit, "currency_code", None)
            scale = Decimal(1)
            if not code:
                code, scale = _iso(q.unit.name)
            if code:
                out.append(((Decimal(str(q.value)) * scale).normalize(), code))
        return out

    return run


def price_parser() -> Callable[[str, str], list[Key]]:
    from price_parser import Price

    def run(text: str, lang: str) -> list[Key]:
        price = Price.fromstring(text, decimal_separator="." if lang == "en" else ",")
        code, scale = _iso(price.currency)
        if price.amount is None or not code:
            return []
        return [((price.amount * scale).normalize(), code)]

    return run


SYSTEMS: dict[str, Callable[[], Callable[[str, str], list[Key]]]] = {
    "chipwire": chipwire,
    "recognizers-text 1.0.2a2": recognizers,
    "quantulum3 0.10.0": quantulum,
    "price-parser 0.5.1": price_parser,
}


# ----------------------------------------------------------------------------- scoring

def score(gold: Iterable[Key], pred: Iterable[Key]) -> tuple[int, int, int]:
    g, p = Counter(gold), Counter(pred)
    tp = sum((g & p).values())
    return tp, sum(p.values()) - tp, sum(g.values()) - tp


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def run_system(name: str, items: list[Item], repeat: int) -> tuple[dict[tuple[str, str], list[int]], float, str]:
    try:
        system = SYSTEMS[name]()
    except Exception as exc:  # a peer that cannot be imported is reported, not fatal
        return {}, 0.0, f"not available: {type(exc).__name__}: {exc}"
    tallies: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    preds: list[list[Key]] = []
    errors = 0
    # Warm-up, untimed, for every system alike: one-off loading and per-language compilation
    # (chipwire compiles each language's patterns once per process) are not per-item costs.
    for lang in sorted({item.lang for item in items}):
        try:
            system(next(i.text for i in items if i.lang == lang), lang)
        except Exception:
            pass
    start = time.perf_counter()
    for _ in range(repeat):
        preds = []
        for item in items:
            try:
                preds.append(system(item.text, item.lang))
            except Exception:  # a peer crashing on one sentence scores as finding nothing
                errors += 1
                preds.append([])
    elapsed = time.perf_counter() - start
    for item, pred in zip(items, preds):
        tp, fp, fn = score(item.gold, pred)
        for scope in ((item.source, item.lang), ("all", item.lang), (item.source, "all"), ("all", "all")):
            t = tallies[scope]
            t[0] += tp
            t[1] += fp
            t[2] += fn
    note = f"{errors // repeat} sentence(s) raised" if errors else ""
    return tallies, len(items) * repeat / elapsed, note


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat-chipwire", type=int, default=20, help="passes over the items, for stable timing")
    opts = args.parse_args()
    warnings.filterwarnings("ignore")
    items = load_items()
    langs = sorted({i.lang for i in items})
    counts = Counter((i.source, i.lang) for i in items)
    print(f"{len(items)} sentences: " + ", ".join(f"{s}/{lang}={n}" for (s, lang), n in sorted(counts.items())))
    results = {}
    for name in SYSTEMS:
        repeat = opts.repeat_chipwire if name == "chipwire" else 1
        results[name] = run_system(name, items, repeat)

    for source in ("battery", "tables", "all"):
        print(f"\n### F1 of exact (value, currency), {source}\n")
        present = [lang for lang in langs if counts.get((source, lang)) or source == "all"]
        print("| system | " + " | ".join(present) + " | all |")
        print("|---" * (len(present) + 2) + "|")
        for name, (tallies, _, note) in results.items():
            if not tallies:
                print(f"| {name} | " + " | ".join("n/a" for _ in present) + f" | n/a ({note}) |")
                continue
            cells = [f"{prf(*tallies[(source, lang)])[2]:.2f}" for lang in present]
            print(f"| {name} | " + " | ".join(cells) + f" | {prf(*tallies[(source, 'all')])[2]:.2f} |")

    print("\n### Precision / recall / F1 per language (battery + tables) and speed\n")
    print("| system | lang | P | R | F1 | tp | fp | fn |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (tallies, _, _) in results.items():
        for lang in [*langs, "all"]:
            if (("all", lang)) in tallies:
                tp, fp, fn = tallies[("all", lang)]
                p, r, f = prf(tp, fp, fn)
                print(f"| {name} | {lang} | {p:.2f} | {r:.2f} | {f:.2f} | {tp} | {fp} | {fn} |")
    print("\n| system | items/s | notes |")
    print("|---|---|---|")
    for name, (_, speed, note) in results.items():
        print(f"| {name} | {speed:,.0f} | {note} |")


if __name__ == "__main__":
    main()
