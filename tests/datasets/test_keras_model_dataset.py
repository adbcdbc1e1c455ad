import keras
import numpy as np
import pytest
from kedro.io import DatasetError, Version

from bn_compare.datasets import KerasModelDataset


def _model(*extra):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), *extra])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_versioned_round_trip_keeps_weights_and_compile_state(tmp_path):
    model = _model()
    dataset = KerasModelDataset(filepath=str(tmp_path / "m.keras"), version=Version(None, None))
    dataset.save(model)
    loaded = KerasModelDataset(filepath=str(tmp_path / "m.keras"),
                               version=Version(None, None)).load()
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.compiled and type(loaded.optimizer).__name__ == "SGD"
    files = [p.name for p in (tmp_path / "m.keras").rglob("*") if p.is_file()]
    assert files == ["m.keras"]  # nothing partial left beside it


def test_models_with_code_are_refused_on_load(tmp_path):
    model = _model(keras.layers.Lambda(lambda x: x * 2))
    dataset = KerasModelDataset(filepath=str(tmp_path / "lambda.keras"))
    dataset.save(model)
    with pytest.raises(DatasetError, match="safe_mode"):
        dataset.load()


def test_a_truncated_model_file_is_refused_naming_the_file(tmp_path):
    dataset = KerasModelDataset(filepath=str(tmp_path / "m.keras"), version=Version(None, None))
    dataset.save(_model())
    (path,) = [p for p in (tmp_path / "m.keras").rglob("*") if p.is_file()]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetError, match=r"m\.keras"):
        KerasModelDataset(filepath=str(tmp_path / "m.keras"), version=Version(None, None)).load()
