"""Runners that train side by side: in threads, in processes or on machines of their
own. All three start the longest work first (``scheduling``), log a progress line as
each training ends, and set TensorFlow up where the nodes run (``tf_runtime``).

``ThreadRunner`` (this project's default, see ``cli.py``) is Kedro's, with what
TensorFlow needs: one node per core at a time in one process, so one TensorFlow
runtime and one copy of the data serve every training (TensorFlow runs the compiled
training steps without holding the GIL), each op single-threaded and Keras' global
state guarded (``tf_runtime.shared_by``).

``ParallelRunner`` is Kedro's, with what TensorFlow needs: workers are spawned (never
forked from a process that may hold TensorFlow's thread pools), each imports TensorFlow
once when it starts, and each gets ``cores // workers`` threads so the cores are not
oversubscribed.

``DaskRunner`` runs the same nodes as tasks on ``dask.distributed``: a ``LocalCluster``
by default, or an existing scheduler for a cluster of machines.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import pickle
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from itertools import chain
from typing import Any

from kedro.pipeline import Node, Pipeline
from kedro.runner import AbstractRunner
from kedro.runner import ParallelRunner as KedroParallelRunner
from kedro.runner import ThreadRunner as KedroThreadRunner
from kedro.runner.task import Task

from bn_compare import interruption, tf_runtime
from bn_compare.interruption import RunInterrupted, TrainingInterrupted
from bn_compare.parameters import ProjectParameters
from bn_compare.scheduling import TrainingProgress, node_costs, priorities
from bn_compare.tf_runtime import TensorFlowSettings
from bn_compare.validation import keras_problems

DASK_ADDRESS_ENV = "BN_COMPARE_DASK_ADDRESS"
STOP_GRACE_SECONDS = 10  # for running nodes to stop after Ctrl-C, before they are abandoned


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    return max(1, (cores or os.cpu_count() or 1) // max(workers, 1))


def _run_settings(catalog: Any) -> tuple[dict[str, Any], TensorFlowSettings]:
    parameters = catalog.load("parameters")
    training = ProjectParameters.model_validate(parameters).training
    return parameters, TensorFlowSettings.from_training(training)


class _LongestFirst:
    """The scheduling loop of Kedro's ``AbstractRunner._run`` (kedro 1.7), with one
    change: among the ready nodes, the costliest path goes first, and only as many are
    handed to the executor as it has workers, so a node that becomes ready later can
    still overtake cheaper ones that wait.

    Kedro internals used here (``tests/test_kedro_internals.py`` fails when an upgrade
    changes them): ``Task``, ``_validate_catalog``, ``_validate_nodes``,
    ``_set_manager_datasets``, ``_get_required_workers_count``, ``_release_datasets``,
    ``_suggest_resume_scenario`` and ``_raise_runtime_error``; in
    ``_project_hook_manager``, Kedro's hook manager helpers.
    """

    def _submit(self, executor: Executor, task: Task, settings: TensorFlowSettings,
                workers: int) -> Future:
        raise NotImplementedError

    def _sharing(self, workers: int) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def _request_stop(self) -> None:
        interruption.request_stop()

    def _abandon(self, futures: set[Future]) -> None:
        """Nodes still running after the grace period (none stop that slowly here)."""

    def _interrupted(self, running: dict[Future, Node], done: int,
                     total: int) -> RunInterrupted:
        """Ctrl-C: ask the running trainings to stop at their next chunk of steps, let
        the other running nodes finish, start nothing more, and say what happened."""
        self._request_stop()
        finished, late = wait(running, timeout=STOP_GRACE_SECONDS)
        stopped = [str(f.exception()) for f in finished
                   if isinstance(f.exception(), TrainingInterrupted)]
        done += sum(1 for f in finished if f.exception() is None)
        stopped += [f"{running[f].name} (abandoned after {STOP_GRACE_SECONDS} s)"
                    for f in late]
        self._abandon(late)
        return RunInterrupted(
            f"stopped {'; '.join(stopped) if stopped else 'no training'}; {done} of "
            f"{total} nodes had completed. Every file written is complete and versioned; "
            f"nothing of the stopped nodes was saved. Run the same command again (add "
            f"--only-missing-outputs to keep what completed).")

    def _run(self, pipeline: Pipeline, catalog: Any, hook_manager: Any = None,
             run_id: str | None = None) -> None:
        interruption.reset()
        interruption.quiet_stopped_nodes()
        nodes = pipeline.nodes
        self._validate_catalog(catalog)
        self._validate_nodes(nodes)
        self._set_manager_datasets(catalog)
        load_counts = Counter(chain.from_iterable(n.inputs for n in nodes))
        dependencies = pipeline.node_dependencies
        parameters, settings = _run_settings(catalog)
        costs = node_costs(pipeline, parameters)
        rank = priorities(pipeline, costs)
        position = {node: index for index, node in enumerate(nodes)}
        progress = TrainingProgress(pipeline, costs)
        workers = self._get_required_workers_count(pipeline)
        todo, done_nodes, running = set(nodes), set(), {}
        with self._get_executor(workers) as executor, self._sharing(workers):
            try:
                while todo or running:
                    ready = sorted((n for n in todo if dependencies[n] <= done_nodes),
                                   key=lambda n: (-rank[n], position[n]))
                    for node in ready[: workers - len(running)]:
                        todo.discard(node)
                        task = Task(node=node, catalog=catalog, hook_manager=hook_manager,
                                    is_async=self._is_async, run_id=run_id)
                        running[self._submit(executor, task, settings, workers)] = node
                    if not running:
                        self._raise_runtime_error(todo, done_nodes, set(ready), None)
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        node = running.pop(future)
                        try:
                            future.result()
                        except Exception:
                            self._suggest_resume_scenario(pipeline, done_nodes, catalog)
                            raise
                        done_nodes.add(node)
                        self._logger.info("Completed node: %s", node.name)
                        self._logger.info("Completed %d out of %d tasks", len(done_nodes),
                                          len(nodes))
                        self._release_datasets(node, catalog, load_counts, pipeline)
                        progress.node_done(node)
            except KeyboardInterrupt:
                raise self._interrupted(running, len(done_nodes), len(nodes)) from None


class ThreadRunner(_LongestFirst, KedroThreadRunner):
    """Kedro's ``ThreadRunner`` for TensorFlow nodes: ``max_workers`` nodes at a time
    (default: one per core), in one process, longest work first."""

    def __init__(self, max_workers: int | None = None, is_async: bool = False):
        super().__init__(max_workers=max_workers or os.cpu_count() or 1, is_async=is_async)

    def _sharing(self, workers: int) -> contextlib.AbstractContextManager[None]:
        return tf_runtime.shared_by(workers)

    def _submit(self, executor: Executor, task: Task, settings: TensorFlowSettings,
                workers: int) -> Future:
        return executor.submit(task)


def _start_worker(stop: Any) -> None:
    interruption.use_event(stop)
    # Paid once per worker, while the other workers start and the first nodes run.
    import tensorflow  # noqa: F401


def _ready() -> None:
    """A no-op task: submitting one per worker starts them all now."""


def _execute_in_worker(task: Task, settings: TensorFlowSettings) -> Node:
    tf_runtime.configure(settings)
    task.hook_manager = _project_hook_manager()
    return task.execute()


@functools.cache
def _project_hook_manager() -> Any:
    """The project's hooks in a worker process: the project configured, its hooks
    registered, once per process. Not ``Task(parallel=True)``: in a worker that has the
    project configured it reconfigures Kedro's logging with itself, a recursion, on
    every task."""
    from kedro.framework.hooks.manager import (
        _create_hook_manager,
        _register_hooks,
        _register_hooks_entry_points,
    )
    from kedro.framework.project import configure_project
    from kedro.framework.project import settings as project_settings

    configure_project(__package__)
    hook_manager = _create_hook_manager()
    _register_hooks(hook_manager, project_settings.HOOKS)
    _register_hooks_entry_points(hook_manager, project_settings.DISABLE_HOOKS_FOR_PLUGINS)
    return hook_manager


def _check_in_worker(parameters: ProjectParameters, settings: TensorFlowSettings) -> list[str]:
    tf_runtime.configure(settings)
    return keras_problems(parameters)


_active_pool: ParallelRunner | None = None


def active_worker_pool() -> ParallelRunner | None:
    """The ``ParallelRunner`` about to run, if any: Keras' parameter checks run in its
    workers, so the main process never imports TensorFlow."""
    return _active_pool


class ParallelRunner(_LongestFirst, KedroParallelRunner):
    """Kedro's ``ParallelRunner`` with spawned, TensorFlow-ready workers, longest work
    first.

    The workers start when the runner is created, so their TensorFlow import overlaps
    with Kedro loading the catalog and checking the parameters; the pool serves one run.
    """

    def __init__(self, max_workers: int | None = None, is_async: bool = False):
        global _active_pool  # noqa: PLW0603
        super().__init__(max_workers=max_workers, is_async=is_async)
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()  # Ctrl-C in this process stops the workers' trainings
        self._pool = ProcessPoolExecutor(
            max_workers=self._max_workers, mp_context=context,
            initializer=_start_worker, initargs=(self._stop,),
        )
        for _ in range(self._max_workers):
            self._pool.submit(_ready)
        _active_pool = self

    def check_in_worker(self, parameters: ProjectParameters) -> Future:
        """Keras' checks of the parameters (``validation.keras_problems``), in a worker."""
        settings = TensorFlowSettings.from_training(parameters.training)
        return self._pool.submit(_check_in_worker, parameters, self._worker_settings(settings))

    def _worker_settings(self, settings: TensorFlowSettings) -> TensorFlowSettings:
        return settings.within(threads_per_worker(self._max_workers))

    def run(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return super().run(*args, **kwargs)
        finally:
            self._release_pool()

    def _release_pool(self) -> None:
        global _active_pool  # noqa: PLW0603
        if _active_pool is self:
            _active_pool = None
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _get_executor(self, max_workers: int) -> Executor:
        return self._pool

    def _request_stop(self) -> None:
        super()._request_stop()
        self._stop.set()

    def _abandon(self, futures: set[Future]) -> None:
        if futures:  # ProcessPoolExecutor has no public way to stop a running task
            for process in list(self._pool._processes.values()):
                process.terminate()

    def _run(self, pipeline: Pipeline, catalog: Any, hook_manager: Any = None,
             run_id: str | None = None) -> None:
        # The main process's hook manager does not travel: each worker has its own.
        super()._run(pipeline, catalog, None, run_id)

    def _submit(self, executor: Executor, task: Task, settings: TensorFlowSettings,
                workers: int) -> Future:
        return executor.submit(_execute_in_worker, task, self._worker_settings(settings))

    def __del__(self) -> None:
        if getattr(self, "_pool", None) is not None:
            self._release_pool()
        super().__del__()


def _run_task(
    node: Node, catalog: Any, is_async: bool, run_id: str | None,
    settings: TensorFlowSettings, *dependencies: Any,
) -> Node:
    """Run one node on a Dask worker, with the project's hooks."""
    tf_runtime.configure(settings)
    try:
        return Task(node=node, catalog=catalog, is_async=is_async,
                    hook_manager=_project_hook_manager(), run_id=run_id).execute()
    except Exception as error:
        try:
            pickle.dumps(error)
        except Exception:  # Dask could not send it back, and the run would hang
            raise RuntimeError(f"{node.name}: {type(error).__name__}: {error}") from None
        raise


class DaskRunner(AbstractRunner):
    """Runs every node as a task on a ``dask.distributed`` cluster.

    Follows Kedro's documented DaskRunner: each node is submitted with the futures of
    the nodes it depends on, so Dask starts it once they are done, with the costliest
    path first (Dask's task priority); data travels through the catalog (every dataset
    in this project is a file), never through Dask.

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

    @contextlib.contextmanager
    def _client(self) -> Iterator[Any]:
        from dask.distributed import Client, LocalCluster

        if self._address:
            self._logger.info("Dask: connecting to the scheduler at %s", self._address)
            client = Client(self._address)
        else:
            self._logger.info("Dask: starting a LocalCluster of %d workers", self._n_workers)
            client = Client(LocalCluster(
                n_workers=self._n_workers, threads_per_worker=1, processes=True,
                dashboard_address=None))
        try:
            yield client
        finally:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()

    def _run(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
    ) -> None:
        from dask.distributed import as_completed

        parameters, settings = _run_settings(catalog)
        settings = settings.within(self._threads)
        costs = node_costs(pipeline, parameters)
        rank = priorities(pipeline, costs)
        progress = TrainingProgress(pipeline, costs)
        with self._client() as client:
            dependencies = pipeline.node_dependencies
            futures: dict[Node, Any] = {}
            for node in pipeline.nodes:  # topologically sorted
                futures[node] = client.submit(
                    _run_task, node, catalog, self._is_async, run_id, settings,
                    *(futures[parent] for parent in dependencies[node]),
                    key=f"{node.name}-{uuid.uuid4().hex[:8]}", pure=False,
                    priority=rank[node],
                )
            total, done = len(futures), 0
            try:
                for future in as_completed(futures.values()):
                    node = future.result()  # re-raises a node's error here
                    done += 1
                    self._logger.info("Completed node: %s", node.name)
                    self._logger.info("Completed %d out of %d tasks", done, total)
                    progress.node_done(node)
            except KeyboardInterrupt:
                client.cancel(list(futures.values()))
                raise RunInterrupted(
                    f"cancelled every Dask task not finished; {done} of {total} nodes had "
                    f"completed (a LocalCluster's workers are stopped with it). Every "
                    f"file written is complete and versioned. Run the same command again "
                    f"(add --only-missing-outputs to keep what completed).") from None
