"""One template, instantiated per run (variant x grid point x seed) under its namespace
(``baseline.seed_42``, ``baseline.learning_rate_0p1.seed_42``, see ``run_matrix``):
layer spec -> compiled untrained model -> parameter accounting, trained model, history,
diagnostics.
"""

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import Run, RunMatrix

from .nodes import account_parameters, build_model, choose_setting, train_model

TRAINING_INPUTS = {"x_train", "y_train", "x_valid", "y_valid"}


def run_training(run: Run, matrix: RunMatrix) -> Pipeline:
    if run.confirms:  # the setting is data: its variant's (or the best variant's) best
        chosen = [Node(bind(choose_setting, variant=None if run.cross else run.variant,
                            per=run.point.overrides,
                            points=[point.overrides for point in matrix.points]),
                       "best_settings", "setting", name="choose_setting")]
        setting, training = {"setting": "setting"}, matrix.settings
    else:
        chosen, setting, training = [], {}, run.training
    nodes = [
        *chosen,
        Node(bind(build_model, data=matrix.parameters.data, training=training,
                  variant=run.variant, seed=run.seed),
             {"layers": "params:layers", **setting}, "initial_model", name="build_model"),
        # "parameters" alone is reserved by Kedro
        Node(account_parameters, "initial_model", "parameter_table", name="account_parameters"),
        Node(bind(train_model, training=training, diagnostics=matrix.parameters.diagnostics,
                  seed=run.seed, label=run.description),
             {"model": "initial_model", **{name: name for name in sorted(TRAINING_INPUTS)},
              **setting}, ["model", "history", "diagnostics"], name="train_model"),
    ]
    return Pipeline(
        nodes,
        namespace=run.namespace,
        inputs=TRAINING_INPUTS | ({"best_settings"} if run.confirms else set()),
        outputs={"parameter_table": f"{run.namespace}.parameters"},
        parameters={"params:layers": f"params:variants.{run.variant}.layers"},
    )


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    return Pipeline([run_training(run, matrix) for run in matrix.trainings])
