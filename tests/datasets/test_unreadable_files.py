"""A saved file that is there but cannot be read (cut short, emptied, overwritten) is one
error, for every kind the project loads back: the version, the file and what is wrong; the
catalog puts the dataset's name in front (what `kedro run` prints after "Error: ")."""

import keras
import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError, Version
from matplotlib.figure import Figure

from bn_compare.datasets import (
    CSVDataset,
    JSONDataset,
    KerasModelDataset,
    MatplotlibDataset,
    NumpyDataset,
    PNGDataset,
    TextDataset,
)

VERSION = "2026-01-01T00.00.00.000Z"


def _model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _figure():
    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([1, 2, 3])
    return figure


# kind: (dataset class, its arguments, what it saves, what its saver is when another)
KINDS = {
    "model.keras": (KerasModelDataset, {}, _model, None),
    "array.npy": (NumpyDataset, {}, lambda: np.arange(1000.0), None),
    "mapped.npy": (NumpyDataset, {"load_args": {"mmap_mode": "r"}}, lambda: np.arange(1000.0),
                   None),
    "table.csv": (CSVDataset, {"save_args": {"index": False}},
                  lambda: pd.DataFrame({"epoch": range(100), "loss": 0.5}), None),
    "metrics.json": (JSONDataset, {}, lambda: {"test_accuracy": 0.8, "values": [1, 2, 3]}, None),
    "plot.png": (PNGDataset, {}, _figure, MatplotlibDataset),
    "report.html": (TextDataset, {}, lambda: "<p>a report</p>", None),
}
KIND_NAMES = {"model.keras": "a valid Keras archive (.keras zip)", "array.npy": "a valid .npy file",
              "mapped.npy": "a valid .npy file", "table.csv": "a CSV table",
              "metrics.json": "valid JSON", "plot.png": "a PNG image", "report.html": "text"}


def _saved(tmp_path, name):
    """The dataset that loads ``VERSION`` of ``name``, once saved, and its file."""
    cls, arguments, data, saver = KINDS[name]
    (saver or cls)(filepath=str(tmp_path / name), version=Version(None, VERSION),
                   **({} if saver else arguments)).save(data())
    dataset = cls(filepath=str(tmp_path / name), version=Version(VERSION, None), **arguments)
    return dataset, tmp_path / name / VERSION / name


def _refusal(dataset) -> str:
    with pytest.raises(DatasetError) as error:
        dataset.load()
    return str(error.value)


def _says(file, name, problem):
    return f"version {VERSION} cannot be read: {file} is not {KIND_NAMES[name]}: {problem}"


@pytest.mark.parametrize("name", [name for name in KINDS if name != "report.html"])
def test_an_empty_file_of_any_kind_but_text_is_said_to_be_empty(tmp_path, name):
    dataset, file = _saved(tmp_path, name)
    file.write_bytes(b"")
    assert _refusal(dataset) == _says(file, name, "the file is empty")


def test_a_model_cut_short_or_with_damaged_bytes_is_not_a_valid_keras_archive(tmp_path):
    dataset, file = _saved(tmp_path, "model.keras")
    whole = file.read_bytes()
    file.write_bytes(whole[: len(whole) // 2])
    assert _refusal(dataset) == _says(file, "model.keras", "truncated or corrupt")
    weights = whole.index(b"\x89HDF\r\n\x1a\n")  # the weights, stored as they are in the zip
    file.write_bytes(whole[:weights + 8] + b"\xff" * 64 + whole[weights + 72:])
    assert _refusal(dataset) == _says(
        file, "model.keras", "truncated or corrupt (model.weights.h5 fails its CRC check)")


@pytest.mark.parametrize("name", ["array.npy", "mapped.npy"])
def test_an_array_cut_short_or_not_npy_is_not_a_valid_npy_file(tmp_path, name):
    dataset, file = _saved(tmp_path, name)
    whole = file.read_bytes()
    file.write_bytes(whole[: len(whole) // 2])
    assert _refusal(dataset).startswith(_says(file, name, "truncated or corrupt ("))
    file.write_bytes(b"GIF89a" + whole[6:])
    assert _refusal(dataset) == _says(file, name, "it does not start as a .npy file does")


def test_a_table_cut_short_or_not_text_is_not_a_csv_table(tmp_path):
    dataset, file = _saved(tmp_path, "table.csv")
    whole = file.read_bytes()
    file.write_bytes(whole[:-3])  # pandas would read the last row's part as a row
    assert _refusal(dataset) == _says(file, "table.csv",
                                      "truncated: its last line has no line break")
    file.write_bytes(b"\xff\xfe" + whole)
    assert _refusal(dataset) == _says(file, "table.csv", "'utf-8' codec can't decode byte 0xff "
                                                          "in position 0: invalid start byte")


def test_json_cut_short_is_not_valid_json_where_it_ends(tmp_path):
    dataset, file = _saved(tmp_path, "metrics.json")
    file.write_text('{\n  "test_accuracy": ')
    assert _refusal(dataset) == _says(file, "metrics.json", "line 2 column 20: Expecting value")


def test_a_png_cut_short_or_of_another_format_is_not_a_png_image(tmp_path):
    dataset, file = _saved(tmp_path, "plot.png")
    whole = file.read_bytes()
    file.write_bytes(whole[:-20])
    assert _refusal(dataset) == _says(file, "plot.png",
                                      "truncated: it does not end with the IEND chunk")
    file.write_bytes(b"GIF89a" + whole)
    assert _refusal(dataset) == _says(file, "plot.png", "it does not start with PNG's signature")


def test_text_in_another_encoding_is_not_text(tmp_path):
    dataset, file = _saved(tmp_path, "report.html")
    file.write_bytes("<p>é</p>".encode("latin-1"))
    assert _refusal(dataset) == _says(file, "report.html", "'utf-8' codec can't decode byte "
                                                            "0xe9 in position 3: invalid "
                                                            "continuation byte")


def test_an_unversioned_file_is_named_alone(tmp_path):
    file = tmp_path / "array.npy"
    file.write_bytes(b"")
    with pytest.raises(DatasetError) as error:
        NumpyDataset(filepath=str(file)).load()
    assert str(error.value) == f"{file} is not a valid .npy file: the file is empty"


def test_the_catalog_puts_the_datasets_name_in_front(tmp_path):
    """What `kedro run --load-versions baseline.seed_42.history:<version>` prints after
    "Error: " (bn_compare/cli.py prints a DatasetError as it is)."""
    _, file = _saved(tmp_path, "table.csv")
    file.write_bytes(b"")
    catalog = DataCatalog.from_config(
        {"baseline.seed_42.history": {"type": "bn_compare.datasets.CSVDataset",
                                      "filepath": str(tmp_path / "table.csv"),
                                      "versioned": True}},
        load_versions={"baseline.seed_42.history": VERSION})
    with pytest.raises(DatasetError) as error:
        catalog.load("baseline.seed_42.history")
    assert str(error.value) == (f"baseline.seed_42.history: version {VERSION} cannot be read: "
                                f"{file} is not a CSV table: the file is empty")
