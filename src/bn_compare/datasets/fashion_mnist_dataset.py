"""``FashionMNISTDataset``: the four official IDX files, found, checked, loaded."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
from kedro.io import AbstractDataset, DatasetError

from .idx import FASHION_MNIST_FILES, IdxFile, IdxFormatError, check_pair, read_idx_gz

logger = logging.getLogger(__name__)

DEBIAN_FOLDER = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist
MIRRORS = ("https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
           "https://storage.googleapis.com/tensorflow/tf-keras-datasets/")


class FashionMNISTDataset(AbstractDataset[Any, dict[str, np.ndarray]]):
    """Read-only: ``train_images``, ``train_labels``, ``test_images``, ``test_labels`` as uint8
    arrays, each file taken from ``path``, else ``search_paths``, else (``download``) from
    ``mirrors`` into ``path``, and checked before anything is returned. ``verify: false`` (tests
    with small files) skips the official counts and MD5s; the other checks always run.
    The checked arrays are kept while the files stay the same (path, size, modification
    time): the run's input check and the split node read and check them once."""

    def __init__(  # noqa: PLR0913
        self, *, path: str, search_paths: list[str] | None = None, download: bool = True,
        mirrors: list[str] | None = None, download_timeout: float = 30.0, verify: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        search_paths = [DEBIAN_FOLDER] if search_paths is None else search_paths
        self._folders = [Path(folder) for folder in (path, *search_paths)]
        self._mirrors = list(MIRRORS if mirrors is None else mirrors)
        self._download, self._timeout, self._verify = download, download_timeout, verify
        self.metadata = metadata
        self._checked: tuple[tuple, dict[str, np.ndarray]] | None = None  # (files, arrays)

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._folders[0]), "search_paths": [str(f) for f in self._folders[1:]],
                "download": self._download, "verify": self._verify}

    def _exists(self) -> bool:
        return all(self._find(spec) for spec in FASHION_MNIST_FILES.values())

    def save(self, data: Any) -> None:
        raise DatasetError("FashionMNISTDataset is read-only: it reads the official IDX files.")

    def load(self) -> dict[str, np.ndarray]:
        files = {key: self._find(spec) or self._fetch(spec)
                 for key, spec in FASHION_MNIST_FILES.items()}
        stamp = tuple((str(f), (stat := f.stat()).st_size, stat.st_mtime_ns)
                      for f in files.values())
        if self._checked is None or self._checked[0] != stamp:
            arrays = {key: self._read(files[key], spec) for key, spec in FASHION_MNIST_FILES.items()}
            check_pair(arrays["train_images"], arrays["train_labels"], "training set")
            check_pair(arrays["test_images"], arrays["test_labels"], "test set")
            self._checked = (stamp, arrays)
        return dict(self._checked[1])

    def __getstate__(self) -> dict[str, Any]:
        # a catalog sent to worker processes (ParallelRunner, Dask) carries no arrays
        return {**self.__dict__, "_checked": None}

    def _read(self, file: Path, spec: IdxFile) -> np.ndarray:
        try:
            return read_idx_gz(file, ndim=spec.ndim, count=spec.count if self._verify else None,
                               idx_md5=spec.idx_md5 if self._verify else None)
        except IdxFormatError as exc:
            raise DatasetError(f"Fashion-MNIST file check failed: {exc}. Replace the file with "
                               f"the official one (see README, 'The data').") from None

    def _find(self, spec: IdxFile) -> Path | None:
        return next((f / spec.name for f in self._folders if (f / spec.name).is_file()), None)

    def _fetch(self, spec: IdxFile) -> Path:
        errors = []
        for mirror in self._mirrors if self._download else []:
            try:
                return download_verified(mirror + spec.name, self._folders[0] / spec.name, spec,
                                         self._timeout)
            except (OSError, IdxFormatError) as exc:
                errors.append(f"{mirror}: {exc}")
        raise DatasetError(
            f"Fashion-MNIST file '{spec.name}' not found in {', '.join(map(str, self._folders))} "
            f"and could not be downloaded ({'; '.join(errors) or 'download disabled'}). Provide "
            f"the data in one of three ways: (1) copy the four official .gz files into "
            f"{self._folders[0]}; (2) install Debian's package: sudo apt-get install "
            f"dataset-fashion-mnist (puts them in {DEBIAN_FOLDER}); (3) allow network access so "
            f"they can be downloaded.")


def download_verified(url: str, target: Path, spec: IdxFile, timeout: float) -> Path:
    """Download ``url`` to ``target`` through a temporary file beside it, renamed into place
    only once it passes every check: a broken download never looks like a valid file."""
    logger.info("Downloading %s", url)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{spec.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            out.write(data := response.read())
        if (actual := hashlib.md5(data).hexdigest()) != spec.gzip_md5:
            raise IdxFormatError(f"{url}: checksum mismatch: MD5 {actual}, expected {spec.gzip_md5}")
        read_idx_gz(Path(tmp), ndim=spec.ndim, count=spec.count, idx_md5=spec.idx_md5)
        return Path(tmp).replace(target)
    finally:
        Path(tmp).unlink(missing_ok=True)
