"""Shared fixtures: synthetic IDX files, the project's parameters, copies of the project
to run in (in this process or as `kedro run`), the smoke run of the real pipeline."""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# Kedro configures logging when this is first imported (dictConfig: the root logger's handlers
# replaced): now, before a test adds a handler of its own to read the log
import kedro.framework.project  # noqa: F401
import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")  # as `make test` sets it
os.environ.setdefault("MPLBACKEND", "Agg")
# What tf_runtime sets before TensorFlow's import: tests import it in any order, and a
# run in a test process must give the numbers of `kedro run` (oneDNN rounds differently).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
VARIANTS = ["baseline", "bn_after_activation", "bn_before_activation"]
PER_VARIANT = ["initial_model", "model", "history", "parameters", "test_metrics",
               "predictions", "summary", "confusion_matrix"]
SHARED = ["x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test",
          "comparison_table", "learning_curve_table", "parameter_accounting",
          "variant_statistics", "pairwise_differences", "learning_curves@figure",
          "test_accuracy_intervals@figure", "verdict", "report"]
SEED = 42  # conf/base and conf/smoke: one seed
# The comparison table: these after the run's variant, grid values and seed.
SUMMARY = ["total_params", "trainable_params", "non_trainable_params", "final_val_accuracy",
           "best_val_accuracy", "test_accuracy", "test_loss", "seconds_per_epoch", "diverged",
           "diverged_at_epoch"]
OUTPUTS = SHARED + [f"{v}.seed_{SEED}.{name}" for v in VARIANTS for name in PER_VARIANT]
KEDRO = str(Path(sys.executable).with_name("kedro"))
DEBIAN_DATA = Path("/usr/share/datasets/fashion-mnist")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"  # screenshots


@contextlib.contextmanager
def chromium_page(width: int = 1600, height: int = 1000):
    """A page of Debian's chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def descendants(pid: int) -> list[int]:
    """The process and every process below it."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            stack += [int(c) for c in (task / "children").read_text().split()]
    return found


def write_idx(path: Path, array: np.ndarray, *, magic: bytes | None = None) -> Path:
    """Write ``array`` (uint8) as a gzip-compressed IDX file."""
    header = magic or bytes([0, 0, 0x08, array.ndim])
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as stream:
        stream.write(header + dims + array.astype(np.uint8).tobytes())
    return path


@pytest.fixture
def synthetic_fashion_mnist(tmp_path: Path) -> Path:
    """A folder with the four files, small: 12 training and 6 test images."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "fashion-mnist"
    for prefix, count in (("train", 12), ("t10k", 6)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (count, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(count) % 10)
    return folder


@pytest.fixture(scope="session")
def base_parameters() -> dict:
    """conf/base's parameters, as Kedro loads them (its globals resolved), alone."""
    from bn_compare import settings

    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(PROJECT_ROOT / "conf"), env="base",
                                          **settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]


@pytest.fixture(scope="session")
def params(base_parameters):
    """conf/base's parameters, typed as the nodes receive them."""
    from bn_compare.parameters import ProjectParameters

    return ProjectParameters.checked(base_parameters)


def context_for(raw: dict, project_path: Path = PROJECT_ROOT) -> SimpleNamespace:
    """What ``ProjectContext`` hands the hooks: the run matrix of the checked parameters."""
    from bn_compare.parameters import ProjectParameters
    from bn_compare.run_matrix import RunMatrix

    return SimpleNamespace(project_path=Path(project_path),
                           run_matrix=RunMatrix(ProjectParameters.checked(raw)))


def make_project_copy(target: Path) -> Path:
    """A copy of the project's configuration to run ``kedro`` in; the package itself
    is the installed one. Outputs land under ``target/data``."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "pyproject.toml", target)
    shutil.copytree(PROJECT_ROOT / "conf", target / "conf",
                    ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    (target / "src").mkdir()  # kedro expects it; the package is the installed one
    # The real data: the project's own copy if there is one, else Debian's package.
    raw = PROJECT_ROOT / "data" / "01_raw" / "fashion-mnist"
    if raw.is_dir():
        shutil.copytree(raw, target / "data" / "01_raw" / "fashion-mnist")
    return target


def run_in_process(project: Path, *args: str) -> Any:
    """``kedro run <args>`` through the project's CLI in this process (no start-up of a
    new Python, TensorFlow imported once): click's result, exit code and output."""
    from click.testing import CliRunner
    from kedro.framework.startup import bootstrap_project

    from bn_compare.cli import run

    bootstrap_project(project)
    previous = Path.cwd()
    os.chdir(project)
    try:
        return CliRunner().invoke(run, list(args))
    finally:
        os.chdir(previous)


def outputs_manifest(project: Path) -> dict[str, tuple[int, int]]:
    """Every file a run writes (outputs and the MLflow store), with size and mtime."""
    files = [*(project / "data").rglob("*"), project / "mlflow.db",
             *(project / "mlartifacts").rglob("*")]
    return {str(p.relative_to(project)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in files if p.is_file() and "01_raw" not in p.parts}


def kedro(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "MPLBACKEND": "Agg",
           "COLUMNS": "200"}
    return subprocess.run(
        [KEDRO, *args], cwd=project, env=env, capture_output=True, text=True, check=False,
        timeout=timeout,
    )


def version_dirs(dataset_dir: Path) -> list[str]:
    return sorted(p.name for p in dataset_dir.iterdir() if p.is_dir())


@pytest.fixture(scope="session")
def smoke_project(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A project copy in which ``kedro run --pipeline=compare --env=smoke`` ran once, for
    the whole session: the first pytest-xdist worker to need it runs it (in its process),
    the others wait for it. Tests read it; those that run again do so in a copy."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # the workers' temporary folders share a parent
        shared = shared.parent
    project = shared / "smoke" / "project"
    with (shared / "smoke.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (project.parent / "done").exists():
            shutil.rmtree(project.parent, ignore_errors=True)  # a failed attempt's
            make_project_copy(project)
            with warnings.catch_warnings():  # the deprecated option still works: here
                warnings.filterwarnings("ignore", "Option '--pipeline' is deprecated")
                result = run_in_process(project, "--pipeline=compare", "--env=smoke")
            assert result.exit_code == 0, result.output[-5000:]
            (project.parent / "done").touch()
    return project


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The real runs first: pytest-xdist hands out files in this order, and the long ones
    started last would leave a worker alone at the end."""
    items.sort(key=lambda item: not (item.get_closest_marker("pipeline")
                                     or item.get_closest_marker("long")))


def smoke_catalog(project: Path):
    """The project copy's Data Catalog in the smoke environment."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="smoke") as session:
        return session.load_context().catalog


def tracked_runs(store_uri: str, experiment: str = "smoke") -> list:
    """Every kedro run of a study (the smoke environment's by default) tracked in the store,
    newest first: (parent, {namespace: child})."""
    from mlflow import MlflowClient

    client = MlflowClient(store_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    runs = client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    return [(parent, {r.data.tags["bn_compare.namespace"]: r for r in runs
                      if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id})
            for parent in parents]


def metric_histories(store_uri: str, run) -> dict[str, list[float]]:
    from mlflow import MlflowClient

    client = MlflowClient(store_uri)
    return {name: [m.value for m in sorted(client.get_metric_history(run.info.run_id, name),
                                           key=lambda m: m.step)]
            for name in ("loss", "accuracy", "val_loss", "val_accuracy")}


def project_store(project: Path) -> str:
    return f"sqlite:///{(project / 'mlflow.db').resolve()}"
