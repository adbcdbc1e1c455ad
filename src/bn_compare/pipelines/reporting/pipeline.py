"""Over every run: the statistics, differences, plots, verdict and report; with a grid of
several points also the sweep table, best settings, differences there and sweep plot.
A plot node saves ``<name>@figure``; the report loads the same file as ``<name>@png``
(Kedro transcoding: it runs after the plot, and reads the PNG this run saved)."""

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import RunMatrix

from .nodes import (
    build_confirmation_table,
    build_sweep_table,
    compare_best_settings,
    compute_pairwise_differences,
    compute_variant_statistics,
    select_best_settings,
)
from .plots import plot_learning_curves, plot_sweep_curves, plot_test_accuracy_intervals
from .report import FIGURES, GRID_FIGURES, GRID_TABLES, TABLES, WHY_FIGURES, write_report
from .verdict import write_grid_verdict, write_verdict


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    """The reporting nodes for ``matrix``."""
    sweep = matrix.is_sweep
    keys = matrix.grid_keys if sweep else ()

    def node(func, inputs, outputs, name=None, **fixed) -> Node:
        return Node(bind(func, grid_keys=keys, **fixed), inputs, outputs,
                    name=name or func.__name__)

    setup = {name: f"params:{name}" for name in ("data", "training", "variants", "statistics")}
    tables = TABLES + (GRID_TABLES if sweep else ()) + (
        ("confirmation_table",) if matrix.confirmations else ())
    figures = FIGURES + WHY_FIGURES + (GRID_FIGURES if sweep else ())
    common = [
        node(compute_variant_statistics, ["comparison_table", "learning_curve_table",
                                          "params:statistics"], "variant_statistics"),
        node(compute_pairwise_differences, ["comparison_table", "params:statistics"],
             "pairwise_differences"),
        node(plot_learning_curves, ["learning_curve_table", "params:statistics"],
             "learning_curves@figure"),
        node(plot_test_accuracy_intervals,
             ["comparison_table", "variant_statistics", *(["best_settings"] if sweep else [])],
             "test_accuracy_intervals@figure"),
        node(write_report, {"verdict": "verdict", "why": "why", **setup, **{t: t for t in tables},
                            **{f: f"{f}@png" for f in figures}},
             "report", overrides=None if sweep else matrix.points[0].overrides),
    ]
    if not sweep:
        return Pipeline([*common, Node(write_verdict, ["variant_statistics", "pairwise_differences",
                                                       "params:variants"], "verdict",
                                       name="write_verdict")])
    confirmations = matrix.confirmations
    # with confirmations, the verdict at the best settings rests on their runs alone
    at_best = "confirmation_table" if confirmations else "comparison_table"
    confirming = [node(build_confirmation_table, [
        "best_settings", *(f"{run.namespace}.{name}" for run in confirmations
                           for name in ("setting", "summary"))], "confirmation_table",
        runs=[{"variant": run.variant, "seed": run.seed, "namespace": run.namespace}
              for run in confirmations], per=matrix.confirm_per)] if confirmations else []
    return Pipeline([
        *common,
        node(build_sweep_table, "variant_statistics", "sweep_table"),
        node(select_best_settings, "sweep_table", "best_settings", per=matrix.confirm_per),
        *confirming,
        node(compare_best_settings, [at_best, "best_settings", "params:statistics"],
             "best_setting_differences", per=matrix.confirm_per),
        node(plot_sweep_curves, "sweep_table", "sweep_curves@figure"),
        node(write_grid_verdict, {
            "sweep_table": "sweep_table", "best_settings": "best_settings",
            "best_setting_differences": "best_setting_differences",
            "pairwise_differences": "pairwise_differences", "variants": "params:variants",
            **({"confirmation_table": "confirmation_table"} if confirmations else {})},
             "verdict", name="write_verdict", per=matrix.confirm_per),
    ])
