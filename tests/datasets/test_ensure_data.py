"""``python -m bn_compare.ensure_data``: the catalog's raw data loads, or apt-get is tried once."""

import pytest
from kedro.io import DatasetError

from bn_compare import ensure_data
from tests.conftest import PROJECT_ROOT


class _Raw:
    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)

    def load(self):
        if outcome := self.outcomes.pop(0):
            raise DatasetError(outcome)


@pytest.mark.parametrize(("outcomes", "installed", "code", "says"), [
    ([None], None, 0, "pass every check"),
    (["not found in here"], False, 1, "ERROR: not found in here"),
    (["missing", None], True, 0, "pass every check"),
    (["missing", "still broken"], True, 1, "ERROR: still broken"),
])
def test_loads_or_installs_debians_package_once(monkeypatch, capsys, tmp_path,
                                                 outcomes, installed, code, says):
    monkeypatch.setattr(ensure_data, "raw_dataset", lambda _: _Raw(*outcomes))
    monkeypatch.setattr(ensure_data, "_apt_install", lambda: installed)
    assert ensure_data.main(tmp_path) == code
    assert says in capsys.readouterr()[code]


def test_the_catalog_entry_is_read_with_its_path_in_the_project():
    dataset = ensure_data.raw_dataset(PROJECT_ROOT)
    assert f"path='{PROJECT_ROOT / 'data/01_raw/fashion-mnist'}'" in repr(dataset)
