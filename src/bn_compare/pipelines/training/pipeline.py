"""One template, instantiated per run (variant x grid point x seed) under its namespace
(``baseline.seed_42``, ``baseline.learning_rate_0p1.seed_42``, see ``run_matrix``):
layer spec -> compiled untrained model -> parameter accounting, trained model, history.
"""

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind, per_run
from bn_compare.run_matrix import Run, RunMatrix

from .nodes import account_parameters, build_model, train_model

TRAINING_INPUTS = {"x_train", "y_train", "x_valid", "y_valid"}


def run_training(run: Run) -> Pipeline:
    overrides = run.point.overrides
    nodes = [
        Node(bind(build_model, variant=run.variant, seed=run.seed, overrides=overrides),
             ["params:layers", "params:data", "params:training"], "initial_model",
             name="build_model"),
        # "parameters" alone is reserved by Kedro
        Node(account_parameters, "initial_model", "parameter_table", name="account_parameters"),
        Node(bind(train_model, seed=run.seed, overrides=overrides, label=run.description),
             ["initial_model", "x_train", "y_train", "x_valid", "y_valid", "params:training"],
             ["model", "history"], name="train_model"),
    ]
    return Pipeline(
        nodes,
        namespace=run.namespace,
        inputs=TRAINING_INPUTS,
        outputs={"parameter_table": f"{run.namespace}.parameters"},
        parameters={"params:data": "params:data", "params:training": "params:training",
                    "params:layers": f"params:variants.{run.variant}.layers"},
    )


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    return per_run(run_training, matrix)
