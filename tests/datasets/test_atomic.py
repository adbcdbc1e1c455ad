"""Every file the project writes appears whole or not at all: a write that fails midway
(here: the disk fills up) leaves no file, and the previous version stays the latest."""

from __future__ import annotations

import errno
import uuid

import fsspec
import numpy as np
import pandas as pd
import pytest
from fsspec.implementations.local import LocalFileSystem
from kedro.io import DatasetError, Version
from matplotlib.figure import Figure

from bn_compare.datasets import (
    CSVDataset,
    JSONDataset,
    MatplotlibDataset,
    NumpyDataset,
    TextDataset,
)

CASES = {
    "table.csv": (CSVDataset, {"save_args": {"index": False}},
                  pd.DataFrame({"a": range(1000)})),
    "metrics.json": (JSONDataset, {}, {"test_accuracy": 0.8, "values": list(range(500))}),
    "plot.png": (MatplotlibDataset, {"save_args": {"format": "png"}}, None),
    "report.html": (TextDataset, {}, "<p>" + "x" * 5000 + "</p>"),
    "array.npy": (NumpyDataset, {}, np.arange(5000)),
}


def _figure():
    fig = Figure()
    fig.subplots().plot([1, 2, 3])
    return fig


class _FullDisk:
    """A file that takes a few bytes, then fails as a full disk does."""

    def __init__(self, stream):
        self._stream, self._written = stream, 0

    def write(self, data):
        if self._written + len(data) > 64:
            self._stream.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")
        self._written += len(data)
        return self._stream.write(data)

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stream.close()


@pytest.mark.parametrize("name", CASES)
def test_a_write_that_fails_midway_leaves_nothing_and_keeps_the_last_version(
    tmp_path, monkeypatch, name
):
    cls, arguments, data = CASES[name]
    data = _figure() if data is None else data

    def dataset(version):
        return cls(filepath=str(tmp_path / name), version=Version(None, version),
                   **arguments)

    dataset("2026-01-01T00.00.00.000Z").save(data)
    real_open = LocalFileSystem.open  # every dataset here writes through fsspec's open
    monkeypatch.setattr(LocalFileSystem, "open", lambda fs, path, mode="rb", **kw: _FullDisk(
        real_open(fs, path, mode, **kw)) if "w" in mode else real_open(fs, path, mode, **kw))
    with pytest.raises((DatasetError, OSError), match="No space left on device"):
        dataset("2026-01-02T00.00.00.000Z").save(data)
    monkeypatch.undo()
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == [f"{name}/2026-01-01T00.00.00.000Z/{name}"]  # no partial, no new version
    assert dataset(None).list_versions(full_path=False) == ["2026-01-01T00.00.00.000Z"]


@pytest.mark.parametrize("name", CASES)
def test_a_complete_write_leaves_exactly_the_file(tmp_path, name):
    cls, arguments, data = CASES[name]
    cls(filepath=str(tmp_path / name), version=Version(None, None), **arguments).save(
        _figure() if data is None else data)
    (version,) = (tmp_path / name).iterdir()
    assert [p.name for p in version.iterdir()] == [name]


def test_the_datasets_arguments_reach_the_file_it_writes(tmp_path):
    table = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    dataset = CSVDataset(filepath=str(tmp_path / "t.csv"), version=Version(None, None),
                         save_args={"index": False, "sep": ";"}, load_args={"sep": ";"})
    dataset.save(table)
    (file,) = [p for p in (tmp_path / "t.csv").rglob("*") if p.is_file()]
    assert file.read_text().splitlines() == ["a;b", "1;3", "2;4"]
    pd.testing.assert_frame_equal(dataset.load(), table)


def test_an_unversioned_file_is_replaced_whole(tmp_path):
    dataset = JSONDataset(filepath=str(tmp_path / "m.json"))
    dataset.save({"run": 1})
    dataset.save({"run": 2})
    assert dataset.load() == {"run": 2} and [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_other_fsspec_filesystems_get_versioned_atomic_saves_too():
    folder = f"/bn_compare_{uuid.uuid4().hex}"  # in fsspec's in-memory filesystem
    versions = ["2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"]
    for version in versions:
        CSVDataset(filepath=f"memory://{folder}/t.csv", version=Version(None, version)).save(
            pd.DataFrame({"version": [version]}))
        NumpyDataset(filepath=f"memory://{folder}/x.npy", version=Version(None, version)).save(
            np.arange(3))
    latest = CSVDataset(filepath=f"memory://{folder}/t.csv", version=Version(None, None))
    assert latest.load()["version"].tolist() == versions[-1:]
    array = NumpyDataset(filepath=f"memory://{folder}/x.npy", version=Version(None, None))
    assert array.load().tolist() == [0, 1, 2]
    memory = fsspec.filesystem("memory")
    assert memory.find(folder) == [f"{folder}/{name}/{version}/{name}"
                                   for name in ("t.csv", "x.npy") for version in versions]
    memory.rm(folder, recursive=True)
