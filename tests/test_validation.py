"""The checks that need Keras: layer classes and arguments, optimizer and loss names."""

import pytest

from bn_compare.parameters import ProjectParameters
from bn_compare.validation import keras_problems


def test_the_shipped_parameters_pass_keras_checks(params):
    assert keras_problems(params) == []


def _params(base_parameters, **sections):
    return ProjectParameters.model_validate({**base_parameters, **sections})


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"training": {"optimizer": "SGDD"}}, "training.optimizer: 'SGDD' is not a Keras optimizer"),
        ({"training": {"loss": "crossentropy_x"}}, "training.loss: 'crossentropy_x' is not a Keras loss"),
        ({"grid": {"optimizer": ["SGD", "Adamm"]}}, "grid.optimizer[1]: 'Adamm' is not a Keras optimizer"),
        ({"variants": {"v": {"layers": [{"class_name": "Flatten"},
                                        {"class_name": "Dense", "units": "many"}]}}},
         "variants.v.layers[1] (Dense)"),
        ({"variants": {"v": {"layers": [{"class_name": "Dense3D"}]}}},
         "variants.v.layers[0].class_name: 'Dense3D' is not a layer class in keras.layers"),
    ],
)
def test_each_keras_problem_names_the_parameter(base_parameters, sections, message):
    problems = keras_problems(_params(base_parameters, **sections))
    assert any(message in problem for problem in problems), problems
