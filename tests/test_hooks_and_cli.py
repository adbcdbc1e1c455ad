"""The project's hooks and its `kedro run` wrapper, called directly."""

from __future__ import annotations

import subprocess
import sys
import threading

import click
import numpy as np
import pytest
from kedro.io import DataCatalog, DatasetError, MemoryDataset, Version
from kedro.pipeline import Node, Pipeline

from bn_compare import cli, tf_runtime
from bn_compare.datasets import FashionMNISTDataset
from bn_compare.hooks import InputCheckHook, MemoryReleaseHook, TensorFlowSetupHook
from bn_compare.parameters import InvalidParametersError
from tests.conftest import PROJECT_ROOT


def _catalog(parameters, **datasets):
    return DataCatalog({"parameters": MemoryDataset(parameters), **datasets})


def _with_training(base_parameters, **training):
    return {**base_parameters, "training": {**base_parameters["training"], **training}}


def test_tensorflow_setup_hook_takes_the_runs_training_settings(base_parameters):
    before = tf_runtime.requested_settings()
    try:
        TensorFlowSetupHook().before_pipeline_run(
            _catalog(_with_training(base_parameters, deterministic=False,
                                    intra_op_threads=3)))
        assert tf_runtime.requested_settings() == tf_runtime.TensorFlowSettings(3, False)
    finally:
        tf_runtime.configure(before)


def test_input_check_hook_reports_every_keras_problem(base_parameters):
    bad = _with_training(base_parameters, optimizer="SGDD", loss="nope")
    with pytest.raises(InvalidParametersError) as raised:
        InputCheckHook().before_pipeline_run({}, Pipeline([]), _catalog(bad))
    assert raised.value.problems == ["training.optimizer: 'SGDD' is not a Keras optimizer name",
                                     "training.loss: 'nope' is not a Keras loss name"]


def test_input_check_hook_checks_the_raw_files_when_the_run_reads_them(base_parameters,
                                                                        tmp_path):
    raw = FashionMNISTDataset(path=str(tmp_path), search_paths=[], download=False)
    reads_raw = Pipeline([Node(len, "fashion_mnist_raw", "n", name="count")])
    with pytest.raises(DatasetError, match="not found in"):
        InputCheckHook().before_pipeline_run(
            {}, reads_raw, _catalog(base_parameters, fashion_mnist_raw=raw))
    InputCheckHook().before_pipeline_run({}, Pipeline([]), _catalog(base_parameters))


def test_requested_versions_must_exist(base_parameters, tmp_path):
    from bn_compare.datasets import NumpyDataset
    from bn_compare.hooks import InvalidRunRequestError

    model = NumpyDataset(filepath=str(tmp_path / "x.npy"), version=Version(None, None))
    model.save(np.zeros(2))
    (saved,) = model.list_versions(full_path=False)
    catalog = _catalog(base_parameters, x=model)
    InputCheckHook().before_pipeline_run({"load_versions": {"x": saved}}, Pipeline([]),
                                         catalog)
    with pytest.raises(InvalidRunRequestError) as raised:
        InputCheckHook().before_pipeline_run(
            {"load_versions": {"x": "2020-01-01T00.00.00.000Z", "nope": saved}},
            Pipeline([]), catalog)
    assert raised.value.problems == [
        f"--load-versions x:2020-01-01T00.00.00.000Z: no such version of x; its latest "
        f"versions: {saved}",
        f"--load-versions nope:{saved}: 'nope' is not a versioned dataset of this project "
        f"(see conf/base/catalog.yml)"]


def test_memory_release_clears_keras_only_when_no_other_node_shares_the_process():
    keras = tf_runtime.keras()
    keras.backend.get_uid("probe")
    MemoryReleaseHook().after_node_run(node=None)
    assert keras.backend.get_uid("probe") == 1  # the session was cleared
    with tf_runtime.shared_by(2):
        MemoryReleaseHook().after_node_run(node=None)
        assert keras.backend.get_uid("probe") == 2  # left alone: others may be training
    assert not tf_runtime.process_is_shared()


def test_a_sequential_run_after_a_thread_run_keeps_the_configured_threads():
    """In a fresh process (TensorFlow's threads are fixed at its first op)."""
    script = """
import tensorflow as tf
from bn_compare import tf_runtime
from bn_compare.runner import ThreadRunner
from tests.pipelines.test_pipeline_in_memory import run_in_memory
from tests.conftest import PROJECT_ROOT
import yaml
params = {}
for f in sorted((PROJECT_ROOT / "conf" / "base").glob("parameters*.yml")):
    params.update(yaml.safe_load(f.read_text()))
tf_runtime.configure(tf_runtime.TensorFlowSettings(intra_op_threads=2))
run_in_memory(params, runner=ThreadRunner(), variants=["baseline"],
              training={"epochs": 1, "seeds": [1, 2]})
after_threads = (tf.config.threading.get_intra_op_parallelism_threads(),
                 tf_runtime.process_is_shared())
run_in_memory(params, variants=["baseline"], training={"epochs": 1})
print("RESULT", after_threads, tf.config.threading.get_intra_op_parallelism_threads())
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                            timeout=600, cwd=PROJECT_ROOT)
    assert "RESULT (2, False) 2" in result.stdout, result.stderr[-3000:]


def test_the_cli_runs_the_thread_runner_by_default_and_leaves_kedros_command_alone():
    from kedro.framework.cli.project import run as kedro_run

    ours = next(p for p in cli.run.params if p.name == "runner")
    theirs = next(p for p in kedro_run.params if p.name == "runner")
    assert ours.default == "bn_compare.runner.ThreadRunner" and theirs.default is None


def test_the_cli_turns_refused_inputs_into_one_message(monkeypatch):
    from kedro.framework.cli.project import run as kedro_run

    def refuse(**kwargs):
        raise InvalidParametersError(["training.epochs: must be an integer > 0, got 0"])

    monkeypatch.setattr(kedro_run, "callback", refuse)
    with pytest.raises(click.ClickException) as raised:
        cli._run(env="smoke")
    assert raised.value.message == ("Invalid parameters, nothing was run:\n"
                                    "  - training.epochs: must be an integer > 0, got 0")


def test_configuration_mistakes_each_get_one_line(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "smoke").mkdir()
    assert cli.environment_problem("smoke", tmp_path) is None
    assert cli.environment_problem("smok", tmp_path) == (
        "Environment 'smok' does not exist: there is no folder conf/smok. The environments "
        "of this project: base, smoke.")
    assert cli.runner_problem("bn_compare.runner.ParallelRunner") is None
    assert cli.runner_problem("SequentialRunner") is None
    assert cli.runner_problem("Sequential").startswith("--runner=Sequential: no such runner.")
    duplicate = ValueError("Duplicate keys found in conf/smoke/a.yml and\n"
                           "conf/smoke/b.yml:\ntraining")
    assert cli.configuration_problem(duplicate) == (
        "Configuration error: Duplicate keys found in conf/smoke/a.yml and "
        "conf/smoke/b.yml: training Nothing was run.")
    assert cli.configuration_problem(ValueError("a node's own error")) is None


class _Unpicklable(Exception):
    def __init__(self):
        super().__init__("holds a lock")
        self.lock = threading.Lock()


def _fails():
    raise _Unpicklable


def test_a_dask_task_whose_error_cannot_travel_back_says_so_instead_of_hanging(base_parameters):
    from bn_compare.runner import _run_task

    node = Node(_fails, None, "out", name="fails")
    with pytest.raises(RuntimeError, match="fails: _Unpicklable: holds a lock"):
        _run_task(node, DataCatalog({"out": MemoryDataset()}), False, None,
                  tf_runtime.TensorFlowSettings())
