"""Experiment tracking in MLflow: every ``kedro run`` is a parent run, every training
(variant x grid point x seed) a child run named after its namespace.

Why not kedro-mlflow (2.0): it logs one flat run per ``kedro run``, has no child runs
per namespace, and its hook does not reach the ParallelRunner's worker processes. Here
the project's ``TrackingHook`` uses MLflow's client with explicit run ids, so the same
tree comes out of every runner: the main process creates the parent and one child per
training before any node runs, each child tagged with Kedro's run id and the
namespace, and whichever process or thread runs a training finds its child by those
tags.

MLflow is imported only when tracking is on and a run starts.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DatasetError

from bn_compare import __version__
from bn_compare.interruption import RunInterrupted
from bn_compare.parameters import ProjectParameters, TrackingParams
from bn_compare.run_matrix import RunMatrix
from bn_compare.scheduling import is_training

logger = logging.getLogger(__name__)

STORE = "mlflow.db"  # the default store, in the project folder
ARTIFACTS = "mlartifacts"  # the default store's artifacts, beside it
RUN_TAG = "kedro.run_id"
NAMESPACE_TAG = "bn_compare.namespace"
# MLflow's UI opens other experiments in its GenAI view.
EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}
# A tracking server that is gone should not hold a run up for minutes of retries.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")


class TrackingConfigError(ValueError):
    """``tracking.uri`` cannot be used; raised before any node runs."""


class TrackingLostError(RuntimeError):
    """Tracking failed during a run that otherwise completed (its outputs are saved)."""


def tracking_uri(uri: str | None, project: Path) -> str:
    """``tracking.uri``, else ``$MLFLOW_TRACKING_URI``, else the project's SQLite store."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or (
        f"sqlite:///{(project / STORE).resolve()}")


class Tracker:
    """The MLflow client of one run in one process. The first failure of a call is
    logged once as a warning and ends tracking in this process; the run goes on."""

    def __init__(self, client: Any, uri: str, experiment_id: str) -> None:
        self.client, self.uri, self.experiment_id = client, uri, experiment_id
        self.failure: str | None = None
        self._children: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, uri: str, experiment: str, project: Path) -> Tracker:
        """A tracker for the experiment (created if new), or ``TrackingConfigError``."""
        try:
            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=uri)
            found = client.get_experiment_by_name(experiment)
            experiment_id = found.experiment_id if found else client.create_experiment(
                experiment, tags=EXPERIMENT_TAGS, artifact_location=(
                    (project / ARTIFACTS).resolve().as_uri()
                    if uri.startswith("sqlite:") else None))
        except Exception as error:  # MLflow raises many kinds; each means "cannot use it"
            raise TrackingConfigError(
                f"tracking.uri: cannot track to {uri!r}: "
                f"{' '.join(str(error).split())[:300]} (set tracking.uri to a reachable "
                f"MLflow tracking URI, or tracking.enabled: false)") from error
        return cls(client, uri, experiment_id)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>(...)``, or None once tracking has failed in this process."""
        if self.failure:
            return None
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except Exception as error:
            with self._lock:
                if not self.failure:
                    self.failure = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
                    logger.warning("MLflow tracking at %s failed (%s); the run goes on "
                                   "without it, its outputs are saved as usual",
                                   self.uri, self.failure)
            return None

    def child(self, run_id: str, namespace: str) -> str | None:
        """The child run of this Kedro run for ``namespace`` (looked up once)."""
        key = (run_id, namespace)
        if key not in self._children:
            found = self.call("search_runs", [self.experiment_id], max_results=1,
                              filter_string=f"tags.`{RUN_TAG}` = '{run_id}' and "
                                            f"tags.`{NAMESPACE_TAG}` = '{namespace}'")
            if found:
                self._children[key] = found[0].info.run_id
        return self._children.get(key)

    def remember(self, run_id: str, namespace: str, child: str) -> None:
        self._children[(run_id, namespace)] = child

    def log_metrics(self, run: str, values: Mapping[str, float], step: int = 0) -> None:
        from mlflow.entities import Metric

        timestamp = _now_ms()
        self.call("log_batch", run, metrics=[Metric(k, float(v), timestamp, step)
                                             for k, v in values.items()])

    def log_params(self, run: str, values: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        self.call("log_batch", run, params=[Param(k, str(v)[:6000]) for k, v in values.items()])

    def log_file(self, run: str, name: str, write: Any, folder: str) -> None:
        """``write(path)`` writes the artifact ``folder/name``; logged from a temporary
        folder."""
        if self.failure:
            return
        with tempfile.TemporaryDirectory(prefix="bn_compare_mlflow_") as tempdir:
            path = Path(tempdir) / name
            write(path)
            self.call("log_artifact", run, str(path), folder)

    def log_dataset(self, run: str, catalog: Any, name: str, folder: str,
                    data: Any = None) -> None:
        """The file the catalog saved for ``name``; for a catalog that keeps it in
        memory, the data written to a file (a table as CSV, a figure as PNG, a model as
        .keras)."""
        path = saved_file(catalog, name)
        if path is not None:
            self.call("log_artifact", run, str(path), folder)
            return
        data = catalog.load(name) if data is None else data
        local = name.rsplit(".", 1)[-1]
        if hasattr(data, "to_csv"):
            self.log_file(run, f"{local}.csv", lambda p: data.to_csv(p, index=False), folder)
        elif hasattr(data, "savefig"):
            self.log_file(run, f"{local}.png",
                          lambda p: data.savefig(p, format="png", dpi=100), folder)
        else:
            self.log_file(run, f"{local}.keras", lambda p: _save_model(data, p), folder)

    def finish(self, runs: Iterable[str], status: str) -> None:
        for run in runs:
            self.call("set_terminated", run, status)


def _now_ms() -> int:
    return int(time.time() * 1000)


def parent_tags(run_params: Mapping[str, Any], project: Path) -> dict[str, str]:
    runner = run_params.get("runner") or ""
    return {
        RUN_TAG: str(run_params.get("run_id")),
        "kedro.env": str(run_params.get("env")),
        "kedro.pipeline": ",".join(run_params.get("pipeline_names") or ["__default__"]),
        "kedro.runner": runner.split(" object at")[0].lstrip("<"),
        "kedro.params": json.dumps(run_params.get("runtime_params") or {}, default=str),
        "bn_compare.version": __version__,
        **({"mlflow.source.git.commit": commit} if (commit := _git_commit(project)) else {}),
    }


def _git_commit(project: Path) -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, check=True,
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def child_params(run: Any, parameters: Any) -> dict[str, Any]:
    """Everything that defines one training: variant, seed, grid values, every training
    setting in force, the layers and the data sizes."""
    training = parameters.training.at(run.point.overrides).model_dump()
    data = parameters.data
    train_images = 60_000 - data.validation_size
    if data.max_train_images:
        train_images = min(train_images, data.max_train_images)
    return {
        "variant": run.variant, "seed": run.seed, "namespace": run.namespace,
        **{f"grid.{key}": value for key, value in run.point.overrides.items()},
        **{f"training.{key}": value for key, value in training.items() if key != "seeds"},
        "layers": json.dumps(parameters.variants[run.variant].layers),
        "data.train_images": train_images, "data.validation_images": data.validation_size,
        "data.test_images": 10_000,
    }


def trained_namespaces(pipeline: Any, catalog: Any, only_missing_outputs: bool) -> set[str]:
    """The namespaces of the trainings this run will run. With ``--only-missing-outputs``
    the runner drops the nodes whose outputs exist after this hook: Kedro's own rule
    decides it here too (internals, ``tests/test_kedro_internals.py``)."""
    nodes = pipeline.nodes
    if only_missing_outputs:
        from kedro.runner.runner import _build_node_children_map, _determine_nodes_to_run

        nodes = _determine_nodes_to_run(list(reversed(nodes)), catalog,
                                        _build_node_children_map(pipeline), logger)
    return {node.namespace for node in nodes if is_training(node)}


class EpochMetrics(logging.Handler):
    """Sends the per-epoch figures the training logs (``EpochLog``) to the child run of
    the training running in this thread, as the epoch ends."""

    def __init__(self, current: Any) -> None:
        super().__init__()
        self._current = current  # thread-local: .tracker and .child, or unset

    def emit(self, record: logging.LogRecord) -> None:
        metrics = getattr(record, "epoch_metrics", None)
        tracker = getattr(self._current, "tracker", None)
        child = getattr(self._current, "child", None)
        if metrics and tracker and child:
            tracker.log_metrics(child, metrics["values"], step=metrics["epoch"])


PARENT_TABLES = ("comparison_table", "variant_statistics", "pairwise_differences",
                 "learning_curve_table", "parameter_accounting", "sweep_table",
                 "best_settings", "best_setting_differences")
PARENT_FILES = ("learning_curves", "test_accuracy_intervals", "sweep_curves", "report")
CHILD_ARTIFACTS = {"history": "tables", "parameters": "tables", "confusion_matrix": "plots",
                   "model": "model"}  # a training's outputs logged, and their folders


class TrackingHook:
    """Tracks each ``kedro run`` in MLflow (``tracking.*`` parameters), in the main
    process and in every runner's workers: see the module's docstring."""

    def __init__(self) -> None:
        self._tracker: Tracker | None = None  # of the run this process started, if any
        self._parent: str | None = None
        self._children: dict[str, str] = {}
        self._workers: dict[tuple[str, str], Tracker | None] = {}  # (uri, experiment)
        self._current = threading.local()  # the training running in this thread
        self._handler: EpochMetrics | None = None

    @hook_impl(trylast=True)  # after the input checks: a refused run leaves no MLflow run
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any,
                            catalog: Any) -> None:
        raw = catalog.load("parameters")
        parameters = ProjectParameters.model_validate(raw)
        self._tracker, self._parent, self._children = None, None, {}
        if not parameters.tracking.enabled:
            return
        project = Path(run_params.get("project_path") or Path.cwd())
        uri = tracking_uri(parameters.tracking.uri, project)
        tracker = Tracker.connect(uri, parameters.tracking.experiment, project)
        run_id = str(run_params.get("run_id"))
        parent = tracker.call("create_run", tracker.experiment_id,
                              run_name=f"{'+'.join(run_params.get('pipeline_names') or ['compare'])}"
                                       f" {run_params.get('env') or 'local'} {run_id}",
                              tags=parent_tags(run_params, project))
        if parent is None:
            raise TrackingConfigError(f"tracking.uri: cannot create a run in {uri!r}: "
                                      f"{tracker.failure}")
        self._tracker, self._parent = tracker, parent.info.run_id
        trained = trained_namespaces(pipeline, catalog,
                                     bool(run_params.get("only_missing_outputs")))
        for run in RunMatrix.from_parameters(raw).runs:
            if run.namespace not in trained:
                continue
            child = tracker.call("create_run", tracker.experiment_id, run_name=run.namespace,
                                 tags={"mlflow.parentRunId": self._parent, RUN_TAG: run_id,
                                       NAMESPACE_TAG: run.namespace})
            if child is not None:
                self._children[run.namespace] = child.info.run_id
                tracker.remember(run_id, run.namespace, child.info.run_id)
                tracker.log_params(child.info.run_id, child_params(run, parameters))
        logger.info("Tracking in MLflow: %s, experiment %r, %d training runs under run %s",
                    uri, parameters.tracking.experiment, len(self._children), self._parent)

    def _tracker_for(self, catalog: Any) -> Tracker | None:
        """This process's tracker: the run's own, or in a worker one connected once."""
        if self._tracker is not None:
            return self._tracker
        tracking = TrackingParams.model_validate(catalog.load("params:tracking"))
        if not tracking.enabled:
            return None
        uri = tracking_uri(tracking.uri, Path.cwd())
        key = (uri, tracking.experiment)
        if key not in self._workers:
            try:
                self._workers[key] = Tracker.connect(uri, tracking.experiment, Path.cwd())
            except TrackingConfigError as error:
                logger.warning("%s; this worker does not track", error)
                self._workers[key] = None
        return self._workers[key]

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, run_id: str) -> None:
        self._current.tracker = self._current.child = None
        self._current.catalog = catalog
        if not node.namespace:
            return
        tracker = self._tracker_for(catalog)
        child = tracker.child(run_id, node.namespace) if tracker else None
        self._current.tracker, self._current.child = tracker, child
        if child and is_training(node) and self._handler is None:
            self._handler = EpochMetrics(self._current)
            logging.getLogger("bn_compare.pipelines.training.nodes").addHandler(self._handler)

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:
        tracker, child = self._current.tracker, self._current.child
        if tracker and child:
            log_node_metrics(tracker, child, node.name.rsplit(".", 1)[-1], node.namespace,
                             outputs)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """A training's tables, plot and model go to its child run as the files the
        catalog has just saved."""
        tracker = getattr(self._current, "tracker", None)
        child = getattr(self._current, "child", None)
        folder = CHILD_ARTIFACTS.get(dataset_name.rsplit(".", 1)[-1])
        if tracker and child and folder and node.namespace:
            tracker.log_dataset(child, self._current.catalog, dataset_name, folder, data)

    @hook_impl
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        tracker, parent = self._tracker, self._parent
        if tracker is None:
            return
        produced = pipeline.all_outputs()
        for name in PARENT_TABLES:
            if name in produced:
                tracker.log_dataset(parent, catalog, name, "tables")
        for name in PARENT_FILES:
            path = saved_file(catalog, name) if name in produced else None
            if path is not None:  # plots and the report only as the saved files
                tracker.call("log_artifact", parent, str(path),
                             "report" if name == "report" else "plots")
        tracker.finish([*self._children.values(), parent], "FINISHED")
        self._tracker = None
        failure = tracker.failure or self._worker_failure()
        if failure:
            raise TrackingLostError(
                f"The run completed and its outputs are saved, but tracking in MLflow "
                f"({tracker.uri}) failed: {failure}. MLflow holds part of the run.")

    def _worker_failure(self) -> str | None:
        return next((t.failure for t in self._workers.values() if t and t.failure), None)

    @hook_impl
    def on_pipeline_error(self, error: Exception) -> None:
        tracker = self._tracker
        if tracker is not None:
            status = "KILLED" if isinstance(error, RunInterrupted) else "FAILED"
            tracker.finish([*self._children.values(), self._parent], status)
        self._tracker = None


def log_node_metrics(tracker: Tracker, child: str, step: str, namespace: str,
                     outputs: dict[str, Any]) -> None:
    """The test metrics and the run's summary figures of one training."""
    if step == "evaluate_model":
        tracker.log_metrics(child, outputs[f"{namespace}.test_metrics"])
    elif step == "summarise_run":
        row = outputs[f"{namespace}.summary"].iloc[0]
        tracker.log_metrics(child, {"seconds_per_epoch": row["seconds_per_epoch"],
                                    "diverged": float(bool(row["diverged"]))})


def _save_model(model: Any, path: Path) -> None:
    from bn_compare.tf_runtime import KERAS_STATE_LOCK, keras

    with KERAS_STATE_LOCK:
        keras().saving.save_model(model, str(path))


def saved_file(catalog: Any, name: str) -> Path | None:
    """The file this run saved for a versioned file dataset, if any."""
    dataset = catalog.get(name)
    try:
        version = dataset.resolve_save_version()
        paths = dataset.list_versions(full_path=True)
    except (AttributeError, DatasetError):
        return None
    return next((Path(p) for p in paths if Path(p).parent.name == version), None)
