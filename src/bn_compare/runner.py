"""The project's runners: Kedro's, knowing nothing of the project (docs/runners.md).
``ThreadRunner``, the default of ``kedro run`` here, trains side by side in one process: one
TensorFlow runtime and one copy of the data serve every training (compiled steps run
without the GIL). ``DaskRunner`` is Kedro's documented Dask runner, in its shape; data
travels through the catalog, never through Dask."""

from __future__ import annotations

import logging
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kedro.io import MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import AbstractRunner, SequentialRunner
from kedro.runner import ThreadRunner as KedroThreadRunner

from bn_compare.datasets.dask_dataset import DaskPublishedDataset

logger = logging.getLogger(__name__)


class _CancellingPool(ThreadPoolExecutor):
    """Left on an error (a signal too: ``interruption``), cancels the nodes not started."""

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> bool:
        self.shutdown(wait=True, cancel_futures=exc_type is not None)
        return False


class ThreadRunner(KedroThreadRunner):
    """Kedro's ``ThreadRunner``, starting no node after an error, one node more than cores by
    default: no training runs alone beside an idle core (docs/measurements.md)."""

    def __init__(self, max_workers: int | None = None, is_async: bool = False):
        super().__init__(max_workers=max_workers or (os.cpu_count() or 1) + 1,
                         is_async=is_async)

    def _get_executor(self, max_workers: int) -> ThreadPoolExecutor:
        return _CancellingPool(max_workers=max_workers)


class DaskRunner(AbstractRunner):
    """Runs every node as a Dask task, once the tasks of the nodes it depends on are done:
    with ``distributed.Client(**client_args)`` (``address`` for a scheduler), else on a
    ``LocalCluster`` of one single-threaded worker process per core, started for the run.
    ``is_async``: load and save a node's datasets in threads."""

    def __init__(self, client_args: dict[str, Any] | None = None, is_async: bool = False):
        super().__init__(is_async=is_async)
        self._client_args, self._load_in_threads = dict(client_args or {}), is_async

    def _get_executor(self, max_workers: int) -> None:
        return None

    def _client(self) -> Any:
        from distributed import Client

        if self._client_args:
            logger.info("Dask: connecting to %s", self._client_args)
            return Client(**self._client_args)
        logger.info("Dask: starting a LocalCluster of %d worker processes", os.cpu_count() or 1)
        return Client(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                      dashboard_address=None)  # its own LocalCluster, closed with it

    @staticmethod
    def _run_node(node: Node, catalog: Any, is_async: bool, run_id: str | None,
                  *dependencies: Node) -> Node:
        """One node on a worker; ``dependencies`` only make Dask wait for them."""
        try:
            SequentialRunner(is_async=is_async).run(Pipeline([node]), catalog, run_id=run_id)
        except Exception as error:
            try:
                pickle.dumps(error)
            except Exception:  # Dask could not send it back, and the run would hang
                raise RuntimeError(f"{node.name}: {type(error).__name__}: {error}") from None
            raise
        return node

    def _run(self, pipeline: Pipeline, catalog: Any, hook_manager: Any = None,
             run_id: str | None = None) -> None:
        from distributed import as_completed

        dependencies = pipeline.node_dependencies
        for name in pipeline.all_outputs():  # in memory, an output would stay in its worker
            if isinstance(catalog.get(name), MemoryDataset):  # named per run: a shared
                catalog[name] = DaskPublishedDataset(f"{run_id}:{name}")  # scheduler serves many
        with self._client() as client:
            futures: dict[Node, Any] = {}
            for node in pipeline.nodes:  # topologically sorted
                futures[node] = client.submit(
                    DaskRunner._run_node, node, catalog, self._load_in_threads, run_id,
                    *(futures[parent] for parent in dependencies[node]),
                    key=f"{node.name}-{run_id}", pure=False)
            try:
                for done, (_, node) in enumerate(
                        as_completed(futures.values(), with_results=True), start=1):
                    logger.info("Completed node: %s (%d of %d)", node.name, done, len(futures))
            except BaseException:
                client.cancel(list(futures.values()))
                raise
            finally:  # the run's tables in memory, gone with it
                for name in set(client.list_datasets()) & {f"{run_id}:{n}" for n in
                                                          pipeline.all_outputs()}:
                    client.unpublish_dataset(name)
