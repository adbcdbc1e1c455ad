import gzip
import hashlib

import numpy as np
import pytest

from bn_compare.datasets.idx import IdxFormatError, check_pair, parse_idx, read_idx_gz
from tests.conftest import write_idx


def test_reads_images_and_labels_back(tmp_path):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    path = write_idx(tmp_path / "images.gz", images)
    array = read_idx_gz(path, ndim=3, count=2)
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, images)


def test_checksum_of_uncompressed_content_is_verified(tmp_path):
    labels = np.array([1, 2, 3])
    path = write_idx(tmp_path / "labels.gz", labels)
    good = hashlib.md5(gzip.open(path).read()).hexdigest()
    assert read_idx_gz(path, ndim=1, idx_md5=good).tolist() == [1, 2, 3]
    with pytest.raises(IdxFormatError, match="labels.gz: checksum mismatch"):
        read_idx_gz(path, ndim=1, idx_md5="0" * 32)


def test_wrong_magic_number_names_the_file(tmp_path):
    path = write_idx(tmp_path / "bad.gz", np.zeros(3), magic=bytes([0, 0, 0x0D, 1]))
    with pytest.raises(IdxFormatError, match=r"bad.gz: wrong magic number 0x00000d01"):
        read_idx_gz(path, ndim=1)


def test_images_file_given_for_labels_is_refused(tmp_path):
    path = write_idx(tmp_path / "swapped.gz", np.zeros((2, 28, 28)))
    with pytest.raises(IdxFormatError, match="has 3 dimensions, expected 1"):
        read_idx_gz(path, ndim=1)


def test_wrong_count(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.zeros(5))
    with pytest.raises(IdxFormatError, match="holds 5 items, expected 60000"):
        read_idx_gz(path, ndim=1, count=60000)


def test_truncated_gzip(tmp_path):
    path = write_idx(tmp_path / "images.gz", np.ones((50, 28, 28)))
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(IdxFormatError, match="images.gz: not a complete gzip file"):
        read_idx_gz(path, ndim=3)


def test_payload_shorter_than_header_says(tmp_path):
    content = bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(7)
    with pytest.raises(IdxFormatError, match="holds 15 bytes, but its header"):
        parse_idx(content, "short")


def test_missing_file(tmp_path):
    with pytest.raises(IdxFormatError, match="nope.gz: file not found"):
        read_idx_gz(tmp_path / "nope.gz", ndim=1)


def test_labels_outside_0_to_9_are_refused():
    with pytest.raises(IdxFormatError, match="label 12 at index 1 is outside 0-9"):
        check_pair(np.zeros((2, 28, 28)), np.array([3, 12]), "training set")


def test_images_and_labels_must_agree():
    with pytest.raises(IdxFormatError, match="3 images but labels of shape"):
        check_pair(np.zeros((3, 28, 28)), np.array([1, 2]), "test set")
