"""Interrupted runs lose nothing, the rerun completes, earlier versions stay usable."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess

import pytest

from tests.conftest import (
    KEDRO,
    OUTPUTS,
    project_store,
    run_in_process,
    smoke_catalog,
    tracked_runs,
)

pytestmark = pytest.mark.pipeline


def versions(project, relative):
    folder = project / "data" / "smoke" / relative
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def test_an_earlier_model_version_can_be_evaluated(smoke_project, tmp_path):
    project = shutil.copytree(smoke_project, tmp_path / "project")
    (first,) = versions(project, "06_models/baseline/seed_42/model.keras")
    first_metrics = (project / "data/smoke/07_model_output/baseline/seed_42/test_metrics.json"
                     / first / "test_metrics.json").read_text()

    # A second, different training (1 epoch) becomes the latest (not tracked: tracking
    # off writes nothing to the store) ...
    store = project / "mlflow.db"
    stored = (store.read_bytes(), store.stat().st_mtime_ns)
    result = run_in_process(project, "--env=smoke", "--namespaces=baseline",
                            "--params=training.epochs=1,tracking.enabled=false")
    assert result.exit_code == 0, result.output[-4000:]
    assert (store.read_bytes(), store.stat().st_mtime_ns) == stored
    # ... and the first run's model is evaluated again on request.
    result = run_in_process(project, "--pipelines=evaluation", "--env=smoke",
                            f"--load-versions=baseline.seed_42.model:{first}",
                            "--namespaces=baseline", "--params=tracking.enabled=false")
    assert result.exit_code == 0, result.output[-4000:]
    latest = versions(project, "07_model_output/baseline/seed_42/test_metrics.json")[-1]
    assert (project / "data/smoke/07_model_output/baseline/seed_42/test_metrics.json" / latest
            / "test_metrics.json").read_text() == first_metrics


def _interrupt(project, how):
    """Start a long run, signal it once a training is into epoch 2 (SIGINT: Ctrl-C, to
    the main process; SIGKILL: to the whole process group), and return (exit code,
    output)."""
    process = subprocess.Popen(
        [KEDRO, "run", "--env=smoke", "--params=training.epochs=100"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1",
                                     "MPLBACKEND": "Agg", "COLUMNS": "200"})
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "epoch 2/100" in line:
            break
    if how == signal.SIGKILL:
        os.killpg(process.pid, signal.SIGKILL)  # the run and all it started
    else:
        process.send_signal(how)
    seen.append(process.stdout.read())
    process.stdout.close()
    process.wait(timeout=120)
    output = "".join(seen)
    assert "epoch 2/100" in output, output[-3000:]
    return process.returncode, output


def test_ctrl_c_then_sigkill_lose_nothing_and_the_next_run_completes(smoke_project, tmp_path):
    """Ctrl-C stops the trainings (at their next chunk of steps: test_stopping.py), which
    save nothing, says so in one line, exits with 130 and closes the MLflow runs as
    KILLED; SIGKILL leaves nothing half-written; the next run completes."""
    project = shutil.copytree(smoke_project, tmp_path / "project")
    before = {p: p.read_bytes() for p in (project / "data" / "smoke").rglob("*") if p.is_file()}
    code, output = _interrupt(project, signal.SIGINT)
    assert code == 130, output[-3000:]
    (line,) = [line for line in output.splitlines() if line.startswith("Interrupted")]
    assert line.startswith("Interrupted (SIGINT): the run stopped; the trainings that were "
                           "running saved nothing") and "Traceback" not in output
    assert re.search(r"stopped at epoch \d+/100", output), output[-3000:]
    (parent, children), _ = tracked_runs(project_store(project))
    assert parent.info.status == "KILLED"
    assert {child.info.status for child in children.values()} == {"KILLED"}

    code, _ = _interrupt(project, signal.SIGKILL)
    assert code == -signal.SIGKILL

    # Every earlier file is still there, byte for byte; no half-written file anywhere.
    assert all(path.read_bytes() == content for path, content in before.items())
    assert not list((project / "data").rglob("*.partial*"))
    # The latest version of every output loads: the interrupted runs' files are complete
    # (arrays, initial models) or absent (trained models, tables), so the first run's
    # are the latest.
    catalog = smoke_catalog(project)
    for name in OUTPUTS:
        if name.endswith(("@figure", "confusion_matrix")):  # PNGs, saved by Matplotlib
            assert catalog.exists(name), name
        else:
            catalog.load(name)
    assert len(versions(project, "08_reporting/comparison_table.csv")) == 1

    rerun = run_in_process(project, "--env=smoke", "--params=training.epochs=1")
    assert rerun.exit_code == 0, rerun.output[-4000:]
    assert len(smoke_catalog(project).load("comparison_table")) == 3
    assert len(versions(project, "08_reporting/comparison_table.csv")) == 2
    assert len(versions(project, "06_models/baseline/seed_42/model.keras")) == 2
    assert tracked_runs(project_store(project))[0][0].info.status == "FINISHED"
