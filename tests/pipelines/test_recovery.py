"""Interrupted runs lose nothing, the rerun completes, earlier versions stay usable."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pandas as pd
import pytest

from tests.conftest import KEDRO, OUTPUTS, kedro, smoke_catalog

pytestmark = pytest.mark.pipeline

TIMING_COLUMNS = ["seconds", "seconds_per_epoch"]


def versions(project, relative):
    folder = project / "data" / "smoke" / relative
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def read_version(project, relative, version):
    folder = project / "data" / "smoke" / relative
    return pd.read_csv(folder / version / folder.name)


def outputs_by_version(project):
    found = {}
    for file in (project / "data" / "smoke").rglob("*"):
        if file.is_file():
            found.setdefault(file.parent.name, set()).add(file.relative_to(project))
    return found


def test_sigkill_during_training_loses_nothing_and_the_rerun_completes(smoke_project, tmp_path):
    project = shutil.copytree(smoke_project, tmp_path / "project")
    before = {p: p.read_bytes() for p in (project / "data" / "smoke").rglob("*") if p.is_file()}
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "MPLBACKEND": "Agg", "COLUMNS": "200"}
    process = subprocess.Popen(
        [KEDRO, "run", "--pipeline=compare", "--env=smoke", "--params=training.epochs=30"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    seen = []
    deadline = time.monotonic() + 300
    for line in process.stdout:
        seen.append(line)
        if "epoch 2/30" in line or time.monotonic() > deadline:
            break
    os.killpg(process.pid, signal.SIGKILL)  # the run and all its workers
    process.wait()
    assert any("epoch 2/30" in line for line in seen), "".join(seen)[-3000:]

    # Every earlier file is still there, byte for byte; no half-written file anywhere.
    assert all(path.read_bytes() == content for path, content in before.items())
    assert not [p for p in (project / "data").rglob("*.partial")]
    # The latest version of every output loads: the killed run's files are complete
    # (arrays, initial models) or absent (trained models), so the previous run's are
    # the latest.
    catalog = smoke_catalog(project)
    for name in OUTPUTS:
        if name.endswith(("learning_curves", "confusion_matrix", "intervals")):  # PNGs
            assert catalog.exists(name), name
        else:
            catalog.load(name)
    table_versions = versions(project, "08_reporting/comparison_table.csv")
    assert len(table_versions) == 1

    rerun = kedro(project, "run", "--pipeline=compare", "--env=smoke")
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert len(versions(project, "08_reporting/comparison_table.csv")) == 2
    assert len(versions(project, "06_models/baseline/seed_42/model.keras")) == 2


def test_an_earlier_model_version_can_be_evaluated(smoke_project, tmp_path):
    project = shutil.copytree(smoke_project, tmp_path / "project")
    (first,) = versions(project, "06_models/baseline/seed_42/model.keras")
    first_metrics = (project / "data/smoke/07_model_output/baseline/seed_42/test_metrics.json"
                     / first / "test_metrics.json").read_text()

    # A second, different run (1 epoch) becomes the latest ...
    assert kedro(project, "run", "--env=smoke", "--params=training.epochs=1").returncode == 0
    # ... and the first run's model is evaluated again on request.
    result = kedro(project, "run", "--pipeline=evaluation", "--env=smoke",
                   f"--load-versions=baseline.seed_42.model:{first}", "--namespaces=baseline")
    assert result.returncode == 0, result.stderr[-4000:]
    latest = versions(project, "07_model_output/baseline/seed_42/test_metrics.json")[-1]
    assert (project / "data/smoke/07_model_output/baseline/seed_42/test_metrics.json" / latest
            / "test_metrics.json").read_text() == first_metrics
