"""Per run (same namespaces as training): test metrics, predictions, confusion matrix
and a summary row; then, per variant, its runs' summaries, histories and diagnostics
stacked (inside the variant's namespace, so that Kedro-Viz draws a variant as one group
with a few tables out of it); then the tables over every run: the comparison table (one
row per run, with its variant, grid values and seed), the learning curves and diagnostics
of every run and the parameter accounting of every variant."""

import warnings

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.stacking import TABLES_TAG, concat_tables, stack_by_group, stack_tables
from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import Run, RunMatrix, by_group

from .nodes import evaluate_model, plot_confusion_matrix, summarise_run


def run_evaluation(run: Run) -> Pipeline:
    nodes = [
        Node(evaluate_model, ["model", "x_test", "y_test", "params:training.eval_batch_size"],
             ["test_metrics", "predictions"], name="evaluate_model"),
        Node(bind(plot_confusion_matrix, title=run.description),
             ["y_test", "predictions", "params:data.class_names"], "confusion_matrix",
             name="plot_confusion_matrix"),
        Node(summarise_run, ["history", "parameter_table", "test_metrics"], "summary",
             name="summarise_run"),
    ]
    return Pipeline(
        nodes,
        namespace=run.namespace,
        inputs={"x_test": "x_test", "y_test": "y_test",
                "parameter_table": f"{run.namespace}.parameters"},
        parameters={"params:data.class_names", "params:training.eval_batch_size"},
    )


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    with warnings.catch_warnings():
        # The tables over every run read namespaced datasets ("baseline.runs_summary") on
        # purpose; Kedro warns about dots in dataset names outside their namespace.
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        collected = _collect(matrix)
    return Pipeline([run_evaluation(run) for run in matrix.trainings]) + collected


def _collect(matrix: RunMatrix) -> Pipeline:
    groups = by_group(matrix.runs)
    stacked = [node for name in ("summary", "history", "diagnostics")
               for node in stack_by_group(matrix.runs, name, keyed=True)]
    # the counts do not depend on the seed: each variant's first run
    first_runs = [group_runs[0] for group_runs in groups.values()]
    return Pipeline([
        *stacked,
        Node(concat_tables, [f"{group}.runs_summary" for group in groups], "comparison_table",
             name="build_comparison_table"),
        Node(concat_tables, [f"{group}.runs_history" for group in groups],
             "learning_curve_table", name="collect_learning_curves"),
        Node(concat_tables, [f"{group}.runs_diagnostics" for group in groups],
             "diagnostics_table", name="collect_diagnostics"),
        Node(bind(stack_tables, keys=[{"variant": run.variant} for run in first_runs]),
             [f"{run.namespace}.parameters" for run in first_runs], "parameter_accounting",
             name="collect_parameter_accounting", tags=[TABLES_TAG]),
    ])
