import numpy as np
import pytest
from kedro.io import DatasetError, Version

from bn_compare.datasets import NumpyDataset


def test_versioned_round_trip_keeps_every_version(tmp_path):
    filepath = str(tmp_path / "x.npy")
    first = np.arange(6, dtype=np.float32).reshape(2, 3)
    second = first * 2
    assert not NumpyDataset(filepath=filepath, version=Version(None, None)).exists()
    NumpyDataset(filepath=filepath, version=Version(None, "2026-01-01T00.00.00.000Z")).save(first)
    NumpyDataset(filepath=filepath, version=Version(None, "2026-01-02T00.00.00.000Z")).save(second)

    latest = NumpyDataset(filepath=filepath, version=Version(None, None)).load()
    np.testing.assert_array_equal(latest, second)
    assert latest.dtype == np.float32
    older = NumpyDataset(filepath=filepath,
                         version=Version("2026-01-01T00.00.00.000Z", None)).load()
    np.testing.assert_array_equal(older, first)
    assert sorted(p.name for p in (tmp_path / "x.npy").iterdir()) == [
        "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"]


def test_no_partial_file_is_left_behind(tmp_path):
    dataset = NumpyDataset(filepath=str(tmp_path / "y.npy"), version=Version(None, None))
    dataset.save(np.zeros(3, dtype=np.uint8))
    assert [p.name for p in (tmp_path / "y.npy").rglob("*") if p.is_file()] == ["y.npy"]


def test_an_existing_version_is_never_overwritten(tmp_path):
    version = Version(None, "2026-01-01T00.00.00.000Z")
    NumpyDataset(filepath=str(tmp_path / "z.npy"), version=version).save(np.ones(2))
    with pytest.raises(DatasetError, match="must not exist"):
        NumpyDataset(filepath=str(tmp_path / "z.npy"), version=version).save(np.zeros(2))


def test_unversioned_and_refuses_non_arrays(tmp_path):
    dataset = NumpyDataset(filepath=str(tmp_path / "plain.npy"))
    assert not dataset.exists()
    dataset.save(np.array([1, 2]))
    assert dataset.exists() and dataset.load().tolist() == [1, 2]
    dataset.save(np.array([3]))  # replaced whole
    assert dataset.load().tolist() == [3] and [p.name for p in tmp_path.iterdir()] == ["plain.npy"]
    with pytest.raises(DatasetError, match="saves numpy arrays, got list"):
        dataset.save([1, 2])


def test_mmap_mode_maps_the_local_file_instead_of_reading_it(tmp_path):
    NumpyDataset(filepath=str(tmp_path / "m.npy")).save(np.arange(4, dtype=np.uint8))
    mapped = NumpyDataset(filepath=str(tmp_path / "m.npy"), load_args={"mmap_mode": "r"}).load()
    assert isinstance(mapped, np.memmap) and mapped.tolist() == [0, 1, 2, 3]
