"""Project datasets: thin readers and writers that validate and hand back data."""

from .atomic import CSVDataset, JSONDataset, MatplotlibDataset, TextDataset
from .fashion_mnist_dataset import FashionMNISTDataset
from .keras_model_dataset import KerasModelDataset
from .numpy_dataset import NumpyDataset

__all__ = ["CSVDataset", "FashionMNISTDataset", "JSONDataset", "KerasModelDataset",
           "MatplotlibDataset", "NumpyDataset", "TextDataset"]
