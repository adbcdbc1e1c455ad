"""Experiment tracking in MLflow: each ``kedro run`` a parent run, each training a child run.
The catalog declares what is logged (``metadata.mlflow``, docs/tracking.md): as it is saved
in this process, else from the run's saved files at its end (Dask, Kedro's ParallelRunner)."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from bn_compare import __version__
from bn_compare.datasets.versions import saved_file

logger = logging.getLogger(__name__)

STORE, ARTIFACTS = "mlflow.db", "mlartifacts"  # the default store, in the project folder
RUN_TAG, NAMESPACE_TAG, CONFIRM_TAG = "kedro.run_id", "bn_compare.namespace", "confirm"
EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}  # not the GenAI UI


class TrackingConfigError(ValueError): ...  # tracking.uri cannot be used: before any node


class TrackingLostError(RuntimeError): ...  # tracking failed in a run that completed


def tracking_uri(uri: str | None, project: Path) -> str:
    """``tracking.uri``, else ``$MLFLOW_TRACKING_URI``, else the project's SQLite store."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{project.resolve()}/{STORE}"


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Held while a process connects to a SQLite store (a file ``<store>.lock`` beside it):
    MLflow creates and migrates a new store's tables on first use, and processes doing that
    at once leave it broken ("table already exists"); it also makes "the experiment, created
    if new" one step."""
    from sqlalchemy.engine import make_url

    path = make_url(uri).database if uri.startswith("sqlite:") else None
    if path in (None, "", ":memory:"):
        yield
        return
    lock = Path(f"{path}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # released when the file is closed
        yield


def experiment_id_of(client: Any, name: str, artifact_location: str | None) -> str:
    """The experiment's id, created if new; by another process meanwhile (an MLflow server's
    store refuses the second with ``RESOURCE_ALREADY_EXISTS``) is found by its name."""
    if found := client.get_experiment_by_name(name):
        return found.experiment_id
    try:
        return client.create_experiment(name, tags=EXPERIMENT_TAGS,
                                        artifact_location=artifact_location)
    except Exception:
        if found := client.get_experiment_by_name(name):
            return found.experiment_id
        raise


def _words(error: Exception) -> str:  # an error's message on one line
    return " ".join(str(error).split())[:300]


class Tracker:
    """MLflow's client for one run; its first failed call is logged once and ends it."""

    def __init__(self, client: Any, uri: str, experiment_id: str) -> None:
        self.client, self.uri, self.experiment_id, self.failure = client, uri, experiment_id, None

    @classmethod
    def connect(cls, uri: str, experiment: str, project: Path) -> Tracker:
        """A tracker for the experiment (created if new), or ``TrackingConfigError``."""
        # a server that is gone must not hold the run up with minutes of retries
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
        try:
            from mlflow import MlflowClient

            local = (project / ARTIFACTS).resolve().as_uri() if uri.startswith("sqlite:") else None
            with store_lock(uri):
                client = MlflowClient(tracking_uri=uri)
                experiment_id = experiment_id_of(client, experiment, local)
        except Exception as error:  # MLflow raises many kinds; each means "cannot use it"
            raise TrackingConfigError(
                f"tracking.uri: cannot track to {uri!r}: {_words(error)} (set tracking.uri "
                f"to a reachable MLflow tracking URI, or tracking.enabled: false)") from error
        return cls(client, uri, experiment_id)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>(...)``, or None once tracking has failed."""
        if self.failure:
            return None
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except Exception as error:
            self.failure = f"{type(error).__name__}: {_words(error)}"
            logger.warning("MLflow tracking at %s failed (%s); the run goes on without it, "
                           "its outputs are saved as usual", self.uri, self.failure)
            return None

    def log_batch(self, run: str, metrics: list[tuple[str, float, int]] = (),
                  params: Mapping[str, Any] | None = None) -> None:
        from mlflow.entities import Metric, Param

        # MLflow's client splits the batch for its store; a parameter holds 6,000 characters
        self.call("log_batch", run, metrics=[Metric(k, v, 0, step) for k, v, step in metrics],
                  params=[Param(k, str(v)[:6000]) for k, v in (params or {}).items()])


def metric_values(data: Any, spec: Mapping[str, Any]) -> list[tuple[str, float, int]]:
    """(key, value, step) of the declared ``metrics``, or a tidy table's (docs/tracking.md)."""
    rows, step = [data] if isinstance(data, Mapping) else data.to_dict("records"), spec.get("step")
    metrics = spec.get("metrics", ())
    named = ([("/".join(str(r[c]) for c in metrics["name"]), r[metrics["value"]], r) for r in rows]
             if isinstance(metrics, Mapping) else [(k, r[k], r) for r in rows for k in metrics])
    return [(key, float(value), int(row[step]) if step else 0) for key, value, row in named]


def parent_tags(run_params: Mapping[str, Any], project: Path) -> dict[str, str]:
    from mlflow.utils.git_utils import get_git_commit

    commit = get_git_commit(str(project))  # None outside a git repository
    return {RUN_TAG: str(run_params.get("run_id")), "kedro.env": str(run_params.get("env")),
            "kedro.pipeline": ",".join(run_params.get("pipeline_names") or ["__default__"]),
            "kedro.runner": str(run_params.get("runner")).split(" object at")[0].lstrip("<"),
            "kedro.params": json.dumps(run_params.get("runtime_params") or {}, default=str),
            "bn_compare.version": __version__,
            **({"mlflow.source.git.commit": commit} if commit else {})}


def _logged_as(catalog: Any, name: str) -> dict[str, Any] | None:
    """How MLflow logs dataset ``name``: its ``metadata.mlflow`` in the catalog."""
    return (getattr(catalog.get(name), "metadata", None) or {}).get("mlflow")


class TrackingHook:
    """Tracks each ``kedro run`` in MLflow (``tracking.*`` parameters): see above."""

    def __init__(self) -> None:
        self._lock, self._tracker, self._save_version = threading.Lock(), None, None

    @hook_impl
    def after_catalog_created(self, save_version: str | None) -> None:
        self._save_version = save_version  # the run's: Kedro's run id, or claimed (context.py)

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._matrix, self._project = context.run_matrix, context.project_path
        self._trainings = {run.namespace: run for run in self._matrix.trainings}

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any,
                            catalog: Any) -> None:
        self._finish("KILLED")  # a run a notebook interrupted, still open
        settings = self._matrix.parameters.tracking
        if not settings.enabled or not any(_logged_as(catalog, name)
                                           for name in pipeline.all_outputs()):
            return  # off, or nothing to log (make results)
        uri = tracking_uri(settings.uri, self._project)
        tracker = Tracker.connect(uri, settings.experiment, self._project)
        self._run_id = self._save_version or str(run_params.get("run_id"))
        name = " ".join(["+".join(run_params.get("pipeline_names") or ["compare"]),
                         run_params.get("env") or "local", self._run_id])
        parent = tracker.call("create_run", tracker.experiment_id, run_name=name,
                              tags=parent_tags({**run_params, "run_id": self._run_id},
                                               self._project))
        if parent is None:
            raise TrackingConfigError(f"tracking.uri: cannot create a run in {uri!r}: "
                                      f"{tracker.failure}")
        self._tracker, self._catalog = tracker, catalog
        self._runs, self._logged = {"": parent.info.run_id}, set()  # runs by namespace ("": parent)
        atexit.unregister(self._finish)  # once per process: a run a signal stopped ends here
        atexit.register(self._finish, "KILLED")
        logger.info("Tracking in MLflow: %s, run %s", uri, parent.info.run_id)

    def _run_for(self, namespace: str) -> str | None:
        """The training's child run (created with its first dataset), or the parent."""
        run = self._trainings.get(namespace)
        with self._lock:
            if run and namespace not in self._runs and (child := self._tracker.call(
                    "create_run", self._tracker.experiment_id, run_name=namespace,
                    tags={"mlflow.parentRunId": self._runs[""], RUN_TAG: self._run_id,
                          NAMESPACE_TAG: namespace, CONFIRM_TAG: str(run.confirms).lower()})):
                self._runs[namespace] = child.info.run_id
                self._tracker.log_batch(child.info.run_id,
                                        params=self._matrix.logged_settings(run))
        return self._runs.get(namespace if run else "")

    def _log(self, name: str, data: Any = None) -> None:
        """A declared dataset, once: ``data`` as saved here, or this run's saved file."""
        dataset, spec = self._catalog.get(name), _logged_as(self._catalog, name)
        if not spec or name in self._logged:
            return
        path = saved_file(dataset)
        version = path.parent.name if path else None
        if data is None and path is None:
            return  # not saved by this run
        self._logged.add(name)
        run = self._run_for(name.rpartition(".")[0])
        if run and {"metrics", "params"} & set(spec):  # params: a setting, as grid.<key>
            data = self._catalog.load(name, version=version) if data is None else data
            self._tracker.log_batch(run, metrics=metric_values(data, spec), params={
                f"{p}.{k}": v for p in ("grid", "training") for k, v in data.items()
            } if "params" in spec else None)
        if run and "artifact" in spec and path is not None:
            self._tracker.call("log_artifact", run, str(path), spec["artifact"])

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if self._tracker:
            self._log(dataset_name, data)

    @hook_impl
    def after_pipeline_run(self, pipeline: Any) -> None:
        if (tracker := self._finish("FINISHED", pipeline)) and tracker.failure:
            raise TrackingLostError(
                f"The run completed and its outputs are saved, but tracking in MLflow "
                f"({tracker.uri}) failed: {tracker.failure}. MLflow holds part of the run.")

    @hook_impl
    def on_pipeline_error(self, pipeline: Any) -> None:
        self._finish("FAILED", pipeline)

    def _finish(self, status: str, pipeline: Any = None) -> Tracker | None:
        """Log what other processes saved, then end every run of the tree."""
        for name in sorted(pipeline.all_outputs()) if self._tracker and pipeline else ():
            self._log(name)
        tracker, self._tracker = self._tracker, None
        for run in self._runs.values() if tracker else ():
            tracker.call("set_terminated", run, status)
        return tracker
