"""Which version a run writes, and which it reads: runs started at once in one project never
write into the same version folders, and never read each other's files."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from kedro.io import AbstractVersionedDataset, DatasetError
from kedro.io.core import VERSION_FORMAT


def claim_version(folder: Path, version: str) -> str:
    """``version``, or the next millisecond that no other run has claimed: a run claims its
    version by creating ``folder/<version>``, which succeeds for one process only."""
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            (folder / version).touch(exist_ok=False)  # O_CREAT | O_EXCL: atomic
            return version
        except FileExistsError:
            later = datetime.strptime(version, VERSION_FORMAT) + timedelta(milliseconds=1)
            version = later.strftime(VERSION_FORMAT)[:-4] + "Z"  # as Kedro's: milliseconds


def own_version_first(self: AbstractVersionedDataset) -> str | None:
    """``resolve_load_version`` of the project's datasets: Kedro's (``--load-versions``, else
    the latest), except that a run loads the version it saved itself when there is one (its
    catalog's save version): runs at once never read each other's outputs."""
    own = self._version and not self._version.load and self._version.save
    if own and self._exists_function(str(self._get_versioned_path(own))):
        return own
    return AbstractVersionedDataset.resolve_load_version(self)


def saved_file(dataset: object, or_latest: bool = False) -> Path | None:
    """The file of a versioned dataset that this run saved (its save version), else, with
    ``or_latest``, its latest file; None when there is none (or it is not versioned)."""
    if not isinstance(dataset, AbstractVersionedDataset):
        return None
    try:
        paths = [Path(p) for p in dataset.list_versions(full_path=True)]  # the latest first
    except DatasetError:  # none saved yet
        return None
    version = dataset.resolve_save_version()
    own = next((p for p in paths if p.parent.name == version), None)
    return own or (paths[0] if or_latest and paths else None)
