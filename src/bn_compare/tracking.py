"""Experiment tracking in MLflow: every ``kedro run`` is a parent run, every training
(variant x grid point x seed) a child run named after its namespace.

What reaches MLflow is declared in the catalog, per dataset, under ``metadata: {mlflow:
...}``: ``artifact: <folder>`` logs the file the run saved; ``metrics: [names]`` logs
those keys of a dict or columns of a table, one step per row of the ``step`` column when
it names one. A dataset in a training's namespace goes to that training's child run,
the others to the parent.

``TrackingHook`` lives in the process that runs ``kedro run`` and logs each declared
dataset as the catalog saves it there (Sequential and Thread runners). What other
processes saved (Dask, Kedro's ParallelRunner) it logs from the run's saved files when the
run ends. It uses MLflow's client with explicit run ids, so threads never share an
"active run"; MLflow is imported only when tracking is on.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DatasetError

from bn_compare import __version__
from bn_compare.hooks import is_training

logger = logging.getLogger(__name__)

STORE, ARTIFACTS = "mlflow.db", "mlartifacts"  # the default store, in the project folder
RUN_TAG, NAMESPACE_TAG = "kedro.run_id", "bn_compare.namespace"
EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}  # not the GenAI view


class TrackingConfigError(ValueError):
    """``tracking.uri`` cannot be used; raised before any node runs."""


class TrackingLostError(RuntimeError):
    """Tracking failed during a run that otherwise completed (its outputs are saved)."""


def tracking_uri(uri: str | None, project: Path) -> str:
    """``tracking.uri``, else ``$MLFLOW_TRACKING_URI``, else the project's SQLite store."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or (
        f"sqlite:///{(project / STORE).resolve()}")


class Tracker:
    """MLflow's client for one run: the first failed call is logged once as a warning
    and ends tracking; the run goes on."""

    def __init__(self, client: Any, uri: str, experiment_id: str) -> None:
        self.client, self.uri, self.experiment_id = client, uri, experiment_id
        self.failure: str | None = None

    @classmethod
    def connect(cls, uri: str, experiment: str, project: Path) -> Tracker:
        """A tracker for the experiment (created if new), or ``TrackingConfigError``."""
        # A tracking server that is gone must not hold the run up with minutes of retries.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
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
                f"tracking.uri: cannot track to {uri!r}: {' '.join(str(error).split())[:300]}"
                f" (set tracking.uri to a reachable MLflow tracking URI, or "
                f"tracking.enabled: false)") from error
        return cls(client, uri, experiment_id)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>(...)``, or None once tracking has failed."""
        if self.failure:
            return None
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except Exception as error:
            if not self.failure:
                self.failure = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
                logger.warning("MLflow tracking at %s failed (%s); the run goes on without "
                               "it, its outputs are saved as usual", self.uri, self.failure)
            return None

    def log_batch(self, run: str, metrics: list[tuple[str, float, int]] = (),
                  params: Mapping[str, Any] | None = None) -> None:
        from mlflow.entities import Metric, Param

        self.call("log_batch", run,
                  metrics=[Metric(key, value, 0, step) for key, value, step in metrics],
                  params=[Param(k, str(v)[:6000]) for k, v in (params or {}).items()])


def metric_values(data: Any, spec: Mapping[str, Any]) -> list[tuple[str, float, int]]:
    """(key, value, step) of the declared ``metrics`` of a dict or a table."""
    rows = [data] if isinstance(data, Mapping) else data.to_dict("records")
    step = spec.get("step")
    return [(key, float(row[key]), int(row[step]) if step else 0)
            for row in rows for key in spec["metrics"]]


def parent_tags(run_params: Mapping[str, Any], project: Path) -> dict[str, str]:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, check=True,
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        RUN_TAG: str(run_params.get("run_id")),
        "kedro.env": str(run_params.get("env")),
        "kedro.pipeline": ",".join(run_params.get("pipeline_names") or ["__default__"]),
        "kedro.runner": str(run_params.get("runner")).split(" object at")[0].lstrip("<"),
        "kedro.params": json.dumps(run_params.get("runtime_params") or {}, default=str),
        "bn_compare.version": __version__,
        **({"mlflow.source.git.commit": commit} if commit else {}),
    }


def child_params(run: Any, parameters: Any) -> dict[str, Any]:
    """What defines one training: variant, seed, grid values, every training setting in
    force, the layers and the sizes of the data."""
    training = parameters.training.at(run.point.overrides).model_dump(exclude={"seeds"})
    sizes = parameters.data.split_sizes
    return {"variant": run.variant, "seed": run.seed, "namespace": run.namespace,
            **{f"grid.{key}": value for key, value in run.point.overrides.items()},
            **{f"training.{key}": value for key, value in training.items()},
            "layers": json.dumps(parameters.variants[run.variant].layers),
            **{f"data.{split}_images": count for split, count in sizes.items()}}


def saved_file(catalog: Any, name: str) -> Path | None:
    """The file this run saved for a versioned file dataset, if any."""
    dataset = catalog.get(name)
    try:
        version = dataset.resolve_save_version()
        paths = dataset.list_versions(full_path=True)
    except (AttributeError, DatasetError):
        return None
    return next((Path(p) for p in paths if Path(p).parent.name == version), None)


class TrackingHook:
    """Tracks each ``kedro run`` in MLflow (``tracking.*`` parameters): see above."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tracker: Tracker | None = None
        self._runs: dict[str, str] = {}  # namespace ("" for the parent): MLflow run id
        self._logged: set[str] = set()
        atexit.register(self._finish, "KILLED")  # a run stopped by a signal ends here

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._parameters, self._project = context.project_parameters, context.project_path
        self._runs_by_namespace = {run.namespace: run for run in context.run_matrix.runs}

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        self._finish("KILLED")  # one a notebook interrupted, still open
        settings = self._parameters.tracking
        if not settings.enabled:
            return
        uri = tracking_uri(settings.uri, self._project)
        tracker = Tracker.connect(uri, settings.experiment, self._project)
        run_id = str(run_params.get("run_id"))
        parent = tracker.call("create_run", tracker.experiment_id,
                              tags=parent_tags(run_params, self._project),
                              run_name=f"{'+'.join(run_params.get('pipeline_names') or ['compare'])}"
                                       f" {run_params.get('env') or 'local'} {run_id}")
        if parent is None:
            raise TrackingConfigError(f"tracking.uri: cannot create a run in {uri!r}: "
                                      f"{tracker.failure}")
        self._tracker, self._catalog, self._run_id = tracker, catalog, run_id
        self._runs, self._logged = {"": parent.info.run_id}, set()
        logger.info("Tracking in MLflow: %s, experiment %r, run %s", uri,
                    settings.experiment, parent.info.run_id)

    def _run_for(self, namespace: str) -> str | None:
        """The parent's id, or the child run of a training (created at first use)."""
        run = self._runs_by_namespace.get(namespace)
        key = run.namespace if run else ""
        with self._lock:
            if key not in self._runs:
                child = self._tracker.call(
                    "create_run", self._tracker.experiment_id, run_name=key,
                    tags={"mlflow.parentRunId": self._runs[""], RUN_TAG: self._run_id,
                          NAMESPACE_TAG: key})
                if child is None:
                    return None
                self._runs[key] = child.info.run_id
                self._tracker.log_batch(child.info.run_id,
                                        params=child_params(run, self._parameters))
        return self._runs[key]

    def _log(self, name: str, data: Any = None) -> None:
        spec = (getattr(self._catalog.get(name), "metadata", None) or {}).get("mlflow")
        if not spec or name in self._logged:
            return
        path = saved_file(self._catalog, name)
        if data is None:  # saved by another process: read what this run saved
            if path is None:
                return
            data = self._catalog.load(name, version=path.parent.name) if "metrics" in spec \
                else None
        self._logged.add(name)
        run = self._run_for(name.rsplit(".", 1)[0] if "." in name else "")
        if run is None:
            return
        if "metrics" in spec:
            self._tracker.log_batch(run, metrics=metric_values(data, spec))
        if "artifact" in spec and path is not None:
            self._tracker.call("log_artifact", run, str(path), spec["artifact"])

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if self._tracker is not None and is_training(node):
            self._run_for(node.namespace)  # the child shows while it trains

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if self._tracker is not None:
            self._log(dataset_name, data)

    @hook_impl
    def after_pipeline_run(self, pipeline: Any) -> None:
        tracker = self._tracker
        if tracker is None:
            return
        for name in sorted(pipeline.all_outputs()):
            self._log(name)
        self._finish("FINISHED")
        if tracker.failure:
            raise TrackingLostError(
                f"The run completed and its outputs are saved, but tracking in MLflow "
                f"({tracker.uri}) failed: {tracker.failure}. MLflow holds part of the run.")

    @hook_impl
    def on_pipeline_error(self, pipeline: Any) -> None:
        if self._tracker is not None:
            for name in sorted(pipeline.all_outputs()):
                self._log(name)
            self._finish("FAILED")

    def _finish(self, status: str) -> None:
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            for run in self._runs.values():
                tracker.call("set_terminated", run, status)
