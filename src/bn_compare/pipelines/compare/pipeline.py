"""The whole comparison: data processing, training and evaluation of every run of the
matrix (variant x grid point x seed), then the statistics, the diagnostics and the report."""

from kedro.pipeline import Pipeline

from bn_compare.pipelines import data_processing, diagnostics, evaluation, reporting, training
from bn_compare.run_matrix import RunMatrix


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    return (
        data_processing.create_pipeline(matrix)
        + training.create_pipeline(matrix)
        + evaluation.create_pipeline(matrix)
        + diagnostics.create_pipeline(matrix)
        + reporting.create_pipeline(matrix)
    )
