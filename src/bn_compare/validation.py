"""The checks of the parameters that need Keras, done before any node runs: layer
classes and arguments, optimizer and loss names (grid values included).

The rest of the parameters (types, ranges, names) is declared and checked in
``parameters``. Every problem is reported at once, each naming the parameter path and
the value.
"""

from __future__ import annotations

from typing import Any

from bn_compare.model_spec import VariantSpecError, build_sequential
from bn_compare.parameters import ProjectParameters
from bn_compare.tf_runtime import keras


def _names(params: ProjectParameters, key: str) -> list[tuple[str, Any]]:
    """(path, value) of every value ``training.<key>`` takes in the run."""
    values = [(f"training.{key}", getattr(params.training, key))]
    axis = getattr(params.grid, key)
    return values + [(f"grid.{key}[{i}]", value) for i, value in enumerate(axis or ())]


def check_keras_names(params: ProjectParameters) -> list[str]:
    keras_module = keras()
    problems = []
    for key, getter in (("optimizer", keras_module.optimizers.get),
                        ("loss", keras_module.losses.get)):
        for path, value in _names(params, key):
            try:
                getter(value)
            except (ValueError, TypeError):
                problems.append(f"{path}: {value!r} is not a Keras {key} name")
    return problems


def check_variants(params: ProjectParameters) -> list[str]:
    """Each variant builds on the data's image shape."""
    problems = []
    for name, variant in params.variants.items():
        try:
            build_sequential(variant.layers, params.data.image_shape, name=name,
                             where=f"variants.{name}.layers")
        except VariantSpecError as error:
            problems.append(str(error))
    return problems


def keras_problems(params: ProjectParameters) -> list[str]:
    """Every problem Keras finds in the (otherwise valid) parameters."""
    return check_keras_names(params) + check_variants(params)
