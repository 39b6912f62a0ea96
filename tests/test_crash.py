"""Crash safety: a real ``chipwire run`` killed with SIGKILL at random moments, then run again,
ends with exactly the outputs of an uninterrupted run.

``make test`` runs ``CHIPWIRE_CRASH_TRIALS`` trials (default 6, about a minute); the issue's
long variant is ``CHIPWIRE_CRASH_TRIALS=20 .venv/bin/python -m pytest tests/test_crash.py``.
Each trial kills the run up to three times at a moment drawn uniformly over an uninterrupted
run's duration (start-up included, so some kills land before the first commit, some mid-chunk,
some during the export), then lets it finish.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.write import OUTPUT_FILES, TABLES

TRIALS = int(os.environ.get("CHIPWIRE_CRASH_TRIALS", "6"))
CHIPWIRE = [sys.executable, "-c", "import sys; from pipeline.cli import main; sys.exit(main())"]
# Small and quick: German articles (a blank spaCy pipeline), three extractors, commits of 3 items.
CONFIG = """\
extractors = ["entities.v1", "money.v1", "quantities.v1"]
[run]
chunk_size = 3
"""
WORDS = ["Halbleiter", "Chip", "Fabrik", "Dresden", "Magdeburg", "Intel", "Nvidia", "Umsatz", "Prozent", "Speicher", "Wafer", "Auftrag", "Subvention", "Kunde", "Markt", "Aktie", "Quartal", "Rechenzentrum", "Grafikkarte", "Lieferung"]


def _articles(path: Path) -> None:
    rng = random.Random(7)
    lines = []
    for i in range(30):
        body = " ".join(rng.choice(WORDS) for _ in range(40))
        lines.append({"id": f"a{i:02d}", "title": f"Meldung {i}",
                      "text": f"Die Firma meldet {i + 1} Millionen Euro Umsatz und {i} Prozent Wachstum. {body}."})
    lines[12] = {**lines[3], "id": "copy-of-a03"}  # an exact duplicate
    lines[20] = {**lines[5], "id": "variant-of-a05", "text": lines[5]["text"] + " Ergänzt."}  # a near-duplicate
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in lines)
    path.write_text(text.replace('{"id": "a25"', '{broken\n{"id": "a25"', 1), encoding="utf-8")


def _run(inp: Path, out: Path, config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*CHIPWIRE, "run", str(inp), "--out", str(out), "--config", str(config), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _outputs(out: Path) -> dict[str, object]:
    found: dict[str, object] = {name: (out / name).read_bytes() for name in OUTPUT_FILES.values()}
    for table in TABLES:
        found[table] = pq.read_table(out / "parquet" / f"{table}.parquet").to_pylist()
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float, dict[str, object]]:
    root = tmp_path_factory.mktemp("crash")
    inp, config = root / "wire.jsonl", root / "config.toml"
    _articles(inp)
    config.write_text(CONFIG)
    t0 = time.monotonic()
    proc = _run(inp, root / "reference", config)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    return inp, config, time.monotonic() - t0, _outputs(root / "reference")


def test_reference_run_accounts_for_every_item(reference: tuple[Path, Path, float, dict[str, object]]) -> None:
    _, _, _, outputs = reference
    counts = {name: len(outputs[name].splitlines()) for name in OUTPUT_FILES.values()}  # type: ignore[union-attr]
    assert counts == {"records.jsonl": 29, "duplicates.jsonl": 1, "errors.jsonl": 1}


@pytest.mark.parametrize("trial", range(TRIALS))
def test_killed_runs_resume_to_the_same_outputs(trial: int, tmp_path: Path,
                                                reference: tuple[Path, Path, float, dict[str, object]]) -> None:
    inp, config, duration, expected = reference
    rng = random.Random(trial)
    out = tmp_path / "out"
    kills = 0
    for _ in range(rng.randint(1, 3)):
        proc = _run(inp, out, config)
        time.sleep(rng.uniform(0.0, duration))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    proc = _run(inp, out, config)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert _outputs(out) == expected, f"trial {trial}: outputs differ after {kills} kill(s)"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"] == summary["records"] + summary["duplicates"] + summary["errors"] == 31
