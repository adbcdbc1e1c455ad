"""``PNGDataset``: the bytes of a PNG file another dataset writes."""

from __future__ import annotations

from typing import NoReturn

from kedro.io.core import DatasetError

from .atomic import FileDataset

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PNGDataset(FileDataset):
    """Read-only: the PNG that a ``MatplotlibDataset`` (which cannot load) saves on the same
    file, joined by Kedro's transcoding (``plot@figure`` saved, ``plot@png`` loaded, the saver
    run first, so the latest version is the one this run saved)."""

    def load(self) -> bytes:
        with self._fs.open(path := self._load_path(), "rb") as stream:
            data = stream.read()
        if not data.startswith(PNG_SIGNATURE):
            raise DatasetError(f"{path} is not a PNG file")
        return data

    def save(self, data: bytes) -> NoReturn:
        raise DatasetError("PNGDataset is read-only: the dataset that saves the figure writes it")
