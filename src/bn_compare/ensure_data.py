"""Make sure the real Fashion-MNIST is there: ``python -m bn_compare.ensure_data``.

Used by ``make run`` and ``make test``. Looks where the catalog's ``fashion_mnist_raw``
looks (project folder, Debian's folder, download). If that fails and this process runs
as root on a Debian-like system, installs Debian's ``dataset-fashion-mnist`` with
apt-get and checks again. Exits non-zero with the dataset's explanation otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kedro.io import DatasetError

from bn_compare.datasets import FashionMNISTDataset

DEBIAN_PACKAGE = "dataset-fashion-mnist"


def raw_dataset(project_path: Path) -> FashionMNISTDataset:
    from kedro.config import OmegaConfigLoader

    from bn_compare.settings import CONF_SOURCE, CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(project_path / CONF_SOURCE), **CONFIG_LOADER_ARGS)
    entry = {k: v for k, v in loader["catalog"]["fashion_mnist_raw"].items()
             if k not in ("type", "metadata")}
    entry["path"] = str(project_path / entry["path"])
    return FashionMNISTDataset(**entry)


def _apt_install() -> bool:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    print(f"Installing Debian's {DEBIAN_PACKAGE} with apt-get ...", flush=True)
    update = subprocess.run(["apt-get", "update", "-qq"], check=False)
    install = subprocess.run(
        ["apt-get", "install", "-y", "-qq", DEBIAN_PACKAGE],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, check=False,
    )
    return update.returncode == 0 and install.returncode == 0


def main(project_path: Path = Path.cwd()) -> int:
    dataset = raw_dataset(project_path)
    try:
        dataset.load()
    except DatasetError as first_error:
        if not _apt_install():
            print(f"ERROR: {first_error}", file=sys.stderr)
            return 1
        try:
            dataset.load()
        except DatasetError as error:
            print(f"ERROR: {error}", file=sys.stderr)
            return 1
    print("Fashion-MNIST: the four official files are present and pass every check.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
