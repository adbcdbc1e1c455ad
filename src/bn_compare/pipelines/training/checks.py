"""Whether the parameters can be trained, as Keras sees it, before any node runs (the input
check, ``hooks``): layer classes and arguments, optimizer and loss names (grid values
included), and whether each variant's model fits the data and the loss. Every problem at once, each naming the
parameter's path and value; types and ranges are checked in ``parameters``."""

from __future__ import annotations

from typing import Any

import numpy as np

from bn_compare.parameters import ProjectParameters
from bn_compare.tf_runtime import keras, select_device

from .model_spec import VariantSpecError, build_sequential


def _names(params: ProjectParameters, key: str) -> list[tuple[str, Any]]:
    """(path, value) of every value ``training.<key>`` takes in the run."""
    values = [(f"training.{key}", getattr(params.training, key))]
    for b, block in enumerate(params.grid):  # a grid of one block is "grid", as written
        where = f"grid[{b}]" if len(params.grid) > 1 else "grid"
        values += [(f"{where}.{key}[{i}]", v) for i, v in enumerate(getattr(block, key) or ())]
    return values


def keras_problems(params: ProjectParameters) -> list[str]:
    """Every problem Keras finds in the (otherwise valid) parameters, after choosing the
    device (``training.device``): the names it does not know, then each variant's model."""
    problems, keras_module = select_device(params.training.device), keras()
    for key, getter in (("optimizer", keras_module.optimizers.get),
                        ("loss", keras_module.losses.get)):
        for path, value in _names(params, key):
            try:
                getter(value)
            except (ValueError, TypeError):
                problems.append(f"{path}: {value!r} is not a Keras {key} name")
    for name, variant in params.variants.items():
        try:
            model = build_sequential(variant.layers, params.data.image_shape, name=name,
                                     where=f"variants.{name}.layers")
        except VariantSpecError as error:
            problems.append(str(error))
            continue
        problems += _fit_problems(name, model, params)
    return problems


def _fit_problems(name: str, model: Any, params: ProjectParameters) -> list[str]:
    """The model gives one value per class, and every loss of the run can compare its
    outputs with the labels (class indices); losses that expect probabilities get them."""
    classes, layers = len(params.data.class_names), params.variants[name].layers
    layer = f"variants.{name}.layers[{len(layers) - 1}] ({layers[-1]['class_name']})"
    shape = model.output_shape
    if isinstance(shape, list) or len(shape) != 2 or shape[-1] != classes:  # noqa: PLR2004
        return [f"{layer}: the model outputs {_shape(shape)}, the data has {classes} classes "
                f"(data.class_names) and needs (None, {classes}): one value per class; "
                f"give the last layer units: {classes}"]
    sample = np.random.default_rng(0).random((4, *params.data.image_shape), dtype=np.float32)
    outputs = np.asarray(model(sample, training=False))
    labels = np.arange(len(sample)) % classes
    probabilities = bool((outputs >= 0).all() and np.allclose(outputs.sum(axis=1), 1,
                                                                atol=1e-3))
    problems = []
    for path, loss in _names(params, "loss"):
        try:
            function = keras().losses.get(loss)
        except (ValueError, TypeError):
            continue  # named by keras_problems
        try:
            value = np.asarray(function(labels, outputs))
        except Exception as error:  # Keras raises ValueError, InvalidArgumentError, ...
            problems.append(f"{path}: {loss!r} cannot compare the labels (class indices, "
                            f"shape (None,)) with the outputs of variant {name} "
                            f"{_shape(shape)}: {str(error).splitlines()[0][:160]}")
            continue
        if ("crossentropy" in str(loss) and not getattr(function, "from_logits", False)
                and not probabilities):
            problems.append(f"{layer}: variant {name} outputs scores that are not probabilities "
                            f"(they do not sum to 1), but {path} {loss!r} expects "
                            f"probabilities: add activation: softmax to the last layer")
        elif not np.isfinite(value).all():
            problems.append(f"{path}: {loss!r} gives no finite value for variant {name}")
    return problems


def _shape(shape: Any) -> str:
    return str(tuple(shape)) if not isinstance(shape, list) else f"{len(shape)} outputs"
