"""``PNGDataset``: the bytes of a PNG file another dataset writes."""

from __future__ import annotations

from typing import NoReturn

from kedro.io.core import DatasetError

from .atomic import FileDataset, unreadable

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk: every whole PNG ends with it


class PNGDataset(FileDataset):
    """Read-only: the PNG that a ``MatplotlibDataset`` (which cannot load) saves on the same
    file, joined by Kedro's transcoding (``plot@figure`` saved, ``plot@png`` loaded, the saver
    run first: a run loads the version it saved). A file that is not a whole
    PNG image is ``unreadable``."""

    def load(self) -> bytes:
        with self._fs.open(path := self._load_path(), "rb") as stream:
            data = stream.read()
        if not data.startswith(PNG_SIGNATURE):
            raise unreadable(self, path, "a PNG image", "it does not start with PNG's signature")
        if not data.endswith(PNG_END):
            raise unreadable(self, path, "a PNG image", "truncated: it does not end with the "
                                                        "IEND chunk")
        return data

    def save(self, data: bytes) -> NoReturn:
        raise DatasetError("PNGDataset is read-only: the dataset that saves the figure writes it")
