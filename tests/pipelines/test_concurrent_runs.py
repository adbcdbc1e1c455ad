"""Runs started at once in one project: a run loads what it saved, never a newer version
another run saved meanwhile; runs started in the same millisecond get distinct versions;
and, as real `kedro run` processes on a fresh project (no MLflow store yet), two runs of one
study and one of another all complete, each with its own outputs, models and MLflow runs.
(The store's first use and an experiment two processes create: bn_compare/tracking.py,
tests/test_tracking.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import warnings
import zipfile
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import Version

from bn_compare.datasets import JSONDataset, NumpyDataset
from bn_compare.datasets.versions import claim_version
from tests.conftest import KEDRO, VARIANTS, make_project_copy, project_store, tracked_runs

EARLIER, LATER, UNSAVED = "2026-01-01T00.00.00.000Z", "2026-01-01T00.00.01.000Z", \
    "2026-01-01T00.00.02.000Z"


@pytest.mark.parametrize(("kind", "data"), [(NumpyDataset, np.arange(3)),  # the project's own
                                            (JSONDataset, {"run": 1})])    # kedro-datasets'
def test_a_run_loads_what_it_saved_even_when_a_later_run_saved_first(tmp_path, kind, data):
    """Kedro loads the latest version: a run whose save version is older than another's
    (started earlier) would load what the other saved, after Kedro's warning "Save version
    ... did not match load version" (kedro-org/kedro#2694)."""
    path = str(tmp_path / f"table.{'npy' if kind is NumpyDataset else 'json'}")
    earlier = kind(filepath=path, version=Version(None, EARLIER))  # as the run's catalog has it
    kind(filepath=path, version=Version(None, LATER)).save(np.arange(4) if kind is NumpyDataset
                                                           else {"run": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        earlier.save(data)
    np.testing.assert_equal(earlier.load(), data)
    np.testing.assert_equal(kind(filepath=path, version=Version(None, EARLIER)).load(), data)
    # What a run did not save is the latest, or the version --load-versions names
    assert kind(filepath=path, version=Version(None, UNSAVED)).resolve_load_version() == LATER
    assert kind(filepath=path, version=Version(EARLIER, UNSAVED)).resolve_load_version() \
        == EARLIER


def test_runs_started_in_the_same_millisecond_get_distinct_versions(tmp_path):
    version = "2026-01-01T00.00.59.999Z"  # Kedro's session id: the time in milliseconds
    claimed = [claim_version(tmp_path, version) for _ in range(3)]
    assert claimed == [version, "2026-01-01T00.01.00.000Z", "2026-01-01T00.01.00.001Z"]


# Two runs of the smoke study that train different models (an evaluation that loaded the
# other's model would give the other's test accuracy) and one of another study, small
RUNS = [("smoke", 0.001), ("smoke", 0.1), ("other", 0.001)]
SMALL = {"data": {"validation_size": 500, "max_train_images": 1000}, "training": {"epochs": 1}}


def _small_environments(project):
    smoke = project / "conf" / "smoke"
    parameters = yaml.safe_load((smoke / "parameters.yml").read_text())
    for section, values in SMALL.items():
        parameters[section] = {**parameters.get(section, {}), **values}
    (smoke / "parameters.yml").write_text(yaml.safe_dump(parameters))
    (other := project / "conf" / "other").mkdir()
    (other / "parameters.yml").write_text(yaml.safe_dump(parameters))
    (other / "globals.yml").write_text("study: other\n")


def saved_accuracy(study_folder, namespace, version):
    path = study_folder / "07_model_output" / namespace.replace(".", "/") / "test_metrics.json"
    return json.loads((path / version / "test_metrics.json").read_text())["test_accuracy"]


def _versions_by_dataset(study_folder):
    """Each versioned dataset's folder (relative) and the versions it holds."""
    found = defaultdict(set)
    for file in study_folder.rglob("*"):
        if file.is_file() and "01_raw" not in file.parts:
            found[file.parent.parent.relative_to(study_folder)].add(file.parent.name)
    return found


@pytest.mark.pipeline
def test_runs_started_at_once_all_complete_each_with_its_own_versions_and_mlflow_runs(
        tmp_path):
    project = make_project_copy(tmp_path / "project")
    _small_environments(project)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "MPLBACKEND": "Agg", "COLUMNS": "200"}
    processes = [subprocess.Popen(
        [KEDRO, "run", f"--env={study}", f"--params=training.learning_rate={rate}"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for study, rate in RUNS]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-5000:]

    # One MLflow parent per run, in its study's experiment, with one finished child per
    # training; its tag kedro.run_id is the run's save version
    runs = {}
    for study in ("smoke", "other"):
        for parent, children in tracked_runs(project_store(project), study):
            rate = json.loads(parent.data.tags["kedro.params"])["training"]["learning_rate"]
            runs[study, rate] = parent.data.tags["kedro.run_id"]
            assert parent.info.status == "FINISHED"
            assert sorted(children) == [f"{v}.seed_42" for v in VARIANTS]
            assert {child.info.status for child in children.values()} == {"FINISHED"}
            for namespace, child in children.items():
                assert child.data.metrics["test_accuracy"] == saved_accuracy(
                    project / "data" / study, namespace, runs[study, rate])
    assert sorted(runs) == sorted(RUNS)
    assert len(set(runs.values())) == len(RUNS)

    # Every output of a study holds one version per run of that study, none missing
    versions = {study: _versions_by_dataset(project / "data" / study)
                for study in ("smoke", "other")}
    assert set(versions["smoke"]) == set(versions["other"])  # the same outputs
    for study, found in versions.items():
        assert found == {dataset: {runs[s, r] for s, r in RUNS if s == study}
                         for dataset in found}

    # Each run saved the model it trained and evaluated it: its comparison table has its
    # own test metrics, and the two smoke runs' differ for every variant (an evaluation of
    # the other run's model would give the other's)
    accuracy = {}
    for (study, rate), version in runs.items():
        folder = project / "data" / study
        table = pd.read_csv(folder / "08_reporting" / "comparison_table.csv" / version
                            / "comparison_table.csv").set_index("variant")
        for variant in VARIANTS:
            with zipfile.ZipFile(folder / "06_models" / variant / "seed_42" / "model.keras"
                                 / version / "model.keras") as model:
                config = json.loads(model.read("config.json"))["compile_config"]
            assert config["optimizer"]["config"]["learning_rate"] == pytest.approx(rate)
            accuracy[study, rate, variant] = saved_accuracy(folder, f"{variant}.seed_42", version)
            assert table.loc[variant, "test_accuracy"] == accuracy[study, rate, variant]
    assert all(accuracy["smoke", 0.001, v] != accuracy["smoke", 0.1, v] for v in VARIANTS)
