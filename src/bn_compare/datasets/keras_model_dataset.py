"""``KerasModelDataset``: a Keras model in one ``.keras`` file."""

from __future__ import annotations

import tempfile
import zipfile
import zlib
from typing import Any

from kedro.io.core import DatasetError

from bn_compare import tf_runtime

from .atomic import FileDataset, unreadable

KERAS_ARCHIVE = "a valid Keras archive (.keras zip)"
WEIGHTS = ("model.weights.h5", "model.weights.npz")  # the names Keras 3 saves weights under


def archive_problem(file: str) -> str | None:
    """What makes ``file`` no ``.keras`` archive (a zip whose every member passes its CRC
    check, holding the model's config.json and weights), or ``None``. Keras itself would
    report a file that is not a zip as its temporary copy missing."""
    if not zipfile.is_zipfile(file):
        return "truncated or corrupt"
    try:
        with zipfile.ZipFile(file) as archive:
            names, damaged = archive.namelist(), archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        return f"truncated or corrupt ({exc})"
    if damaged:
        return f"truncated or corrupt ({damaged} fails its CRC check)"
    if "config.json" not in names or not set(WEIGHTS) & set(names):
        return f"it lacks config.json or the model's weights (it holds {', '.join(names)})"
    return None


class KerasModelDataset(FileDataset):
    """The file format and options of kedro-datasets' ``TensorFlowModelDataset``, but Keras is
    imported only to load or save (building the catalog never imports TensorFlow) and models
    load with ``safe_mode``: a ``.keras`` file cannot run code. A file that is not a whole
    ``.keras`` archive is ``unreadable``."""

    DEFAULT_LOAD_ARGS: dict[str, Any] = {"safe_mode": True}

    def load(self) -> Any:
        keras = tf_runtime.keras()
        with tempfile.TemporaryDirectory(prefix="bn_compare_keras_") as tempdir:
            local = f"{tempdir}/model.keras"
            self._fs.get(path := self._load_path(), local)
            if problem := archive_problem(local):
                raise unreadable(self, path, KERAS_ARCHIVE, problem)
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
