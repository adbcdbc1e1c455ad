"""PNGDataset: the read side of a figure a MatplotlibDataset saves, on the same file and
version; with Kedro's transcoding, the node that loads ``name@png`` gets the PNG the
node saving ``name@figure`` wrote in this run."""

import pytest
from kedro.io import DataCatalog, DatasetError, Version
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from bn_compare.datasets import MatplotlibDataset, PNGDataset
from bn_compare.datasets.png_dataset import PNG_SIGNATURE

EARLIER, THIS_RUN = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"


def _figure(title="a figure"):
    figure = Figure(figsize=(2, 2))
    figure.subplots().set_title(title)
    return figure


def _saved(path, version, title="a figure"):
    MatplotlibDataset(filepath=str(path), version=Version(None, version)).save(_figure(title))
    return (path / version / path.name).read_bytes()


def test_loads_the_bytes_of_the_figure_saved_with_the_same_version(tmp_path):
    path = tmp_path / "plot.png"
    saved = _saved(path, THIS_RUN)
    loaded = PNGDataset(filepath=str(path), version=Version(None, THIS_RUN)).load()
    assert loaded == saved and loaded.startswith(PNG_SIGNATURE)


def test_is_read_only(tmp_path):
    """A file that is not a PNG: tests/datasets/test_unreadable_files.py."""
    dataset = PNGDataset(filepath=str(tmp_path / "plot.png"), version=Version(None, THIS_RUN))
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(b"bytes")


def test_transcoding_runs_the_saver_first_and_the_reader_gets_this_runs_png(tmp_path):
    path = tmp_path / "plot.png"
    _saved(path, EARLIER, "an earlier run's")
    entry = {"filepath": str(path), "versioned": True}
    catalog = DataCatalog.from_config(
        {"plot@figure": {**entry, "type": "bn_compare.datasets.MatplotlibDataset"},
         "plot@png": {**entry, "type": "bn_compare.datasets.PNGDataset"}},
        save_version=THIS_RUN)
    pages = []
    pipeline = Pipeline([  # the reader declared first: the order comes from the names
        Node(pages.append, "plot@png", None, name="report"),
        Node(_figure, None, "plot@figure", name="plot"),
    ])
    SequentialRunner().run(pipeline, catalog)
    assert pages == [(path / THIS_RUN / "plot.png").read_bytes()]
