"""``KerasModelDataset``: versioned ``.keras`` models, written atomically.

The same file format and options as kedro-datasets' ``TensorFlowModelDataset`` (which
this replaces in the catalog), with two differences that matter here:

- Keras is imported only when a model is loaded or saved, so building the catalog
  (``kedro viz``, the runner's main process) never imports TensorFlow.
- The file is written atomically (``atomic.written_atomically``): a run killed
  mid-write never leaves a truncated file as the latest version.

Models load with ``safe_mode=True``: a ``.keras`` file cannot run code on load.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from kedro.io.core import DatasetError

from bn_compare import tf_runtime

from .atomic import written_atomically
from .versioned_file import VersionedFileDataset


class KerasModelDataset(VersionedFileDataset):
    """Saves and loads a Keras model as one ``.keras`` file.

    Example catalog entry::

        "{variant}.seed_{seed}.model":
          type: bn_compare.datasets.KerasModelDataset
          filepath: data/06_models/{variant}/seed_{seed}/model.keras
          versioned: true
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {"safe_mode": True}

    def load(self) -> Any:
        keras = tf_runtime.keras()
        with tempfile.TemporaryDirectory(prefix="bn_compare_keras_") as tempdir:
            local = str(Path(tempdir) / "model.keras")
            self._fs.get(self._load_path(), local)
            with tf_runtime.KERAS_STATE_LOCK:  # Keras' (de)serialisation uses global state
                return keras.saving.load_model(local, **self._load_args)

    def save(self, data: Any) -> None:
        keras = tf_runtime.keras()
        if not isinstance(data, keras.Model):
            raise DatasetError(
                f"KerasModelDataset saves Keras models, got {type(data).__name__}"
            )
        with tempfile.TemporaryDirectory(prefix="bn_compare_keras_") as tempdir:
            local = Path(tempdir) / "model.keras"
            with tf_runtime.KERAS_STATE_LOCK:
                keras.saving.save_model(data, str(local), **self._save_args)
            with written_atomically(self) as path:
                self._fs.put(str(local), path)
