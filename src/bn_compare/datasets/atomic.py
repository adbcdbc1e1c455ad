"""Every file this project writes is written atomically.

``AtomicSave`` makes a versioned file dataset write to a temporary name beside its
target (``comparison_table.1f2e3d4c.partial.csv``) and rename it into place only once
the write is complete. A run that is killed, interrupted or runs out of disk space
mid-write therefore never leaves a half-written file as the latest version (Kedro
finds versions by their final name), and the temporary file is removed when the write
fails.

The kedro-datasets classes the catalog uses are declared here with it; the project's
own ``NumpyDataset`` and ``KerasModelDataset`` use it too.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from kedro.io.core import AbstractVersionedDataset, get_filepath_str
from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset as _MatplotlibDataset
from kedro_datasets.pandas import CSVDataset as _CSVDataset
from kedro_datasets.text import TextDataset as _TextDataset


@contextlib.contextmanager
def written_atomically(dataset: Any) -> Iterator[str]:
    """A temporary path beside the versioned dataset's save path, to write to: renamed to
    the save path when the block completes, removed when it fails."""
    target = AbstractVersionedDataset._get_save_path(dataset)  # refuses an existing version
    partial = target.parent / f"{target.stem}.{uuid.uuid4().hex[:8]}.partial{target.suffix}"
    fs, protocol = dataset._fs, dataset._protocol
    try:
        yield get_filepath_str(partial, protocol)
        fs.mv(get_filepath_str(partial, protocol), get_filepath_str(target, protocol))
    finally:
        if fs.exists(get_filepath_str(partial, protocol)):
            fs.rm(get_filepath_str(partial, protocol))
    fs.invalidate_cache(get_filepath_str(target.parent, protocol))


class AtomicSave:
    """Mixin for a kedro-datasets versioned dataset, whose ``save`` writes to
    ``self._get_save_path()``: list it before the dataset class."""

    _partial: PurePosixPath | None = None

    def save(self, data: Any) -> None:
        with written_atomically(self) as partial:
            self._partial = PurePosixPath(partial)
            try:
                super().save.__wrapped__(self, data)  # the dataset's own write, unwrapped
            finally:
                self._partial = None

    def _get_save_path(self) -> PurePosixPath:
        return self._partial if self._partial is not None else super()._get_save_path()


class CSVDataset(AtomicSave, _CSVDataset):
    """kedro-datasets' ``pandas.CSVDataset``, written atomically."""


class JSONDataset(AtomicSave, _JSONDataset):
    """kedro-datasets' ``json.JSONDataset``, written atomically."""


class MatplotlibDataset(AtomicSave, _MatplotlibDataset):
    """kedro-datasets' ``matplotlib.MatplotlibDataset`` (one figure), written atomically."""


class TextDataset(AtomicSave, _TextDataset):
    """kedro-datasets' ``text.TextDataset``, written atomically."""
