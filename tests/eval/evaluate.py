"""``make eval``: chipwire against stock spaCy on the development gold set, side by side.

Runs the pipeline in-process on ``tests/eval/articles.jsonl`` twice — as configured,
and as stock spaCy (no knowledge-base rulers, no linking: the NER's own entities with
their surface form as name) — and scores both with the project's scorer
(``tests/eval/score.py``, a copy of the shared one) per language.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.config import EntitySettings, Settings, load_settings
from pipeline.run import run_batch
from tests.eval.score import new_tally, norm, prf, score_article

HERE = Path(__file__).parent


def load_gold(only: str | None = None) -> list[dict[str, Any]]:
    """The gold files, optionally of one language."""
    golds = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((HERE / "devgold").glob("*.json"))]
    return [g for g in golds if not only or g["lang"] == only]


def run_system(golds: list[dict[str, Any]], settings: Settings, work: Path) -> dict[str, dict[str, Any]]:
    """Run chipwire with ``settings`` on the gold articles; records by source id."""
    texts = {}
    for line in (HERE / "articles.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        texts[row["id"]] = row["text"]
    inp = work / "input.jsonl"
    with inp.open("w", encoding="utf-8") as handle:
        for g in golds:
            row = {"id": g["id"], "title": g.get("title"), "published": g.get("published"), "text": texts[g["id"]]}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    out = work / "out"
    run_batch([inp], out, settings)
    records = {}
    for line in (out / "records.jsonl").open(encoding="utf-8"):
        rec = json.loads(line)
        records[rec["source"]["id"]] = rec
    return records


def score(golds: list[dict[str, Any]], records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Tallies per language and overall, as the shared scorer computes them."""
    tally: dict[str, Any] = defaultdict(new_tally)
    tally["details"] = []
    for g in golds:
        score_article(g, records.get(g["id"], {}), tally)
    return tally


# Confidence bins of the reliability table.
BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 1.01)


def reliability(golds: list[dict[str, Any]], records: dict[str, dict[str, Any]]) -> list[tuple[str, int, float, float]]:
    """Option records binned by confidence: (bin, count, mean confidence, share correct).

    A record is correct when its (actor, option) is a gold pair of its article (optional pairs and
    alternative actors included), the scorer's matching key. Well calibrated means the share
    correct is close to the mean confidence in every bin.
    """
    scored: list[tuple[float, bool]] = []
    for g in golds:
        truth = {(norm(a), o["option"]) for o in g["options"] for a in [o["actor"], *o.get("alt_actors", [])]}
        for rec in records.get(g["id"], {}).get("options", []):
            scored.append((float(rec.get("confidence") or 0.0), (norm(rec.get("actor")), rec.get("option")) in truth))
    rows = []
    for lo, hi in itertools.pairwise(BINS):
        inside = [(c, ok) for c, ok in scored if lo <= c < hi]
        if inside:
            rows.append((f"[{lo:.1f}, {min(hi, 1.0):.1f}{']' if hi > 1 else ')'}", len(inside),
                         sum(c for c, _ in inside) / len(inside), sum(ok for _, ok in inside) / len(inside)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="one language")
    parser.add_argument("--details", action="store_true", help="print missed and spurious items per article")
    args = parser.parse_args()
    golds = load_gold(args.only)
    chipwire = load_settings()
    stock = replace(chipwire, entities=EntitySettings(linking=False, rules=False), extractors=("entities.v1",))
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for name, settings in (("chipwire", chipwire), ("stock spaCy", stock)):
            work = Path(tmp) / name.replace(" ", "_")
            work.mkdir()
            runs[name] = run_system(golds, settings, work)
        results = {name: score(golds, records) for name, records in runs.items()}
    counts: dict[str, int] = defaultdict(int)
    for g in golds:
        counts[g["lang"]] += 1
    scopes = ["all", *sorted(counts)]
    print(f"Development gold set: {len(golds)} articles ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
    print("\nEntities (canonical ORG/PERSON/PRODUCT per article)")
    print(f"{'lang':<5} {'chipwire P/R/F1':>20} {'stock spaCy P/R/F1':>22} {'ΔF1':>6}")
    for scope in scopes:
        ours = prf(*results["chipwire"][scope]["entities"])
        base = prf(*results["stock spaCy"][scope]["entities"])
        print(f"{scope:<5} {ours[0]:>6.2f} {ours[1]:>5.2f} {ours[2]:>6.2f}   {base[0]:>6.2f} {base[1]:>5.2f} {base[2]:>6.2f}"
              f" {100 * (ours[2] - base[2]):>+6.1f}")
    tp, fp, fn = results["chipwire"]["all"]["entities"]
    print(f"chipwire, all languages: {tp} right, {fp} spurious, {fn} missed (F1 {prf(tp, fp, fn)[2]:.4f})")
    print("\nchipwire, money and options")
    print(f"{'lang':<5} {'money P/R/F1':>18} {'attrs':>6} {'options P/R/F1':>18} {'status':>7} {'cpty':>6}")
    for scope in scopes:
        t = results["chipwire"][scope]
        m, o = prf(*t["money"]), prf(*t["options"])

        def ratio(pair: list[int]) -> str:
            return f"{pair[0] / pair[1]:.2f}" if pair[1] else "  -"

        print(f"{scope:<5} {m[0]:>6.2f} {m[1]:>5.2f} {m[2]:>5.2f} {ratio(t['money_attrs']):>6}"
              f" {o[0]:>6.2f} {o[1]:>5.2f} {o[2]:>5.2f} {ratio(t['status']):>7} {ratio(t['counterparty']):>6}")
    print("\nOption confidence reliability (chipwire records vs gold (actor, option) pairs)")
    print(f"{'confidence':<12} {'records':>8} {'mean conf':>10} {'correct':>8}")
    for label, n, mean, share in reliability(golds, runs["chipwire"]):
        print(f"{label:<12} {n:>8} {mean:>10.2f} {share:>8.2f}")
    if args.details:
        for detail in results["chipwire"]["details"]:
            if detail["missed"] or detail["spurious"]:
                print(json.dumps(detail, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
