"""Project hooks: check the inputs before any node runs, say how far the trainings have
got, release memory after each node; each reads the context's run matrix."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DatasetError
from rich import get_console
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from bn_compare.datasets.versions import saved_file
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


def unsaved_inputs(catalog: Any, pipeline: Any, load_versions: dict[str, str] | None) -> list[str]:
    """Every saved file the run reads and no node of it makes, missing (a study that
    ``make results`` lays out but that never ran, models ``--pipelines=evaluation`` needs)."""
    problems = []
    for name in sorted(pipeline.inputs() - set(load_versions or {})):
        dataset = catalog.get(name) if not name.startswith("params:") else None
        if isinstance(dataset, AbstractVersionedDataset) and not dataset.exists():
            problems.append(f"{name}: nothing saved yet, and no node of this run makes it")
    return problems


def training_nodes(matrix: Any, pipeline: Any) -> dict[Any, Any]:
    """The nodes of ``pipeline`` that train, each with its run of the matrix."""
    runs = {f"{run.namespace}.train_model": run for run in matrix.trainings}
    return {node: runs[node.name] for node in pipeline.nodes if node.name in runs}


class InvalidRunRequestError(ValueError):
    """What the run was asked to load does not exist."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Nothing was run:\n" + "\n".join(f"  - {p}" for p in problems))


class InputCheckHook:
    """Refuse versions that do not exist, inputs never saved, parameters Keras cannot use
    (in a run that trains) and bad raw data before the first node runs."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._matrix = context.run_matrix

    @hook_impl(tryfirst=True)  # before tracking opens a run: a refused run leaves none
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any,
                            catalog: Any) -> None:
        requested = run_params.get("load_versions")
        if problems := (version_problems(catalog, requested)
                        or unsaved_inputs(catalog, pipeline, requested)):
            raise InvalidRunRequestError(problems)
        trains, parameters = bool(training_nodes(self._matrix, pipeline)), self._matrix.parameters
        if trains:  # TensorFlow only for a run that trains (not make results)
            from bn_compare.pipelines.training.checks import keras_problems

            if problems := keras_problems(parameters):
                raise InvalidParametersError(problems)
        if RAW_DATA in pipeline.inputs():
            catalog.load(RAW_DATA)  # every check of the raw files
        if trains:
            logger.info("Inputs checked: variants %s; seeds %s", ", ".join(parameters.variants),
                        ", ".join(map(str, parameters.training.seeds)))


class ProgressHook:
    """How far the trainings have got, as they end (the work left, in steps, at the pace so
    far): a live bar in a terminal, else ``k/N trainings done - elapsed m:ss - about M min
    left`` log lines. Node hooks fire where nodes run: here under the Sequential and Thread
    runners; the Dask runner logs each task as it completes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 console: Console | None = None) -> None:
        self._clock, self._lock, self._console = clock, threading.Lock(), console
        self._waiting: dict[str, int] = {}  # training node: its work in steps, until it ends
        self._bar: Progress | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._matrix = context.run_matrix

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any,
                            catalog: Any) -> None:
        runs = training_nodes(self._matrix, pipeline)
        nodes = list(runs)
        if run_params.get("only_missing_outputs"):  # Kedro's rule, for file outputs
            nodes = [n for n in nodes if not all(catalog.exists(o) for o in n.outputs)]
        images = self._matrix.parameters.data.split_sizes["train"]
        # a confirmation counts at its settings outside the grid (its setting is chosen later)
        self._waiting = {n.name: runs[n].training.epochs
                         * math.ceil(images / runs[n].training.batch_size) for n in nodes}
        self._total, self._done, self._start = len(nodes), 0, self._clock()
        console = self._console or get_console()  # Kedro's log lines print above the bar
        if nodes and console.is_terminal:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[note]}"), console=console)
            self._task = self._bar.add_task(f"0/{self._total} trainings", note="",
                                            total=sum(self._waiting.values()))
            self._bar.start()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        with self._lock:
            if node.name not in self._waiting:
                return
            self._done += self._waiting.pop(node.name)
            left, elapsed = sum(self._waiting.values()), self._clock() - self._start
            done = f"{self._total - len(self._waiting)}/{self._total} trainings"
            note = ("elapsed {}:{:02d} - ".format(*divmod(round(elapsed), 60))
                    + (f"about {max(1, round(left * elapsed / self._done / 60))} min left"
                       if self._waiting else "all done"))
            if self._bar:
                self._bar.update(self._task, completed=self._done, description=done, note=note)
            else:
                logger.info("%s done - %s", done, note)

    @hook_impl
    def after_pipeline_run(self) -> None:
        if self._bar:
            self._bar.stop()
            self._bar = None

    on_pipeline_error = hook_impl(after_pipeline_run)


class AnswerHook:
    """Where the user is, after Kedro's last line: the answers of the verdict a run wrote
    (or has, when ``--only-missing-outputs`` left it) and the path of its report."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console

    @hook_impl(trylast=True)  # after the progress bar is gone
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        if "verdict" not in pipeline.all_outputs():
            return
        verdict, report = (saved_file(catalog.get(name), or_latest=True)
                           for name in ("verdict", "report"))
        if verdict is None:
            return
        answers = [f"  {answer['text']}" for answer in json.loads(verdict.read_text())["answers"]]
        (self._console or get_console()).print(
            "\n".join(["", "Answers:", *answers, f"Report: {report or 'not written'}"]),
            markup=False, highlight=False, soft_wrap=True)


class MemoryReleaseHook:
    """Hand the memory a finished node freed back to the system, so that one node's heap
    (the split's arrays, a finished model) is not kept while the next trains. No
    ``gc.collect()`` here: one after every node cost a run 10-15% of its time and no peak
    memory (docs/measurements.md); Python's own collections free the models' cycles."""

    @hook_impl
    def after_node_run(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL("libc.so.6").malloc_trim(0)
