import copy

import pytest

from bn_compare.validation import InvalidParametersError, check_parameters


def test_the_shipped_parameters_are_valid(base_parameters):
    assert check_parameters(base_parameters) == []


def _with(parameters, path, value):
    changed = copy.deepcopy(parameters)
    *parents, last = path
    target = changed
    for key in parents:
        target = target[key]
    target[last] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("training", "epochs"), 0, "training.epochs: must be an integer > 0, got 0"),
        (("training", "epochs"), "ten", "training.epochs: must be an integer > 0, got 'ten'"),
        (("training", "batch_size"), -32, "training.batch_size: must be an integer > 0, got -32"),
        (("training", "learning_rate"), 0, "training.learning_rate: must be a number > 0, got 0"),
        (("training", "optimizer"), "SGDD", "training.optimizer: 'SGDD' is not a Keras optimizer"),
        (("training", "loss"), "crossentropy_x", "training.loss: 'crossentropy_x' is not a Keras loss"),
        (("data", "validation_size"), 60000, "data.validation_size: must be an integer in 1..59999"),
        (("training", "seeds"), [], "training.seeds: must be a non-empty list of integers, got []"),
        (("training", "seeds"), 42, "training.seeds: must be a non-empty list of integers, got 42"),
        (("training", "seeds"), [42, -1], "training.seeds[1]: must be an integer in 0..4294967295, got -1"),
        (("training", "seeds"), [42, "x"], "training.seeds[1]: must be an integer in 0..4294967295, got 'x'"),
        (("training", "seeds"), [42, 43, 42], "training.seeds: each seed once, repeated: [42]"),
        (("training", "loop"), "fitt", "training.loop: must be one of chunked, keras_fit, got 'fitt'"),
        (("training", "seed"), 7, "training.seed: replaced by training.seeds, a list (write seeds: [7])"),
        (("statistics", "confidence"), 95, "statistics.confidence: must be a number with 0 < x < 1, got 95"),
        (("statistics", "target_val_accuracy"), 0, "statistics.target_val_accuracy: must be a number with 0 < x <= 1, got 0"),
        (("variants",), {}, "variants: must declare at least one variant"),
        (("variants", "bn-after"), {"layers": [{"class_name": "Flatten"}]},
         "variants.bn-after: 'bn-after' is not a valid variant name"),
        (("variants", "bn_before_activation", "layers", 3, "units"), "many",
         "variants.bn_before_activation.layers[3]"),
    ],
)
def test_each_problem_names_the_parameter_and_value(base_parameters, path, value, message):
    problems = check_parameters(_with(base_parameters, path, value))
    assert any(message in problem for problem in problems), problems


def test_all_problems_are_reported_at_once(base_parameters):
    bad = _with(_with(base_parameters, ("training", "epochs"), 0), ("data", "scale"), -1)
    problems = check_parameters(bad)
    assert len(problems) == 2
    message = str(InvalidParametersError(problems))
    assert message.startswith("Invalid parameters, nothing was run:")
    assert "training.epochs" in message and "data.scale" in message
