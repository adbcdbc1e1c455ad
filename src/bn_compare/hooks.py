"""Project hooks: check the inputs before any node runs, say how far the trainings have
got, release memory after each node; each reads the context's run matrix."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DatasetError

from bn_compare.parameters import InvalidParametersError

logger = logging.getLogger(__name__)

RAW_DATA = "fashion_mnist_raw"


def version_problems(catalog: Any, load_versions: dict[str, str] | None) -> list[str]:
    """Every ``--load-versions`` entry that names no dataset or no existing version."""
    problems = []
    for name, version in (load_versions or {}).items():
        request = f"--load-versions {name}:{version}"
        dataset = catalog.get(name)  # None for a name the catalog does not declare
        if not isinstance(dataset, AbstractVersionedDataset):
            problems.append(f"{request}: {name!r} is not a versioned dataset of this "
                            f"project (see conf/base/catalog.yml)")
            continue
        existing = []
        with contextlib.suppress(DatasetError):  # none saved yet
            existing = dataset.list_versions(full_path=False)
        if version not in existing:
            problems.append(f"{request}: no such version of {name}; its latest versions: "
                            f"{', '.join(existing[:3]) or 'none yet'}")
    return problems


class InvalidRunRequestError(ValueError):
    """What the run was asked to load does not exist."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Nothing was run:\n" + "\n".join(f"  - {p}" for p in problems))


class InputCheckHook:
    """Refuse versions that do not exist, parameters Keras cannot use and bad raw data
    before the first node runs."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self.parameters = context.run_matrix.parameters

    @hook_impl(tryfirst=True)  # before tracking opens a run: a refused run leaves none
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any,
                            catalog: Any) -> None:
        from bn_compare.pipelines.training.checks import keras_problems  # imports TensorFlow

        if requested := version_problems(catalog, run_params.get("load_versions")):
            raise InvalidRunRequestError(requested)
        if problems := keras_problems(self.parameters):
            raise InvalidParametersError(problems)
        if RAW_DATA in pipeline.inputs():
            catalog.load(RAW_DATA)  # every check of the raw files
        logger.info("Inputs checked: variants %s; seeds %s",
                    ", ".join(self.parameters.variants),
                    ", ".join(map(str, self.parameters.training.seeds)))


class ProgressHook:
    """Logs ``k/N trainings done - elapsed m:ss - about M min left`` as trainings end (the
    work left, in steps, at the pace so far). Node hooks fire where nodes run: here under
    the Sequential and Thread runners; the Dask runner logs each task as it completes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock, self._lock = clock, threading.Lock()
        self._waiting: dict[str, int] = {}  # training node: its work in steps, until it ends

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._matrix = context.run_matrix

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any,
                            catalog: Any) -> None:
        runs = {f"{run.namespace}.train_model": run.training for run in self._matrix.trainings}
        nodes = [n for n in pipeline.nodes if n.name in runs]
        if run_params.get("only_missing_outputs"):  # Kedro's rule, for file outputs
            nodes = [n for n in nodes if not all(catalog.exists(o) for o in n.outputs)]
        images = self._matrix.parameters.data.split_sizes["train"]
        # a confirmation counts at its settings outside the grid (its setting is chosen later)
        self._waiting = {n.name: runs[n.name].epochs * math.ceil(images / runs[n.name].batch_size)
                         for n in nodes}
        self._total, self._done, self._start = len(nodes), 0, self._clock()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        with self._lock:
            if node.name not in self._waiting:
                return
            self._done += self._waiting.pop(node.name)
            left, elapsed = sum(self._waiting.values()), self._clock() - self._start
            logger.info("%d/%d trainings done - elapsed %d:%02d - %s",
                        self._total - len(self._waiting), self._total, *divmod(round(elapsed), 60),
                        f"about {max(1, round(left * elapsed / self._done / 60))} min left"
                        if self._waiting else "all done")


class MemoryReleaseHook:
    """Hand the memory a finished node freed back to the system, so that one node's heap
    (the split's arrays, a finished model) is not kept while the next trains. No
    ``gc.collect()`` here: one after every node cost a run 10-15% of its time and no peak
    memory (docs/measurements.md); Python's own collections free the models' cycles."""

    @hook_impl
    def after_node_run(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL("libc.so.6").malloc_trim(0)
