"""Bad input stops `kedro run` before any training, with one clear message naming the
parameter or file, a non-zero exit code, and no change to earlier outputs."""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.conftest import DEBIAN_DATA, kedro

pytestmark = pytest.mark.pipeline

RAW = "data/01_raw/fashion-mnist"


@pytest.fixture(scope="module")
def project(smoke_project, tmp_path_factory):
    """One copy of the smoke project for all bad-input runs (none may change it)."""
    return shutil.copytree(smoke_project, tmp_path_factory.mktemp("bad") / "project")


def manifest(project):
    """Every output file, the MLflow store's included, with its size and modification
    time."""
    files = [*(project / "data").rglob("*"), project / "mlflow.db",
             *(project / "mlartifacts").rglob("*")]
    assert (project / "mlflow.db").is_file()  # the smoke run was tracked
    return {str(p.relative_to(project)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in files if p.is_file() and RAW not in str(p.relative_to(project))}


def run_refused(project, *args):
    before = manifest(project)
    result = kedro(project, "run", "--pipeline=compare", "--env=smoke", *args)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "Running node" not in output  # no node started, not even the split
    assert manifest(project) == before  # no new version, no MLflow run, nothing rewritten
    return output


def with_params_file(project, parameters, *args):
    path = project / "conf" / "smoke" / "parameters_bad.yml"
    path.write_text(yaml.safe_dump(parameters))
    try:
        return run_refused(project, *args)
    finally:
        path.unlink()


# One refusal per kind of check, through the CLI as a user meets it; every message of
# every check is tested in-process (tests/test_parameters.py, tests/test_validation.py,
# tests/datasets/).


def test_a_bad_value_on_the_command_line(project):
    output = run_refused(project, "--params=training.epochs=0")
    assert "Invalid parameters, nothing was run" in output
    assert "training.epochs: must be an integer > 0, got 0" in output


def test_a_layer_keras_does_not_know(project):
    output = with_params_file(project, {"variants": {"wide": {"layers": [
        {"class_name": "Flatten"}, {"class_name": "Dense3D", "units": 4}]}}})
    assert ("variants.wide.layers[1].class_name: 'Dense3D' is not a layer class in "
            "keras.layers") in output


def corrupt(project, name, write):
    """Put a broken copy of one raw file where the dataset looks first."""
    raw = project / RAW
    raw.mkdir(parents=True, exist_ok=True)
    write(raw / name)
    return raw / name


def _truncate(path):
    data = (DEBIAN_DATA / path.name).read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_truncated_raw_file_is_named_with_the_check(project):
    name = "t10k-labels-idx1-ubyte.gz"
    path = corrupt(project, name, _truncate)
    try:
        output = run_refused(project)
    finally:
        path.unlink()
    assert "not a complete gzip file" in output
    assert name in output


def test_missing_raw_files_say_where_it_looked_and_what_to_do(project):
    path = project / "conf" / "smoke" / "catalog_nodata.yml"
    path.write_text(yaml.safe_dump({"fashion_mnist_raw": {
        "type": "bn_compare.datasets.FashionMNISTDataset", "path": RAW,
        "search_paths": [], "download": False}}))
    try:
        output = run_refused(project)
    finally:
        path.unlink()
    assert "not found in" in output and "fashion-mnist" in output
    assert "apt-get install dataset-fashion-mnist" in output


def test_a_model_that_does_not_fit_the_data(project):
    output = with_params_file(project, {"variants": {"five": {"layers": [
        {"class_name": "Flatten"},
        {"class_name": "Dense", "units": 5, "activation": "softmax"}]}}})
    assert ("variants.five.layers[1] (Dense): the model outputs (None, 5), the data has 10 "
            "classes (data.class_names) and needs (None, 10)") in output


def test_a_requested_version_that_does_not_exist(project):
    (latest, *_) = smoke_versions(project, "06_models/baseline/seed_42/model.keras")
    output = run_refused(project, "--load-versions=baseline.seed_42.model:"
                                  "2020-01-01T00.00.00.000Z")
    assert ("--load-versions baseline.seed_42.model:2020-01-01T00.00.00.000Z: no such "
            f"version of baseline.seed_42.model; its latest versions: {latest}") in output


def test_a_yaml_syntax_error_is_one_line_with_file_line_and_column(project):
    path = project / "conf" / "smoke" / "parameters_typo.yml"
    path.write_text("training:\n  epochs: 3\n  batch_size: [32\n")
    try:
        output = run_refused(project)
    finally:
        path.unlink()
    (line,) = [line for line in output.splitlines() if "Error" in line]
    assert line.startswith("Error: Configuration error in conf/smoke/parameters_typo.yml, "
                           "line 4, column 1: expected ',' or ']'")


def test_an_environment_that_does_not_exist(project):
    before = manifest(project)
    result = kedro(project, "run", "--env=doesnotexist")
    assert result.returncode == 1 and manifest(project) == before
    assert ("Error: Environment 'doesnotexist' does not exist: there is no folder "
            "conf/doesnotexist. The environments of this project: base, local, ") in (
        result.stderr)
    assert "Traceback" not in result.stdout + result.stderr


def smoke_versions(project, relative):
    folder = project / "data" / "smoke" / relative
    return sorted((p.name for p in folder.iterdir() if p.is_dir()), reverse=True)


def test_a_tracking_uri_that_cannot_work(project):
    output = run_refused(project, "--params=tracking.uri=http://127.0.0.1:9")
    assert "Error: tracking.uri: cannot track to 'http://127.0.0.1:9': " in output
