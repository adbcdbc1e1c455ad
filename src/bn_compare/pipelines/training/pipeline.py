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
    template = Pipeline(
        [
            Node(
                func=bind(build_model, variant=run.variant, seed=run.seed,
                          overrides=run.point.overrides),
                inputs=["params:layers", "params:data", "params:training"],
                outputs="initial_model",
                name="build_model",
            ),
            Node(
                func=account_parameters,
                inputs="initial_model",
                outputs="parameter_table",  # "parameters" alone is reserved by Kedro
                name="account_parameters",
            ),
            Node(
                func=bind(train_model, seed=run.seed, overrides=run.point.overrides,
                          label=run.description),
                inputs=["initial_model", "x_train", "y_train", "x_valid", "y_valid",
                        "params:training"],
                outputs=["model", "history"],
                name="train_model",
            ),
        ]
    )
    return Pipeline(
        template,
        namespace=run.namespace,
        inputs=TRAINING_INPUTS,
        outputs={"parameter_table": f"{run.namespace}.parameters"},
        parameters={
            "params:data": "params:data",
            "params:training": "params:training",
            "params:layers": f"params:variants.{run.variant}.layers",
        },
    )


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    return per_run(run_training, matrix)
