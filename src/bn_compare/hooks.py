"""Project hooks: check the inputs before any node runs, release memory after each
node."""

from __future__ import annotations

import ctypes
import gc
import logging
import sys
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DatasetError

from bn_compare.runner import active_worker_pool
from bn_compare.tf_runtime import process_is_shared
from bn_compare.validation import InvalidParametersError, check_parameters

logger = logging.getLogger(__name__)

RAW_DATA = "fashion_mnist_raw"


class InputCheckHook:
    """Refuse bad parameters and bad raw data before the first node runs (in parallel
    runs, nodes that need no data would otherwise start, and save, right away)."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        parameters = catalog.load("parameters")
        pool = active_worker_pool()
        # With a worker pool, the check runs there (TensorFlow is loaded there) while
        # this process checks the raw files.
        pending = pool.submit(check_parameters, dict(parameters)) if pool else None
        data_error = None
        if RAW_DATA in pipeline.inputs():
            try:
                catalog.load(RAW_DATA)  # every check of the raw files
            except DatasetError as error:
                data_error = error
        problems = pending.result() if pending else check_parameters(parameters)
        if problems:
            raise InvalidParametersError(problems)
        if data_error is not None:
            raise data_error
        logger.info("Inputs checked: variants %s; seeds %s",
                    ", ".join(parameters["variants"]),
                    ", ".join(map(str, parameters["training"]["seeds"])))


class MemoryReleaseHook:
    """Hand memory a finished node freed back to the system.

    Runner workers live for the whole run; without this, the heap of one node (the
    split's arrays, a finished model's graph) stays resident while the next trains.
    """

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        gc.collect()
        if "keras" in sys.modules and not process_is_shared():  # others may be training
            sys.modules["keras"].backend.clear_session(free_memory=False)
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass
