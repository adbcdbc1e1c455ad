"""The Dask workers' initializer, in a module of its own: importing the runners never
imports ``distributed``."""

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from bn_compare import tf_runtime


class TensorFlowSetup(WorkerPlugin):
    """TensorFlow set up once in each worker, current and future, as it starts."""

    idempotent = True

    def setup(self, worker: Any) -> None:
        tf_runtime.keras()
