"""`kedro run` as a user meets it, through the project's CLI in this process: what a user
can get wrong stops the run before any node, with one line naming what is wrong (and what
exists), exit code 1 and nothing written; a stop signal ends the run with 128 + its
number. Every message of every parameter check is tested in tests/test_parameters.py,
tests/test_validation.py and tests/datasets/."""

from __future__ import annotations

import logging
import os
import signal

import pytest
import yaml

from bn_compare import cli
from tests.conftest import (
    DEBIAN_DATA,
    make_project_copy,
    outputs_manifest,
    run_in_process,
)

RAW = "data/01_raw/fashion-mnist"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project_copy(tmp_path_factory.mktemp("cli") / "project")


def refused(project, *args):
    """The run's refusal (click's "Error: ..." at the end of the output), after checking
    that it exited with 1, showed no traceback and wrote nothing."""
    before = outputs_manifest(project)
    result = run_in_process(project, "--env=smoke", *args)
    assert result.exit_code == 1, result.output[-3000:]
    assert "Traceback" not in result.output
    assert outputs_manifest(project) == before
    return result.output[result.output.index("Error: "):].strip()


def with_file(project, relative, text, *args):
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    try:
        return refused(project, *args)
    finally:
        path.unlink()


def test_the_default_runner_is_the_projects_and_kedros_command_keeps_its_own():
    from kedro.framework.cli.project import run as kedro_run

    ours = next(p for p in cli.run.params if p.name == "runner")
    theirs = next(p for p in kedro_run.params if p.name == "runner")
    assert ours.default == "bn_compare.runner.ThreadRunner" and theirs.default is None


@pytest.mark.parametrize(("args", "message"), [
    (["--env=doesnotexist"], "Error: --env=doesnotexist: no such environment (no folder "
                             "conf/doesnotexist); the environments: base, batch_sweep, "
                             "local, lr_sweep, normalizers, optimizer_sweep, seeds, smoke."),
    (["--runner=Sequential"], "Error: --runner=Sequential: no such runner; use "
                              "bn_compare.runner.ThreadRunner (the default), "),
    (["--pipelines=compar"], "Error: --pipelines=compar: no such pipeline; the pipelines: "
                             "__default__, compare, data_processing, diagnostics, evaluation, "
                             "reporting, training."),
    (["--pipeline=compar"], "Error: --pipelines=compar: no such pipeline"),
    (["--namespaces=bn_after"], "Error: --namespaces=bn_after: no such namespace; the "
                                "top-level ones: baseline, bn_after_activation, "
                                "bn_before_activation"),
    (["--nodes=train_model"], "Error: --nodes=train_model: no such node; did you mean "),
    (["--from-nodes=split"], "Error: --from-nodes=split: no such node; did you mean "
                             "split_dataset?"),
    (["--to-nodes=report"], "Error: --to-nodes=report: no such node; did you mean "),
    (["--tags=training"], "Error: --tags=training: no node has this tag; the tags: none."),
    (["--load-versions=baseline.seed_42.model:2020-01-01T00.00.00.000Z"],
     "  - --load-versions baseline.seed_42.model:2020-01-01T00.00.00.000Z: no such version "
     "of baseline.seed_42.model; its latest versions: none yet"),
])
def test_a_name_the_project_does_not_have_is_one_line_naming_what_exists(project, args,
                                                                        message):
    assert message in refused(project, *args)


def test_an_environment_named_by_kedro_env_that_does_not_exist(project, monkeypatch):
    monkeypatch.setenv("KEDRO_ENV", "smok")
    result = run_in_process(project)
    assert result.exit_code == 1
    assert result.output.startswith("Error: --env=smok: no such environment")


def test_a_bad_value_on_the_command_line(project):
    assert refused(project, "--params=training.epochs=0") == (
        "Error: Invalid parameters, nothing was run:\n"
        "  - training.epochs: must be > 0, got 0")


def test_a_gpu_asked_for_where_tensorflow_sees_none(project):
    """Here, as in CI, tensorflow-cpu: the message says how to install TensorFlow with CUDA."""
    assert refused(project, "--params=training.device=gpu") == (
        "Error: Invalid parameters, nothing was run:\n"
        "  - training.device: 'gpu', but TensorFlow sees no GPU (this environment has "
        "tensorflow-cpu, built without CUDA: install the project with the extra that brings "
        "TensorFlow, in a fresh environment: make install (pip install -e \".[cpu]\"), or on a "
        "machine with an NVIDIA GPU make install TENSORFLOW=gpu (pip install -e \".[gpu]\")); "
        "use training.device: auto or cpu to train on the CPU")


def test_a_layer_keras_does_not_know(project):
    output = with_file(project, "conf/smoke/parameters_bad.yml", yaml.safe_dump(
        {"variants": {"wide": {"layers": [{"class_name": "Flatten"},
                                          {"class_name": "Dense3D", "units": 4}]}}}))
    assert ("variants.wide.layers[1].class_name: 'Dense3D' is not a layer class in "
            "keras.layers") in output


def test_a_model_that_does_not_fit_the_data(project):
    output = with_file(project, "conf/smoke/parameters_bad.yml", yaml.safe_dump(
        {"variants": {"five": {"layers": [
            {"class_name": "Flatten"},
            {"class_name": "Dense", "units": 5, "activation": "softmax"}]}}}))
    assert ("variants.five.layers[1] (Dense): the model outputs (None, 5), the data has 10 "
            "classes (data.class_names) and needs (None, 10)") in output


def test_a_yaml_syntax_error_is_one_line_with_file_line_and_column(project):
    output = with_file(project, "conf/smoke/parameters_typo.yml",
                       "training:\n  epochs: 3\n  batch_size: [32\n")
    assert output.startswith("Error: Configuration error in conf/smoke/parameters_typo.yml, "
                             "line 4, column 1: expected ',' or ']'")


def test_a_key_two_files_of_one_environment_define_is_one_line(project):
    output = with_file(project, "conf/smoke/parameters_again.yml", "training:\n  epochs: 3\n")
    assert output == ("Error: Configuration error: 'training' is defined in "
                      "conf/smoke/parameters.yml and in conf/smoke/parameters_again.yml; keep "
                      "one. Nothing was run.")


def test_an_interpolation_that_cannot_be_resolved_is_one_line(project):
    output = with_file(project, "conf/smoke/parameters_bad.yml",
                       "grid:\n  epochs: '${globals:no_such_key}'\n")
    assert output.startswith("Error: Configuration error: ") and "no_such_key" in output


def test_a_truncated_raw_file_is_named_with_the_check(project):
    name = "t10k-labels-idx1-ubyte.gz"
    data = (DEBIAN_DATA / name).read_bytes()
    (project / RAW).mkdir(parents=True, exist_ok=True)
    (project / RAW / name).write_bytes(data[: len(data) // 2])  # found first, half of it
    try:
        output = refused(project)
    finally:
        (project / RAW / name).unlink()
    assert "not a complete gzip file" in output and name in output


def test_missing_raw_files_say_where_it_looked_and_what_to_do(project):
    output = with_file(project, "conf/smoke/catalog_nodata.yml", yaml.safe_dump(
        {"fashion_mnist_raw": {"type": "bn_compare.datasets.FashionMNISTDataset",
                               "path": RAW, "search_paths": [], "download": False}}))
    assert "not found in" in output and "apt-get install dataset-fashion-mnist" in output


def test_a_tracking_uri_that_cannot_work(project):
    assert refused(project, "--params=tracking.uri=http://127.0.0.1:9").startswith(
        "Error: tracking.uri: cannot track to 'http://127.0.0.1:9': ")


class _SignalAtEpoch(logging.Handler):
    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signum, self.sent = signum, False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.sent and " epoch 2/30 " in record.getMessage():
            self.sent = True
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_ends_the_run_with_one_line_and_128_plus_its_number(project, signum):
    """SIGINT (Ctrl-C) in a real process: tests/pipelines/test_recovery.py."""
    trigger = _SignalAtEpoch(signum)
    logging.getLogger("bn_compare").addHandler(trigger)
    try:
        result = run_in_process(project, "--env=smoke",
                                "--params=training.epochs=30,tracking.enabled=false")
    finally:
        logging.getLogger("bn_compare").removeHandler(trigger)
    assert result.exit_code == 128 + signum, result.output[-3000:]
    (line,) = [line for line in result.output.splitlines() if line.startswith("Interrupted")]
    assert line.startswith(f"Interrupted ({signal.Signals(signum).name}): the run stopped; "
                           f"the trainings that were running saved nothing")
    assert not (project / "data/smoke/06_models/baseline/seed_42/model.keras").exists()
