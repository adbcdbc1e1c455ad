"""The parameters, declared once: defaults, constraints and one message per problem with
its path and value."""

import copy

import pytest

from bn_compare.parameters import (
    InvalidParametersError,
    ProjectParameters,
    parameter_problems,
    validated,
)


def test_the_shipped_parameters_are_valid_and_equal_the_declared_defaults(base_parameters):
    assert parameter_problems(base_parameters) == []
    declared = ProjectParameters(variants=base_parameters["variants"]).model_dump()
    shipped = ProjectParameters.model_validate(base_parameters).model_dump()
    assert shipped == declared  # conf/base and the code never disagree


def _with(parameters, path, value):
    changed = copy.deepcopy(parameters)
    *parents, last = path
    target = changed
    for key in parents:
        target = target.setdefault(key, {}) if isinstance(target, dict) else target[key]
    target[last] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("training", "epochs"), 0, "training.epochs: must be an integer > 0, got 0"),
        (("training", "epochs"), "ten", "training.epochs: must be an integer > 0, got 'ten'"),
        (("training", "batch_size"), -32, "training.batch_size: must be an integer > 0, got -32"),
        (("training", "learning_rate"), 0, "training.learning_rate: must be a number > 0, got 0"),
        (("data", "validation_size"), 60000, "data.validation_size: must be an integer in 1..59999"),
        (("data", "scale"), -1, "data.scale: must be a number > 0, got -1"),
        (("training", "seeds"), [], "training.seeds: must be a non-empty list of integers, got []"),
        (("training", "seeds"), 42, "training.seeds: must be a non-empty list of integers, got 42"),
        (("training", "seeds"), [42, -1], "training.seeds[1]: must be an integer in 0..4294967295, got -1"),
        (("training", "seeds"), [42, "x"], "training.seeds[1]: must be an integer in 0..4294967295, got 'x'"),
        (("training", "seeds"), [42, 43, 42], "training.seeds: each seed once, repeated: [42]"),
        (("training", "loop"), "fitt", "training.loop: must be one of chunked, keras_fit, got 'fitt'"),
        (("training", "seed"), 7, "training.seed: replaced by training.seeds, a list (write seeds: [7])"),
        (("training", "epoch"), 3, "training.epoch: not a parameter of training (a typo?)"),
        (("trainig",), {}, "trainig: not a parameter of this project (a typo?)"),
        (("training", "intra_op_threads"), -1, "training.intra_op_threads: must be an integer >= 0"),
        (("statistics", "confidence"), 95, "statistics.confidence: must be a number with 0 < x < 1, got 95"),
        (("statistics", "target_val_accuracy"), 0, "statistics.target_val_accuracy: must be a number with 0 < x <= 1, got 0"),
        (("variants",), {}, "variants: must declare at least one variant"),
        (("variants",), None, "variants: must declare at least one variant, got None"),
        (("variants", "bn-after"), {"layers": [{"class_name": "Flatten"}]},
         "variants.bn-after: 'bn-after' is not a valid variant name"),
        (("variants", "wide"), {"layers": []},
         "variants.wide.layers: expected a non-empty list of layers, got []"),
        (("grid", "learning_rate"), [0.1, -1], "grid.learning_rate[1]: must be a number > 0, got -1"),
        (("grid", "learning_rate"), [0.1, 0.1], "grid.learning_rate: each value once, repeated: [0.1]"),
        (("grid", "learning_rate"), [], "grid.learning_rate: must be a non-empty list of values, got []"),
        (("grid", "epochs"), [2, 0], "grid.epochs[1]: must be an integer > 0, got 0"),
        (("grid", "deterministic"), [True, False],
         "grid.deterministic: cannot be gridded; the training keys that change the experiment "
         "are learning_rate, optimizer, batch_size, epochs, loss"),
    ],
)
def test_each_problem_names_the_parameter_and_value(base_parameters, path, value, message):
    problems = parameter_problems(_with(base_parameters, path, value))
    assert any(message in problem for problem in problems), problems


def test_all_problems_are_reported_at_once(base_parameters):
    bad = _with(_with(base_parameters, ("training", "epochs"), 0), ("data", "scale"), -1)
    with pytest.raises(InvalidParametersError) as raised:
        validated(bad)
    assert len(raised.value.problems) == 2
    message = str(raised.value)
    assert message.startswith("Invalid parameters, nothing was run:")
    assert "training.epochs" in message and "data.scale" in message


def test_a_grid_point_gives_the_training_settings_with_its_values(params):
    at_point = params.training.at({"learning_rate": 0.1, "epochs": 3})
    assert (at_point.learning_rate, at_point.epochs, at_point.batch_size) == (0.1, 3, 32)
    assert params.training.learning_rate == 0.001  # unchanged
