"""Validate extractors/data/options/sentences.jsonl (stdlib only).

Usage:
    python check_sentences.py ARTICLES_JSONL [--sentences PATH] [--seed PATH]

ARTICLES_JSONL is shared/data/articles.jsonl. The seed article is read from
--seed (default: ../corpus/seed/openai-custom-chips-2023-10.fr.txt next to the
folder that holds ARTICLES_JSONL). Exits 1 if any check fails, 0 otherwise,
and prints the counts per language x label x split.
"""

import argparse
import collections
import hashlib
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
LABELS = ("build", "partner", "diversify", "acquire")
STATUSES = {"considered", "planned", "announced", "in_progress", "completed", "abandoned", "denied"}
KEYS = {"id", "article_id", "lang", "text", "labels", "status", "actor", "counterparty",
        "hard_negative", "split", "note"}
SEED_ID = "seed-openai-custom-chips-fr"
SEED_NAME = "openai-custom-chips-2023-10.fr.txt"


def expected_split(article_id):
    """The split rule (README): seed -> test; else sha1(id)[:8] as int, mod 4 == 0 -> test."""
    if article_id == SEED_ID:
        return "test"
    h = int(hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:8], 16)
    return "test" if h % 4 == 0 else "train"


def load_sources(articles_path, seed_path):
    sources = {}
    with open(articles_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                sources[d["id"]] = (d["lang"], d["text"])
    sources[SEED_ID] = ("fr", seed_path.read_text(encoding="utf-8"))
    return sources


def check_row(n, r, sources, errors):
    where = f"line {n}"
    if not isinstance(r, dict) or set(r) != KEYS:
        missing = KEYS - set(r) if isinstance(r, dict) else KEYS
        extra = set(r) - KEYS if isinstance(r, dict) else set()
        errors.append(f"{where}: keys differ (missing {sorted(missing)}, extra {sorted(extra)})")
        return
    where = f"line {n} ({r['id']})"
    for k in ("id", "article_id", "lang", "text", "split", "note"):
        if not isinstance(r[k], str):
            errors.append(f"{where}: {k} must be a string")
            return
    aid, _, num = r["id"].rpartition("#")
    if aid != r["article_id"] or not num.isdigit():
        errors.append(f"{where}: id must be '<article_id>#<n>'")
    labels = r["labels"]
    if not isinstance(labels, list) or len(set(labels)) != len(labels) or not set(labels) <= set(LABELS):
        errors.append(f"{where}: labels must be a list of distinct values from {LABELS}")
        labels = []
    if r["status"] is not None and r["status"] not in STATUSES:
        errors.append(f"{where}: status {r['status']!r} not allowed")
    if labels and r["status"] is None:
        errors.append(f"{where}: a positive needs a status")
    if not labels and r["status"] is not None:
        errors.append(f"{where}: a negative must have status null")
    for k in ("actor", "counterparty"):
        if r[k] is not None and not isinstance(r[k], str):
            errors.append(f"{where}: {k} must be a string or null")
    if not labels and (r["actor"] is not None or r["counterparty"] is not None):
        errors.append(f"{where}: a negative must have actor and counterparty null")
    if not isinstance(r["hard_negative"], bool):
        errors.append(f"{where}: hard_negative must be a boolean")
    elif r["hard_negative"] and labels:
        errors.append(f"{where}: hard_negative set on a positive")
    if r["split"] not in ("train", "test"):
        errors.append(f"{where}: split must be train or test")
    elif r["split"] != expected_split(r["article_id"]):
        errors.append(f"{where}: split {r['split']} does not follow the split rule")
    if not r["text"].strip() or r["text"] != r["text"].strip():
        errors.append(f"{where}: text empty or not stripped")
    src = sources.get(r["article_id"])
    if src is None:
        errors.append(f"{where}: unknown article_id")
        return
    lang, text = src
    if r["lang"] != lang:
        errors.append(f"{where}: lang {r['lang']} but the article is {lang}")
    if r["text"] not in text:
        errors.append(f"{where}: text not found verbatim in the article")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("articles", type=pathlib.Path, help="path to shared/data/articles.jsonl")
    ap.add_argument("--sentences", type=pathlib.Path, default=HERE / "sentences.jsonl")
    ap.add_argument("--seed", type=pathlib.Path, default=None, help="seed article text file")
    args = ap.parse_args(argv)
    seed = args.seed or args.articles.resolve().parent.parent / "corpus" / "seed" / SEED_NAME
    sources = load_sources(args.articles, seed)

    errors, rows, seen = [], [], set()
    with open(args.sentences, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"line {n}: empty line")
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: invalid JSON ({e})")
                continue
            check_row(n, r, sources, errors)
            if isinstance(r, dict) and "id" in r:
                if r["id"] in seen:
                    errors.append(f"line {n}: duplicate id {r['id']}")
                seen.add(r["id"])
                rows.append(r)

    splits = collections.defaultdict(set)
    for r in rows:
        splits[r.get("article_id")].add(r.get("split"))
    for aid, s in sorted(splits.items()):
        if len(s) > 1:
            errors.append(f"article {aid} appears in both splits")
    if SEED_ID in splits and splits[SEED_ID] != {"test"}:
        errors.append("the seed article must be in test only")

    counts = collections.Counter()
    for r in rows:
        labs = r.get("labels") or ["(none)"]
        for lab in labs:
            counts[(r.get("lang"), lab, r.get("split"))] += 1
        counts[(r.get("lang"), "(all)", r.get("split"))] += 1
    langs = sorted({k[0] for k in counts})
    cols = ("(all)", "(none)") + LABELS
    print(f"{len(rows)} sentences from {len(splits)} articles")
    print(f"{'lang':<5}{'split':<7}" + "".join(f"{c:>11}" for c in cols))
    for lg in langs:
        for sp in ("train", "test"):
            print(f"{lg:<5}{sp:<7}" + "".join(f"{counts[(lg, c, sp)]:>11}" for c in cols))
    for sp in ("train", "test"):
        print(f"{'all':<5}{sp:<7}" + "".join(
            f"{sum(counts[(lg, c, sp)] for lg in langs):>11}" for c in cols))
    neg = sum(1 for r in rows if not r.get("labels"))
    hard = sum(1 for r in rows if r.get("hard_negative"))
    arts = collections.Counter(next(iter(s)) for s in splits.values() if len(s) == 1)
    print(f"negatives {neg} ({neg / max(1, len(rows)):.1%}), hard negatives {hard}; "
          f"articles train {arts['train']}, test {arts['test']}")

    if errors:
        for err in errors[:200]:
            print("ERROR", err, file=sys.stderr)
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
