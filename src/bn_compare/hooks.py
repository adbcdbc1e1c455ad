"""Project hooks: check the inputs before any node runs, say how far the trainings have
got, release memory after each node. They take the run's parameters, validated once by
``context.ProjectContext``, from the context (``after_context_created``)."""

from __future__ import annotations

import ctypes
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DatasetError

from bn_compare.parameters import InvalidParametersError, ProjectParameters
from bn_compare.run_matrix import Run, RunMatrix

logger = logging.getLogger(__name__)

RAW_DATA = "fashion_mnist_raw"


def version_problems(catalog: Any, load_versions: dict[str, str] | None) -> list[str]:
    """Every ``--load-versions`` entry that names no dataset or no existing version."""
    problems = []
    for name, version in (load_versions or {}).items():
        request = f"--load-versions {name}:{version}"
        dataset = catalog.get(name) if name in catalog else None
        if not isinstance(dataset, AbstractVersionedDataset):
            problems.append(f"{request}: {name!r} is not a versioned dataset of this "
                            f"project (see conf/base/catalog.yml)")
            continue
        try:
            existing = dataset.list_versions(full_path=False)
        except DatasetError:
            existing = []
        if version not in existing:
            latest = ", ".join(existing[:3]) if existing else "none yet"
            problems.append(f"{request}: no such version of {name}; its latest versions: "
                            f"{latest}")
    return problems


class InvalidRunRequestError(ValueError):
    """What the run was asked to load does not exist."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Nothing was run:\n" + "\n".join(f"  - {p}" for p in problems))


class InputCheckHook:
    """Refuse versions that do not exist, parameters Keras cannot use and bad raw data
    before the first node runs."""

    parameters: ProjectParameters | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self.parameters = context.run_matrix.parameters

    @hook_impl(tryfirst=True)  # before tracking opens a run: a refused run leaves none
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any,
                            catalog: Any) -> None:
        from bn_compare.validation import keras_problems  # imports TensorFlow

        requested = version_problems(catalog, run_params.get("load_versions"))
        if requested:
            raise InvalidRunRequestError(requested)
        problems = keras_problems(self.parameters)
        if problems:
            raise InvalidParametersError(problems)
        if RAW_DATA in pipeline.inputs():
            catalog.load(RAW_DATA)  # every check of the raw files
        logger.info("Inputs checked: variants %s; seeds %s",
                    ", ".join(self.parameters.variants),
                    ", ".join(map(str, self.parameters.training.seeds)))


def training_cost(run: Run, train_images: int) -> float:
    """A training's work in steps, to weigh how much of a run is done (a confirmation's
    chosen setting is not known yet: its settings outside the grid)."""
    return float(run.training.epochs * math.ceil(train_images / run.training.batch_size))


class ProgressHook:
    """Logs ``k/N trainings done - elapsed m:ss - about M min left`` as trainings end (the
    work left, in steps, at the pace so far). Node hooks fire where nodes run: here under
    the Sequential and Thread runners; the Dask runner logs each task as it completes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock, self._lock = clock, threading.Lock()
        self._matrix: RunMatrix | None = None
        self._waiting: dict[str, float] = {}  # training node: its cost, until it ends
        self._total = self._finished = 0
        self._done = self._start = 0.0

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._matrix = context.run_matrix

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any,
                            catalog: Any) -> None:
        runs = {f"{run.namespace}.train_model": run for run in self._matrix.trainings}
        nodes = [n for n in pipeline.nodes if n.name in runs]
        if run_params.get("only_missing_outputs"):  # Kedro's rule, for file outputs
            nodes = [n for n in nodes if not all(catalog.exists(o) for o in n.outputs)]
        images = self._matrix.parameters.data.split_sizes["train"]
        self._waiting = {n.name: training_cost(runs[n.name], images) for n in nodes}
        self._total, self._finished = len(nodes), 0
        self._done, self._start = 0.0, self._clock()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        with self._lock:
            if node.name not in self._waiting:
                return
            self._done += self._waiting.pop(node.name)
            self._finished += 1
            left = sum(self._waiting.values())
            elapsed = self._clock() - self._start
            logger.info("%d/%d trainings done - elapsed %s - %s", self._finished,
                        self._total, _clock(elapsed), "all done" if not self._waiting else
                        f"about {_minutes(left * elapsed / self._done)} left")


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}:{seconds:02d}"


def _minutes(seconds: float) -> str:
    return "1 min" if seconds < 90 else f"{round(seconds / 60)} min"  # noqa: PLR2004


class MemoryReleaseHook:
    """Hand the memory a finished node freed back to the system, so that one node's heap
    (the split's arrays, a finished model) is not kept while the next trains. No
    ``gc.collect()`` here: one after every node cost a run 10-15% of its time and no peak
    memory (docs/measurements.md); Python's own collections free the models' cycles."""

    @hook_impl
    def after_node_run(self) -> None:
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass
