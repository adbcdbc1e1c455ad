"""Bad input stops `kedro run` before any training, with one clear message naming the
parameter or file, a non-zero exit code, and no change to earlier outputs."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
import yaml

from tests.conftest import DEBIAN_DATA, kedro, write_idx

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
    assert "Running node: build_model" not in output and "train_model" not in output
    assert manifest(project) == before  # no new version, nothing rewritten
    return output


def with_params_file(project, parameters, *args):
    path = project / "conf" / "smoke" / "parameters_bad.yml"
    path.write_text(yaml.safe_dump(parameters))
    try:
        return run_refused(project, *args)
    finally:
        path.unlink()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("training.epochs=0", "training.epochs: must be an integer > 0, got 0"),
        ("training.batch_size=-8", "training.batch_size: must be an integer > 0, got -8"),
        ("training.learning_rate=0", "training.learning_rate: must be a number > 0, got 0"),
        ("training.epochs=ten", "training.epochs: must be an integer > 0, got 'ten'"),
        ("data.validation_size=60000", "data.validation_size: must be an integer in 1..59999"),
        ("training.optimizer=Adamm", "training.optimizer: 'Adamm' is not a Keras optimizer"),
        ("training.loss=mse_typo", "training.loss: 'mse_typo' is not a Keras loss"),
    ],
)
def test_bad_parameter_on_the_command_line(project, params, message):
    output = run_refused(project, f"--params={params}")
    assert message in output
    assert "Invalid parameters, nothing was run" in output


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"bn-after": {"layers": [{"class_name": "Flatten"}]}},
         "variants.bn-after: 'bn-after' is not a valid variant name"),
        ({"wide": {"layers": [{"class_name": "Flatten"}, {"class_name": "Dense3D", "units": 4}]}},
         "variants.wide.layers[1].class_name: 'Dense3D' is not a layer class in keras.layers"),
        ({"wide": {"layers": [{"class_name": "Flatten"},
                              {"class_name": "Dense", "units": -300}]}},
         "variants.wide.layers[1] (Dense): "),
        ({"wide": {"layers": [{"class_name": "Flatten"},
                              {"class_name": "Dense", "units": 10, "kernel_initialiser": "x"}]}},
         "variants.wide.layers[1] (Dense): "),
        ({"wide": {"layers": []}}, "variants.wide.layers: expected a non-empty list of layers"),
    ],
)
def test_bad_variant(project, variants, message):
    assert message in with_params_file(project, {"variants": variants})


def test_empty_variant_list(project):
    output = run_refused(project, "--params=variants=null")
    assert "variants: must declare at least one variant" in output


def corrupt(project, name, write):
    """Put a broken copy of one raw file where the dataset looks first."""
    raw = project / RAW
    raw.mkdir(parents=True, exist_ok=True)
    write(raw / name)
    return raw / name


def _truncate(path):
    data = (DEBIAN_DATA / path.name).read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_one_pixel(path):
    content = bytearray(gzip.decompress((DEBIAN_DATA / path.name).read_bytes()))
    content[5000] ^= 0xFF
    path.write_bytes(gzip.compress(bytes(content)))


@pytest.mark.parametrize(
    ("name", "write", "message"),
    [
        ("t10k-labels-idx1-ubyte.gz", _truncate, "not a complete gzip file"),
        ("t10k-images-idx3-ubyte.gz", _flip_one_pixel,
         "checksum mismatch: MD5 of the uncompressed content is"),
        ("train-labels-idx1-ubyte.gz",
         lambda p: write_idx(p, np.zeros(60000), magic=bytes([0, 0, 0x0B, 1])),
         "wrong magic number 0x00000b01"),
        ("train-labels-idx1-ubyte.gz", lambda p: write_idx(p, np.zeros(59999)),
         "holds 59999 items, expected 60000"),
    ],
)
def test_bad_raw_file_names_the_file_and_the_check(project, name, write, message):
    path = corrupt(project, name, write)
    try:
        output = run_refused(project)
    finally:
        path.unlink()
    assert message in output
    assert name in output


def test_labels_out_of_range(project):
    # A file with bad labels also fails the official checksum, which is checked
    # first; with `verify: false` (own data in the IDX format) the range check speaks.
    path = corrupt(project, "t10k-labels-idx1-ubyte.gz",
                   lambda p: write_idx(p, np.full(10000, 10)))
    catalog = project / "conf" / "smoke" / "catalog_unverified.yml"
    catalog.write_text(yaml.safe_dump({"fashion_mnist_raw": {
        "type": "bn_compare.datasets.FashionMNISTDataset", "path": RAW, "verify": False}}))
    try:
        output = run_refused(project)
    finally:
        path.unlink()
        catalog.unlink()
    assert "test set: label 10 at index 0 is outside 0-9" in output


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
