"""Experiment tracking: the MLflow run tree of an in-memory run under each in-process
runner, the store's address, a tracking.uri that cannot work, a store that fails
mid-run, and tracking switched off."""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner

from bn_compare.parameters import TrackingParams
from bn_compare.pipelines.compare import create_pipeline
from bn_compare.run_matrix import RunMatrix
from bn_compare.runner import ThreadRunner
from bn_compare.tracking import (
    NAMESPACE_TAG,
    Tracker,
    TrackingConfigError,
    TrackingHook,
    tracking_uri,
)
from tests.conftest import PROJECT_ROOT
from tests.pipelines.test_pipeline_in_memory import SMALL, KeptDataset, synthetic_raw

VARIANTS = ["baseline", "bn_after_activation"]
EPOCHS = 2


def _parameters(base_parameters, store):
    return {**base_parameters, "data": {**base_parameters["data"], **SMALL},
            "training": {**base_parameters["training"], "epochs": EPOCHS},
            "variants": {name: base_parameters["variants"][name] for name in VARIANTS},
            "tracking": {"enabled": True, "uri": store, "experiment": "tests"}}


def _tracked_run(raw, runner, tmp_path, run_id):
    """``compare`` in memory with the tracking hook, as `kedro run` calls it."""
    from bn_compare.parameters import ProjectParameters

    params = ProjectParameters.model_validate(raw)
    pipeline = create_pipeline(RunMatrix.from_parameters(raw))
    catalog = DataCatalog({**{name: KeptDataset() for name in pipeline.datasets()},
                           "parameters": KeptDataset(raw)})
    catalog.save("fashion_mnist_raw", synthetic_raw())
    for name in pipeline.inputs():
        if name.startswith("params:"):
            section, *path = name.removeprefix("params:").split(".")
            value = raw[section] if section == "variants" else getattr(params, section)
            for key in path:
                value = value[key] if isinstance(value, dict) else getattr(value, key)
            catalog.save(name, value)
    hooks = _create_hook_manager()
    hooks.register(TrackingHook())
    run_params = {"run_id": run_id, "project_path": str(tmp_path), "env": "test",
                  "pipeline_names": ["compare"], "runner": str(runner),
                  "runtime_params": {}}
    hooks.hook.before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)
    runner.run(pipeline, catalog, hooks, run_id=run_id)
    hooks.hook.after_pipeline_run(run_params=run_params, run_result={}, pipeline=pipeline,
                                  catalog=catalog)
    return catalog


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
def test_a_run_is_a_parent_with_one_child_per_training(base_parameters, store, tmp_path,
                                                       runner):
    from mlflow import MlflowClient

    run_id = f"test-{runner.__name__}"
    catalog = _tracked_run(_parameters(base_parameters, store), runner(), tmp_path, run_id)
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("tests")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    runs = client.search_runs([experiment.experiment_id],
                              filter_string=f"tags.`kedro.run_id` = '{run_id}'")
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = {r.data.tags[NAMESPACE_TAG]: r for r in runs if r is not parent}
    assert sorted(children) == [f"{v}.seed_42" for v in VARIANTS]
    assert parent.info.status == "FINISHED" and parent.data.tags["kedro.env"] == "test"
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {
        "tables"}  # in memory: no saved plot or report files to attach
    for namespace, child in children.items():
        assert child.info.run_name == namespace and child.info.status == "FINISHED"
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.params["variant"] == namespace.split(".")[0]
        assert child.data.params["training.learning_rate"] == "0.001"
        assert child.data.params["data.train_images"] == "300"
        history = catalog.load(f"{namespace}.history")
        for metric in ("loss", "accuracy", "val_loss", "val_accuracy"):
            logged = client.get_metric_history(child.info.run_id, metric)
            assert [m.step for m in logged] == list(range(1, EPOCHS + 1))
            assert [m.value for m in logged] == pytest.approx(history[metric].tolist())
        test_metrics = catalog.load(f"{namespace}.test_metrics")
        assert child.data.metrics["test_accuracy"] == pytest.approx(
            test_metrics["test_accuracy"])
        assert child.data.metrics["diverged"] == 0.0
        assert {a.path for a in client.list_artifacts(child.info.run_id)} == {
            "model", "plots", "tables"}

    # The model artifact loads back and predicts like the catalog's model.
    import keras
    from mlflow.artifacts import download_artifacts

    child = children["bn_after_activation.seed_42"]
    with tempfile.TemporaryDirectory() as folder:
        path = download_artifacts(run_id=child.info.run_id,
                                  artifact_path="model/model.keras", dst_path=folder,
                                  tracking_uri=store)
        loaded = keras.saving.load_model(path)
    images = catalog.load("x_test")[:50]
    np.testing.assert_allclose(
        loaded.predict(images, verbose=0),
        catalog.load("bn_after_activation.seed_42.model").predict(images, verbose=0),
        rtol=1e-6)


def test_the_store_is_the_parameter_then_the_environment_then_the_project(tmp_path,
                                                                          monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(None, tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert tracking_uri(None, tmp_path).startswith("sqlite:////")  # an absolute path
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://team:5000")
    assert tracking_uri(None, tmp_path) == "http://team:5000"
    assert tracking_uri("sqlite:///elsewhere.db", tmp_path) == "sqlite:///elsewhere.db"


def _closed_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("uri", [
    "http://127.0.0.1:{port}",              # no server there
    "htp:/nowhere",                         # not a URI MLflow knows
    "sqlite:////proc/version/mlflow.db",    # a store that cannot be written
])
def test_a_tracking_uri_that_cannot_work_is_refused_naming_it(tmp_path, uri):
    uri = uri.format(port=_closed_port())
    with pytest.raises(TrackingConfigError) as raised:
        Tracker.connect(uri, "tests", tmp_path)
    assert str(raised.value).startswith(f"tracking.uri: cannot track to {uri!r}: ")


def test_a_store_that_fails_mid_run_warns_once_and_stops_tracking(caplog):
    class Gone:
        def log_batch(self, *args, **kwargs):
            raise ConnectionError("Connection refused")

    tracker = Tracker(Gone(), "http://gone:5000", "1")
    with caplog.at_level(logging.WARNING):
        for epoch in range(3):
            tracker.log_metrics("run", {"loss": 1.0}, step=epoch)
    assert tracker.failure == "ConnectionError: Connection refused"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "MLflow tracking at http://gone:5000 failed (ConnectionError: Connection refused); "
        "the run goes on without it, its outputs are saved as usual"]


def test_tracking_off_imports_nothing_and_writes_nothing(base_parameters, tmp_path):
    script = f"""
import sys
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from bn_compare.tracking import TrackingHook
parameters = {{**{base_parameters!r}, "tracking": {{"enabled": False}}}}
catalog = DataCatalog({{"parameters": MemoryDataset(parameters)}})
hook = TrackingHook()
hook.before_pipeline_run({{"project_path": {str(tmp_path)!r}, "run_id": "x"}}, Pipeline([]),
                         catalog)
hook.after_pipeline_run(Pipeline([]), catalog)
print("mlflow" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=False,
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.strip().endswith("False"), result.stdout[-2000:] + result.stderr[-3000:]
    assert list(tmp_path.iterdir()) == []


def test_tracking_parameters_have_defaults_and_refuse_an_empty_uri():
    assert TrackingParams() == TrackingParams(enabled=True, uri=None, experiment="bn-compare")
    with pytest.raises(ValueError, match="must be an MLflow tracking URI"):
        TrackingParams(uri="")


def test_worker_processes_find_their_child_run_by_kedro_run_and_namespace(store, tmp_path):
    tracker = Tracker.connect(store, "lookups", tmp_path)
    parent = tracker.client.create_run(tracker.experiment_id).info.run_id
    child = tracker.client.create_run(tracker.experiment_id, tags={
        "mlflow.parentRunId": parent, "kedro.run_id": "r1", NAMESPACE_TAG: "a.seed_1"})
    worker = Tracker.connect(store, "lookups", tmp_path)  # knows nothing yet
    assert worker.child("r1", "a.seed_1") == child.info.run_id
    assert worker.child("r1", "b.seed_1") is None
