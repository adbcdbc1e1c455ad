"""Over every run: per-variant statistics over seeds, pairwise differences, their plots
and the report."""

from kedro.pipeline import Node, Pipeline

from bn_compare.run_matrix import RunMatrix

from .nodes import (
    compute_pairwise_differences,
    compute_variant_statistics,
    plot_learning_curves,
    plot_test_accuracy_intervals,
    write_report,
)


def create_pipeline(matrix: RunMatrix, **kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=compute_variant_statistics,
                inputs=["comparison_table", "learning_curve_table", "params:statistics"],
                outputs="variant_statistics",
                name="compute_variant_statistics",
            ),
            Node(
                func=compute_pairwise_differences,
                inputs=["comparison_table", "params:statistics"],
                outputs="pairwise_differences",
                name="compute_pairwise_differences",
            ),
            Node(
                func=plot_learning_curves,
                inputs=["learning_curve_table", "params:statistics"],
                outputs="learning_curves",
                name="plot_learning_curves",
            ),
            Node(
                func=plot_test_accuracy_intervals,
                inputs=["comparison_table", "variant_statistics"],
                outputs="test_accuracy_intervals",
                name="plot_test_accuracy_intervals",
            ),
            Node(
                func=write_report,
                inputs={
                    "comparison_table": "comparison_table",
                    "variant_statistics": "variant_statistics",
                    "pairwise_differences": "pairwise_differences",
                    "learning_curve_table": "learning_curve_table",
                    "parameter_accounting": "parameter_accounting",
                    "y_train": "y_train",
                    "y_valid": "y_valid",
                    "y_test": "y_test",
                    "data": "params:data",
                    "training": "params:training",
                    "variants": "params:variants",
                    "statistics": "params:statistics",
                },
                outputs="report",
                name="write_report",
            ),
        ]
    )
