"""Per variant (same namespaces as training): test metrics, predictions, confusion
matrix and a summary row; then the comparison table and the learning curves."""

import warnings

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind_variant, per_variant
from bn_compare.variants import variant_names

from .nodes import (
    build_comparison_table,
    evaluate_model,
    plot_confusion_matrix,
    plot_learning_curves,
    summarise_variant,
)


def variant_evaluation(variant: str) -> Pipeline:
    template = Pipeline(
        [
            Node(
                func=evaluate_model,
                inputs=["model", "x_test", "y_test", "params:training"],
                outputs=["test_metrics", "predictions"],
                name="evaluate_model",
            ),
            Node(
                func=bind_variant(plot_confusion_matrix, variant),
                inputs=["y_test", "predictions", "params:data"],
                outputs="confusion_matrix",
                name="plot_confusion_matrix",
            ),
            Node(
                func=summarise_variant,
                inputs=["history", "parameter_table", "test_metrics"],
                outputs="summary",
                name="summarise_variant",
            ),
        ]
    )
    return Pipeline(
        template,
        namespace=variant,
        inputs={"x_test": "x_test", "y_test": "y_test", "parameter_table": f"{variant}.parameters"},
        parameters={"params:data", "params:training"},
    )


def create_pipeline(variants: list[str] | None = None, **kwargs) -> Pipeline:
    names = variant_names() if variants is None else variants
    with warnings.catch_warnings():
        # The comparison nodes name namespaced datasets ("baseline.summary") on
        # purpose; Kedro warns about dots in dataset names for every one of them.
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        reporting = _reporting(names)
    return per_variant(variant_evaluation, names) + reporting


def _reporting(names: list[str]) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=build_comparison_table,
                inputs={name: f"{name}.summary" for name in names},
                outputs="comparison_table",
                name="build_comparison_table",
            ),
            Node(
                func=plot_learning_curves,
                inputs={name: f"{name}.history" for name in names},
                outputs="learning_curves",
                name="plot_learning_curves",
            ),
        ]
    )
