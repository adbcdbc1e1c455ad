"""Checks of the run's parameters, done before any node runs.

Every problem is reported at once, each naming the parameter path and the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

from bn_compare.model_spec import VariantSpecError, build_sequential
from bn_compare.tf_runtime import keras_runtime
from bn_compare.run_matrix import is_valid_variant_name

TRAINING_SET_SIZE = 60_000
TRAINING_LOOPS = ("chunked", "keras_fit")
MAX_SEED = 2**32 - 1  # keras.utils.set_random_seed's limit


class InvalidParametersError(ValueError):
    """The run's parameters cannot produce a valid experiment."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "Invalid parameters, nothing was run:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def _positive_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value > 0


def _positive_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and value > 0


def _section(params: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any]:
    section = params.get(key)
    if not isinstance(section, Mapping):
        problems.append(f"{key}: expected a mapping, got {section!r}")
        return {}
    return section


def check_data(params: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    data = _section(params, "data", problems)
    if not data:
        return problems
    size = data.get("validation_size")
    if not _positive_int(size) or size >= TRAINING_SET_SIZE:
        problems.append(
            f"data.validation_size: must be an integer in 1..{TRAINING_SET_SIZE - 1}, "
            f"got {size!r}"
        )
    if not _positive_number(data.get("scale")):
        problems.append(f"data.scale: must be a number > 0, got {data.get('scale')!r}")
    cap = data.get("max_train_images")
    if cap is not None and not _positive_int(cap):
        problems.append(f"data.max_train_images: must be null or an integer > 0, got {cap!r}")
    shape = data.get("image_shape")
    if not (isinstance(shape, list) and shape and all(_positive_int(d) for d in shape)):
        problems.append(f"data.image_shape: must be a list of positive integers, got {shape!r}")
    names = data.get("class_names")
    if not (isinstance(names, list) and len(names) == 10):
        problems.append(f"data.class_names: must list the 10 class names, got {names!r}")
    return problems


def check_training(params: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    training = _section(params, "training", problems)
    if not training:
        return problems
    required, optional = ("epochs", "batch_size"), ("steps_per_execution", "eval_batch_size")
    for key in required + tuple(k for k in optional if k in training):
        if not _positive_int(training.get(key)):
            problems.append(f"training.{key}: must be an integer > 0, got {training.get(key)!r}")
    if not _positive_number(training.get("learning_rate")):
        problems.append(
            f"training.learning_rate: must be a number > 0, got "
            f"{training.get('learning_rate')!r}"
        )
    problems += _check_seeds(training)
    if training.get("loop", "chunked") not in TRAINING_LOOPS:
        problems.append(f"training.loop: must be one of {', '.join(TRAINING_LOOPS)}, got "
                        f"{training.get('loop')!r}")
    threads = training.get("intra_op_threads", 0)
    if not isinstance(threads, Integral) or isinstance(threads, bool) or threads < 0:
        problems.append(
            f"training.intra_op_threads: must be an integer >= 0 (0 = TensorFlow's "
            f"default), got {threads!r}"
        )
    problems += _check_keras_names(training)
    return problems


def _check_seeds(training: Mapping[str, Any]) -> list[str]:
    if "seed" in training:
        return [f"training.seed: replaced by training.seeds, a list (write "
                f"seeds: [{training['seed']!r}])"]
    seeds = training.get("seeds")
    if not isinstance(seeds, (list, tuple)) or not seeds:
        return [f"training.seeds: must be a non-empty list of integers, got {seeds!r}"]
    problems = [f"training.seeds[{i}]: must be an integer in 0..{MAX_SEED}, got {seed!r}"
                for i, seed in enumerate(seeds)
                if not isinstance(seed, Integral) or isinstance(seed, bool)
                or not 0 <= seed <= MAX_SEED]
    repeated = sorted({seed for seed in seeds if list(seeds).count(seed) > 1}, key=str)
    if repeated:
        problems.append(f"training.seeds: each seed once, repeated: {repeated}")
    return problems


def check_statistics(params: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    statistics = _section(params, "statistics", problems)
    if not statistics:
        return problems
    for key in ("confidence", "target_val_accuracy"):
        value = statistics.get(key)
        if not _positive_number(value) or value > 1 or (key == "confidence" and value == 1):
            bounds = "0 < x < 1" if key == "confidence" else "0 < x <= 1"
            problems.append(f"statistics.{key}: must be a number with {bounds}, got {value!r}")
    return problems


def _check_keras_names(training: Mapping[str, Any]) -> list[str]:
    import keras

    problems = []
    for key, getter in (("optimizer", keras.optimizers.get), ("loss", keras.losses.get)):
        if key not in training:
            continue
        try:
            getter(training[key])
        except (ValueError, TypeError):
            problems.append(
                f"training.{key}: {training[key]!r} is not a Keras {key} name"
            )
    return problems


def check_variants(params: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    variants = params.get("variants")
    if not isinstance(variants, Mapping) or not variants:
        return [f"variants: must declare at least one variant, got {variants!r}"]
    shape = (params.get("data") or {}).get("image_shape") or [28, 28]
    for name, spec in variants.items():
        if not is_valid_variant_name(name):
            problems.append(
                f"variants.{name}: {name!r} is not a valid variant name (it becomes a "
                f"Kedro namespace: letters, digits and underscores, not starting with a "
                f"digit)"
            )
            continue
        layers = spec.get("layers") if isinstance(spec, Mapping) else None
        try:
            build_sequential(layers, shape, name=name, where=f"variants.{name}.layers")
        except VariantSpecError as exc:
            problems.append(str(exc))
    import keras

    keras.backend.clear_session()  # leave no trace in a worker that trains next
    return problems


def check_parameters(params: Mapping[str, Any]) -> list[str]:
    """Every problem found in the parameters (empty when they are valid)."""
    training = params.get("training")
    keras_runtime(training if isinstance(training, Mapping) else {})
    return (check_data(params) + check_training(params) + check_statistics(params)
            + check_variants(params))

