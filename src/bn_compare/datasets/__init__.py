"""Project datasets: thin readers and writers that validate and hand back arrays."""

from .fashion_mnist_dataset import FashionMNISTDataset
from .numpy_dataset import NumpyDataset

__all__ = ["FashionMNISTDataset", "NumpyDataset"]
