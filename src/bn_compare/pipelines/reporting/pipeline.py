"""Over every run: statistics over seeds per variant (and grid point), pairwise
differences, their plots, the verdict and the report; with a grid of several points also
the sweep table, each variant's best setting, the comparisons at the best settings and
the sweep plot.

A plot node saves its figure as ``<name>@figure``; the report loads the same file as
``<name>@png`` (Kedro transcoding: the report runs after the plot, and reads the PNG
this run saved)."""

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import RunMatrix

from .nodes import compute_pairwise_differences, compute_variant_statistics
from .plots import plot_learning_curves, plot_sweep_curves, plot_test_accuracy_intervals
from .report import FIGURES, GRID_FIGURES, GRID_TABLES, TABLES, write_report
from .sweep import build_sweep_table, compare_best_settings, select_best_settings
from .verdict import write_grid_verdict, write_verdict

SETUP = {"data": "params:data", "training": "params:training",
         "variants": "params:variants", "statistics": "params:statistics"}


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    keys = matrix.grid_keys if matrix.is_sweep else ()
    nodes = [
        Node(
            func=bind(compute_variant_statistics, grid_keys=keys),
            inputs=["comparison_table", "learning_curve_table", "params:statistics"],
            outputs="variant_statistics",
            name="compute_variant_statistics",
        ),
        Node(
            func=bind(compute_pairwise_differences, grid_keys=keys),
            inputs=["comparison_table", "params:statistics"],
            outputs="pairwise_differences",
            name="compute_pairwise_differences",
        ),
        Node(
            func=bind(plot_learning_curves, grid_keys=keys),
            inputs=["learning_curve_table", "params:statistics"],
            outputs="learning_curves@figure",
            name="plot_learning_curves",
        ),
        Node(
            func=bind(plot_test_accuracy_intervals, grid_keys=keys),
            inputs=["comparison_table", "variant_statistics",
                    *(["best_settings"] if matrix.is_sweep else [])],
            outputs="test_accuracy_intervals@figure",
            name="plot_test_accuracy_intervals",
        ),
        _report_node(matrix, keys),
    ]
    if matrix.is_sweep:
        nodes += _sweep_nodes(keys)
    else:
        nodes.append(Node(
            func=write_verdict,
            inputs=["variant_statistics", "pairwise_differences", "params:variants"],
            outputs="verdict",
            name="write_verdict",
        ))
    return Pipeline(nodes)


def _report_node(matrix: RunMatrix, keys: tuple[str, ...]) -> Node:
    tables = TABLES + (GRID_TABLES if matrix.is_sweep else ())
    figures = FIGURES + (GRID_FIGURES if matrix.is_sweep else ())
    return Node(
        func=bind(write_report, grid_keys=keys,
                  overrides=None if matrix.is_sweep else matrix.points[0].overrides),
        inputs={"verdict": "verdict", **SETUP,
                **{table: table for table in tables},
                **{figure: f"{figure}@png" for figure in figures}},
        outputs="report",
        name="write_report",
    )


def _sweep_nodes(keys: tuple[str, ...]) -> list[Node]:
    return [
        Node(
            func=bind(build_sweep_table, grid_keys=keys),
            inputs="variant_statistics",
            outputs="sweep_table",
            name="build_sweep_table",
        ),
        Node(
            func=bind(select_best_settings, grid_keys=keys),
            inputs="sweep_table",
            outputs="best_settings",
            name="select_best_settings",
        ),
        Node(
            func=bind(compare_best_settings, grid_keys=keys),
            inputs=["comparison_table", "best_settings", "params:statistics"],
            outputs="best_setting_differences",
            name="compare_best_settings",
        ),
        Node(
            func=bind(plot_sweep_curves, grid_keys=keys),
            inputs="sweep_table",
            outputs="sweep_curves@figure",
            name="plot_sweep_curves",
        ),
        Node(
            func=bind(write_grid_verdict, grid_keys=keys),
            inputs=["sweep_table", "best_settings", "best_setting_differences",
                    "pairwise_differences", "params:variants"],
            outputs="verdict",
            name="write_verdict",
        ),
    ]
