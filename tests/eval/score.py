# Copied verbatim from the project's shared evaluation kit (shared/eval/score.py), the scorer chipwire is
# judged by, so that `make eval` measures with the same metric from the repository alone. Keep it in
# sync; the only edit is the usage example below, which now names this copy.
#!/usr/bin/env python3
"""Score the project's records against hand-made gold annotations.

Usage: score.py GOLD_DIR CLI [--work DIR] [--json OUT] [--only LANG] [--details]

Example (the project's copy is driven by tests/eval/evaluate.py; run standalone it reads gold files
whose text_from paths resolve relative to its parent folder): python3 score.py GOLD_DIR .venv/bin/chipwire --details

Builds one JSON Lines input (id, title, published, text) from the gold files,
runs `CLI run INPUT --out OUTDIR`, reads OUTDIR/records.jsonl and prints
precision / recall / F1 for language, entities, money and strategic options,
overall and per language.  The last line is a one-line summary.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the shared/ folder
ALIASES = json.loads((Path(__file__).parent / "aliases.json").read_text())
SUFFIXES = {"inc", "corp", "corporation", "ltd", "limited", "co", "company", "sa", "ag",
            "plc", "llc", "gmbh", "nv", "se", "holdings", "group", "incorporated", "the"}
KEPT_TYPES = {"ORG", "PERSON", "PRODUCT"}
# status is scored in four groups: not yet committed / committed or under way / done / off
STATUS_COARSE = {"considered": "open", "rumored": "open", "planned": "open",
                 "announced": "committed", "in_progress": "committed",
                 "completed": "done", "abandoned": "off", "denied": "off", "unknown": "unknown"}


def norm(name):
    if isinstance(name, dict):  # {"name", "canonical", "id"} records
        name = name.get("canonical") or name.get("name")
    if not name:
        return ""
    s = unicodedata.normalize("NFKD", str(name))
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    s = re.sub(r"[’'`]s\b", "", s)
    s = re.sub(r"[^\w\s]", " ", s)
    words = [w for w in s.split() if w not in SUFFIXES]
    key = " ".join(words)
    return ALIASES.get(key, key)


def load_text(gold):
    src = gold["text_from"]
    path = ROOT / (src.get("file") or src["jsonl"])
    if not path.exists():  # gold files written relative to shared/
        path = ROOT / "shared" / (src.get("file") or src["jsonl"])
    if "file" in src:
        return path.read_text(encoding="utf-8")
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        if row["id"] == src["id"]:
            return row["text"]
    raise KeyError(src)


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def money_match(g, p):
    if (p.get("currency") or "").upper() != g["currency"]:
        return False
    gl, gu = g.get("lower", g.get("value")), g.get("upper", g.get("value"))
    pv = p.get("value")
    pl = p.get("lower") if p.get("lower") is not None else pv
    pu = p.get("upper") if p.get("upper") is not None else pv
    if pl is None or pu is None:
        return False
    if "value" in g and not g.get("vague"):
        return abs((pv if pv is not None else (pl + pu) / 2) - g["value"]) <= 0.01 * abs(g["value"])
    return pl <= gu * 1.01 and pu >= gl * 0.99  # ranges and vague amounts: overlap


def score_article(gold, rec, tally):
    lang = gold["lang"]
    tallies = [tally["all"], tally[lang]]

    def add(task, tp=0, fp=0, fn=0):
        for t in tallies:
            t[task][0] += tp
            t[task][1] += fp
            t[task][2] += fn

    add("language", tp=int(rec.get("language") == lang), fn=int(rec.get("language") != lang))

    # entities: set of canonical names per article, ORG/PERSON/PRODUCT only
    gold_req = {norm(e["canonical"]) for e in gold["entities"] if not e.get("optional")}
    gold_opt = {norm(e["canonical"]) for e in gold["entities"] if e.get("optional")}
    pred = set()
    for e in rec.get("entities", []):
        if (e.get("label") or "").upper() in KEPT_TYPES:
            pred.add(norm(e.get("canonical") or e.get("text")))
    pred.discard("")
    tp = len(pred & gold_req)
    fp = len(pred - gold_req - gold_opt)
    fn = len(gold_req - pred)
    add("entities", tp, fp, fn)
    tally["details"].append({"id": gold["id"], "task": "entities", "missed": sorted(gold_req - pred),
                             "spurious": sorted(pred - gold_req - gold_opt)})

    # money: one-to-one greedy matching
    preds = list(rec.get("money", []))
    used = set()
    tp = fn = 0
    attr_ok = attr_n = 0
    missed = []
    for g in gold["money"]:
        hit = next((i for i, p in enumerate(preds) if i not in used and money_match(g, p)), None)
        if hit is None:
            fn += 1
            missed.append(g)
            continue
        tp += 1
        used.add(hit)
        p = preds[hit]
        if "approximate" in g:
            attr_n += 1
            attr_ok += bool(p.get("approximate")) == g["approximate"]
        if "period" in g:
            attr_n += 1
            attr_ok += (p.get("period") or "") == g["period"]
    fp = len(preds) - len(used)
    add("money", tp, fp, fn)
    for t in tallies:
        t["money_attrs"][0] += attr_ok
        t["money_attrs"][1] += attr_n
    tally["details"].append({"id": gold["id"], "task": "money", "missed": missed,
                             "spurious": [p.get("text") for i, p in enumerate(preds) if i not in used]})

    # strategic options: one-to-one matching on (actor, option), preferring the same counterparty
    def keys(g):
        return {(norm(a), g["option"]) for a in [g["actor"], *g.get("alt_actors", [])]}

    def cps_of(o):
        c = o.get("counterparty")
        if c is None:
            c = [x.get("canonical") or x.get("name") for x in o.get("counterparties") or [] if isinstance(x, dict)]
        c = c if isinstance(c, list) else [c]
        return {norm(x) for x in c if x}

    preds = [((norm(o.get("actor")), o.get("option")), o) for o in rec.get("options", [])]
    used = set()
    tp = fn = 0
    st_ok = st_n = cp_ok = cp_n = 0
    missed = []
    # gold with a counterparty first, so that a same-pair record with the right counterparty is kept for it
    for g in sorted(gold["options"], key=lambda g: (g.get("optional", False), not g.get("counterparty"))):
        ks = keys(g)
        cands = [i for i, (k, _) in enumerate(preds) if k in ks and i not in used]
        want = norm(g.get("counterparty")) if g.get("counterparty") else None
        best = next((i for i in cands if want and want in cps_of(preds[i][1])), cands[0] if cands else None)
        if best is None:
            if not g.get("optional"):
                fn += 1
                missed.append((g["actor"], g["option"], g.get("counterparty")))
            continue
        used.add(best)
        # symmetric deals: the other party's mirror record of the same deal is not spurious
        for i, (k, o) in enumerate(preds):
            if i not in used and k in ks and k != preds[best][0] and (not want or want in cps_of(o) or norm(g["actor"]) in cps_of(o)):
                used.add(i)
        if g.get("optional"):
            continue
        tp += 1
        p = preds[best][1]
        st_n += 1
        st_ok += STATUS_COARSE.get(p.get("status"), "?") == STATUS_COARSE[g["status"]]
        if want:
            cp_n += 1
            cp_ok += want in cps_of(p)
    spurious = [preds[i][0] for i in range(len(preds)) if i not in used]
    fp = len(spurious)
    add("options", tp, fp, fn)
    for t in tallies:
        t["status"][0] += st_ok
        t["status"][1] += st_n
        t["counterparty"][0] += cp_ok
        t["counterparty"][1] += cp_n
    tally["details"].append({"id": gold["id"], "task": "options", "missed": missed, "spurious": spurious})


def new_tally():
    return {"language": [0, 0, 0], "entities": [0, 0, 0], "money": [0, 0, 0], "options": [0, 0, 0],
            "money_attrs": [0, 0], "status": [0, 0], "counterparty": [0, 0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gold_dir")
    ap.add_argument("cli", help="the project's command, e.g. /path/.venv/bin/chipwire")
    ap.add_argument("--work")
    ap.add_argument("--json")
    ap.add_argument("--only")
    ap.add_argument("--details", action="store_true")
    args = ap.parse_args()

    golds = [json.loads(p.read_text()) for p in sorted(Path(args.gold_dir).glob("*.json"))]
    if args.only:
        golds = [g for g in golds if g["lang"] == args.only]
    work = Path(args.work or tempfile.mkdtemp(prefix="cw-eval-"))
    work.mkdir(parents=True, exist_ok=True)
    inp = work / "input.jsonl"
    with inp.open("w", encoding="utf-8") as f:
        for g in golds:
            row = {"id": g["id"], "title": g.get("title"), "published": g.get("published"),
                   "text": load_text(g)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    out = work / "out"
    t0 = time.time()
    proc = subprocess.run([*args.cli.split(), "run", str(inp), "--out", str(out)],
                          capture_output=True, text=True)
    secs = time.time() - t0
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
        print(f"FAIL: the run exited {proc.returncode}")
        sys.exit(1)
    recs = {}
    for line in (out / "records.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        src = r.get("source") or {}
        recs[src.get("id") or r.get("article_id")] = r
    tally = defaultdict(new_tally)
    tally["details"] = []
    missing = [g["id"] for g in golds if g["id"] not in recs]
    for g in golds:
        score_article(g, recs.get(g["id"], {}), tally)

    summary = {}
    for scope in ["all"] + sorted(k for k in tally if k not in ("all", "details")):
        t = tally[scope]
        row = {task: dict(zip("prf", (round(x, 3) for x in prf(*t[task]))))
               for task in ("language", "entities", "money", "options")}
        for k in ("money_attrs", "status", "counterparty"):
            row[k] = round(t[k][0] / t[k][1], 3) if t[k][1] else None
        summary[scope] = row
        print(f"[{scope}] " + "  ".join(f"{task} P={v['p']:.2f} R={v['r']:.2f} F1={v['f']:.2f}"
                                        for task, v in row.items() if isinstance(v, dict))
              + f"  money_attrs={row['money_attrs']} status={row['status']} counterparty={row['counterparty']}")
    if args.details:
        for d in tally["details"]:
            if d["missed"] or d["spurious"]:
                print(json.dumps(d, ensure_ascii=False, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "details": tally["details"],
                                               "missing": missing, "seconds": secs}, indent=1, default=str))
    a = summary["all"]
    print(f"articles={len(golds)} missing={len(missing)} secs={secs:.1f} "
          f"entF1={a['entities']['f']:.2f} moneyF1={a['money']['f']:.2f} optF1={a['options']['f']:.2f} "
          f"lang={a['language']['r']:.2f}")


if __name__ == "__main__":
    main()
