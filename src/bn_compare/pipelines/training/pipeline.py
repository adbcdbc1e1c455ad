"""One template, instantiated per run (variant x grid point x seed) under its namespace
(``baseline.seed_42``, ``baseline.learning_rate_0p1.seed_42``, see ``run_matrix``):
layer spec -> compiled untrained model -> parameter accounting, trained model, history,
diagnostics.
"""

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import GridPoint, Run, RunMatrix

from .nodes import account_parameters, build_model, choose_setting, train_model

TRAINING_INPUTS = {"x_train", "y_train", "x_valid", "y_valid"}


def run_training(run: Run, points: tuple[GridPoint, ...] = ()) -> Pipeline:
    if run.confirms:  # the setting is data: its variant's best, from best_settings
        setting = {"overrides": "setting"}
        chosen = [Node(bind(choose_setting, variant=run.variant, per=run.point.overrides,
                            points=[point.overrides for point in points]),
                       "best_settings", "setting", name="choose_setting")]
    else:
        setting, chosen = {}, []
    fixed = {} if run.confirms else {"overrides": run.point.overrides}
    nodes = [
        *chosen,
        Node(bind(build_model, variant=run.variant, seed=run.seed, **fixed),
             {"layers": "params:layers", "data": "params:data",
              "training": "params:training", **setting}, "initial_model", name="build_model"),
        # "parameters" alone is reserved by Kedro
        Node(account_parameters, "initial_model", "parameter_table", name="account_parameters"),
        Node(bind(train_model, seed=run.seed, label=run.description, **fixed),
             {"model": "initial_model", **{name: name for name in sorted(TRAINING_INPUTS)},
              "training": "params:training", "diagnostics": "params:diagnostics", **setting},
             ["model", "history", "diagnostics"], name="train_model"),
    ]
    return Pipeline(
        nodes,
        namespace=run.namespace,
        inputs=TRAINING_INPUTS | ({"best_settings"} if run.confirms else set()),
        outputs={"parameter_table": f"{run.namespace}.parameters"},
        parameters={"params:data": "params:data", "params:training": "params:training",
                    "params:diagnostics": "params:diagnostics",
                    "params:layers": f"params:variants.{run.variant}.layers"},
    )


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    return Pipeline([run_training(run, matrix.points) for run in matrix.trainings])
