"""``NumpyDataset``: one NumPy array in a ``.npy`` file, versioned, on any fsspec filesystem."""

from __future__ import annotations

import copy
import uuid
from pathlib import PurePosixPath
from typing import Any

import fsspec
import numpy as np
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)


class NumpyDataset(AbstractVersionedDataset[np.ndarray, np.ndarray]):
    """Saves and loads one array as ``.npy`` (no pickling, so loading is safe).

    The array is written to a temporary name beside the target and renamed into place,
    so an interrupted run never leaves a half-written file as the latest version.

    Example catalog entry::

        x_train:
          type: bn_compare.datasets.NumpyDataset
          filepath: data/05_model_input/x_train.npy
          versioned: true
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        filepath: str,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        _fs_args = copy.deepcopy(fs_args) or {}
        protocol, path = get_protocol_and_path(filepath, version)
        if protocol == "file":
            _fs_args.setdefault("auto_mkdir", True)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(credentials or {}), **_fs_args)
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "version": self._version,
        }

    def load(self) -> np.ndarray:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(load_path, "rb") as stream:
            return np.load(stream, allow_pickle=False)

    def save(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray):
            raise DatasetError(
                f"NumpyDataset saves numpy arrays, got {type(data).__name__}"
            )
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        partial = f"{save_path}.{uuid.uuid4().hex}.partial"
        try:
            with self._fs.open(partial, "wb") as stream:
                np.save(stream, data, allow_pickle=False)
            self._fs.mv(partial, save_path)
        finally:
            if self._fs.exists(partial):
                self._fs.rm(partial)
        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))
