"""The whole comparison: data processing, training and evaluation of every variant."""

from kedro.pipeline import Pipeline

from bn_compare.pipelines import data_processing, evaluation, training
from bn_compare.variants import variant_names


def create_pipeline(variants: list[str] | None = None, **kwargs) -> Pipeline:
    names = variant_names() if variants is None else variants
    return (
        data_processing.create_pipeline()
        + training.create_pipeline(names)
        + evaluation.create_pipeline(names)
    )
