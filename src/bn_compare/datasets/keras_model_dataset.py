"""``KerasModelDataset``: kedro-datasets' ``TensorFlowModelDataset`` with atomic saves.

The stock dataset copies the ``.keras`` file straight to its versioned path, so a run
killed mid-copy leaves a truncated file that becomes the "latest" version. Here the
copy goes to a temporary name in the same folder and is renamed into place.
Loading is unchanged (``safe_mode=True``: no arbitrary code from a ``.keras`` file).
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import PurePath
from typing import Any

from kedro.io.core import get_filepath_str
from kedro_datasets.tensorflow import TensorFlowModelDataset


class KerasModelDataset(TensorFlowModelDataset):
    """Versioned ``.keras`` models, written atomically. Catalog usage as for
    ``tensorflow.TensorFlowModelDataset``."""

    def save(self, data: Any) -> None:
        import keras

        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        partial = f"{save_path}.{uuid.uuid4().hex}.partial"
        with tempfile.TemporaryDirectory(prefix=self._tmp_prefix) as tempdir:
            local = str(PurePath(tempdir) / "model.keras")
            keras.saving.save_model(data, local, **self._save_args)
            try:
                self._fs.put(local, partial)
                self._fs.mv(partial, save_path)
            finally:
                if self._fs.exists(partial):
                    self._fs.rm(partial)
        self._invalidate_cache()
