"""``KerasModelDataset``: a Keras model in one ``.keras`` file."""

from __future__ import annotations

import tempfile
import zipfile
from typing import Any

from kedro.io.core import DatasetError

from bn_compare import tf_runtime

from .atomic import FileDataset


class KerasModelDataset(FileDataset):
    """The file format and options of kedro-datasets' ``TensorFlowModelDataset``, but Keras is
    imported only to load or save (building the catalog never imports TensorFlow) and models
    load with ``safe_mode``: a ``.keras`` file cannot run code."""

    DEFAULT_LOAD_ARGS: dict[str, Any] = {"safe_mode": True}

    def load(self) -> Any:
        keras = tf_runtime.keras()
        with tempfile.TemporaryDirectory(prefix="bn_compare_keras_") as tempdir:
            local = f"{tempdir}/model.keras"
            self._fs.get(path := self._load_path(), local)
            if not zipfile.is_zipfile(local):  # Keras would report its temporary copy missing
                raise DatasetError(f"{path} is not a valid Keras archive (.keras, a zip file): "
                                   f"truncated or corrupt")
            with tf_runtime.KERAS_STATE_LOCK:  # Keras' (de)serialisation uses global state
                return keras.saving.load_model(local, **self._load_args)

    def save(self, data: Any) -> None:
        keras = tf_runtime.keras()
        if not isinstance(data, keras.Model):
            raise DatasetError(f"KerasModelDataset saves Keras models, got {type(data).__name__}")
        with tempfile.TemporaryDirectory(prefix="bn_compare_keras_") as tempdir:
            local = f"{tempdir}/model.keras"
            with tf_runtime.KERAS_STATE_LOCK:
                keras.saving.save_model(data, local, **self._save_args)
            with self._atomic_path() as path:
                self._fs.put(local, path)
