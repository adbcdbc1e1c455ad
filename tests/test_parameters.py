"""The parameters, declared once: defaults, constraints and one message per problem with
its path, what is wrong and the value."""

import copy

import pytest

from bn_compare.grid import GRIDDABLE_KEYS
from bn_compare.parameters import (
    DataParams,
    DiagnosticsParams,
    GridParams,
    InvalidParametersError,
    ProjectParameters,
)

GRIDDABLE = "learning_rate, optimizer, batch_size, epochs, loss"
FLATTEN = {"layers": [{"class_name": "Flatten"}]}


def parameter_problems(raw):
    try:
        ProjectParameters.checked(raw)
    except InvalidParametersError as error:
        return error.problems
    return []


def test_the_shipped_parameters_are_valid_and_equal_the_declared_defaults(base_parameters):
    assert parameter_problems(base_parameters) == []
    declared = ProjectParameters(variants=base_parameters["variants"]).model_dump()
    shipped = ProjectParameters.checked(base_parameters).model_dump()
    assert shipped == declared  # conf/base and the code never disagree


def _with(parameters, path, value):
    changed = copy.deepcopy(parameters)
    *parents, last = path
    target = changed
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        # numbers: strict types, bounds
        (("training", "epochs"), 0, "training.epochs: must be > 0, got 0"),
        (("training", "epochs"), "ten", "training.epochs: must be an integer, got 'ten'"),
        (("training", "epochs"), True, "training.epochs: must be an integer, got True"),
        (("training", "batch_size"), 32.0, "training.batch_size: must be an integer, got 32.0"),
        (("training", "learning_rate"), 0, "training.learning_rate: must be > 0, got 0"),
        (("training", "learning_rate"), "0.1", "training.learning_rate: must be a number, got '0.1'"),
        (("training", "learning_rate"), float("inf"), "training.learning_rate: must be a finite number, got inf"),
        (("training", "deterministic"), "yes", "training.deterministic: must be true or false, got 'yes'"),
        (("data", "validation_size"), 60000, "data.validation_size: must be < 60000, got 60000"),
        (("data", "scale"), -1, "data.scale: must be > 0, got -1"),
        (("data", "image_shape"), [28, 0], "data.image_shape[1]: must be > 0, got 0"),
        (("statistics", "confidence"), 95, "statistics.confidence: must be < 1, got 95"),
        (("statistics", "target_val_accuracy"), 0, "statistics.target_val_accuracy: must be > 0, got 0"),
        # lists and names
        (("training", "seeds"), [], "training.seeds: must not be empty, got []"),
        (("training", "seeds"), 42, "training.seeds: must be a list, got 42"),
        (("training", "seeds"), [-1], "training.seeds[0]: must be >= 0, got -1"),
        (("training", "seeds"), [42, 2**32], "training.seeds[1]: must be <= 4294967295, got 4294967296"),
        (("training", "seeds"), [42, "x"], "training.seeds[1]: must be an integer, got 'x'"),
        (("training", "seeds"), [42, 43, 42], "training.seeds: must list each value once, got [42, 43, 42]"),
        (("training", "metrics"), ["mse"], "training.metrics: must include accuracy, got ['mse']"),
        (("training", "optimizer"), "", "training.optimizer: must not be empty, got ''"),
        (("data", "class_names"), ["Shirt", "Bag"], "data.class_names: must hold at least 10 items, got ['Shirt', 'Bag']"),
        (("tracking", "uri"), 5, "tracking.uri: must be a string, got 5"),
        # unknown keys, among them the dropped knobs
        (("training", "epoch"), 3, "training.epoch: not a parameter of training (a typo?)"),
        (("training", "loop"), "chunked", "training.loop: not a parameter of training (a typo?)"),
        (("training", "seed"), 7, "training.seed: not a parameter of training (a typo?)"),
        (("trainig",), {}, "trainig: not a parameter of this project (a typo?)"),
        (("training",), None, "training: must be a mapping of parameters, got None"),
        # variants
        (("variants",), {}, "variants: must not be empty, got {}"),
        (("variants",), None, "variants: must be a mapping, got None"),
        (("variants", "bn-after"), FLATTEN,
         "variants.bn-after: must be a variant name: letters, digits and underscores, not "
         "starting with a digit, not a Python keyword (it names namespaces), got 'bn-after'"),
        (("variants", "class"), FLATTEN, "variants.class: must be a variant name"),
        (("variants", "wide"), {"layers": []}, "variants.wide.layers: must not be empty, got []"),
        (("variants", "wide"), {"layers": ["Dense"]}, "variants.wide.layers[0]: must be a mapping, got 'Dense'"),
        # the grid
        (("grid", "learning_rate"), [0.1, -1], "grid.learning_rate[1]: must be > 0, got -1"),
        (("grid", "learning_rate"), [0.1, 0.1], "grid.learning_rate: must list each value once, got [0.1, 0.1]"),
        (("grid", "learning_rate"), [], "grid.learning_rate: must not be empty, got []"),
        (("grid", "epochs"), [2, 0], "grid.epochs[1]: must be > 0, got 0"),
        (("grid", "deterministic"), [True, False],
         f"grid.deterministic: cannot be gridded; the training keys that change the experiment "
         f"are {GRIDDABLE}"),
        (("grid", "optimizer"), ["Adam.1", "Adamp1"],
         "grid: must give each point a namespace of its own, but optimizer_Adamp1 would be "
         "shared (spell the values apart), got "),
        # the confirmation of a grid
        (("confirm", "seeds"), [1000, 42],
         "confirm.seeds: must be fresh seeds, not also in training.seeds (the grid's runs "
         "choose the best settings; fresh seeds confirm them), but training.seeds holds 42 too"),
        (("confirm", "per"), ["batch_size"],
         "confirm.per: must name keys of the grid (no grid), got batch_size"),
        (("confirm", "per"), ["momentum"], "confirm.per[0]: must be one of 'learning_rate'"),
        # a grid of blocks
        (("grid",), [{"learning_rate": [0.1]}, {"learning_rate": [0.1, -1]}],
         "grid[1].learning_rate[1]: must be > 0, got -1"),
        (("grid",), [{"learning_rate": [0.1]}, {"momentum": [0.9]}],
         f"grid[1].momentum: cannot be gridded; the training keys that change the experiment "
         f"are {GRIDDABLE}"),
        (("grid",), [{"learning_rate": [0.1], "optimizer": ["SGD"]}, {"learning_rate": [0.1]}],
         "grid: must vary the same keys in every block, but block 0 varies learning_rate, "
         "optimizer; block 1 varies learning_rate, got "),
        (("grid",), [], "grid: must not be empty, got []"),
        (("grid",), 0.1, "grid: must be a mapping of grid keys, or a list of them, got 0.1"),
    ],
)
def test_each_problem_names_the_parameter_the_requirement_and_the_value(
        base_parameters, path, value, message):
    problems = parameter_problems(_with(base_parameters, path, value))
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_a_missing_section_without_default_is_named(base_parameters):
    without_variants = {k: v for k, v in base_parameters.items() if k != "variants"}
    assert parameter_problems(without_variants) == ["variants: missing"]


def test_checked_names_every_problem_at_once(base_parameters):
    bad = _with(_with(base_parameters, ("training", "epochs"), 0), ("data", "scale"), -1)
    with pytest.raises(InvalidParametersError) as raised:
        ProjectParameters.checked(bad)
    assert raised.value.problems == ["data.scale: must be > 0, got -1",
                                     "training.epochs: must be > 0, got 0"]
    assert str(raised.value) == ("Invalid parameters, nothing was run:\n"
                                 "  - data.scale: must be > 0, got -1\n"
                                 "  - training.epochs: must be > 0, got 0")


def test_checked_gives_typed_read_only_parameters(base_parameters):
    checked = ProjectParameters.checked(base_parameters)
    assert checked.training.seeds == (42,) and checked.data.image_shape == (28, 28)
    with pytest.raises(ValueError, match="frozen"):
        checked.training.epochs = 3


def test_the_grid_declares_exactly_the_griddable_keys():
    assert tuple(GridParams.model_fields) == GRIDDABLE_KEYS


@pytest.mark.parametrize(
    ("data", "sizes"),
    [
        ({}, {"train": 55_000, "validation": 5_000, "test": 10_000}),
        ({"validation_size": 1_000, "max_train_images": 4_000},
         {"train": 4_000, "validation": 1_000, "test": 10_000}),
        ({"max_train_images": 100_000}, {"train": 55_000, "validation": 5_000, "test": 10_000}),
    ],
)
def test_the_split_sizes_follow_from_the_official_files(data, sizes):
    assert DataParams(**data).split_sizes == sizes


@pytest.mark.parametrize(
    ("checkpoints", "epochs", "expected"),
    [((1, 5, "last"), 10, {1, 5, 10}), ((1, 5, "last"), 3, {1, 3}), ((), 10, set())],
)
def test_diagnostics_checkpoints_are_epochs_of_the_training(checkpoints, epochs, expected):
    """``last`` is the training's last epoch, checkpoints past it are dropped, and an
    empty list turns the landscape probes off alone."""
    assert DiagnosticsParams(checkpoints=checkpoints).checkpoint_epochs(epochs) == expected
