"""A grid of training settings, run as `kedro run` runs it (the project's CLI, in this
process) on the real data at smoke sizes: 2 learning rates, one of them absurd, so every
run there diverges, and a confirmation seed at each variant's best; then a third learning
rate with --only-missing-outputs. (Several seeds at a grid point and the confirmation's
statistics: tests/pipelines/test_pipeline_in_memory.py, test_sweep_nodes.py.)"""

from __future__ import annotations

import logging
import shutil

import pandas as pd
import pytest
import yaml

from bn_compare import pipeline_registry
from tests.conftest import (
    VARIANTS,
    make_project_copy,
    project_store,
    run_in_process,
    smoke_catalog,
    tracked_runs,
)

pytestmark = pytest.mark.pipeline

GRID = {"learning_rate": [0.05, 1000.0]}
SEEDS = [42]
POINTS = ["learning_rate_0p05", "learning_rate_1000"]
NAMESPACES = [f"{v}.{p}.seed_{s}" for v in VARIANTS for p in POINTS for s in SEEDS]
CONFIRMATIONS = [f"confirm.{v}.seed_1000" for v in VARIANTS]
CROSS = [f"cross.{v}.seed_1000" for v in VARIANTS]  # each at the best variant's best


def _grid_env(project, grid=GRID):
    """The smoke environment with a grid, seeds and fewer images."""
    path = project / "conf" / "smoke" / "parameters.yml"
    parameters = yaml.safe_load(path.read_text())
    parameters["training"] = {**parameters["training"], "seeds": SEEDS, "epochs": 1}
    parameters["data"] = {"validation_size": 500, "max_train_images": 1000}
    parameters["confirm"] = {"seeds": [1000]}
    path.write_text(yaml.safe_dump({**parameters, "grid": grid}))


def _trained(records):
    return sorted(r.getMessage().split("Completed node: ")[1].split(".train_model")[0]
                  for r in records if r.getMessage().startswith("Completed node: ")
                  and ".train_model" in r.getMessage())


@pytest.fixture(scope="module")
def grid_project(tmp_path_factory):
    project = make_project_copy(tmp_path_factory.mktemp("grid") / "project")
    _grid_env(project)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger().addHandler(handler)
    try:
        result = run_in_process(project, "--pipelines=compare", "--env=smoke")
    finally:
        logging.getLogger().removeHandler(handler)
    assert result.exit_code == 0, result.output[-5000:]
    return project, records


def test_every_variant_is_trained_at_every_point_with_every_seed(grid_project):
    project, records = grid_project
    assert _trained(records) == sorted(NAMESPACES + CONFIRMATIONS + CROSS)
    catalog = smoke_catalog(project)
    for namespace in NAMESPACES + CONFIRMATIONS + CROSS:
        assert catalog.exists(f"{namespace}.model"), namespace
    table = catalog.load("comparison_table")
    assert list(table.columns[:3]) == ["variant", "learning_rate", "seed"]
    assert len(table) == 6
    assert (project / "data/smoke/06_models/baseline/learning_rate_0p05.seed_42/model.keras"
            ).is_dir()
    assert any(r.getMessage().startswith("12/12 trainings done") for r in records)
    cross = catalog.load("cross_confirmation_table")
    assert cross[["variant", "learning_rate"]].values.tolist() == [[v, 0.05] for v in VARIANTS]
    assert cross["at_best_of"].nunique() == 1 and cross["at_best_of"].iloc[0] in VARIANTS
    assert len(catalog.load("same_setting_differences")) == 3
    confirmation = catalog.load("confirmation_table")
    assert confirmation[["variant", "learning_rate", "seed"]].values.tolist() == [
        [variant, 0.05, 1000] for variant in VARIANTS]
    assert catalog.load("confirm.baseline.seed_1000.setting") == {"learning_rate": 0.05}


def test_the_absurd_learning_rate_diverges_and_the_run_goes_on(grid_project):
    project, records = grid_project
    catalog = smoke_catalog(project)
    table = catalog.load("comparison_table")
    absurd = table[table["learning_rate"] == 1000.0]
    assert absurd["diverged"].all() and absurd["diverged_at_epoch"].notna().all()
    assert not table.loc[table["learning_rate"] == 0.05, "diverged"].any()
    assert any("diverged at epoch" in r.getMessage() and r.levelno == logging.WARNING
               for r in records)
    history = catalog.load("baseline.learning_rate_1000.seed_42.history")
    assert history["diverged"].all() and history["diverged_at_epoch"].tolist() == [1]

    statistics = catalog.load("variant_statistics")
    test = statistics[statistics["metric"] == "test_accuracy"].set_index(
        ["variant", "learning_rate"])
    assert tuple(test.loc[("baseline", 1000.0), ["seeds", "diverged", "n"]]) == (1, 1, 0)
    assert pd.isna(test.loc[("baseline", 1000.0), "mean"])  # never averaged in
    sweep = catalog.load("sweep_table")
    assert len(sweep) == 6 and sweep.loc[sweep["learning_rate"] == 1000.0, "diverged"].eq(1).all()
    best = catalog.load("best_settings")
    assert best["learning_rate"].tolist() == [0.05, 0.05, 0.05]
    assert best["stable_learning_rate"].astype(str).tolist() == ["0.05"] * 3
    assert len(catalog.load("best_setting_differences")) == 3
    report = catalog.load("report")
    assert "<h2>Across the grid</h2>" in report
    assert "diverged at learning_rate 1000 (1 of 1 runs)" in report
    assert catalog.exists("sweep_curves@figure")


def test_every_training_of_the_grid_is_a_child_run_with_its_grid_value(grid_project):
    from mlflow import MlflowClient

    project, _ = grid_project
    (parent, children), = tracked_runs(project_store(project))
    assert sorted(children) == sorted(NAMESPACES + CONFIRMATIONS + CROSS)
    for namespace in CONFIRMATIONS + CROSS:  # tagged, their setting logged once chosen
        confirmation = children.pop(namespace)
        assert confirmation.data.tags["confirm"] == "true"
        assert confirmation.data.params["grid.learning_rate"] == "0.05"
        assert confirmation.data.params["training.learning_rate"] == "0.05"
        assert confirmation.data.params["seed"] == "1000"
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


def test_the_registry_without_a_context_sees_the_matrix_of_the_environment(
        grid_project, monkeypatch):
    """What `kedro registry describe` builds: no context, the KEDRO_ENV configuration."""
    project, records = grid_project
    monkeypatch.chdir(project)
    monkeypatch.setenv("KEDRO_ENV", "smoke")
    pipelines = pipeline_registry.register_pipelines()
    assert sorted(n.namespace for n in pipelines["compare"].nodes
                  if n.name.endswith(".train_model")) == _trained(records)


def test_a_new_grid_value_trains_only_its_runs_with_only_missing_outputs(grid_project,
                                                                         tmp_path, caplog):
    project = shutil.copytree(grid_project[0], tmp_path / "project")
    _grid_env(project, {"learning_rate": [0.05, 0.2, 1000.0]})
    with caplog.at_level(logging.INFO):
        result = run_in_process(project, "--env=smoke", "--only-missing-outputs")
    assert result.exit_code == 0, result.output[-3000:]
    new = sorted(f"{v}.learning_rate_0p2.seed_{s}" for v in VARIANTS for s in SEEDS)
    assert _trained(caplog.records) == new
    assert any(r.getMessage().startswith("3/3 trainings done") for r in caplog.records)
    (_, children), _ = tracked_runs(project_store(project))  # tracked: only the new runs
    assert sorted(children) == new
    catalog = smoke_catalog(project)
    assert len(catalog.get("baseline.learning_rate_0p05.seed_42.model").list_versions()) == 1
