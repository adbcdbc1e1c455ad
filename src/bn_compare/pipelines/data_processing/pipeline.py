"""Raw IDX files -> scaled float32 arrays for training, validation and test."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import split_dataset

MODEL_INPUTS = ["x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test"]


def create_pipeline() -> Pipeline:
    """The same for every run matrix."""
    return Pipeline([Node(split_dataset, ["fashion_mnist_raw", "params:data"], MODEL_INPUTS,
                          name="split_dataset")])
