"""`kedro run` through the project's CLI, in this process: the checks before the run, the
one message (exit code 1, nothing written) of each error that refuses a run, Kedro's own
words for a configuration or a selection it cannot use, and a stop signal's line and exit
code. What each check of the project says is tested where the check is: parameters in
tests/test_parameters.py and tests/test_validation.py, --load-versions and Keras in
tests/test_hooks.py, raw files in tests/datasets/, tracking in tests/test_tracking.py."""

from __future__ import annotations

import signal
import threading

import pytest
from click.testing import CliRunner
from kedro.framework.cli.utils import KedroCliError
from kedro.io import DatasetError

from bn_compare import cli, hooks, parameters, tf_runtime, tracking
from tests.conftest import make_project_copy, outputs_manifest, run_in_process

PIPELINES = ("__default__, compare, data_processing, diagnostics, evaluation, reporting, results, tables, "
             "training")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project_copy(tmp_path_factory.mktemp("cli") / "project")


IMPORTED = []  # each time the CLI started importing TensorFlow and SciPy ahead of the run


@pytest.fixture
def fake_run(monkeypatch, tmp_path):
    """The CLI, with Kedro's ``run`` replaced by ``callback``, in a folder whose conf/
    has the environments base and local: no project, no configuration read."""
    for env in ("base", "local"):
        (tmp_path / "conf" / env).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    monkeypatch.setattr(cli, "_import_slow_modules", lambda: IMPORTED.append(True))
    IMPORTED.clear()

    def invoke(callback, *args):
        monkeypatch.setattr(cli.kedro_run, "callback", callback)
        result = CliRunner().invoke(cli.run, list(args))
        for thread in threading.enumerate():
            if thread.name == "imports":
                thread.join()
        return result

    return invoke


def raising(error):
    def callback(**_):
        raise error

    return callback


def refused(project, *args):
    """The run's refusal (click's "Error: ..."), after checking that it exited with 1,
    showed no traceback and wrote nothing."""
    before = outputs_manifest(project)
    result = run_in_process(project, "--env=smoke", *args)
    assert result.exit_code == 1, result.output[-3000:]
    assert "Traceback" not in result.output
    assert outputs_manifest(project) == before
    return result.output[result.output.index("Error: "):].strip()


def with_file(project, relative, text, *args):
    path = project / relative
    path.write_text(text)
    try:
        return refused(project, *args)
    finally:
        path.unlink()


def test_the_projects_runner_is_the_default_and_kedros_command_keeps_its_own(fake_run):
    from kedro.framework.cli.project import run as kedro_run

    theirs = next(p for p in kedro_run.params if p.name == "runner")
    requests = []
    assert fake_run(lambda **request: requests.append(request)).exit_code == 0
    assert requests[0]["runner"] == "bn_compare.runner.ThreadRunner"
    assert theirs.default is None


def test_tensorflow_is_imported_ahead_of_a_run_but_not_of_make_results(fake_run):
    assert fake_run(lambda **_: None, "--pipelines=results").exit_code == 0
    assert IMPORTED == []
    assert fake_run(lambda **_: None, "--pipelines=results,tables").exit_code == 0
    assert IMPORTED == [True]


def test_an_environment_a_runner_and_pipelines_that_do_not_exist_stop_it_before_kedro(
        fake_run):
    result = fake_run(raising(AssertionError("Kedro was called")), "--env=nope",
                      "--runner=Sequential", "--pipelines=compare,compar")
    assert (result.exit_code, result.output) == (1, (
        "Error: --env=nope: no such environment (no folder conf/nope); the environments: "
        "base, local.\n"
        "--runner=Sequential: no such runner; use bn_compare.runner.ThreadRunner (the "
        "default), bn_compare.runner.DaskRunner, or one of Kedro's: SequentialRunner, "
        "ThreadRunner, ParallelRunner.\n"
        f"--pipelines=compar: no such pipeline; the pipelines: {PIPELINES}.\n"))


def test_the_deprecated_pipeline_option_and_kedro_env_are_checked_too(fake_run, monkeypatch):
    monkeypatch.setenv("KEDRO_ENV", "smok")
    result = fake_run(raising(AssertionError("Kedro was called")), "--pipeline=compar")
    assert result.output == (
        "Error: --env=smok: no such environment (no folder conf/smok); the environments: "
        f"base, local.\n--pipelines=compar: no such pipeline; the pipelines: {PIPELINES}.\n")


@pytest.mark.parametrize("error", [
    parameters.InvalidParametersError(["training.epochs: must be > 0, got 0"]),
    hooks.InvalidRunRequestError(["--load-versions x:1: no such version of x"]),
    DatasetError("…/t10k-labels-idx1-ubyte.gz: not a complete gzip file"),
    tracking.TrackingConfigError("tracking.uri: cannot track to 'http://127.0.0.1:9': …"),
    tracking.TrackingLostError("The run completed and its outputs are saved, but …"),
    tf_runtime.TensorFlowMissingError("TensorFlow is not installed: …"),
    KedroCliError("Options '--pipeline' and '--pipelines' cannot be used together"),
], ids=lambda error: type(error).__name__)
def test_an_error_that_refuses_the_run_is_its_message_and_exit_code_1(fake_run, error):
    result = fake_run(raising(error))
    assert (result.exit_code, result.output) == (1, f"Error: {error}\n")


def test_verbose_adds_the_traceback(fake_run):
    result = fake_run(raising(tracking.TrackingConfigError("tracking.uri: …")), "--verbose")
    assert result.exit_code == 1
    assert result.output.startswith("Traceback (most recent call last):")
    assert result.output.endswith("\nError: tracking.uri: …\n")


@pytest.mark.parametrize("error", [ValueError("a bug in a node"), KeyError("a bug")], ids=lambda error: type(error).__name__)
def test_any_other_error_is_raised_as_it_is(fake_run, error):
    result = fake_run(raising(error))
    assert result.exception is error and "Error:" not in result.output


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_ends_the_run_with_one_line_and_128_plus_its_number(fake_run, signum):
    """What the trainings do then: tests/test_stopping.py, tests/pipelines/test_recovery.py."""
    previous = signal.signal(signum, lambda *_: None)  # unless the CLI takes it: exit code 0
    try:
        result = fake_run(lambda **_: signal.raise_signal(signum))
    finally:
        signal.signal(signum, previous)
    assert (result.exit_code, result.output) == (128 + signum, (
        f"Interrupted ({signal.Signals(signum).name}): the run stopped; the trainings that "
        f"were running saved nothing, every file written is complete and versioned. Run the "
        f"same command again (add --only-missing-outputs to keep what completed).\n"))


def test_kedros_check_of_pipeline_and_pipelines_together(project):
    assert run_in_process(project, "--pipeline=compare", "--pipelines=compare").output == (
        "Error: Options '--pipeline' and '--pipelines' cannot be used together\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--namespaces=bn_after"], "Error: Pipeline does not contain nodes with the following "
                                "namespaces: ['bn_after'] Nothing was run."),
    (["--nodes=split"], "Error: Pipeline does not contain nodes named ['split']. Nothing was "
                        "run."),
    (["--from-inputs=nope"], "Error: Pipeline does not contain datasets named ['nope'] Nothing "
                             "was run."),
    (["--tags=training"], "Error: Pipeline contains no nodes after applying all provided "
                          "filters. Please ensure that at least one pipeline with nodes has "
                          "been defined. Nothing was run."),
])
def test_a_selection_kedro_cannot_make_is_kedros_message_on_one_line(project, args, message):
    assert refused(project, *args) == message


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


def test_a_yaml_syntax_error_is_kedros_message_on_one_line(project):
    output = with_file(project, "conf/smoke/parameters_typo.yml",
                       "training:\n  epochs: 3\n  batch_size: [32\n")
    assert output == (f"Error: Configuration error: Invalid YAML or JSON file {project}/conf/"
                      f"smoke/parameters_typo.yml, unable to read line 3, position 0. Nothing "
                      f"was run.")


def test_a_key_two_files_of_one_environment_define_is_kedros_message_on_one_line(project):
    """Kedro names the two files in either order."""
    output = with_file(project, "conf/smoke/parameters_again.yml", "training:\n  epochs: 3\n")
    files = output.removeprefix("Error: Configuration error: Duplicate keys found in ")
    assert set(files.removesuffix(": training.epochs Nothing was run.").split(" and ")) == {
        f"{project}/conf/smoke/parameters.yml", f"{project}/conf/smoke/parameters_again.yml"}


def test_an_interpolation_that_cannot_be_resolved_is_one_line(project):
    output = with_file(project, "conf/smoke/parameters_bad.yml",
                       "grid:\n  epochs: '${globals:no_such_key}'\n")
    assert output == ("Error: Configuration error: Globals key 'no_such_key' not found and no "
                      "default value provided. full_key: grid.epochs object_type=dict Nothing "
                      "was run.")
