import subprocess
import sys

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


def test_building_the_catalog_and_checking_a_model_file_never_import_tensorflow(tmp_path):
    script = (
        "import sys\n"
        "from kedro.io import DataCatalog\n"
        "catalog = DataCatalog.from_config({'model': {'type': "
        f"'bn_compare.datasets.KerasModelDataset', 'filepath': {str(tmp_path / 'm.keras')!r}, "
        "'versioned': True}})\n"
        "assert not catalog['model'].exists()\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.stdout.strip().splitlines()[-1:] == ["[]"], result.stderr[-3000:]
