"""The project's parameters, declared once: types, defaults and constraints.

Nodes receive them typed (Kedro validates ``params:`` inputs annotated with these
models before any node runs); ``ProjectContext`` checks the whole set first, so every
problem is reported at once, each with its dotted path and value::

    training.epochs: must be an integer > 0, got 0
    grid.learning_rate[2]: must be a number > 0, got -1

The defaults are the seed notebook's settings, the same as ``conf/base`` (tested).
Checks that need Keras (layer classes, optimizer and loss names, whether a model fits
the data) are in ``validation``.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from bn_compare.run_matrix import GRIDDABLE_KEYS, RunMatrix, is_valid_variant_name

TRAINING_SET_SIZE = 60_000  # images in the official training file
CLASSES = 10  # Fashion-MNIST's
MAX_SEED = 2**32 - 1  # keras.utils.set_random_seed's limit


class InvalidParametersError(ValueError):
    """The run's parameters cannot produce a valid experiment."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "Invalid parameters, nothing was run:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _check(condition: Any, requirement: str) -> Any:
    """A before-validator: the value unchanged, or ``ValueError("<requirement>, got x")``."""
    def validate(value: Any) -> Any:
        if not condition(value):
            raise ValueError(f"{requirement}, got {value!r}")
        return value
    return BeforeValidator(validate)


PositiveInt = Annotated[int, _check(lambda v: _is_int(v) and v > 0, "must be an integer > 0")]
NonNegativeInt = Annotated[int, _check(lambda v: _is_int(v) and v >= 0,
                                       "must be an integer >= 0 (0 = TensorFlow's default)")]
PositiveNumber = Annotated[float, _check(lambda v: _is_number(v) and v > 0,
                                         "must be a number > 0")]
Name = Annotated[str, _check(lambda v: isinstance(v, str) and v != "", "must be a name")]
Flag = Annotated[bool, _check(lambda v: isinstance(v, bool), "must be true or false")]
Seed = Annotated[int, _check(lambda v: _is_int(v) and 0 <= v <= MAX_SEED,
                             f"must be an integer in 0..{MAX_SEED}")]


def _seed_list(value: Any) -> Any:
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"must be a non-empty list of integers, got {value!r}")
    return value


def _each_once(what: str) -> AfterValidator:
    def validate(values: tuple[Any, ...]) -> tuple[Any, ...]:
        repeated = sorted({v for i, v in enumerate(values) if v in values[:i]}, key=str)
        if repeated:
            raise ValueError(f"each {what} once, repeated: {repeated}")
        return values
    return AfterValidator(validate)


def _replaced_by_seeds(value: Any) -> Any:
    raise ValueError(f"replaced by training.seeds, a list (write seeds: [{value!r}])")


class Section(BaseModel):
    """A block of parameters: unknown keys are refused (a typo would otherwise be
    silently ignored), values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(Section):
    """How the raw images become model inputs."""

    validation_size: Annotated[int, _check(
        lambda v: _is_int(v) and 0 < v < TRAINING_SET_SIZE,
        f"must be an integer in 1..{TRAINING_SET_SIZE - 1}")] = 5000
    scale: PositiveNumber = 255.0
    max_train_images: PositiveInt | None = None
    image_shape: Annotated[tuple[int, ...], _check(
        lambda v: isinstance(v, (list, tuple)) and v and all(_is_int(d) and d > 0 for d in v),
        "must be a list of positive integers")] = (28, 28)
    class_names: Annotated[tuple[str, ...], _check(
        lambda v: isinstance(v, (list, tuple)) and len(v) == len(set(v)) == CLASSES,
        f"must list the {CLASSES} class names")] = (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


class TrainingParams(Section):
    """The experiment (epochs ... seeds) and how fast it runs (loop ... intra_op_threads;
    these never change the numbers, see README, Speed)."""

    epochs: PositiveInt = 10
    batch_size: PositiveInt = 32
    learning_rate: PositiveNumber = 0.001
    optimizer: Name = "SGD"
    loss: Name = "sparse_categorical_crossentropy"
    metrics: Annotated[tuple[str, ...], _check(
        lambda v: isinstance(v, (list, tuple)) and "accuracy" in v,
        "must be a list of Keras metric names including accuracy")] = ("accuracy",)
    seeds: Annotated[tuple[Seed, ...], BeforeValidator(_seed_list), _each_once("seed")] = (42,)
    deterministic: Flag = True
    loop: Annotated[Literal["chunked", "keras_fit"], _check(
        lambda v: v in ("chunked", "keras_fit"), "must be one of chunked, keras_fit")] = "chunked"
    steps_per_execution: PositiveInt = 200
    jit_compile: Flag = False
    eval_batch_size: PositiveInt = 1024
    intra_op_threads: NonNegativeInt = 1
    seed: Annotated[None, BeforeValidator(_replaced_by_seeds)] = Field(None, exclude=True)

    def at(self, overrides: Mapping[str, Any]) -> TrainingParams:
        """These settings with a grid point's ``overrides`` applied (validated)."""
        return self if not overrides else TrainingParams.model_validate(
            {**self.model_dump(), **overrides})


class StatisticsParams(Section):
    """The statistics over seeds."""

    confidence: Annotated[float, _check(lambda v: _is_number(v) and 0 < v < 1,
                                        "must be a number with 0 < x < 1")] = 0.95
    target_val_accuracy: Annotated[float, _check(lambda v: _is_number(v) and 0 < v <= 1,
                                                 "must be a number with 0 < x <= 1")] = 0.85


class TrackingParams(Section):
    """Experiment tracking in MLflow (see ``tracking``): on by default, into a SQLite
    store in the project (``mlflow.db``, artifacts in ``mlartifacts/``)."""

    enabled: Flag = True
    uri: Annotated[str | None, _check(lambda v: v is None or (isinstance(v, str) and v),
                                      "must be an MLflow tracking URI")] = None
    experiment: Name = "bn-compare"


class VariantParams(Section):
    """A variant: its Keras layers, each ``{class_name: ..., **kwargs}`` (the layer
    classes and arguments are checked with Keras, in ``validation``)."""

    layers: Annotated[tuple[dict[str, Any], ...], _check(
        lambda v: isinstance(v, (list, tuple)) and v and all(isinstance(x, Mapping) for x in v),
        "expected a non-empty list of layers")]


def _variant_names(value: Any) -> Any:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"must declare at least one variant, got {value!r}")
    bad = [name for name in value if not is_valid_variant_name(name)]
    if bad:
        raise ValueError(
            f"{bad[0]!r} is not a valid variant name (it becomes a Kedro namespace: "
            f"letters, digits and underscores, not starting with a digit)")
    return value


def _value_list(value: Any) -> Any:
    if value is not None and (not isinstance(value, (list, tuple)) or not value):
        raise ValueError(f"must be a non-empty list of values, got {value!r}")
    return value


def _each_value_once(values: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    return values if values is None else _each_once("value").func(values)


ListOfValues, EachValueOnce = BeforeValidator(_value_list), AfterValidator(_each_value_once)


class GridParams(Section):
    """``training`` keys to vary: each a list of values; several keys give their
    cartesian product (see ``run_matrix``). Only keys that change the experiment."""

    learning_rate: Annotated[tuple[PositiveNumber, ...] | None, ListOfValues, EachValueOnce] = None
    optimizer: Annotated[tuple[Name, ...] | None, ListOfValues, EachValueOnce] = None
    batch_size: Annotated[tuple[PositiveInt, ...] | None, ListOfValues, EachValueOnce] = None
    epochs: Annotated[tuple[PositiveInt, ...] | None, ListOfValues, EachValueOnce] = None
    loss: Annotated[tuple[Name, ...] | None, ListOfValues, EachValueOnce] = None


assert tuple(GridParams.model_fields) == GRIDDABLE_KEYS


class ProjectParameters(Section):
    """Every parameter of the project (``conf/*/parameters*.yml`` merged)."""

    data: DataParams = DataParams()
    training: TrainingParams = TrainingParams()
    statistics: StatisticsParams = StatisticsParams()
    variants: Annotated[dict[str, VariantParams], BeforeValidator(_variant_names)] = Field(
        default_factory=dict, validate_default=True)
    grid: GridParams = GridParams()
    tracking: TrackingParams = TrackingParams()


def _path(location: tuple[Any, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _describe(error: Mapping[str, Any]) -> str:
    path = _path(error["loc"])
    if error["type"] == "value_error":
        return f"{path}: {error['ctx']['error']}"
    if error["type"] == "extra_forbidden":
        if error["loc"][0] == "grid":
            return (f"{path}: cannot be gridded; the training keys that change the "
                    f"experiment are {', '.join(GRIDDABLE_KEYS)}")
        parent = _path(error["loc"][:-1]) or "this project"
        return f"{path}: not a parameter of {parent} (a typo?)"
    if error["type"] == "missing":
        return f"{path}: missing"
    return f"{path}: {error['msg']}, got {error.get('input')!r}"


def _variants_problem(error: Mapping[str, Any]) -> str:
    # The variant-name check speaks for the whole mapping; name the offending key.
    message = str(error["ctx"]["error"])
    if message.startswith("'"):
        name = message.split("'")[1]
        return f"variants.{name}: {message}"
    return f"variants: {message}"


def parameter_problems(parameters: Mapping[str, Any]) -> list[str]:
    """Every problem found in the parameters, each with its path and value (empty when
    they are valid)."""
    try:
        ProjectParameters.model_validate(parameters)
    except ValidationError as error:
        return [_variants_problem(e) if e["loc"] == ("variants",) and e["type"] == "value_error"
                else _describe(e) for e in error.errors()]
    names = [point.name for point in RunMatrix.from_parameters(parameters).points]
    clashes = sorted({name for name in names if names.count(name) > 1})
    return [f"grid: two points would share the namespace {name!r}; spell their values "
            f"differently" for name in clashes]


def validated(parameters: Mapping[str, Any]) -> ProjectParameters:
    """The parameters as typed models, or ``InvalidParametersError`` naming every
    problem."""
    problems = parameter_problems(parameters)
    if problems:
        raise InvalidParametersError(problems)
    return ProjectParameters.model_validate(parameters)
