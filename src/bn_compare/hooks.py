"""Project hooks: set TensorFlow up and check the inputs before any node runs, release
memory after each node."""

from __future__ import annotations

import ctypes
import gc
import logging
import sys
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, DatasetError

from bn_compare import tf_runtime
from bn_compare.parameters import InvalidParametersError, ProjectParameters
from bn_compare.runner import active_worker_pool
from bn_compare.validation import keras_problems

logger = logging.getLogger(__name__)

RAW_DATA = "fashion_mnist_raw"


def run_parameters(catalog: Any) -> ProjectParameters:
    """The run's parameters, typed (``ProjectContext`` refused invalid ones already)."""
    return ProjectParameters.model_validate(catalog.load("parameters"))


class TensorFlowSetupHook:
    """This process's TensorFlow settings, from the run's ``training`` parameters, before
    anything uses Keras (runners pass the same settings to their worker processes)."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, catalog: Any) -> None:
        training = run_parameters(catalog).training
        tf_runtime.configure(tf_runtime.TensorFlowSettings.from_training(training))


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
    """Refuse parameters Keras cannot use, versions that do not exist and bad raw data
    before the first node runs (in parallel runs, nodes that need no data would otherwise
    start, and save, right away)."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any,
                            catalog: Any) -> None:
        requested = version_problems(catalog, run_params.get("load_versions"))
        if requested:
            raise InvalidRunRequestError(requested)
        parameters = run_parameters(catalog)
        pool = active_worker_pool()
        # With a worker pool, Keras' checks run there (TensorFlow is loaded there) while
        # this process checks the raw files.
        pending = pool.check_in_worker(parameters) if pool else None
        data_error = None
        if RAW_DATA in pipeline.inputs():
            try:
                catalog.load(RAW_DATA)  # every check of the raw files
            except DatasetError as error:
                data_error = error
        problems = pending.result() if pending else keras_problems(parameters)
        if problems:
            raise InvalidParametersError(problems)
        if data_error is not None:
            raise data_error
        logger.info("Inputs checked: variants %s; seeds %s", ", ".join(parameters.variants),
                    ", ".join(map(str, parameters.training.seeds)))


class MemoryReleaseHook:
    """Hand memory a finished node freed back to the system.

    Runner workers live for the whole run; without this, the heap of one node (the
    split's arrays, a finished model's graph) stays resident while the next trains.
    """

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        gc.collect()
        if "keras" in sys.modules and not tf_runtime.process_is_shared():  # others may be training
            sys.modules["keras"].backend.clear_session(free_memory=False)
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass
