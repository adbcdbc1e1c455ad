"""``NumpyDataset``: one NumPy array in a ``.npy`` file."""

from __future__ import annotations

import numpy as np
from kedro.io.core import DatasetError

from .atomic import FileDataset


class NumpyDataset(FileDataset):
    """One array as ``.npy``, never pickled. ``load_args: {mmap_mode: r}`` maps a local file
    instead of reading it: processes loading the same array (the runners' workers) share it."""

    def load(self) -> np.ndarray:
        path, mmap_mode = self._load_path(), self._load_args.get("mmap_mode")
        if mmap_mode and self._protocol == "file":
            return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
        with self._fs.open(path, "rb") as stream:
            return np.load(stream, allow_pickle=False)

    def save(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray):
            raise DatasetError(f"NumpyDataset saves numpy arrays, got {type(data).__name__}")
        with self._atomic_path() as path, self._fs.open(path, "wb") as stream:
            np.save(stream, data, allow_pickle=False)
