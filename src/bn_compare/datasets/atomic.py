"""Every file the project writes goes to a temporary name beside its target
(``table.1f2e3d4c.partial.csv``), renamed into place once complete: a run killed or out of
disk space mid-write never leaves a half-written file as the latest version."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from kedro.io.core import Version, get_filepath_str
from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset as _MatplotlibDataset
from kedro_datasets.pandas import CSVDataset as _CSVDataset
from kedro_datasets.text import TextDataset as _TextDataset


class AtomicSave:
    """Mixin, listed before a kedro-datasets file dataset: its ``save`` writes atomically."""

    _partial: PurePosixPath | None = None

    @contextlib.contextmanager
    def _atomic_path(self) -> Iterator[str]:
        """A temporary path to write to: renamed to the save path when the block completes,
        removed when it fails."""
        target = super()._get_save_path()  # refuses an existing version
        self._partial = target.with_suffix(f".{uuid.uuid4().hex[:8]}.partial{target.suffix}")
        partial = get_filepath_str(self._partial, self._protocol)
        try:
            yield partial
            self._fs.mv(partial, get_filepath_str(target, self._protocol))
        finally:
            self._partial = None
            if self._fs.exists(partial):
                self._fs.rm(partial)
        self._fs.invalidate_cache(get_filepath_str(target.parent, self._protocol))

    def save(self, data: Any) -> None:
        with self._atomic_path():  # the dataset's own save, unwrapped: Kedro's wrapper runs once
            super().save.__wrapped__(self, data)

    def _get_save_path(self) -> PurePosixPath:  # where the dataset's own save writes
        return self._partial or super()._get_save_path()


class CSVDataset(AtomicSave, _CSVDataset):
    """kedro-datasets' ``pandas.CSVDataset``, written atomically."""


class JSONDataset(AtomicSave, _JSONDataset):
    """kedro-datasets' ``json.JSONDataset``, written atomically."""


class MatplotlibDataset(AtomicSave, _MatplotlibDataset):
    """kedro-datasets' ``matplotlib.MatplotlibDataset`` (one figure), written atomically."""


class TextDataset(AtomicSave, _TextDataset):
    """kedro-datasets' ``text.TextDataset``, written atomically."""


class FileDataset(AtomicSave, _TextDataset):
    """Base of the project's file datasets (kedro-datasets' ``TextDataset`` brings filesystem
    and versions): each defines ``load``, reading ``_load_path()``, and ``save``, writing to
    the path ``_atomic_path()`` yields (an inherited ``save`` would get Kedro's wrapper twice)."""

    DEFAULT_LOAD_ARGS: dict[str, Any] = {}

    def __init__(  # noqa: PLR0913
        self, *, filepath: str, load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None, version: Version | None = None,
        credentials: dict[str, Any] | None = None, fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(filepath=filepath, version=version, credentials=credentials,
                         fs_args=fs_args, metadata=metadata)
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self._save_args = dict(save_args or {})

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "load_args": self._load_args, "save_args": self._save_args}

    def _load_path(self) -> str:
        return get_filepath_str(self._get_load_path(), self._protocol)
