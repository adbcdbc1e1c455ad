"""Raw IDX files -> scaled float32 arrays for training, validation and test."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import RunMatrix

from .nodes import split_dataset

MODEL_INPUTS = ["x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test"]


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    return Pipeline([Node(bind(split_dataset, data=matrix.parameters.data), "fashion_mnist_raw",
                          MODEL_INPUTS, name="split_dataset")])
