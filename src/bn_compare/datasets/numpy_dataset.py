"""``NumpyDataset``: one NumPy array in a ``.npy`` file."""

from __future__ import annotations

import numpy as np
from kedro.io.core import DatasetError

from .atomic import FileDataset, unreadable

NPY = "a valid .npy file"


class NumpyDataset(FileDataset):
    """One array as ``.npy``, never pickled. ``load_args: {mmap_mode: r}`` maps a local file
    instead of reading it: processes loading the same array (the runners' workers) share it.
    A file that is not a whole ``.npy`` array is ``unreadable``."""

    def load(self) -> np.ndarray:
        path, mmap_mode = self._load_path(), self._load_args.get("mmap_mode")
        try:
            with self._fs.open(path, "rb") as stream:
                if stream.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
                    raise unreadable(self, path, NPY, "it does not start as a .npy file does")
                if mmap_mode and self._protocol == "file":
                    return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
                stream.seek(0)
                return np.load(stream, allow_pickle=False)
        except (ValueError, EOFError) as exc:  # numpy's words for a header or data cut short
            raise unreadable(self, path, NPY, f"truncated or corrupt ({exc})") from exc

    def save(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray):
            raise DatasetError(f"NumpyDataset saves numpy arrays, got {type(data).__name__}")
        with self._atomic_path() as path, self._fs.open(path, "wb") as stream:
            np.save(stream, data, allow_pickle=False)
