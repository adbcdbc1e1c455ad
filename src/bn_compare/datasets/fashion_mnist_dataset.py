"""``FashionMNISTDataset``: the four official IDX files, found, checked, loaded."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
from kedro.io import AbstractDataset, DatasetError

from .idx import (
    FASHION_MNIST_FILES,
    IdxFile,
    IdxFormatError,
    check_pair,
    file_md5,
    read_idx_gz,
)

logger = logging.getLogger(__name__)

DEFAULT_SEARCH_PATHS = ("/usr/share/datasets/fashion-mnist",)
DEFAULT_MIRRORS = (
    "https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)


class FashionMNISTDataset(AbstractDataset[Any, dict[str, np.ndarray]]):
    """Loads Fashion-MNIST from the four official gzip-compressed IDX files.

    Each file is taken from the first place that has it: ``path``, then each of
    ``search_paths`` (Debian's ``dataset-fashion-mnist`` installs them in
    ``/usr/share/datasets/fashion-mnist``), then, if ``download`` is on, a download
    from ``mirrors`` into ``path``. Every file is checked (magic number, count, shape,
    label range and the official MD5) before anything is returned.

    ``load()`` returns ``{"train_images", "train_labels", "test_images",
    "test_labels"}`` as uint8 arrays. The dataset is read-only.

    Example catalog entry::

        fashion_mnist_raw:
          type: bn_compare.datasets.FashionMNISTDataset
          path: data/01_raw/fashion-mnist
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        path: str,
        search_paths: list[str] | None = None,
        download: bool = True,
        mirrors: list[str] | None = None,
        download_timeout: float = 30.0,
        verify: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """
        Args:
            path: The project's own folder for the files (searched first, and where
                downloads go).
            search_paths: Further folders to look in, in order.
            download: Download missing files from ``mirrors``.
            mirrors: Base URLs that serve the four ``.gz`` files.
            download_timeout: Seconds to wait for a mirror to answer.
            verify: Check the official counts and MD5 sums. Only tests that write
                their own small IDX files turn this off; header, shape and label
                checks always run.
            metadata: Free-form metadata (used by kedro-viz).
        """
        self._path = Path(path)
        self._search_paths = [
            Path(p) for p in (DEFAULT_SEARCH_PATHS if search_paths is None else search_paths)
        ]
        self._download = download
        self._mirrors = list(DEFAULT_MIRRORS if mirrors is None else mirrors)
        self._timeout = download_timeout
        self._verify = verify
        self.metadata = metadata

    @property
    def folders(self) -> list[Path]:
        return [self._path, *self._search_paths]

    def _describe(self) -> dict[str, Any]:
        return {
            "path": str(self._path),
            "search_paths": [str(p) for p in self._search_paths],
            "download": self._download,
            "verify": self._verify,
        }

    def _exists(self) -> bool:
        return all(self._find(spec) is not None for spec in FASHION_MNIST_FILES.values())

    def save(self, data: Any) -> None:
        raise DatasetError(
            "FashionMNISTDataset is read-only: it reads the official IDX files."
        )

    def load(self) -> dict[str, np.ndarray]:
        arrays = {}
        for key, spec in FASHION_MNIST_FILES.items():
            file = self._find(spec) or self._fetch(spec)
            arrays[key] = self._read(file, spec)
        check_pair(arrays["train_images"], arrays["train_labels"], "training set")
        check_pair(arrays["test_images"], arrays["test_labels"], "test set")
        return arrays

    def _read(self, file: Path, spec: IdxFile) -> np.ndarray:
        try:
            return read_idx_gz(
                file,
                ndim=spec.ndim,
                count=spec.count if self._verify else None,
                idx_md5=spec.idx_md5 if self._verify else None,
            )
        except IdxFormatError as exc:
            raise DatasetError(
                f"Fashion-MNIST file check failed: {exc}. Replace the file with the "
                f"official one (see README, 'The data')."
            ) from None

    def _find(self, spec: IdxFile) -> Path | None:
        for folder in self.folders:
            candidate = folder / spec.name
            if candidate.is_file():
                return candidate
        return None

    def _fetch(self, spec: IdxFile) -> Path:
        errors = []
        if self._download:
            for mirror in self._mirrors:
                try:
                    return download_verified(
                        mirror + spec.name, self._path / spec.name, spec, self._timeout
                    )
                except (OSError, IdxFormatError) as exc:
                    errors.append(f"{mirror}: {exc}")
        raise DatasetError(missing_data_message(self.folders, spec.name, errors))


def missing_data_message(folders: list[Path], name: str, errors: list[str]) -> str:
    searched = ", ".join(str(f) for f in folders)
    tried = "; ".join(errors) if errors else "download disabled"
    return (
        f"Fashion-MNIST file '{name}' not found in {searched} and could not be "
        f"downloaded ({tried}). Provide the data in one of three ways: "
        f"(1) copy the four official .gz files into {folders[0]}; "
        f"(2) install Debian's package: sudo apt-get install dataset-fashion-mnist "
        f"(puts them in /usr/share/datasets/fashion-mnist); "
        f"(3) allow network access so they can be downloaded."
    )


def download_verified(url: str, target: Path, spec: IdxFile, timeout: float) -> Path:
    """Download ``url`` to ``target`` only if it passes every check.

    The bytes go to a temporary file beside the target and are renamed into place
    after the checks, so a broken download never looks like a valid file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Downloading %s", url)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.name}.", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(
            url, timeout=timeout
        ) as response:
            shutil.copyfileobj(response, out)
        actual = file_md5(tmp)
        if actual != spec.gzip_md5:
            raise IdxFormatError(
                f"{url}: checksum mismatch: MD5 {actual}, expected {spec.gzip_md5}"
            )
        read_idx_gz(tmp, ndim=spec.ndim, count=spec.count, idx_md5=spec.idx_md5)
        tmp.replace(target)
        return target
    finally:
        tmp.unlink(missing_ok=True)
