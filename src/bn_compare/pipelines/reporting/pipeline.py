"""Over every run: the statistics, differences, plots, verdict, the report's content and
the report; with a grid of several points also the sweep table, best settings,
differences there and sweep plot. The checked parameters' sections are bound to the
nodes (``params:`` inputs would be validated again). A plot node saves
``<name>@figure``; the report loads the same file as ``<name>@png`` (Kedro transcoding:
it runs after the plot, and reads the PNG this run saved)."""

import warnings

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.stacking import stack_by_group
from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import Run, RunMatrix, by_group

from .ablation import compute_ablation_effects
from .content import FIGURES, GRID_FIGURE, WHY_FIGURES, build_report_content
from .cross import build_cross_table
from .nodes import (
    build_confirmation_table,
    build_sweep_table,
    compare_best_settings,
    compute_pairwise_differences,
    compute_setting_interactions,
    compute_variant_statistics,
    select_best_settings,
)
from .plots import plot_learning_curves, plot_sweep_curves, plot_test_accuracy_intervals
from .report import write_report
from .stability import compute_selection_stability
from .test_sampling import compute_test_sampling_intervals
from .verdict import write_grid_verdict, write_verdict

CONTENT_INPUTS = ("comparison_table", "variant_statistics", "pairwise_differences",
                  "parameter_accounting", "verdict", "why")  # what the report's content reads
GRID_INPUTS = ("sweep_table", "best_settings", "best_setting_differences",
               "selection_stability", "setting_interactions")


def test_sampling(matrix: RunMatrix) -> list[Node]:
    """The headline differences over seeds and test images: a grid's confirmation runs,
    or without a grid every run (a grid without confirmation has no headline runs); their
    predictions stacked per group (``Run.group``)."""
    headline = matrix.confirmations if matrix.is_sweep else matrix.runs
    if not headline:
        return []
    table = "confirmation_table" if matrix.is_sweep else "comparison_table"
    groups = by_group(headline)
    with warnings.catch_warnings():  # the groups' predictions, by namespace, on purpose
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        return [*stack_by_group(headline, "predictions"), Node(
            bind(compute_test_sampling_intervals, statistics=matrix.parameters.statistics,
                 runs=[{"variant": run.variant, "seed": run.seed, **run.point.overrides}
                       for group_runs in groups.values() for run in group_runs],
                 per=matrix.confirm_per if matrix.is_sweep else ()),
            [table, "y_test", *(f"{group}.runs_predictions" for group in groups)],
            "test_sampling_differences", name="compute_test_sampling_intervals")]


def confirmation_nodes(func, confirmations: tuple[Run, ...], output: str, name: str,
                       **fixed) -> list[Node]:
    """``func`` (the confirmation or cross table) over ``confirmations``: their settings
    and summaries stacked per group (``Run.group``), each group's pair an input; none
    without confirmations."""
    if not confirmations:
        return []
    groups = by_group(confirmations)
    with warnings.catch_warnings():  # the groups' tables, by namespace, on purpose
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        return [*stack_by_group(confirmations, "setting"),
                *stack_by_group(confirmations, "summary"),
                Node(bind(func, **fixed, runs=[
                    {"variant": run.variant, "seed": run.seed, "namespace": run.namespace}
                    for group_runs in groups.values() for run in group_runs]),
                     ["best_settings", *(f"{group}.runs_{table}" for group in groups
                                         for table in ("setting", "summary"))], output,
                     name=name)]


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    """The reporting nodes for ``matrix``."""
    sweep = matrix.is_sweep
    keys = matrix.grid_keys if sweep else ()
    parameters = matrix.parameters
    statistics = parameters.statistics

    def node(func, inputs, outputs, name=None, **fixed) -> Node:
        return Node(bind(func, grid_keys=keys, **fixed), inputs, outputs,
                    name=name or func.__name__)

    sampled = test_sampling(matrix)
    tables = CONTENT_INPUTS + (GRID_INPUTS if sweep else ()) + (
        ("test_sampling_differences",) if sampled else ()) + (
        ("ablation_effects",) if parameters.ablation else ()) + (
        ("confirmation_table",) if matrix.confirmations else ()) + (
        ("cross_confirmation_table", "same_setting_differences")
        if matrix.cross_confirmations else ())
    figures = FIGURES + WHY_FIGURES + ((GRID_FIGURE,) if sweep else ())
    common = [
        node(compute_variant_statistics, ["comparison_table", "learning_curve_table"],
             "variant_statistics", statistics=statistics),
        node(compute_pairwise_differences, "comparison_table", "pairwise_differences",
             statistics=statistics),
        node(plot_learning_curves, "learning_curve_table", "learning_curves@figure",
             statistics=statistics),
        node(plot_test_accuracy_intervals,
             ["comparison_table", "variant_statistics", *(["best_settings"] if sweep else [])],
             "test_accuracy_intervals@figure"),
        # a grid of one point shows its settings: those of any of its runs
        node(build_report_content, {t: t for t in (*tables, "provenance")}, "report_content",
             data=parameters.data, training=matrix.runs[0].training, statistics=statistics,
             layers={name: [dict(layer) for layer in variant.layers]
                     for name, variant in parameters.variants.items()}, per=matrix.confirm_per,
             study=parameters.study),
        Node(write_report, {"content": "report_content", **{f: f"{f}@png" for f in figures}},
             "report", name="write_report"),
    ]
    common += sampled
    if parameters.ablation:  # how much of each variant's gain is which change
        common.append(node(compute_ablation_effects, "comparison_table", "ablation_effects",
                           ablation=parameters.ablation, statistics=statistics))
    if not sweep:
        return Pipeline([*common, Node(write_verdict, ["variant_statistics", "pairwise_differences",
                                                       "parameter_accounting"], "verdict",
                                       name="write_verdict")])
    confirmations = matrix.confirmations
    # with confirmations, the verdict at the best settings rests on their runs alone
    at_best = "confirmation_table" if confirmations else "comparison_table"
    fixed = {"grid_keys": keys, "per": matrix.confirm_per}
    confirming = confirmation_nodes(build_confirmation_table, confirmations,
                                    "confirmation_table", "build_confirmation_table", **fixed)
    crossing = [
        *confirmation_nodes(build_cross_table, matrix.cross_confirmations,
                            "cross_confirmation_table", "build_cross_table", **fixed),
        # every pair at the one setting each group's runs share, paired by seed
        node(compute_pairwise_differences, "cross_confirmation_table",
             "same_setting_differences", statistics=statistics,
             name="compare_at_the_same_setting")] if matrix.cross_confirmations else []
    return Pipeline([
        *common,
        node(build_sweep_table, "variant_statistics", "sweep_table"),
        node(select_best_settings, "sweep_table", "best_settings", per=matrix.confirm_per),
        node(compute_selection_stability, "comparison_table", "selection_stability",
             statistics=statistics, per=matrix.confirm_per, resamples=statistics.resamples,
             seed=statistics.bootstrap_seed),
        node(compute_setting_interactions, "comparison_table", "setting_interactions",
             statistics=statistics),
        *confirming,
        *crossing,
        node(compare_best_settings, [at_best, "best_settings"], "best_setting_differences",
             statistics=statistics, per=matrix.confirm_per),
        node(plot_sweep_curves, "sweep_table", "sweep_curves@figure"),
        node(write_grid_verdict, {
            "sweep_table": "sweep_table", "best_settings": "best_settings",
            "best_setting_differences": "best_setting_differences",
            "pairwise_differences": "pairwise_differences",
            "parameter_accounting": "parameter_accounting",
            **({"confirmation_table": "confirmation_table"} if confirmations else {})},
             "verdict", name="write_verdict", per=matrix.confirm_per),
    ])
