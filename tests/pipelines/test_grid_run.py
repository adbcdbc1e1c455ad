"""A grid of training settings through `kedro run` on the real data (smoke sizes): 2
learning rates x 2 seeds, one of them absurd, so every run there diverges."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pandas as pd
import pytest
import yaml

from tests.conftest import (
    KEDRO,
    VARIANTS,
    kedro,
    make_project_copy,
    project_store,
    smoke_catalog,
    tracked_runs,
)

pytestmark = pytest.mark.pipeline

GRID = {"learning_rate": [0.05, 1000.0]}
SEEDS = [42, 43]
POINTS = ["learning_rate_0p05", "learning_rate_1000"]
NAMESPACES = [f"{v}.{p}.seed_{s}" for v in VARIANTS for p in POINTS for s in SEEDS]


def _grid_env(project, grid=GRID):
    """The smoke environment with a grid, seeds and fewer images (one file per key)."""
    path = project / "conf" / "smoke" / "parameters.yml"
    parameters = yaml.safe_load(path.read_text())
    parameters["training"] = {**parameters["training"], "seeds": SEEDS, "epochs": 1}
    parameters["data"] = {"validation_size": 500, "max_train_images": 1000}
    path.write_text(yaml.safe_dump({**parameters, "grid": grid}))


@pytest.fixture(scope="module")
def grid_project(tmp_path_factory):
    project = make_project_copy(tmp_path_factory.mktemp("grid") / "project")
    _grid_env(project)
    result = kedro(project, "run", "--pipeline=compare", "--env=smoke")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return project, result.stdout + result.stderr


def _trained_namespaces(output):
    return sorted(line.split("Completed node: ")[1].split(".train_model")[0]
                  for line in output.splitlines()
                  if "Completed node: " in line and ".train_model" in line)


def test_every_variant_is_trained_at_every_point_with_every_seed(grid_project):
    project, output = grid_project
    assert _trained_namespaces(output) == sorted(NAMESPACES)
    catalog = smoke_catalog(project)
    for namespace in NAMESPACES:
        assert catalog.exists(f"{namespace}.model"), namespace
    table = catalog.load("comparison_table")
    assert list(table.columns[:3]) == ["variant", "learning_rate", "seed"]
    assert len(table) == 12
    assert (project / "data/smoke/06_models/baseline/learning_rate_0p05/seed_43/model.keras"
            ).is_dir()
    assert "12/12 trainings done" in output


def test_the_absurd_learning_rate_diverges_and_the_run_goes_on(grid_project):
    project, output = grid_project
    catalog = smoke_catalog(project)
    table = catalog.load("comparison_table")
    absurd = table[table["learning_rate"] == 1000.0]
    assert absurd["diverged"].all() and absurd["diverged_at_epoch"].notna().all()
    assert not table.loc[table["learning_rate"] == 0.05, "diverged"].any()
    assert "diverged at epoch" in output and "WARNING" in output
    history = catalog.load("baseline.learning_rate_1000.seed_42.history")
    assert history["diverged"].all() and history["diverged_at_epoch"].tolist() == [1]

    statistics = catalog.load("variant_statistics")
    test = statistics[statistics["metric"] == "test_accuracy"].set_index(
        ["variant", "learning_rate"])
    assert tuple(test.loc[("baseline", 1000.0), ["seeds", "diverged", "n"]]) == (2, 2, 0)
    assert pd.isna(test.loc[("baseline", 1000.0), "mean"])  # never averaged in
    sweep = catalog.load("sweep_table")
    assert len(sweep) == 6 and sweep.loc[sweep["learning_rate"] == 1000.0, "diverged"].eq(2).all()
    best = catalog.load("best_settings")
    assert best["learning_rate"].tolist() == [0.05, 0.05, 0.05]
    assert best["stable_learning_rate"].astype(str).tolist() == ["0.05"] * 3
    assert len(catalog.load("best_setting_differences")) == 3
    report = catalog.load("report")
    assert "<h2>Across the grid</h2>" in report
    assert "diverged at learning_rate 1000 (2 of 2 runs)" in report
    assert catalog.exists("sweep_curves")


def test_every_training_of_the_grid_is_a_child_run_with_its_grid_value(grid_project):
    from mlflow import MlflowClient

    project, _ = grid_project
    (parent, children), = tracked_runs(project_store(project))
    assert sorted(children) == sorted(NAMESPACES)
    for namespace, child in children.items():
        absurd = ".learning_rate_1000." in namespace
        assert child.data.params["grid.learning_rate"] == ("1000.0" if absurd else "0.05")
        assert child.data.params["training.learning_rate"] == child.data.params[
            "grid.learning_rate"]
        assert child.data.metrics["diverged"] == float(absurd)
    client = MlflowClient(project_store(project))
    logged = {a.path for folder in ("tables", "plots")
              for a in client.list_artifacts(parent.info.run_id, folder)}
    assert {"tables/sweep_table.csv", "tables/best_settings.csv",
            "plots/sweep_curves.png"} <= logged


def test_the_registry_and_a_session_see_the_matrix_of_the_run(grid_project):
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project, output = grid_project
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "KEDRO_ENV": "smoke"}
    described = subprocess.run([KEDRO, "registry", "describe", "compare"], cwd=project,
                               env=env, capture_output=True, text=True, check=False, timeout=300)
    assert described.returncode == 0, described.stderr[-3000:]
    registry = sorted(line.split("- ")[1].split(".train_model")[0]
                      for line in described.stdout.splitlines() if ".train_model" in line)
    assert registry == _trained_namespaces(output) == sorted(NAMESPACES)

    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="smoke") as session:
        session.load_context()
        in_session = sorted(n.namespace for n in pipelines["compare"].nodes
                            if n.name.endswith(".train_model"))
    assert in_session == sorted(NAMESPACES)
    # --params reach the matrix too: one seed, and a third learning rate
    with KedroSession.create(project_path=project, env="smoke",
                             runtime_params={"training": {"seeds": [7]}}) as session:
        session.load_context()
        names = {n.namespace for n in pipelines["compare"].nodes
                 if n.name.endswith(".train_model")}
    assert names == {f"{v}.{p}.seed_7" for v in VARIANTS for p in POINTS}


def test_viz_shows_a_namespace_per_point_inside_each_variant(grid_project, tmp_path,
                                                             monkeypatch):
    project = shutil.copytree(grid_project[0], tmp_path / "project")
    monkeypatch.setenv("KEDRO_ENV", "smoke")
    result = kedro(project, "viz", "build")
    assert result.returncode == 0, result.stderr[-3000:]
    main = json.loads((project / "build" / "api" / "main").read_text())
    groups = {node["name"] for node in main["nodes"] if node["type"] == "modularPipeline"}
    assert {"baseline", "baseline.learning_rate_0p05", "baseline.learning_rate_1000.seed_43"
            } <= groups


def test_a_namespace_holds_every_point_and_seed_of_one_variant(base_parameters):
    """What `kedro run --namespaces=bn_after_activation` runs (Kedro's filter)."""
    from bn_compare.pipelines.compare import create_pipeline
    from bn_compare.run_matrix import RunMatrix

    matrix = RunMatrix.from_parameters(
        {**base_parameters, "grid": GRID,
         "training": {**base_parameters["training"], "seeds": SEEDS}})
    one = create_pipeline(matrix).filter(node_namespaces=["bn_after_activation"])
    assert sorted(n.namespace for n in one.nodes if n.name.endswith(".train_model")) == sorted(
        n for n in NAMESPACES if n.startswith("bn_after_activation."))


def test_a_new_grid_value_trains_only_its_runs_with_only_missing_outputs(grid_project,
                                                                         tmp_path):
    project = shutil.copytree(grid_project[0], tmp_path / "project")
    _grid_env(project, {"learning_rate": [0.05, 0.2, 1000.0]})
    result = kedro(project, "run", "--env=smoke", "--only-missing-outputs")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _trained_namespaces(result.stdout + result.stderr) == sorted(
        f"{v}.learning_rate_0p2.seed_{s}" for v in VARIANTS for s in SEEDS)
    (_, children), _ = tracked_runs(project_store(project))  # tracked: only the new runs
    assert sorted(children) == sorted(f"{v}.learning_rate_0p2.seed_{s}"
                                      for v in VARIANTS for s in SEEDS)
    catalog = smoke_catalog(project)
    assert len(catalog.get("baseline.learning_rate_0p05.seed_42.model").list_versions()) == 1
