"""Per run (same namespaces as training): test metrics, predictions, confusion matrix
and a summary row; then the tables that collect every run: the comparison table (one row
per run, with its variant, grid values and seed), the learning curves and diagnostics of
every run and the parameter accounting of every variant."""

import warnings

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import Run, RunMatrix

from .nodes import evaluate_model, plot_confusion_matrix, stack_tables, summarise_run


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
    runs = list(matrix.runs)
    with warnings.catch_warnings():
        # The collecting nodes name namespaced datasets ("baseline.seed_42.summary") on
        # purpose; Kedro warns about dots in dataset names for every one of them.
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        collected = _collect(runs)
    return Pipeline([run_evaluation(run) for run in matrix.trainings]) + collected


def _collect(runs: list[Run]) -> Pipeline:
    keys = [run.key for run in runs]
    variants = dict.fromkeys(run.variant for run in runs)
    first_runs = [next(run for run in runs if run.variant == name) for name in variants]
    return Pipeline([
        Node(bind(stack_tables, keys=keys), [f"{run.namespace}.summary" for run in runs],
             "comparison_table", name="build_comparison_table"),
        Node(bind(stack_tables, keys=keys), [f"{run.namespace}.history" for run in runs],
             "learning_curve_table", name="collect_learning_curves"),
        Node(bind(stack_tables, keys=keys), [f"{run.namespace}.diagnostics" for run in runs],
             "diagnostics_table", name="collect_diagnostics"),
        # the counts do not depend on the seed: each variant's first run
        Node(bind(stack_tables, keys=[{"variant": run.variant} for run in first_runs]),
             [f"{run.namespace}.parameters" for run in first_runs], "parameter_accounting",
             name="collect_parameter_accounting"),
    ])
