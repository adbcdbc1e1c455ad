"""Project hooks: set TensorFlow up and check the inputs before any node runs, release
memory after each node."""

from __future__ import annotations

import ctypes
import gc
import logging
import sys
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DatasetError

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


class InputCheckHook:
    """Refuse parameters Keras cannot use and bad raw data before the first node runs (in
    parallel runs, nodes that need no data would otherwise start, and save, right away)."""

    @hook_impl
    def before_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
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
