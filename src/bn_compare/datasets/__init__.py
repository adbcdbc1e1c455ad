"""Project datasets, imported on first use (the catalog names them ``bn_compare.datasets.<Class>``)
so that importing ``bn_compare.datasets.idx`` alone stays cheap."""

import importlib
from typing import Any

_MODULES = {"CSVDataset": "atomic", "JSONDataset": "atomic", "MatplotlibDataset": "atomic",
            "TextDataset": "atomic", "FashionMNISTDataset": "fashion_mnist_dataset",
            "KerasModelDataset": "keras_model_dataset", "MarkedSectionDataset": "marked_section",
            "NumpyDataset": "numpy_dataset",
            "PNGDataset": "png_dataset", "ProvenanceDataset": "provenance"}
__all__ = list(_MODULES)


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_MODULES[name]}", __name__), name)
