import hashlib
import shutil

import numpy as np
import pytest
from kedro.io import DatasetError

from bn_compare.datasets import FashionMNISTDataset
from bn_compare.datasets.fashion_mnist_dataset import download_verified
from bn_compare.datasets.idx import IdxFile, IdxFormatError
from tests.conftest import PROJECT_ROOT, write_idx


def test_loads_the_four_arrays(synthetic_fashion_mnist, tmp_path):
    dataset = FashionMNISTDataset(
        path=str(synthetic_fashion_mnist), search_paths=[str(tmp_path / "none")],
        download=False, verify=False,
    )
    data = dataset.load()
    assert {k: v.shape for k, v in data.items()} == {
        "train_images": (12, 28, 28), "train_labels": (12,),
        "test_images": (6, 28, 28), "test_labels": (6,),
    }
    assert dataset.exists()


def test_project_folder_is_searched_before_the_search_paths(synthetic_fashion_mnist, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(synthetic_fashion_mnist, other)
    write_idx(other / "train-labels-idx1-ubyte.gz", np.full(12, 7))
    first = FashionMNISTDataset(path=str(synthetic_fashion_mnist), search_paths=[str(other)],
                                download=False, verify=False)
    assert first.load()["train_labels"].tolist() == (np.arange(12) % 10).tolist()


def test_falls_back_to_search_paths(synthetic_fashion_mnist, tmp_path):
    dataset = FashionMNISTDataset(path=str(tmp_path / "empty"),
                                  search_paths=[str(synthetic_fashion_mnist)],
                                  download=False, verify=False)
    assert dataset.load()["test_images"].shape == (6, 28, 28)


def test_no_data_anywhere_gives_one_clear_error(tmp_path):
    dataset = FashionMNISTDataset(path=str(tmp_path / "raw"),
                                  search_paths=[str(tmp_path / "debian")], download=False)
    with pytest.raises(DatasetError) as error:
        dataset.load()
    message = str(error.value)
    assert str(tmp_path / "raw") in message and str(tmp_path / "debian") in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "copy the four official .gz files" in message
    assert "downloaded" in message


def test_failed_download_is_reported_with_the_mirror(tmp_path):
    dataset = FashionMNISTDataset(path=str(tmp_path / "raw"), search_paths=[],
                                  mirrors=[(tmp_path / "mirror").as_uri() + "/"])
    with pytest.raises(DatasetError, match="could not be downloaded .*mirror"):
        dataset.load()
    assert not any((tmp_path / "raw").glob("*"))


def test_corrupt_file_error_names_the_file(synthetic_fashion_mnist, tmp_path):
    target = synthetic_fashion_mnist / "t10k-labels-idx1-ubyte.gz"
    write_idx(target, np.array([1, 2, 3, 4, 5, 11]))
    dataset = FashionMNISTDataset(path=str(synthetic_fashion_mnist), search_paths=[],
                                  download=False, verify=False)
    with pytest.raises(DatasetError, match="test set: label 11 at index 5"):
        dataset.load()


def test_official_checks_reject_files_that_are_not_fashion_mnist(synthetic_fashion_mnist):
    dataset = FashionMNISTDataset(path=str(synthetic_fashion_mnist), search_paths=[],
                                  download=False)
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte.gz: holds 12 items, "
                                           "expected 60000"):
        dataset.load()


def test_download_is_verified_and_only_then_put_in_place(tmp_path):
    source = write_idx(tmp_path / "mirror" / "labels.gz", np.array([1, 2, 3]))
    digest = hashlib.md5(source.read_bytes()).hexdigest()
    target = tmp_path / "raw" / "labels.gz"
    spec = IdxFile("labels.gz", 1, 3, gzip_md5=digest, idx_md5=None)
    assert download_verified(source.as_uri(), target, spec, 5) == target
    assert target.read_bytes() == source.read_bytes()

    bad = tmp_path / "raw2" / "labels.gz"
    with pytest.raises(IdxFormatError, match="checksum mismatch"):
        download_verified(source.as_uri(), bad, IdxFile("labels.gz", 1, 3, "0" * 32, None), 5)
    assert list(bad.parent.iterdir()) == []  # no partial or unverified file left


def test_is_read_only(synthetic_fashion_mnist):
    with pytest.raises(DatasetError, match="read-only"):
        FashionMNISTDataset(path=str(synthetic_fashion_mnist)).save({"train_images": 1})


def test_real_fashion_mnist_passes_every_official_check():
    # `make test` provides the real files (project folder or Debian's package).
    raw = PROJECT_ROOT / "data" / "01_raw" / "fashion-mnist"
    data = FashionMNISTDataset(path=str(raw), download=False).load()
    assert data["train_images"].shape == (60000, 28, 28)
    assert data["test_images"].shape == (10000, 28, 28)
    assert np.bincount(data["train_labels"]).tolist() == [6000] * 10
    assert np.bincount(data["test_labels"]).tolist() == [1000] * 10


def test_files_are_read_and_checked_once_while_they_stay_the_same(
        synthetic_fashion_mnist, monkeypatch):
    """The run's input check and the split node load the raw data: one read, one check;
    a file replaced since is read and checked again."""
    from bn_compare.datasets import fashion_mnist_dataset

    reads = []
    real = fashion_mnist_dataset.read_idx_gz
    monkeypatch.setattr(fashion_mnist_dataset, "read_idx_gz",
                        lambda path, **kwargs: reads.append(path.name) or real(path, **kwargs))
    dataset = FashionMNISTDataset(path=str(synthetic_fashion_mnist), search_paths=[],
                                  download=False, verify=False)
    first, again = dataset.load(), dataset.load()
    assert len(reads) == 4 and np.array_equal(first["train_labels"], again["train_labels"])
    write_idx(synthetic_fashion_mnist / "train-labels-idx1-ubyte.gz", np.full(12, 7))
    assert dataset.load()["train_labels"].tolist() == [7] * 12
    assert len(reads) == 8


def test_a_pickled_dataset_carries_no_arrays(synthetic_fashion_mnist):
    """Worker processes (ParallelRunner, Dask) receive the catalog pickled: without the
    arrays the input check kept, they read the files themselves."""
    import pickle

    dataset = FashionMNISTDataset(path=str(synthetic_fashion_mnist), search_paths=[],
                                  download=False, verify=False)
    dataset.load()
    assert len(pickle.dumps(dataset)) < 2_000
    assert pickle.loads(pickle.dumps(dataset)).load()["test_images"].shape == (6, 28, 28)
