"""``NumpyDataset``: one NumPy array in a ``.npy`` file, versioned, on any fsspec filesystem."""

from __future__ import annotations

import numpy as np
from kedro.io.core import DatasetError

from .atomic import written_atomically
from .versioned_file import VersionedFileDataset


class NumpyDataset(VersionedFileDataset):
    """Saves and loads one array as ``.npy`` (no pickling, so loading is safe).

    ``load_args: {mmap_mode: r}`` maps a local file instead of reading it: processes
    that load the same array share its pages (the parallel runners' workers do).

    Example catalog entry::

        x_train:
          type: bn_compare.datasets.NumpyDataset
          filepath: data/05_model_input/x_train.npy
          versioned: true
          load_args: {mmap_mode: r}
    """

    def load(self) -> np.ndarray:
        load_path = self._load_path()
        mmap_mode = self._load_args.get("mmap_mode")
        if mmap_mode and self._protocol == "file":
            return np.load(load_path, mmap_mode=mmap_mode, allow_pickle=False)
        with self._fs.open(load_path, "rb") as stream:
            return np.load(stream, allow_pickle=False)

    def save(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray):
            raise DatasetError(
                f"NumpyDataset saves numpy arrays, got {type(data).__name__}"
            )
        with written_atomically(self) as path, self._fs.open(path, "wb") as stream:
            np.save(stream, data, allow_pickle=False)
