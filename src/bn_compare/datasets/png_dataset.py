"""``PNGDataset``: the bytes of a PNG file another dataset writes, versioned, read-only."""

from __future__ import annotations

from typing import NoReturn

from kedro.io.core import DatasetError

from .versioned_file import VersionedFileDataset

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PNGDataset(VersionedFileDataset):
    """Loads a PNG file as bytes: the read side of a figure that a ``MatplotlibDataset``
    saves (which cannot load). Both are entries on the same file, joined by Kedro's
    transcoding: a node saves ``learning_curves@figure``, another loads
    ``learning_curves@png``, and Kedro runs the saver first.

    Unpinned, it loads the version this run saved (the catalog gives every dataset of a
    run the same save version), else the latest.

    Example catalog entries::

        learning_curves@figure:
          type: bn_compare.datasets.MatplotlibDataset
          filepath: data/08_reporting/learning_curves.png
          versioned: true
        learning_curves@png:
          type: bn_compare.datasets.PNGDataset
          filepath: data/08_reporting/learning_curves.png
          versioned: true
    """

    def load(self) -> bytes:
        with self._fs.open(self._load_path(), "rb") as stream:
            data = stream.read()
        if not data.startswith(PNG_SIGNATURE):
            raise DatasetError(f"{self._load_path()} is not a PNG file")
        return data

    def save(self, data: bytes) -> NoReturn:
        raise DatasetError(f"PNGDataset is read-only: {self._filepath} is written by "
                           f"the dataset that saves the figure")

    def resolve_load_version(self) -> str | None:
        version = self._version
        if version and not version.load and version.save and self._exists_function(
                str(self._get_versioned_path(version.save))):
            return version.save  # the writer's file of this very run
        return super().resolve_load_version()
