"""The Dask workers' initializer: TensorFlow set up once per worker, as it starts (a
module of its own, so importing the runners never imports ``distributed``)."""

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class TensorFlowSetup(WorkerPlugin):
    """Sets TensorFlow up in each worker (``tf_runtime.keras``), current and future."""

    idempotent = True

    def setup(self, worker: Any) -> None:
        from bn_compare import tf_runtime

        tf_runtime.keras()
