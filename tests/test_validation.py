"""The checks that need Keras: layer classes and arguments, optimizer and loss names;
the device (``training.device``; a GPU asked for where none is: tests/test_cli.py)."""

import os
import sys

import pytest

from bn_compare import tf_runtime
from bn_compare.parameters import ProjectParameters
from bn_compare.pipelines.training.checks import keras_problems
from bn_compare.tf_runtime import TensorFlowMissingError, select_device


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
        ({"grid": [{"optimizer": ["SGD"]}, {"optimizer": ["Adamm"]}]},
         "grid[1].optimizer[0]: 'Adamm' is not a Keras optimizer"),
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


def _variant(*layers):
    return {"v": {"layers": [{"class_name": "Flatten"}, *layers]}}


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"variants": _variant({"class_name": "Dense", "units": 5, "activation": "softmax"})},
         "variants.v.layers[1] (Dense): the model outputs (None, 5), the data has 10 classes "
         "(data.class_names) and needs (None, 10): one value per class; give the last layer "
         "units: 10"),
        ({"variants": _variant({"class_name": "Dense", "units": 10})},
         "variants.v.layers[1] (Dense): variant v outputs scores that are not probabilities "
         "(they do not sum to 1), but training.loss 'sparse_categorical_crossentropy' "
         "expects probabilities: add activation: softmax to the last layer"),
        ({"variants": {"v": {"layers": [{"class_name": "Dense", "units": 10,
                                         "activation": "softmax"}]}}},
         "variants.v.layers[0] (Dense): the model outputs (None, 28, 10)"),
        ({"training": {"loss": "categorical_crossentropy"}},
         "training.loss: 'categorical_crossentropy' cannot compare the labels (class indices, "
         "shape (None,)) with the outputs of variant baseline (None, 10)"),
    ],
)
def test_a_model_that_does_not_fit_the_data_is_refused(base_parameters, sections, message):
    problems = keras_problems(_params(base_parameters, **sections))
    assert any(problem.startswith(message) for problem in problems), problems


def test_training_on_the_cpu_hides_every_gpu_from_this_process_and_its_workers(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert select_device("cpu") == []
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "-1"


def test_an_environment_without_tensorflow_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow fails
    with pytest.raises(TensorFlowMissingError, match=r'TensorFlow is not installed: install '
                       r'the project with the extra .* make install \(pip install -e "\.\[cpu\]"\)'):
        tf_runtime._set_up_process()
