"""Every file the project writes appears whole or not at all: a write that fails midway
(here: the disk fills up) leaves no file, and the previous version stays the latest."""

from __future__ import annotations

import errno

import numpy as np
import pandas as pd
import pytest
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
    failing = dataset("2026-01-02T00.00.00.000Z")
    real_open = failing._fs.open
    monkeypatch.setattr(failing._fs, "open", lambda path, mode="rb", **kw: _FullDisk(
        real_open(path, mode, **kw)) if "w" in mode else real_open(path, mode, **kw))
    with pytest.raises((DatasetError, OSError), match="No space left on device"):
        failing.save(data)
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
