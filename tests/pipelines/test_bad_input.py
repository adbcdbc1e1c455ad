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
    """Every output file with its size and modification time."""
    return {str(p.relative_to(project)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in (project / "data").rglob("*") if p.is_file()
            and RAW not in str(p.relative_to(project))}


def run_refused(project, *args):
    before = manifest(project)
    result = kedro(project, "run", "--pipeline=compare", "--env=smoke", *args)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "Running node" not in output  # no node started, not even the split
    assert manifest(project) == before  # no new version, nothing rewritten
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
