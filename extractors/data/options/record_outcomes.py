"""Write ``record_outcomes.csv``: chipwire's option records on labelled batches, each marked right or wrong.

Usage (from the repository root; the batches are not in the repository, see README.md, "Record
confidence")::

    .venv/bin/python -m extractors.data.options.record_outcomes BATCH_DIR RECORDS_JSONL [BATCH_DIR RECORDS_JSONL ...]

A batch directory holds ``gold/<id>.json`` files (the format of ``tests/eval/devgold``) and the batch's
``aliases.json``; ``RECORDS_JSONL`` is a chipwire run's output on the batch's articles. A record is
right when its (actor, option) pair is in the article's gold, matched as the project's scorer matches
names (``tests/eval/score.py``, with the batch's aliases). Only ids, features and outcomes are
written: no text of the articles.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from tests.eval.score import norm

COLUMNS = ("batch", "article", "option", "classifier_probability", "via_coref", "evidence", "counterparty",
           "background", "correct")


def _norm(name: Any, aliases: dict[str, str]) -> str:
    """The project scorer's name key (``tests.eval.score.norm``), then the batch's own aliases."""
    key = norm(name)
    return aliases.get(key, key)


def outcome_rows(batch: Path, records: Path) -> list[dict[str, Any]]:
    """One row per option record of ``records`` whose article has a gold file in ``batch``."""
    aliases = json.loads((batch / "aliases.json").read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = []
    for line in records.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        gold_file = batch / "gold" / f"{record['source']['id']}.json"
        if not gold_file.exists():
            continue
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
        pairs = {(_norm(actor, aliases), o["option"]) for o in gold["options"]
                 for actor in (o["actor"], *o.get("alt_actors", []))}
        for option in record.get("options", []):
            rows.append({
                "batch": batch.name, "article": gold["id"], "option": option["option"],
                "classifier_probability": option["classifier_probability"],
                "via_coref": int(option["actor"]["via_coref"]), "evidence": len(option["evidence"]),
                "counterparty": int(bool(option["counterparty"])), "background": int(option["background"]),
                "correct": int((_norm(option["actor"], aliases), option["option"]) in pairs),
            })
    return rows


def main(argv: list[str]) -> int:
    """Write the CSV to standard output."""
    if not argv or len(argv) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for batch, records in zip(argv[::2], argv[1::2], strict=True):
        writer.writerows(outcome_rows(Path(batch), Path(records)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
