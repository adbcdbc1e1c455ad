"""Scale and split the raw Fashion-MNIST arrays."""

from __future__ import annotations

import numpy as np

from bn_compare.parameters import DataParams


def _scaled(images: np.ndarray, scale: float) -> np.ndarray:
    scaled = images.astype(np.float32)  # no float64 copy of the images (twice the memory)
    scaled /= np.float32(scale)
    return scaled


def split_dataset(
    raw: dict[str, np.ndarray], *, data: DataParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scale pixels to [0, 1]; as in the notebook, validation = the first
    ``validation_size`` training images, training = the rest (optionally only the first
    ``max_train_images`` of them, for quick runs), the test set as it is.

    Returns:
        x_train, y_train, x_valid, y_valid, x_test, y_test
    """
    images, labels = raw["train_images"], raw["train_labels"]
    validation_size = data.validation_size
    if not 0 < validation_size < len(images):
        raise ValueError(
            f"data.validation_size must be between 1 and {len(images) - 1} "
            f"(the training set has {len(images)} images), got {validation_size}"
        )
    end = len(images)
    if data.max_train_images:
        end = min(end, validation_size + data.max_train_images)
    scale = float(data.scale)
    return (
        _scaled(images[validation_size:end], scale), labels[validation_size:end].copy(),
        _scaled(images[:validation_size], scale), labels[:validation_size].copy(),
        _scaled(raw["test_images"], scale), raw["test_labels"].copy(),
    )
