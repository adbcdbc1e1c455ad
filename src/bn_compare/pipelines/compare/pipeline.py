"""The whole comparison: data processing, training and evaluation of every variant with
every seed, then the statistics over seeds and the report."""

from kedro.pipeline import Pipeline

from bn_compare.pipelines import data_processing, evaluation, reporting, training
from bn_compare.variants import Run
from bn_compare.variants import runs as configured_runs


def create_pipeline(runs: list[Run] | None = None, **kwargs) -> Pipeline:
    runs = configured_runs() if runs is None else runs
    return (
        data_processing.create_pipeline()
        + training.create_pipeline(runs)
        + evaluation.create_pipeline(runs)
        + reporting.create_pipeline()
    )
