"""Runners that train variants side by side: in threads, in processes or on machines of
their own.

``ThreadRunner`` (this project's default, see ``cli.py``) is Kedro's, with what
TensorFlow needs: one node per core at a time in one process, so one TensorFlow
runtime and one copy of the data serve every training (TensorFlow runs the compiled
training steps without holding the GIL), each op single-threaded and Keras' global
state guarded (``tf_runtime.share_process``).

``ParallelRunner`` is Kedro's, with what TensorFlow needs: workers are spawned (never
forked from a process that may hold TensorFlow's thread pools), each imports TensorFlow
once when it starts, and each gets ``cores // workers`` threads so the cores are not
oversubscribed.

``DaskRunner`` runs the same nodes as tasks on ``dask.distributed``: a ``LocalCluster``
by default, or an existing scheduler for a cluster of machines.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from kedro.pipeline import Node, Pipeline
from kedro.runner import AbstractRunner
from kedro.runner import ParallelRunner as KedroParallelRunner
from kedro.runner import ThreadRunner as KedroThreadRunner

from bn_compare.tf_runtime import THREADS_ENV, share_process

DASK_ADDRESS_ENV = "BN_COMPARE_DASK_ADDRESS"


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    return max(1, (cores or os.cpu_count() or 1) // max(workers, 1))


def _start_worker(threads: int) -> None:
    os.environ[THREADS_ENV] = str(threads)
    # Paid once per worker, while the other workers start and the first nodes run.
    import tensorflow  # noqa: F401


def _ready() -> None:
    """A no-op task: submitting one per worker starts them all now."""


_active_pool: ProcessPoolExecutor | None = None


def active_worker_pool() -> ProcessPoolExecutor | None:
    """The workers of the ``ParallelRunner`` about to run, if any (the parameter check
    runs there, so the main process never imports TensorFlow)."""
    return _active_pool


class ThreadRunner(KedroThreadRunner):
    """Kedro's ``ThreadRunner`` for TensorFlow nodes: ``max_workers`` nodes at a time
    (default: one per core; three trainings at once on two cores were 27% slower in
    total than two), each TensorFlow op on one thread."""

    def __init__(self, max_workers: int | None = None, is_async: bool = False):
        workers = max_workers or os.cpu_count() or 1
        super().__init__(max_workers=workers, is_async=is_async)
        share_process(self._max_workers)


class ParallelRunner(KedroParallelRunner):
    """Kedro's ``ParallelRunner`` with spawned, TensorFlow-ready workers.

    The workers start when the runner is created, so their TensorFlow import overlaps
    with Kedro loading the catalog and checking the parameters.
    """

    def __init__(self, max_workers: int | None = None, is_async: bool = False):
        global _active_pool  # noqa: PLW0603
        super().__init__(max_workers=max_workers, is_async=is_async)
        self._pool = ProcessPoolExecutor(
            max_workers=self._max_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(threads_per_worker(self._max_workers),),
        )
        for _ in range(self._max_workers):
            self._pool.submit(_ready)
        _active_pool = self._pool

    def _get_executor(self, max_workers: int) -> Executor:
        return self._pool

    def __del__(self) -> None:
        global _active_pool  # noqa: PLW0603
        if _active_pool is getattr(self, "_pool", None):
            _active_pool = None
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        super().__del__()


def _run_task(
    node: Node, catalog: Any, is_async: bool, run_id: str | None, threads: int,
    *dependencies: Any,
) -> Node:
    """Run one node on a Dask worker: the project is configured there first."""
    from kedro.framework.hooks.manager import (
        _create_hook_manager,
        _register_hooks,
        _register_hooks_entry_points,
    )
    from kedro.framework.project import configure_project, settings
    from kedro.runner.task import Task

    os.environ.setdefault(THREADS_ENV, str(threads))
    configure_project(__package__)
    hook_manager = _create_hook_manager()
    _register_hooks(hook_manager, settings.HOOKS)
    _register_hooks_entry_points(hook_manager, settings.DISABLE_HOOKS_FOR_PLUGINS)
    return Task(node=node, catalog=catalog, is_async=is_async,
                hook_manager=hook_manager, run_id=run_id).execute()


class DaskRunner(AbstractRunner):
    """Runs every node as a task on a ``dask.distributed`` cluster.

    Follows Kedro's documented DaskRunner: each node is submitted with the futures of
    the nodes it depends on, so Dask starts it once they are done; data travels
    through the catalog (every dataset in this project is a file), never through Dask.

    Args:
        address: a running scheduler (``tcp://host:8786``). Default: the environment
            variable ``BN_COMPARE_DASK_ADDRESS``, else a ``LocalCluster`` started here
            with one single-threaded worker process per core.
        n_workers: workers of the ``LocalCluster`` (default: cores).
        threads_per_task: TensorFlow threads per task (default 1).
        is_async: load and save a node's datasets in threads.

    With a remote cluster, every worker needs this project installed and the same
    paths (``data/``) on shared storage; see README, "Runners".
    """

    def __init__(
        self,
        address: str | None = None,
        n_workers: int | None = None,
        threads_per_task: int = 1,
        is_async: bool = False,
    ):
        super().__init__(is_async=is_async)
        self._address = address or os.environ.get(DASK_ADDRESS_ENV) or None
        self._n_workers = int(n_workers) if n_workers else (os.cpu_count() or 1)
        self._threads = int(threads_per_task)

    def _get_executor(self, max_workers: int) -> None:
        return None

    def _client(self) -> Any:
        from dask.distributed import Client, LocalCluster

        if self._address:
            self._logger.info("Dask: connecting to the scheduler at %s", self._address)
            return Client(self._address)
        self._logger.info("Dask: starting a LocalCluster of %d workers", self._n_workers)
        cluster = LocalCluster(
            n_workers=self._n_workers, threads_per_worker=1, processes=True,
            dashboard_address=None,
        )
        return Client(cluster)

    def _run(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
    ) -> None:
        from dask.distributed import as_completed

        client = self._client()
        try:
            dependencies = pipeline.node_dependencies
            futures: dict[Node, Any] = {}
            for node in pipeline.nodes:  # topologically sorted
                futures[node] = client.submit(
                    _run_task, node, catalog, self._is_async, run_id, self._threads,
                    *(futures[parent] for parent in dependencies[node]),
                    key=f"{node.name}-{uuid.uuid4().hex[:8]}", pure=False,
                )
            total = len(futures)
            for done, future in enumerate(as_completed(futures.values()), start=1):
                node = future.result()  # re-raises a node's error here
                self._logger.info("Completed node: %s", node.name)
                self._logger.info("Completed %d out of %d tasks", done, total)
        finally:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()
