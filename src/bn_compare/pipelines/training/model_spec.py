"""Keras models described by data: a variant is a list of ``{class_name, **kwargs}``
(``- {class_name: Dense, units: 300, kernel_initializer: he_normal}``), ``class_name`` a
layer of ``keras.layers``, the other keys its arguments. Keras is imported inside the
functions: ``kedro viz`` and the CLI never pay for TensorFlow."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any


class VariantSpecError(ValueError):
    """A variant's layer list cannot be turned into a Keras model."""


def snake_case(class_name: str) -> str:
    """Keras' default layer name for a class: LeakyReLU -> leaky_re_lu."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _layer_names(layers: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """Each layer's name within its model, as Keras would give them in a fresh session
    (dense, dense_1, ...), so that they never depend on what else ran in the process."""
    taken = {spec.get("name") for spec in layers}
    counts: dict[str, int] = {}
    names = []
    for spec in layers:
        if spec.get("name") or not isinstance(spec.get("class_name"), str):
            names.append(spec.get("name"))
            continue
        base = snake_case(spec["class_name"])
        count = counts.get(base, 0)
        while (candidate := f"{base}_{count}" if count else base) in taken:
            count += 1
        counts[base] = count + 1
        names.append(candidate)
    return names


def make_layer(keras: Any, spec: Any, where: str, name: str | None = None) -> Any:
    """One Keras layer from ``{class_name: ..., **kwargs}``; errors name ``where``."""
    if not isinstance(spec, Mapping) or "class_name" not in spec:
        raise VariantSpecError(f"{where}: expected a mapping with a 'class_name' key, "
                               f"got {spec!r}")
    class_name = spec["class_name"]
    layer_class = getattr(keras.layers, class_name, None) if isinstance(class_name, str) else None
    if not (isinstance(layer_class, type) and issubclass(layer_class, keras.layers.Layer)):
        raise VariantSpecError(f"{where}.class_name: {class_name!r} is not a layer class "
                               f"in keras.layers")
    kwargs = {key: value for key, value in spec.items() if key != "class_name"}
    if name is not None:
        kwargs.setdefault("name", name)
    try:
        return layer_class(**kwargs)
    except Exception as exc:  # Keras raises TypeError, ValueError and others
        raise VariantSpecError(f"{where} ({class_name}): {exc}") from None


def _seed_initializers(layer: Any, rng: random.Random) -> None:
    """Give the layer's unseeded random initializers seeds drawn from ``rng``.

    Keras draws an unseeded initializer's seed from Python's process-wide ``random``
    when the layer is created; any other thread using ``random`` in between (a Dask
    worker's event loop does) would change the initial weights.
    """
    for attribute in sorted(vars(layer)):
        initializer = getattr(layer, attribute)
        if getattr(initializer, "_init_seed", 0) is None and hasattr(initializer, "seed"):
            initializer.seed = rng.randint(1, 10**9)


def build_sequential(
    layers: Sequence[Mapping[str, Any]], input_shape: Sequence[int], *,
    name: str | None = None, where: str = "layers", seed: int | None = None,
) -> Any:
    """A ``keras.Sequential`` built on ``input_shape``, so every argument is checked; with
    ``seed``, its unseeded random initializers get seeds derived from it.

    Raises:
        VariantSpecError: naming ``where[i]``, the layer class and the problem.
    """
    from bn_compare.tf_runtime import keras as configured_keras

    keras = configured_keras()
    rng = random.Random(seed)
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise VariantSpecError(f"{where}: expected a non-empty list of layers, got {layers!r}")
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=tuple(input_shape)))
    names = _layer_names([spec if isinstance(spec, Mapping) else {} for spec in layers])
    for index, spec in enumerate(layers):
        position = f"{where}[{index}]"
        layer = make_layer(keras, spec, position, names[index])
        if seed is not None:
            _seed_initializers(layer, rng)
        try:
            model.add(layer)
        except Exception as exc:
            raise VariantSpecError(f"{position} ({spec['class_name']}): {exc}") from None
    return model
