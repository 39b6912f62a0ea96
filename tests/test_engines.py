"""Every engine yields the same records: this process, two local worker processes, a Dask cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from pipeline.config import Settings, load_settings
from pipeline.engines import DaskEngine, ProcessPoolEngine, _worker_environ, make_engine
from pipeline.run import Tools, analyse_batch, run_batch
from tests.conftest import REPO

SAMPLE = REPO / "corpus" / "sample"


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The eight sample articles in seven languages (two statistical pipelines, five blank) plus a bad line."""
    lines = (SAMPLE / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("engines") / "mixed.jsonl"
    path.write_text("\n".join([*lines[:10], "{not json"]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(batch: Path, tmp_path_factory: pytest.TempPathFactory, settings: Settings, tools: Tools) -> bytes:
    out = tmp_path_factory.mktemp("in-process")
    summary = run_batch([batch], out, settings, tools=tools)
    assert summary.records == 8 and summary.errors == 1
    return (out / "records.jsonl").read_bytes()


def test_two_worker_processes_give_the_same_records(batch: Path, reference: bytes, tmp_path: Path,
                                                    settings: Settings, tools: Tools) -> None:
    # chunk_size 2 spreads the batch over both workers, several chunks in flight.
    local = load_settings(run={"workers": 2, "chunk_size": 2})
    with ProcessPoolEngine(local, 2, analyse_batch, Tools.load) as engine:
        summary = run_batch([batch], tmp_path, local, tools=tools, engine=engine)
    assert (tmp_path / "records.jsonl").read_bytes() == reference
    assert summary.seconds["nlp"] > 0  # the workers' stage times come back to the summary


def test_a_two_worker_dask_cluster_gives_the_same_records(batch: Path, reference: bytes, tmp_path: Path,
                                                          tools: Tools) -> None:
    dask_settings = load_settings(run={"engine": "dask", "workers": 2, "chunk_size": 2})
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client, DaskEngine(dask_settings, analyse_batch, Tools.load, client=client) as engine:
        assert engine.workers == 2
        run_batch([batch], tmp_path, dask_settings, tools=tools, engine=engine)
        # Models were loaded once per worker, by the plugin, not once per task.
        name = engine.plugin.name
        loaded = client.run(lambda dask_worker: dask_worker.plugins[name].tools is not None)
        assert list(loaded.values()) == [True, True]
    assert (tmp_path / "records.jsonl").read_bytes() == reference


def test_engine_choice_follows_the_settings(settings: Settings, tools: Tools) -> None:
    assert type(make_engine(settings, tools, analyse_batch, Tools.load)).__name__ == "InProcessEngine"
    many = load_settings(run={"workers": 2})
    with make_engine(many, tools, analyse_batch, Tools.load) as engine:
        assert isinstance(engine, ProcessPoolEngine)


def test_own_dask_workers_keep_glibc_s_adaptive_allocator() -> None:
    # Dask's MALLOC_TRIM_THRESHOLD_ made nlp.pipe 12 % slower in its workers; the rest of the
    # environment Dask (or the user) configures is kept.
    import dask

    with dask.config.set({"distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536,
                                                                  "OMP_NUM_THREADS": 1}}):
        assert _worker_environ() == {"OMP_NUM_THREADS": 1}


def test_records_do_not_depend_on_execution_settings(settings: Settings) -> None:
    assert load_settings(run={"workers": 4, "engine": "dask"}, fetch={"timeout": 1.0}).config_hash() \
        == settings.config_hash()
    assert load_settings(dedup={"threshold": 0.5}).config_hash() != settings.config_hash()


def test_memory_zone_keeps_the_vocabulary_flat(tools: Tools) -> None:
    from pipeline.normalize import normalize_article
    from pipeline.records import RawArticle, Source

    def articles(start: int) -> list:  # type: ignore[type-arg]
        return [normalize_article(RawArticle(Source(f"x{i}", "p"), None,
                                             f"Zeta{i}corp and Omega{i}tech signed a deal worth {i} million dollars "
                                             f"in Dresden, the companies said on Monday.", None, "text"),
                                  tools.normalizer) for i in range(start, start + 40)]

    analyse_batch(articles(0), tools)
    nlp = tools.models.get("en")
    before = len(nlp.vocab.strings)
    result = analyse_batch(articles(1000), tools)
    assert all(type(r).__name__ == "Record" for r, _ in result.results)
    assert len(nlp.vocab.strings) - before < 40  # 80 new words did not stay in the vocabulary
    json.dumps(result.seconds)
