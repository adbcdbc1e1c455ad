"""Every file the project writes goes to a temporary name beside its target
(``table.1f2e3d4c.partial.csv``), moved into place once complete: a run killed or out of
disk space mid-write never leaves a half-written file as the latest version. A file that is
there but cannot be read as what its dataset loads is one error: ``unreadable``."""

from __future__ import annotations

import contextlib
import functools
import json
import uuid
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import fsspec
import pandas as pd
from kedro.io import AbstractVersionedDataset, DatasetError, Version
from kedro.io.core import get_filepath_str, get_protocol_and_path
from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset as _MatplotlibDataset
from kedro_datasets.pandas import CSVDataset as _CSVDataset
from kedro_datasets.text import TextDataset as _TextDataset

from .versions import own_version_first


def filesystem(protocol: str, credentials: dict[str, Any] | None,
               fs_args: dict[str, Any] | None) -> fsspec.AbstractFileSystem:
    """The fsspec filesystem a kedro-datasets file dataset makes from the same arguments."""
    options = {key: value for key, value in {**(credentials or {}), **(fs_args or {})}.items()
               if key not in ("open_args_load", "open_args_save")}
    return fsspec.filesystem(protocol, **({"auto_mkdir": True} if protocol == "file" else {}),
                             **options)


@contextlib.contextmanager
def atomic_path(fs: fsspec.AbstractFileSystem, target: PurePosixPath) -> Iterator[str]:
    """A temporary path (with its protocol) beside ``target`` to write to: moved onto
    ``target`` when the block completes, removed when it fails."""
    suffix = f".{uuid.uuid4().hex[:8]}.partial{target.suffix}"
    partial = fs.unstrip_protocol(str(target.with_suffix(suffix)))
    try:
        yield partial
        fs.mv(partial, fs.unstrip_protocol(str(target)))  # a rename on one local filesystem
    finally:
        if fs.exists(partial):
            fs.rm(partial, recursive=True)
    fs.invalidate_cache(fs.unstrip_protocol(str(target.parent)))


def unreadable(dataset: AbstractVersionedDataset, path: str, kind: str,
               problem: object) -> DatasetError:
    """The one error for a file that is there but is not ``kind`` ("a CSV table"): the version,
    the file and what is wrong (``DataCatalog.load`` puts the dataset's name in front).
    ``dataset``: one of this package's, whose fsspec filesystem is ``_fs``."""
    if dataset._fs.size(path) == 0:
        problem = "the file is empty"
    version = dataset.resolve_load_version()
    where = f"version {version} cannot be read: {path}" if version else path
    return DatasetError(f"{where} is not {kind}: {problem}")


class AtomicSave:
    """Mixin, listed before a kedro-datasets file dataset: ``save`` writes atomically, through
    that class's own ``save`` on an unversioned instance pointed at the temporary path."""

    def __init__(  # noqa: PLR0913
        self, *, filepath: str, version: Version | None = None,
        credentials: dict[str, Any] | None = None, fs_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(filepath=filepath, version=version, credentials=credentials,
                         fs_args=fs_args, **kwargs)
        mro = type(self).__mro__  # the kedro-datasets class is the one after this mixin
        self._writer = functools.partial(mro[mro.index(AtomicSave) + 1],
                                         credentials=credentials, fs_args=fs_args, **kwargs)
        self._target_fs = filesystem(get_protocol_and_path(filepath, version)[0], credentials,
                                     fs_args)

    def save(self, data: Any) -> None:
        with atomic_path(self._target_fs, self._get_save_path()) as partial:
            self._writer(filepath=partial).save(data)

    resolve_load_version = own_version_first


class CSVDataset(AtomicSave, _CSVDataset):
    """kedro-datasets' ``pandas.CSVDataset``, written atomically; a file that is not a table,
    or cut short, is ``unreadable``."""

    def load(self) -> pd.DataFrame:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        try:
            table = super().load()
        except DatasetError as exc:  # Kedro's, around pandas' parser errors or bad UTF-8
            if not isinstance(exc.__cause__, ValueError):
                raise
            raise unreadable(self, path, "a CSV table", exc.__cause__) from exc.__cause__
        if self._fs.tail(path, 1) != b"\n":  # pandas ends every line it writes with one
            raise unreadable(self, path, "a CSV table",
                             "truncated: its last line has no line break")
        return table


class JSONDataset(AtomicSave, _JSONDataset):
    """kedro-datasets' ``json.JSONDataset``, written atomically; a file that is not JSON (cut
    short, say) is ``unreadable``."""

    def load(self) -> Any:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        try:
            return super().load()
        except DatasetError as exc:  # Kedro's, around the decoder's error
            if not isinstance(cause := exc.__cause__, ValueError):
                raise
            raise unreadable(self, path, "valid JSON", f"line {cause.lineno} column "
                             f"{cause.colno}: {cause.msg}" if isinstance(
                                 cause, json.JSONDecodeError) else cause) from cause


class MatplotlibDataset(AtomicSave, _MatplotlibDataset):
    """kedro-datasets' ``matplotlib.MatplotlibDataset``, written atomically."""


class TextDataset(AtomicSave, _TextDataset):
    """kedro-datasets' ``text.TextDataset``, written atomically; bytes that are not text in its
    encoding are ``unreadable``."""

    def load(self) -> str:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        try:
            return super().load()
        except DatasetError as exc:  # Kedro's, around the decoding error
            if not isinstance(exc.__cause__, UnicodeDecodeError):
                raise
            raise unreadable(self, path, "text", exc.__cause__) from exc.__cause__


class FileDataset(AbstractVersionedDataset[Any, Any]):
    """Base of the project's file datasets, made as Kedro's custom-dataset guide makes one (its
    own fsspec filesystem, Kedro's versions): each defines ``load``, reading ``_load_path()``,
    and ``save``, writing to the path ``_atomic_path()`` yields."""

    DEFAULT_LOAD_ARGS: dict[str, Any] = {}

    def __init__(  # noqa: PLR0913
        self, *, filepath: str, load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None, version: Version | None = None,
        credentials: dict[str, Any] | None = None, fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._protocol, path = get_protocol_and_path(filepath, version)
        self._fs = filesystem(self._protocol, credentials, fs_args)
        super().__init__(filepath=PurePosixPath(path), version=version,
                         exists_function=self._fs.exists, glob_function=self._fs.glob)
        self.metadata = metadata
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self._save_args = dict(save_args or {})

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version,
                "load_args": self._load_args, "save_args": self._save_args}

    def _exists(self) -> bool:
        try:
            return self._fs.exists(self._load_path())
        except DatasetError:  # no version saved yet
            return False

    resolve_load_version = own_version_first

    def _load_path(self) -> str:
        return get_filepath_str(self._get_load_path(), self._protocol)

    def _atomic_path(self) -> contextlib.AbstractContextManager[str]:
        return atomic_path(self._fs, self._get_save_path())
