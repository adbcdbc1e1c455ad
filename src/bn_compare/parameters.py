"""The project's parameters, declared once: types, defaults (the seed notebook's, as in
``conf/base``) and constraints. ``ProjectParameters.checked`` types them once per run and
reports every problem at once (``training.epochs: must be > 0, got 0``); the run matrix
hands each node the sections it needs. Checks that need Keras: ``pipelines/training/checks.py``."""

from __future__ import annotations

import keyword
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from bn_compare.datasets.idx import FASHION_MNIST_FILES, IMAGE_SHAPE, NUM_CLASSES
from bn_compare.grid import GRIDDABLE_KEYS, grid_points, value_label

TRAINING_SET_SIZE = FASHION_MNIST_FILES["train_images"].count  # the official files' images
TEST_SET_SIZE = FASHION_MNIST_FILES["test_images"].count


class InvalidParametersError(ValueError):
    """The run's parameters cannot produce a valid experiment."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(["Invalid parameters, nothing was run:",
                                    *(f"  - {p}" for p in problems)]))


def _each_once(values: Sequence[Any]) -> Sequence[Any]:
    if len(set(values)) < len(values):
        raise ValueError("must list each value once")
    return values


def _variant_name(name: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError("must be a variant name: letters, digits and underscores, not "
                         "starting with a digit, not a Python keyword (it names namespaces)")
    return name


def _includes_accuracy(metrics: tuple[str, ...]) -> tuple[str, ...]:
    if "accuracy" not in metrics:
        raise ValueError("must include accuracy")
    return metrics


def _one_namespace_per_point(blocks: tuple[GridParams, ...]) -> tuple[GridParams, ...]:
    varied = [[key for key in GRIDDABLE_KEYS if getattr(block, key)] for block in blocks]
    if any(keys != varied[0] for keys in varied):
        raise ValueError("must vary the same keys in every block, but " + "; ".join(
            f"block {i} varies {', '.join(keys) or 'nothing'}" for i, keys in enumerate(varied)))
    names = [point.name for point in grid_points(block.model_dump() for block in blocks)]
    if shared := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"must give each point a namespace of its own, but "
                         f"{', '.join(shared)} would be shared (spell the values apart)")
    return blocks


# Strict: a string or a boolean is refused where a number is expected, never converted.
Count = Annotated[int, Strict(), Field(gt=0)]
Number = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]  # ints are numbers
Name = Annotated[str, Field(min_length=1)]
Seed = Annotated[int, Strict(), Field(ge=0, le=2**32 - 1)]  # keras.utils.set_random_seed's limit
T = TypeVar("T")
Distinct = Annotated[tuple[T, ...], Field(min_length=1), AfterValidator(_each_once)]


class Section(BaseModel):
    """A block of parameters: unknown keys refused (a typo is never ignored), read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(Section):
    """How the raw images become model inputs."""

    validation_size: Annotated[Count, Field(lt=TRAINING_SET_SIZE)] = 5000
    scale: Number = 255.0
    max_train_images: Count | None = None
    image_shape: Annotated[tuple[Count, ...], Field(min_length=1)] = IMAGE_SHAPE
    class_names: Annotated[Distinct[Name], Field(min_length=NUM_CLASSES,
                                                 max_length=NUM_CLASSES)] = (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

    @property
    def split_sizes(self) -> dict[str, int]:
        """Images per split: the official training file less validation (capped at
        ``max_train_images``), validation, the official test file."""
        train = TRAINING_SET_SIZE - self.validation_size
        return {"train": min(train, self.max_train_images or train),
                "validation": self.validation_size, "test": TEST_SET_SIZE}


class TrainingParams(Section):
    """The experiment (epochs ... deterministic) and how fast it runs (the rest, which
    never changes the numbers on one device; a GPU rounds differently from the CPU)."""

    epochs: Count = 10
    batch_size: Count = 32
    learning_rate: Number = 0.001
    optimizer: Name = "SGD"
    loss: Name = "sparse_categorical_crossentropy"
    metrics: Annotated[Distinct[Name], AfterValidator(_includes_accuracy)] = ("accuracy",)
    seeds: Distinct[Seed] = (42,)
    deterministic: StrictBool = True
    steps_per_execution: Count = 200
    eval_batch_size: Count = 1024
    device: Literal["auto", "cpu", "gpu"] = "auto"  # tf_runtime.select_device


class StatisticsParams(Section):
    """The statistics over seeds; the bootstraps (over seeds, and test images) draw
    ``resamples`` resamples from ``bootstrap_seed``."""

    confidence: Annotated[Number, Field(lt=1)] = 0.95
    target_val_accuracy: Annotated[Number, Field(le=1)] = 0.85
    equivalence_margin_pp: Annotated[Number, Field(lt=100)] = 0.5
    resamples: Count = 1000
    bootstrap_seed: Seed = 0


class TrackingParams(Section):
    """Experiment tracking in MLflow (``tracking``), by default into ``mlflow.db``."""

    enabled: StrictBool = True
    uri: Name | None = None  # an MLflow tracking URI
    experiment: Name = "bn-compare"


class VariantParams(Section):
    """A variant: its Keras layers, each ``{class_name: ..., **kwargs}``."""

    layers: Annotated[tuple[dict[str, Any], ...], Field(min_length=1)]


class GridParams(Section):
    """``training`` keys that change the experiment, each a list of values to vary;
    several keys give their cartesian product (``run_matrix``)."""

    learning_rate: Distinct[Number] | None = None
    optimizer: Distinct[Name] | None = None
    batch_size: Distinct[Count] | None = None
    epochs: Distinct[Count] | None = None
    loss: Distinct[Name] | None = None


class ConfirmParams(Section):
    """A grid's confirmation: each variant retrained at its best setting (chosen on the
    grid's validation accuracy) with fresh seeds, whose runs alone give the verdict at the
    best settings. ``seeds: []`` turns it off; ``per``: grid keys with a best per value;
    ``cross``: every variant also at the best variant's best setting, with the same seeds
    (as many trainings again: a comparison at one setting beside the one at each best)."""

    seeds: Annotated[tuple[Seed, ...], AfterValidator(_each_once)] = tuple(range(1000, 1010))
    per: Annotated[tuple[Literal[GRIDDABLE_KEYS], ...], AfterValidator(_each_once)] = ()
    cross: StrictBool = True


class DiagnosticsParams(Section):
    """Diagnostics from inside each training (``training/probes.py``): per epoch, on the
    same ``probe_size`` training images for every run (chosen by ``seed``); the loss
    landscape and covariate shift at the ``checkpoints`` epochs (``last``: the last one).
    Off by default: they add about 15% to ``compare`` (docs/diagnostics.md)."""

    enabled: StrictBool = False
    probe_size: Count = 1024
    seed: Seed = 0
    checkpoints: Annotated[tuple[Count | Literal["last"], ...], AfterValidator(_each_once)] = (
        1, 5, "last")

    def checkpoint_epochs(self, epochs: int) -> set[int]:
        """The checkpoints of a training of ``epochs`` epochs (those past its end dropped)."""
        return {epochs if c == "last" else c for c in self.checkpoints} & set(range(1, epochs + 1))


class AblationParams(Section):
    """Per variant whose gain is decomposed (``reporting/ablation.py``), orders of the changes
    from ``baseline`` to it, each ``factor: the variant after that change``."""

    baseline: Name
    factors: Annotated[dict[Name, Name], Field(min_length=1)]  # factor: as the report says it
    paths: Annotated[dict[Name, Annotated[tuple[Annotated[dict[Name, Name], Field(
        min_length=1)], ...], Field(min_length=1)]], Field(min_length=1)]

    def problems(self, variants: Sequence[str]) -> list[str]:
        """What names no variant, or is no order of the factors ending at its variant."""
        found = [f"ablation.baseline: names no variant, got {self.baseline!r}"] * (
            self.baseline not in variants)
        for variant, paths in self.paths.items():
            found += [f"ablation.paths.{variant}: names no variant"] * (variant not in variants)
            found += [f"ablation.paths.{variant}: must list each order of the factors once"] * (
                len(set(map(tuple, paths))) < len(paths))
            for i, path in enumerate(paths):
                where, last = f"ablation.paths.{variant}[{i}]", list(path.values())[-1]
                found += [f"{where}: must change each factor once ({', '.join(self.factors)}), "
                          f"got {', '.join(path)}"] * (sorted(path) != sorted(self.factors))
                found += [f"{where}.{factor}: names no variant, got {step!r}"
                          for factor, step in path.items() if step not in variants]
                found += [f"{where}: must end at {variant}, got {last!r}"] * (last != variant)
        return found


class ResultsParams(Section):
    """``make results``: the studies whose latest verdicts ``docs/results.md`` and the
    README's answer are laid out from, in order (each an environment's ``study``)."""

    studies: Distinct[Name] = ("seeds", "ablation", "lr_sweep", "optimizer_sweep",
                               "normalizers", "batch_sweep")


class ProjectParameters(Section):
    """Every parameter of the project (``conf/*/parameters*.yml`` merged)."""

    study: str | None = None  # conf/<env>/globals.yml: the report names it
    data: DataParams = DataParams()
    training: TrainingParams = TrainingParams()
    statistics: StatisticsParams = StatisticsParams()
    variants: Annotated[dict[Annotated[str, AfterValidator(_variant_name)], VariantParams],
                        Field(min_length=1)]
    # blocks, each a cartesian product, whose union is the grid (one mapping: one block)
    grid: Annotated[tuple[GridParams, ...],
                    BeforeValidator(lambda grid: [grid] if isinstance(grid, Mapping) else grid),
                    Field(min_length=1), AfterValidator(_one_namespace_per_point)] = (GridParams(),)
    confirm: ConfirmParams = ConfirmParams()
    diagnostics: DiagnosticsParams = DiagnosticsParams()
    tracking: TrackingParams = TrackingParams()
    ablation: AblationParams | None = None
    results: ResultsParams = ResultsParams()

    @model_validator(mode="after")
    def _confirmation_fits_the_grid(self) -> ProjectParameters:
        if reused := sorted(set(self.confirm.seeds) & set(self.training.seeds)):
            raise ValueError(f"confirm.seeds: must be fresh seeds, not also in training.seeds "
                             f"(the grid's runs choose the best settings; fresh seeds confirm "
                             f"them), but training.seeds holds {', '.join(map(str, reused))} too")
        keys = [key for key in GRIDDABLE_KEYS if getattr(self.grid[0], key)]
        if unknown := [key for key in self.confirm.per if key not in keys]:
            raise ValueError(f"confirm.per: must name keys of the grid "
                             f"({', '.join(keys) or 'no grid'}), got {', '.join(unknown)}")
        if self.ablation and (problems := self.ablation.problems(list(self.variants))):
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def checked(cls, raw: Mapping[str, Any]) -> ProjectParameters:
        """The parameters typed (the one validation of a run), or ``InvalidParametersError``
        naming every problem."""
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as error:
            details = error.errors()
            # A tuple whose items all fail also says it is too short: its items tell why.
            failed = {detail["loc"][:-1] for detail in details}
            one_block = not isinstance(grid := raw.get("grid"), list | tuple) or len(grid) == 1
            raise InvalidParametersError([
                _problem(detail, one_block) for detail in details
                if not (detail["type"] == "too_short" and detail["loc"] in failed)]) from None


# What each pydantic error says, in the project's words (ctx fills the placeholders);
# an error type not listed keeps pydantic's own message.
REQUIREMENTS = {
    "int_type": "must be an integer", "float_type": "must be a number",
    "finite_number": "must be a finite number", "bool_type": "must be true or false",
    "string_type": "must be a string", "string_too_short": "must not be empty",
    "greater_than": "must be > {gt}", "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}", "less_than_equal": "must be <= {le}",
    "too_short": "must hold at least {min_length} items",
    "too_long": "must hold at most {max_length} items",
    "tuple_type": "must be a list", "dict_type": "must be a mapping",
    "model_type": "must be a mapping of parameters",
    "grid_type": "must be a mapping of grid keys, or a list of them",
    "literal_error": "must be one of {expected}",
    "value_error": "{error}",  # the project's own checks word their requirement
}


def _problem(error: ErrorDetails, one_block: bool) -> str:
    """``<dotted.path>: <what is wrong>, got <value>`` (``grid.<key>`` where the grid is
    one mapping, ``grid[<block>].<key>`` in a list of blocks)."""
    location = tuple(p for p in error["loc"] if p != "[key]")  # "[key]": a mapping's key
    if one_block and location[:2] == ("grid", 0):
        location = ("grid", *location[2:])
    if not location:  # a check across sections: its message names the parameters
        return str(error["ctx"]["error"])
    path, kind, ctx = _path(location), error["type"], error.get("ctx", {})
    if kind == "extra_forbidden":
        return (f"{path}: cannot be gridded; the training keys that change the experiment "
                f"are {', '.join(GRIDDABLE_KEYS)}" if location[0] == "grid" else
                f"{path}: not a parameter of {_path(location[:-1]) or 'this project'} (a typo?)")
    if kind == "missing":
        return f"{path}: missing"
    if location == ("grid",) and kind == "tuple_type":
        kind = "grid_type"
    if kind == "too_short" and ctx["min_length"] == 1:
        kind = "string_too_short"  # "must not be empty"
    bounds = {key: value_label(value) for key, value in ctx.items()}  # 0.0 -> 0
    requirement = REQUIREMENTS[kind].format(**bounds) if kind in REQUIREMENTS else error["msg"]
    return f"{path}: {requirement}, got {error['input']!r}"


def _path(location: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in location).lstrip(".")
