"""Pipeline benchmark: full chipwire vs bare ``nlp.pipe``, 1 vs 2 workers, Dask overhead, peak memory.

Not a test. Reads ``../shared/data/articles.jsonl`` (234 real articles in 7 languages) and
multiplies it to the sizes asked for; every copy gets a sentence with its index appended, so no
copy is an exact duplicate (near-duplicate clustering still runs on all of them, as it would on
syndicated news). Usage, from the repository root:

    .venv/bin/python bench/bench_pipeline.py --throughput 1000 --memory 1000 10000

Prints one JSON object with every figure; docs/BENCHMARKS.md "## Pipeline" quotes a run of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.config import Settings, load_settings
from pipeline.engines import DaskEngine, InProcessEngine, ProcessPoolEngine
from pipeline.run import Tools, analyse_batch, run_batch

SHARED = REPO.parent / "shared" / "data" / "articles.jsonl"


def make_batch(n: int, path: Path) -> int:
    """Write ``n`` varied articles to ``path``; returns their number of words."""
    rows = [json.loads(line) for line in SHARED.read_text(encoding="utf-8").splitlines()]
    words = 0
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            row = rows[i % len(rows)]
            text = f"{row['text']}\n\nReference number {i} of this benchmark batch."
            words += len(text.split()) + len((row.get("title") or "").split())
            handle.write(json.dumps({"id": f"{row['id']}#{i}", "title": row.get("title"), "text": text,
                                     "published": row.get("published"), "url": None}, ensure_ascii=False) + "\n")
    return words


def timed_run(batch: Path, settings: Settings, tools: Tools, engine: Any) -> tuple[float, dict[str, Any]]:
    """Wall seconds of one run into a fresh folder, and its summary."""
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        summary = run_batch([batch], Path(out), settings, tools=tools, engine=engine)
        return time.perf_counter() - t0, summary.to_dict()


def bare_pipe(batch: Path, tools: Tools, languages: dict[str, list[str]]) -> float:
    """Seconds of bare ``nlp.pipe`` over the same texts, same models, grouped by language."""
    t0 = time.perf_counter()
    for lang, texts in languages.items():
        nlp = tools.models.get(lang)
        for _ in nlp.pipe(texts, batch_size=tools.settings.batch_size):
            pass
    return time.perf_counter() - t0


def throughput(n: int, workdir: Path, rounds: int) -> dict[str, Any]:
    """Full vs bare, 1 vs 2 workers, Dask with 2 workers; warm models everywhere.

    Each ratio is measured in a phase of its own, with only the processes it compares alive:
    bare vs 1 worker with no worker process started yet; 1 vs 2 workers with the pool's workers
    idle in the background; pool vs Dask with both engines up. Within a phase the two runs are
    interleaved ``rounds`` times: this machine's speed drifts by 10 % or more over minutes,
    which one run of each, minutes apart, would read as a difference between engines. Ratios are
    taken within a round and the median round is reported, with every round's figures beside it.
    """
    batch = workdir / f"batch-{n}.jsonl"
    words = make_batch(n, batch)
    settings = load_settings()
    tools = Tools.load(settings)
    # Warm-up: load every language's pipeline and the extractors' data once, untimed.
    with tempfile.TemporaryDirectory() as out:
        run_batch([REPO / "corpus" / "sample"], Path(out), settings, tools=tools)
        warm = run_batch([batch], Path(out) / "warm", settings, tools=tools)
        records = [json.loads(x) for x in (Path(out) / "warm" / "records.jsonl").read_text().splitlines()]
    languages: dict[str, list[str]] = defaultdict(list)
    for rec in records:
        languages[rec["language"]].append(rec["text"])
    for lang in languages:
        tools.models.get(lang)
    local = InProcessEngine(tools, analyse_batch)
    bare_rounds = []
    for _ in range(rounds):
        bare = bare_pipe(batch, tools, languages)
        full, summary = timed_run(batch, settings, tools, local)
        bare_rounds.append({"bare_s": round(bare, 2), "workers1_s": round(full, 2),
                            "full_vs_bare": round(bare / full, 3),
                            "seconds_by_stage_1_worker": summary["seconds_by_stage"]})
    two = load_settings(run={"workers": 2})
    dask_settings = load_settings(run={"engine": "dask", "workers": 2})
    t0 = time.perf_counter()
    with ProcessPoolEngine(two, 2, analyse_batch, Tools.load_for_worker) as pool:
        # Workers load the statistical pipelines when they start and the blank ones on first
        # use; one untimed pass over the same batch warms both workers for every language.
        with tempfile.TemporaryDirectory() as out:
            run_batch([REPO / "corpus" / "sample"], Path(out), two, tools=tools, engine=pool)
        startup_local = time.perf_counter() - t0
        timed_run(batch, two, tools, pool)
        pool_rounds = []
        for _ in range(rounds):
            full, _ = timed_run(batch, settings, tools, local)
            workers2, _ = timed_run(batch, two, tools, pool)
            pool_rounds.append({"workers1_s": round(full, 2), "workers2_s": round(workers2, 2),
                                "speedup_2_workers": round(full / workers2, 3)})
        t0 = time.perf_counter()
        # The engine starts its own LocalCluster, configured as a `chipwire run --engine dask` would.
        with DaskEngine(dask_settings, analyse_batch, Tools.load_for_worker) as dask:
            with tempfile.TemporaryDirectory() as out:
                run_batch([REPO / "corpus" / "sample"], Path(out), dask_settings, tools=tools, engine=dask)
            startup_dask = time.perf_counter() - t0
            timed_run(batch, dask_settings, tools, dask)
            dask_rounds = []
            for _ in range(rounds):
                workers2, _ = timed_run(batch, two, tools, pool)
                dask_s, _ = timed_run(batch, dask_settings, tools, dask)
                dask_rounds.append({"workers2_s": round(workers2, 2), "dask2_s": round(dask_s, 2),
                                    "dask_vs_workers2": round(dask_s / workers2, 3)})
    median = {
        "full_vs_bare": statistics.median(r["full_vs_bare"] for r in bare_rounds),
        "speedup_2_workers": statistics.median(r["speedup_2_workers"] for r in pool_rounds),
        "dask_vs_workers2": statistics.median(r["dask_vs_workers2"] for r in dask_rounds),
        "bare_s": statistics.median(r["bare_s"] for r in bare_rounds),
        "workers1_s": statistics.median(r["workers1_s"] for r in bare_rounds),
    }
    return {
        "articles": n, "words": words, "records": warm.records, "near_duplicates": summary["near_duplicates"],
        "rounds": rounds, "median": median,
        "bare_nlp_pipe_words_per_s": round(words / median["bare_s"]),
        "full_words_per_s": round(words / median["workers1_s"]),
        "startup_workers2_s": round(startup_local, 1), "startup_dask2_s": round(startup_dask, 1),
        "bare_vs_1_worker": bare_rounds, "1_vs_2_workers": pool_rounds, "pool_vs_dask": dask_rounds,
    }


def peak_memory(n: int, workdir: Path) -> dict[str, Any]:
    """Peak RSS of a ``chipwire run`` process (one worker) over ``n`` articles.

    The figure is the run's own ``VmHWM``, which it writes at exit. ``wait4``'s ``ru_maxrss`` is
    not used: Linux carries the spawning process's high-water mark across ``exec``, so after the
    throughput phase (which loads every model here) it read this process's peak, not the run's.
    """
    batch = workdir / f"mem-{n}.jsonl"
    make_batch(n, batch)
    out = workdir / f"mem-out-{n}"
    peak_file = workdir / f"mem-peak-{n}.txt"
    launcher = ("import atexit, re, sys\n"
                "def peak():\n"
                "    status = open('/proc/self/status').read()\n"
                f"    open({str(peak_file)!r}, 'w').write(re.search(r'VmHWM:\\s+(\\d+)', status).group(1))\n"
                "atexit.register(peak)\n"
                "from pipeline.cli import main\n"
                "sys.exit(main())")
    cmd = [sys.executable, "-c", launcher, "run", str(batch), "--out", str(out), "--quiet"]
    t0 = time.perf_counter()
    code = subprocess.run(cmd, cwd=REPO, check=False).returncode
    seconds = time.perf_counter() - t0
    return {"articles": n, "exit": code, "peak_rss_mb": round(int(peak_file.read_text()) / 1024, 1),
            "seconds": round(seconds, 1), "articles_per_s": round(n / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--throughput", type=int, nargs="*", default=[1000], help="batch sizes to time")
    parser.add_argument("--memory", type=int, nargs="*", default=[1000, 10000], help="batch sizes for peak RSS")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the throughput figures")
    args = parser.parse_args()
    result: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result["throughput"] = [throughput(n, work, args.rounds) for n in args.throughput]
        result["memory"] = [peak_memory(n, work) for n in args.memory]
    if len(result["memory"]) >= 2:
        first, last = result["memory"][0], result["memory"][-1]
        result["memory_growth"] = round(last["peak_rss_mb"] / first["peak_rss_mb"] - 1, 3)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
