"""``python -m bn_compare.ensure_data`` (``make data``): loads the catalog's ``fashion_mnist_raw``
(project folder, Debian's folder, download); if that fails and this runs as root with apt-get,
installs Debian's dataset-fashion-mnist and loads again. Exits 1 with the dataset's explanation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kedro.config import OmegaConfigLoader
from kedro.io import DatasetError

from bn_compare.datasets import FashionMNISTDataset
from bn_compare.settings import CONF_SOURCE, CONFIG_LOADER_ARGS

DEBIAN_PACKAGE = "dataset-fashion-mnist"


def raw_dataset(project_path: Path) -> FashionMNISTDataset:
    """The catalog's ``fashion_mnist_raw``, its ``path`` taken from ``project_path``."""
    loader = OmegaConfigLoader(str(project_path / CONF_SOURCE), **CONFIG_LOADER_ARGS)
    entry = {k: v for k, v in loader["catalog"]["fashion_mnist_raw"].items() if k != "type"}
    return FashionMNISTDataset(**{**entry, "path": str(project_path / entry["path"])})


def _apt_install() -> bool:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    print(f"Installing Debian's {DEBIAN_PACKAGE} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return [subprocess.run(["apt-get", *args], env=env, check=False).returncode
            for args in (["update", "-qq"], ["install", "-y", "-qq", DEBIAN_PACKAGE])] == [0, 0]


def main(project_path: Path = Path.cwd()) -> int:
    dataset = raw_dataset(project_path)
    try:
        try:
            dataset.load()
        except DatasetError:
            if not _apt_install():
                raise
            dataset.load()
    except DatasetError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    print("Fashion-MNIST: the four official files are present and pass every check.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
