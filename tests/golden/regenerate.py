"""Rewrite the golden end-to-end file from a run on ``corpus/sample`` (``make golden``).

Review the diff before committing: a change in the golden file is a change in
chipwire's output that somebody must have meant.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from pipeline.config import load_settings
from pipeline.run import run_batch

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "sample.json"


def project(record: dict[str, Any]) -> dict[str, Any]:
    """The part of a record the golden file pins: everything but provenance and the full text."""
    return {
        "source_id": Path(record["source"]["id"]).name if record["source"]["path"] == record["source"]["id"]
        else record["source"]["id"],
        "language": record["language"],
        "title": record["title"],
        "published": record["published"],
        "text_sha256_prefix": hashlib.sha256(record["text"].encode("utf-8")).hexdigest()[:16],
        "entities": [[e["text"], e["label"], e["start"], e["end"]] for e in record["entities"]],
        "money": record["money"],
        "quantities": record["quantities"],
        "options": record["options"],
    }


def golden_projection(out_dir: Path) -> list[dict[str, Any]]:
    """Project every record of a finished run's ``records.jsonl``."""
    lines = (out_dir / "records.jsonl").read_text(encoding="utf-8").splitlines()
    return [project(json.loads(line)) for line in lines]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_batch([REPO / "corpus" / "sample"], Path(tmp), load_settings())
        GOLDEN.write_text(json.dumps(golden_projection(Path(tmp)), ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
