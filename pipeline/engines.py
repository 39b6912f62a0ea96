"""Engines: where the expensive middle of the pipeline runs (language, spaCy, extractors, MinHash).

The coordinator hands an engine chunks of normalised articles, in input order, and gets their
analyses back in the same order; it never sees where they ran. Three engines:

- :class:`InProcessEngine`: in the coordinator's own process (``--workers 1``, the default).
- :class:`ProcessPoolEngine`: ``--workers N`` local processes, each loading the models once.
- :class:`DaskEngine`: the workers of a Dask distributed cluster (``--engine dask``, a
  ``LocalCluster`` when no ``--scheduler`` is given), each loading the models once through a
  worker plugin.

Every engine runs the same function on the same chunks, so every engine yields the same records.
A few chunks are kept in flight so that the workers never wait for the coordinator.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

from distributed.diagnostics.plugin import WorkerPlugin

from pipeline.config import Settings
from pipeline.records import Article, ErrorEntry, Record

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

T = TypeVar("T")
# Tasks kept queued per worker beyond the chunk being waited for: enough to hide the
# coordinator's planning and commits.
IN_FLIGHT_PER_WORKER = 4


@dataclass(frozen=True)
class AnalysedBatch:
    """The engine's answer for one chunk: one (outcome, MinHash signature) per article, in order,
    and the seconds each stage took (summed over the worker's articles)."""

    results: list[tuple[Record | ErrorEntry, bytes | None]]
    seconds: dict[str, float]


Work = Callable[[list[Article], Any], AnalysedBatch]
Loader = Callable[[Settings], Any]


class Engine(Protocol):
    """Runs ``work`` over chunks of articles and yields the results in input order."""

    def map(self, chunks: Iterable[tuple[T, list[Article]]]) -> Iterator[tuple[T, AnalysedBatch]]:
        """Yield ``(tag, analysed)`` for every ``(tag, articles)`` of ``chunks``, in order."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class InProcessEngine:
    """Analyses in the calling process with already loaded tools."""

    def __init__(self, tools: Any, work: Work) -> None:
        self.tools, self.work = tools, work

    def map(self, chunks: Iterable[tuple[T, list[Article]]]) -> Iterator[tuple[T, AnalysedBatch]]:
        """Analyse each chunk as it comes."""
        for tag, articles in chunks:
            yield tag, self.work(articles, self.tools) if articles else AnalysedBatch([], {})

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _tasks(articles: list[Article], size: int) -> list[list[Article]]:
    """Cut one chunk into tasks of at most ``size`` articles (a chunk of 0 articles has 0 tasks)."""
    return [articles[i:i + size] for i in range(0, len(articles), size)]


def _merged(batches: list[AnalysedBatch]) -> AnalysedBatch:
    """One chunk's answer from its tasks' answers, in task order."""
    seconds: dict[str, float] = {}
    for batch in batches:
        for stage, secs in batch.seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + secs
    return AnalysedBatch([r for batch in batches for r in batch.results], seconds)


def _ordered(submit: Callable[[list[Article]], Any], chunks: Iterable[tuple[T, list[Article]]],
             task_size: int, window: int, result: Callable[[Any], AnalysedBatch]
             ) -> Iterator[tuple[T, AnalysedBatch]]:
    """Submit each chunk as tasks of ``task_size`` articles and yield the chunks' answers in order.

    Chunks are the coordinator's commit units; tasks are what the workers share. Cutting a chunk
    into tasks keeps every worker busy until the end of a batch (whole chunks would leave a worker
    idle while another finishes the last one). At least ``window`` tasks stay submitted while the
    coordinator waits for the oldest chunk, so the workers never wait for the coordinator.
    """
    pending: deque[tuple[T, list[Any]]] = deque()
    in_flight = 0

    def oldest() -> tuple[T, AnalysedBatch]:
        nonlocal in_flight
        tag, futures = pending.popleft()
        in_flight -= len(futures)
        return tag, _merged([result(f) for f in futures])

    for tag, articles in chunks:
        futures = [submit(task) for task in _tasks(articles, task_size)]
        pending.append((tag, futures))
        in_flight += len(futures)
        while pending and in_flight - len(pending[0][1]) >= window:
            yield oldest()
    while pending:
        yield oldest()


# --- local worker processes -------------------------------------------------------------------

# Each worker process's tools: a process-pool initializer has nowhere else to put them. This is
# the only module-level state, it lives in the worker processes only, and it is set once.
_WORKER_TOOLS: list[Any] = []


def _init_worker(settings: Settings, load: Loader) -> None:
    _WORKER_TOOLS.append(load(settings))


def _work_in_worker(work: Work, articles: list[Article]) -> AnalysedBatch:
    return work(articles, _WORKER_TOOLS[0])


class ProcessPoolEngine:
    """``workers`` local processes (spawned, so no lock or thread is inherited mid-state).

    Args:
        settings: The run's settings (each worker builds its tools from them).
        workers: Number of processes.
        work: The analysis function (a module-level function, so it pickles by name).
        load: Builds a worker's tools from the settings.
    """

    def __init__(self, settings: Settings, workers: int, work: Work, load: Loader) -> None:
        self.workers, self.work, self.task_size = workers, work, settings.run.task_size
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_worker, initargs=(settings, load))

    def map(self, chunks: Iterable[tuple[T, list[Article]]]) -> Iterator[tuple[T, AnalysedBatch]]:
        """Analyse chunks in the pool, cut into tasks that the worker processes share."""
        return _ordered(lambda articles: self._pool.submit(_work_in_worker, self.work, articles), chunks,
                        self.task_size, self.workers * IN_FLIGHT_PER_WORKER, lambda f: f.result())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# --- Dask distributed -------------------------------------------------------------------------

class ToolsPlugin(WorkerPlugin):
    """A Dask worker plugin that loads chipwire's tools once per worker, when the worker joins.

    Args:
        settings: The run's settings.
        load: Builds the tools from the settings.
    """

    def __init__(self, settings: Settings, load: Loader) -> None:
        self.settings, self.load = settings, load
        self.name = f"chipwire-tools-{settings.config_hash()}"
        self.tools: Any = None

    def setup(self, worker: Any) -> None:
        """Load the tools (the models themselves load lazily per language on first use)."""
        self.tools = self.load(self.settings)

    def teardown(self, worker: Any) -> None:
        """Drop the tools with the worker."""
        self.tools = None


def _work_on_dask(plugin_name: str, work: Work, articles: list[Article]) -> AnalysedBatch:
    from distributed import get_worker

    plugin = get_worker().plugins[plugin_name]
    assert isinstance(plugin, ToolsPlugin)
    return work(articles, plugin.tools)


def _worker_environ() -> dict[str, Any]:
    """The environment Dask gives its worker processes, minus ``MALLOC_TRIM_THRESHOLD_``.

    Dask sets that variable so that workers hand freed memory back to the OS. Setting it also
    switches off glibc's adaptive mmap threshold, so every array above 128 kB that spaCy makes is
    mapped and unmapped afresh: measured on 600 articles, the workers spent 12 % longer in
    ``nlp.pipe`` than the pool's workers, which run with glibc's defaults. Without it the Dask
    workers' memory behaves as the pool's: 1,007-1,055 MB after each of three 600-article runs.
    """
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return environ


class DaskEngine:
    """Analyses on a Dask distributed cluster.

    Args:
        settings: The run's settings.
        work: The analysis function.
        load: Builds a worker's tools from the settings.
        client: A connected client to use (tests); else one is made for ``settings.run.scheduler``
            or for a new ``LocalCluster`` of ``settings.run.workers`` single-threaded processes.
    """

    def __init__(self, settings: Settings, work: Work, load: Loader, client: Client | None = None) -> None:
        import dask
        from distributed import Client, LocalCluster

        self.work, self.task_size = work, settings.run.task_size
        self._own_cluster: LocalCluster | None = None
        self._own_client = client is None
        if client is None:
            if settings.run.scheduler:
                client = Client(settings.run.scheduler)
            else:
                # No dashboard, so no use for the workers' statistical profiler, which samples every
                # worker's stack every 10 ms on the cores the analysis needs.
                with dask.config.set({"distributed.worker.profile.enabled": False,
                                      "distributed.nanny.pre-spawn-environ": _worker_environ()}):
                    self._own_cluster = LocalCluster(n_workers=settings.run.workers, threads_per_worker=1,
                                                     processes=True, dashboard_address=None)
                client = Client(self._own_cluster)
        self.client = client
        self.plugin = ToolsPlugin(settings, load)
        # Any worker joining later (an autoscaled cluster) gets the plugin too.
        client.register_plugin(self.plugin)
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))

    def map(self, chunks: Iterable[tuple[T, list[Article]]]) -> Iterator[tuple[T, AnalysedBatch]]:
        """Submit chunks to the cluster as tasks, a few per worker at a time, and yield them in order."""
        def submit(articles: list[Article]) -> Any:
            return self.client.submit(_work_on_dask, self.plugin.name, self.work, articles, pure=False)

        return _ordered(submit, chunks, self.task_size, self.workers * IN_FLIGHT_PER_WORKER, lambda f: f.result())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._own_client:
            self.client.close()
        if self._own_cluster is not None:
            self._own_cluster.close()


def make_engine(settings: Settings, tools: Any, work: Work, load: Loader) -> Engine:
    """The engine ``settings.run`` asks for; ``tools`` are used by the in-process engine only."""
    if settings.run.engine == "dask":
        return DaskEngine(settings, work, load)
    if settings.run.workers > 1:
        return ProcessPoolEngine(settings, settings.run.workers, work, load)
    return InProcessEngine(tools, work)
