"""Experiment tracking: the MLflow run tree of an in-memory run under each in-process
runner (what is logged is what the catalog declares), the store's address, a
tracking.uri that cannot work, a store that fails mid-run, tracking switched off, and
MLflow's telemetry off."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner

from bn_compare.runner import ThreadRunner
from bn_compare.tracking import (
    NAMESPACE_TAG,
    Tracker,
    TrackingConfigError,
    TrackingHook,
    TrackingLostError,
    experiment_id_of,
    metric_values,
    tracking_uri,
)
from tests.conftest import PROJECT_ROOT, context_for
from tests.pipelines.test_pipeline_in_memory import run_in_memory

VARIANTS = ["baseline", "bn_after_activation"]
EPOCHS = 2


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def _tracked(base_parameters, store, runner, run_id, **sections):
    return run_in_memory(
        base_parameters, runner=runner, variants=VARIANTS, hooks=[TrackingHook()],
        run_id=run_id, training={"epochs": EPOCHS, **sections.pop("training", {})},
        tracking={"enabled": True, "uri": store, "experiment": "tests"}, **sections)


def _tree(store, run_id):
    from mlflow import MlflowClient

    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("tests")
    runs = client.search_runs([experiment.experiment_id],
                              filter_string=f"tags.`kedro.run_id` = '{run_id}'")
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    return client, experiment, parent, {r.data.tags[NAMESPACE_TAG]: r for r in runs
                                        if r is not parent}


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
def test_a_run_is_a_parent_with_one_child_per_training(base_parameters, store, runner):
    run_id = f"test-{runner.__name__}"
    catalog = _tracked(base_parameters, store, runner(), run_id, diagnostics={"enabled": True})
    client, experiment, parent, children = _tree(store, run_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert sorted(children) == [f"{v}.seed_42" for v in VARIANTS]
    assert parent.info.status == "FINISHED" and parent.data.tags["kedro.env"] == "test"
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
        dead = client.get_metric_history(child.info.run_id, "layer 1/dead_fraction")
        assert [m.step for m in dead] == list(range(EPOCHS + 1))  # diagnostics: epoch 0 on
        assert not client.list_artifacts(child.info.run_id)  # in memory: no files


def test_a_failed_run_is_marked_failed_with_what_it_logged(base_parameters, store):
    with pytest.raises(Exception, match="not-an-optimizer"):
        _tracked(base_parameters, store, SequentialRunner(), "test-failed",
                 training={"optimizer": "not-an-optimizer"})
    _, _, parent, children = _tree(store, "test-failed")
    assert parent.info.status == "FAILED"
    assert {child.info.status for child in children.values()} <= {"FAILED"}


def test_declared_metrics_of_a_table_or_a_dict():
    table = pd.DataFrame({"epoch": [1, 2], "loss": [0.5, 0.25], "seconds": [3.0, 2.0]})
    assert metric_values(table, {"metrics": ["loss"], "step": "epoch"}) == [
        ("loss", 0.5, 1), ("loss", 0.25, 2)]
    assert metric_values({"test_accuracy": 0.8, "other": 1}, {"metrics": ["test_accuracy"]}) \
        == [("test_accuracy", 0.8, 0)]
    assert metric_values(pd.DataFrame({"diverged": [True]}), {"metrics": ["diverged"]}) == [
        ("diverged", 1.0, 0)]
    tidy = pd.DataFrame({"epoch": [0, 1], "layer": ["layer 1", "network"],
                         "measure": ["dead_fraction", "loss_range"], "value": [0.5, 0.1]})
    assert metric_values(tidy, {"metrics": {"name": ["layer", "measure"], "value": "value"},
                                "step": "epoch"}) == [
        ("layer 1/dead_fraction", 0.5, 0), ("network/loss_range", 0.1, 1)]


def test_more_metrics_than_mlflow_takes_in_one_call_are_all_logged(store, tmp_path):
    from mlflow import MlflowClient

    tracker = Tracker.connect(store, "batches", tmp_path)
    run = tracker.call("create_run", tracker.experiment_id).info.run_id
    tracker.log_batch(run, [("layer 1/dead_fraction", 0.5, step) for step in range(2500)],
                      params={"variant": "baseline"})
    assert tracker.failure is None
    history = MlflowClient(store).get_metric_history(run, "layer 1/dead_fraction")
    assert len(history) == 2500


def test_the_store_is_the_parameter_then_the_environment_then_the_project(tmp_path,
                                                                          monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(None, tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
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


def test_an_experiment_another_process_creates_meanwhile_is_found_by_name(store):
    """Runs of a new study started at once each find the experiment missing and create it;
    the store refuses all but the first (a SQLite store is connected to one process at a
    time: tests/pipelines/test_concurrent_runs.py)."""
    from mlflow import MlflowClient

    other = MlflowClient(store)

    class Meanwhile(MlflowClient):  # the other process creates it just after the look-up
        def get_experiment_by_name(self, name):
            if other.get_experiment_by_name(name) is None:
                other.create_experiment(name)
                return None
            return super().get_experiment_by_name(name)

    found = experiment_id_of(Meanwhile(store), "created meanwhile", None)
    assert found == other.get_experiment_by_name("created meanwhile").experiment_id


class _Gone:
    def log_batch(self, *args, **kwargs):
        raise ConnectionError("Connection refused")

    def set_terminated(self, *args, **kwargs):
        raise ConnectionError("Connection refused")


def test_a_store_that_fails_mid_run_warns_once_and_the_run_says_so_at_its_end(caplog):
    tracker = Tracker(_Gone(), "http://gone:5000", "1")
    with caplog.at_level(logging.WARNING):
        for epoch in range(3):
            tracker.log_batch("run", metrics=[("loss", 1.0, epoch)])
    assert tracker.failure == "ConnectionError: Connection refused"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "MLflow tracking at http://gone:5000 failed (ConnectionError: Connection refused); "
        "the run goes on without it, its outputs are saved as usual"]

    from kedro.pipeline import Pipeline

    hook = TrackingHook()
    hook._tracker, hook._runs = tracker, {"": "parent"}
    with pytest.raises(TrackingLostError, match="The run completed and its outputs are "
                                                "saved, but tracking in MLflow"):
        hook.after_pipeline_run(Pipeline([]))


def test_a_run_that_makes_nothing_mlflow_logs_opens_no_run(base_parameters, store):
    """``make results``: a page and a README section, no training to track."""
    from mlflow import MlflowClient

    hook = TrackingHook()
    hook.after_context_created(context_for({**base_parameters, "tracking": {
        "enabled": True, "uri": store, "experiment": "nothing-logged"}}))
    page = Pipeline([Node(len, "verdict", "page", name="write_page")])
    hook.before_pipeline_run({"run_id": "x"}, page, DataCatalog({"page": MemoryDataset()}))
    hook.after_pipeline_run(page)
    assert MlflowClient(store).get_experiment_by_name("nothing-logged") is None


def test_tracking_off_imports_nothing_and_writes_nothing(base_parameters, tmp_path):
    script = f"""
import sys
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline
from bn_compare.tracking import TrackingHook
from tests.conftest import context_for
hook = TrackingHook()
hook.after_context_created(context_for({{**{base_parameters!r},
                                         "tracking": {{"enabled": False}}}}, {str(tmp_path)!r}))
hook.before_pipeline_run({{"run_id": "x"}}, Pipeline([]), DataCatalog())
hook.after_pipeline_run(Pipeline([]))
print("mlflow" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=False,
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.strip().endswith("False"), result.stdout[-2000:] + result.stderr[-3000:]
    assert list(tmp_path.iterdir()) == []


def test_mlflow_reports_no_usage_from_a_run_unless_the_user_opts_in():
    """Like Kedro's (.telemetry), MLflow's telemetry is off: the project's settings turn
    it off before anything imports MLflow, which reads the switch at its import."""
    script = ("import sys, bn_compare.settings; print('mlflow' in sys.modules); "
              "from mlflow.environment_variables import MLFLOW_DISABLE_TELEMETRY; "
              "print(MLFLOW_DISABLE_TELEMETRY.get())")
    base = {k: v for k, v in os.environ.items() if k != "MLFLOW_DISABLE_TELEMETRY"}
    for opted_in, disabled in ((None, "True"), ("false", "False")):
        env = base if opted_in is None else {**base, "MLFLOW_DISABLE_TELEMETRY": opted_in}
        result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env,
                                check=False, capture_output=True, text=True, timeout=300)
        assert result.stdout.splitlines()[-2:] == ["False", disabled], result.stderr[-3000:]
