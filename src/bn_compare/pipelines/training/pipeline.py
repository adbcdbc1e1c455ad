"""One template, instantiated per variant under the variant's namespace:
layer spec -> compiled untrained model -> parameter accounting, trained model, history.
"""

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind_variant, per_variant

from .nodes import account_parameters, build_model, train_model

TRAINING_INPUTS = {"x_train", "y_train", "x_valid", "y_valid"}


def variant_training(variant: str) -> Pipeline:
    template = Pipeline(
        [
            Node(
                func=bind_variant(build_model, variant),
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
                func=train_model,
                inputs=["initial_model", "x_train", "y_train", "x_valid", "y_valid",
                        "params:training"],
                outputs=["model", "history"],
                name="train_model",
            ),
        ]
    )
    return Pipeline(
        template,
        namespace=variant,
        inputs=TRAINING_INPUTS,
        outputs={"parameter_table": f"{variant}.parameters"},
        parameters={
            "params:data": "params:data",
            "params:training": "params:training",
            "params:layers": f"params:variants.{variant}.layers",
        },
    )


def create_pipeline(variants: list[str] | None = None, **kwargs) -> Pipeline:
    return per_variant(variant_training, variants)
