import numpy as np
import pytest

from bn_compare.parameters import DataParams
from bn_compare.pipelines.data_processing.nodes import split_dataset


@pytest.fixture
def raw():
    rng = np.random.default_rng(1)
    return {
        "train_images": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(20, dtype=np.uint8) % 10,
        "test_images": rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
        "test_labels": np.arange(8, dtype=np.uint8) % 10,
    }


def test_first_images_are_validation_rest_training_all_float32(raw):
    x_train, y_train, x_valid, y_valid, x_test, y_test = split_dataset(
        raw, data=DataParams(validation_size=5)
    )
    assert (len(x_train), len(x_valid), len(x_test)) == (15, 5, 8)
    assert {a.dtype for a in (x_train, x_valid, x_test)} == {np.dtype(np.float32)}
    np.testing.assert_allclose(x_valid, raw["train_images"][:5] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(x_train, raw["train_images"][5:] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_valid, raw["train_labels"][:5])
    np.testing.assert_array_equal(y_test, raw["test_labels"])
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0


def test_max_train_images_caps_only_the_training_part(raw):
    x_train, y_train, x_valid, *_ = split_dataset(
        raw, data=DataParams(validation_size=5, max_train_images=4)
    )
    assert (len(x_train), len(y_train), len(x_valid)) == (4, 4, 5)


@pytest.mark.parametrize("size", [20, 25])
def test_validation_size_must_leave_training_images(raw, size):
    with pytest.raises(ValueError, match=f"data.validation_size .* got {size}"):
        split_dataset(raw, data=DataParams(validation_size=size))
