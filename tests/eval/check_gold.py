#!/usr/bin/env python3
"""Sanity checks for the development gold set in tests/eval/.

Usage (from the repository root): python3 tests/eval/check_gold.py [--strict]

Checks that every devgold/*.json file has the expected shape, that its text_from id
resolves in tests/eval/articles.jsonl, that every entity canonical (or an alias of it,
or a close surface form) occurs in the title or text, and that every money figure's
number (or its `surface`) occurs in the text.  Misses on optional entities are listed
as notes, not failures.  Exit status 1 when a hard check fails.
"""
import json
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SUFFIXES = {"inc", "corp", "corporation", "ltd", "limited", "co", "company", "sa", "ag",
            "plc", "llc", "gmbh", "nv", "se", "holdings", "group", "incorporated", "the"}
OPTIONS = {"build", "partner", "diversify", "acquire"}
STATUSES = {"considered", "planned", "announced", "in_progress", "completed", "abandoned", "denied"}
TYPES = {"ORG", "PERSON", "PRODUCT"}
CURRENCY = re.compile(r"^[A-Z]{3}$")


def fold(s):
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    s = re.sub(r"[’'`]s\b", "", s)
    return " ".join(re.sub(r"[^\w\s]", " ", s).split())


def norm(name, aliases):
    key = " ".join(w for w in fold(name).split() if w not in SUFFIXES)
    return aliases.get(key, key)


def number_forms(x, cjk=False):
    """Plausible written forms of a money amount (value in currency units)."""
    forms = set()
    scales = (1, 1e3, 1e6, 1e9, 1e12, 0.01) + ((1e4, 1e8) if cjk else ())  # Chinese 万/亿
    for scale in scales:
        v = x / scale
        if v < 0.001 or v >= 1e7:
            continue
        for nd in (0, 1, 2, 3):
            s = f"{v:.{nd}f}"
            if abs(float(s) - v) > 1e-9 * max(1, v):
                continue
            forms.add(s)
            forms.add(s.replace(".", ","))
            if "." not in s:
                forms.add(f"{int(s):,}")
                forms.add(f"{int(s):,}".replace(",", "."))
                forms.add(f"{int(s):,}".replace(",", " "))
            else:  # grouped with decimals: 2,334.67 / 2.334,67 / 2 334,67
                grouped = f"{float(s):,.{nd}f}"
                forms.add(grouped)
                forms.add(grouped.translate(str.maketrans(",.", ".,")))
                forms.add(grouped.replace(",", " ").replace(".", ","))
    return {f for f in forms if f not in {"0", "0,0", "0.0"}}


WORD_NUMBERS = {1: ["one", "un ", "uno", "ein"], 2: ["two", "deux", "zwei"]}


def main():
    strict = "--strict" in sys.argv
    aliases = json.loads((HERE / "aliases.json").read_text(encoding="utf-8"))
    rows = {}
    for n, line in enumerate((HERE / "articles.jsonl").open(encoding="utf-8"), 1):
        r = json.loads(line)
        for k in ("id", "source_repo", "source_path", "license", "lang", "title", "published", "url", "text"):
            assert k in r, f"articles.jsonl line {n}: key {k} missing"
        assert r["id"] not in rows, f"duplicate article id {r['id']}"
        rows[r["id"]] = r
    errors, notes, used = [], [], set()
    files = sorted((HERE / "devgold").glob("*.json"))
    for p in files:
        g = json.loads(p.read_text(encoding="utf-8"))
        gid = g.get("id")
        where = p.name
        for k in ("id", "text_from", "lang", "published", "title", "entities", "money", "not_money", "options"):
            if k not in g:
                errors.append(f"{where}: key {k} missing")
        if p.stem != gid:
            errors.append(f"{where}: file name differs from id {gid}")
        tf = g.get("text_from", {})
        if tf != {"jsonl": "tests/eval/articles.jsonl", "id": gid}:
            errors.append(f"{where}: text_from {tf}")
        if not (ROOT / tf.get("jsonl", "")).exists():
            errors.append(f"{where}: {tf.get('jsonl')} not found from the repo root")
        row = rows.get(tf.get("id"))
        if row is None:
            errors.append(f"{where}: text_from id does not resolve")
            continue
        used.add(gid)
        if row["lang"] != g["lang"]:
            errors.append(f"{where}: lang {g['lang']} != article {row['lang']}")
        text = (row.get("title") or "") + "\n" + row["text"]
        cjk = re.search(r"[\u3040-\u9fff]", row["text"]) is not None  # no spaces between words
        ftext = " " + fold(text) + " "
        # entities
        seen = set()
        for e in g["entities"]:
            c = e.get("canonical")
            if not c or e.get("type") not in TYPES:
                errors.append(f"{where}: bad entity {e}")
                continue
            key = norm(c, aliases)
            if key in seen:
                errors.append(f"{where}: duplicate entity key {key!r} ({c})")
            seen.add(key)
            forms = {fold(c), key} | {k for k, v in aliases.items() if v == key}
            forms |= {f + "s" for f in list(forms)} | {f[:-1] for f in forms if f.endswith("s")}
            if not any(f and (f" {f} " in ftext or (cjk and f in ftext)) for f in forms):
                msg = f"{where}: entity {c!r} not found in text"
                (notes if e.get("optional") else errors).append(msg)
        # money
        for m in g["money"]:
            if not CURRENCY.match(m.get("currency", "")):
                errors.append(f"{where}: bad currency {m}")
            if "value" not in m and not ("lower" in m and "upper" in m):
                errors.append(f"{where}: money without value or range {m}")
            if "value" in m and ("lower" in m or "upper" in m):
                errors.append(f"{where}: money with value and range {m}")
            if "surface" in m and m["surface"] not in text:  # surfaces are verbatim (newlines kept)
                errors.append(f"{where}: money surface {m['surface']!r} not in text")
            vals = [] if m.get("vague") else [m[k] for k in ("value", "lower", "upper") if k in m]
            for v in vals:
                forms = number_forms(v, cjk)
                if v in WORD_NUMBERS:
                    forms |= set(WORD_NUMBERS[v])
                if not any(f in text for f in forms):
                    errors.append(f"{where}: money number {v} not found in text")
        # options
        for o in g["options"]:
            if o.get("option") not in OPTIONS or o.get("status") not in STATUSES or not o.get("actor"):
                errors.append(f"{where}: bad option {o}")
                continue
            for name in [o["actor"], *o.get("alt_actors", []), o.get("counterparty")]:
                if name and norm(name, aliases) not in seen:
                    errors.append(f"{where}: option party {name!r} is not among the entities")
            if "evidence" in o and o["evidence"] not in text:
                errors.append(f"{where}: option evidence not verbatim in text")
    extra = set(rows) - used
    if extra:
        errors.append(f"articles.jsonl has records without gold: {sorted(extra)}")
    for m in notes:
        print("note:", m)
    for m in errors:
        print("ERROR:", m)
    langs = {}
    for p in files:
        g = json.loads(p.read_text(encoding="utf-8"))
        langs[g["lang"]] = langs.get(g["lang"], 0) + 1
    print(f"{len(files)} gold files, {len(rows)} articles, per language {dict(sorted(langs.items()))}; "
          f"{len(errors)} errors, {len(notes)} notes")
    sys.exit(1 if errors or (strict and notes) else 0)


if __name__ == "__main__":
    main()
