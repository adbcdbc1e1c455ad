"""Interrupted runs lose nothing, the rerun completes, earlier versions stay usable."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import (
    KEDRO,
    OUTPUTS,
    descendants,
    kedro,
    project_store,
    smoke_catalog,
    tracked_runs,
)

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


def test_an_earlier_model_version_can_be_evaluated(smoke_project, tmp_path):
    project = shutil.copytree(smoke_project, tmp_path / "project")
    (first,) = versions(project, "06_models/baseline/seed_42/model.keras")
    first_metrics = (project / "data/smoke/07_model_output/baseline/seed_42/test_metrics.json"
                     / first / "test_metrics.json").read_text()

    # A second, different training (1 epoch) becomes the latest (not tracked: tracking
    # off writes nothing to the store) ...
    store = project / "mlflow.db"
    stored = (store.read_bytes(), store.stat().st_mtime_ns)
    assert kedro(project, "run", "--env=smoke", "--namespaces=baseline",
                 "--params=training.epochs=1,tracking.enabled=false").returncode == 0
    assert (store.read_bytes(), store.stat().st_mtime_ns) == stored
    # ... and the first run's model is evaluated again on request.
    result = kedro(project, "run", "--pipeline=evaluation", "--env=smoke",
                   f"--load-versions=baseline.seed_42.model:{first}", "--namespaces=baseline")
    assert result.returncode == 0, result.stderr[-4000:]
    latest = versions(project, "07_model_output/baseline/seed_42/test_metrics.json")[-1]
    assert (project / "data/smoke/07_model_output/baseline/seed_42/test_metrics.json" / latest
            / "test_metrics.json").read_text() == first_metrics


def _interrupt(project, runner, how=signal.SIGINT):
    """Start a long run, signal it once a training is into epoch 2 (SIGINT: Ctrl-C, to
    the main process; SIGKILL: to the whole process group), and return (exit code,
    seconds until the process tree was gone, output)."""
    process = subprocess.Popen(
        [KEDRO, "run", "--env=smoke", "--params=training.epochs=30", f"--runner={runner}"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1",
                                     "MPLBACKEND": "Agg", "COLUMNS": "200"})
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "epoch 2/30" in line:
            break
    tree = descendants(process.pid)
    start = time.monotonic()
    if how == signal.SIGKILL:
        os.killpg(process.pid, signal.SIGKILL)  # the run and all its workers
    else:
        process.send_signal(how)
    seen.append(process.stdout.read())
    process.wait(timeout=60)
    while any(Path(f"/proc/{pid}").exists() for pid in tree) and time.monotonic() - start < 30:
        time.sleep(0.1)
    assert any("epoch 2/30" in line for line in seen), "".join(seen)[-3000:]
    return process.returncode, time.monotonic() - start, "".join(seen)


def test_interrupted_runs_lose_nothing_and_the_next_run_completes(smoke_project, tmp_path):
    """Ctrl-C under the default runner (threads) and the ParallelRunner (processes), then
    SIGKILL: each stops the run, leaves every earlier file as it was and nothing
    half-written; the next run completes."""
    project = shutil.copytree(smoke_project, tmp_path / "project")
    before = {p: p.read_bytes() for p in (project / "data" / "smoke").rglob("*") if p.is_file()}
    for runner in ("bn_compare.runner.ThreadRunner", "bn_compare.runner.ParallelRunner"):
        code, seconds, output = _interrupt(project, runner)
        assert code == 130, output[-3000:]
        assert seconds < 5, f"{runner}: the process tree took {seconds:.1f} s to end"
        (line,) = [line for line in output.splitlines() if line.startswith("Interrupted")]
        assert line.startswith("Interrupted (Ctrl-C): stopped ") and " at epoch " in line
        assert "nodes had completed" in line and "Traceback" not in output
    # Both interrupted runs are marked KILLED in MLflow, their trainings too.
    (second, second_children), (first, first_children) = tracked_runs(
        project_store(project))[:2]
    for parent, children in ((first, first_children), (second, second_children)):
        assert parent.info.status == "KILLED"
        assert {child.info.status for child in children.values()} == {"KILLED"}
    code, _, _ = _interrupt(project, "bn_compare.runner.ThreadRunner", signal.SIGKILL)
    assert code == -signal.SIGKILL

    # Every earlier file is still there, byte for byte; no half-written file anywhere.
    assert all(path.read_bytes() == content for path, content in before.items())
    assert not list((project / "data").rglob("*.partial*"))
    # The latest version of every output loads: the interrupted runs' files are complete
    # (arrays, initial models) or absent (trained models, tables), so the first run's
    # are the latest.
    catalog = smoke_catalog(project)
    for name in OUTPUTS:
        if name.endswith(("learning_curves", "confusion_matrix", "intervals")):  # PNGs
            assert catalog.exists(name), name
        else:
            catalog.load(name)
    assert len(versions(project, "08_reporting/comparison_table.csv")) == 1

    rerun = kedro(project, "run", "--env=smoke")
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert len(smoke_catalog(project).load("comparison_table")) == 3
    assert len(versions(project, "08_reporting/comparison_table.csv")) == 2
    assert len(versions(project, "06_models/baseline/seed_42/model.keras")) == 2
    assert tracked_runs(project_store(project))[0][0].info.status == "FINISHED"
