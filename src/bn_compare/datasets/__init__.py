"""Project datasets: thin readers and writers that validate and hand back data."""

from .fashion_mnist_dataset import FashionMNISTDataset
from .keras_model_dataset import KerasModelDataset
from .numpy_dataset import NumpyDataset

__all__ = ["FashionMNISTDataset", "KerasModelDataset", "NumpyDataset"]
