"""Tracking to a real MLflow server, as a team would: `mlflow server` started here on
127.0.0.1, a smoke run logged to it over HTTP and found with its REST API, and its UI in
Debian's chromium. (A server that fails mid-run: tests/test_tracking.py.)"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import (
    ARTIFACTS,
    KEDRO,
    VARIANTS,
    chromium_page,
    run_in_process,
    smoke_catalog,
)

pytestmark = pytest.mark.pipeline

MLFLOW = str(Path(KEDRO).with_name("mlflow"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(url: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/api/2.0/mlflow/{path}", data=json.dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json"}, method="POST" if body else "GET")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def server_process(tmp_path_factory):
    """``mlflow server`` on a free port, starting (its imports take 10-15 s)."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port, log = _free_port(), folder / "server.log"
    with log.open("w") as output:  # a file, not a pipe: a full pipe would block the server
        process = subprocess.Popen(
            [MLFLOW, "server", "--backend-store-uri", f"sqlite:///{folder / 'server.db'}",
             "--default-artifact-root", str(folder / "artifacts"), "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    yield process, f"http://127.0.0.1:{port}", log
    os.killpg(process.pid, signal.SIGKILL)  # the server and its workers: a test store
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(server_process, smoke_project):
    """The server's URL once it answers (the smoke run, if not done yet, runs meanwhile)."""
    process, url, log = server_process
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=5)
            return url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def tracked(server, smoke_project, tmp_path_factory):
    project = shutil.copytree(smoke_project, tmp_path_factory.mktemp("tracked") / "project")
    result = run_in_process(project, "--env=smoke",
                            f"--params=tracking.uri={server},training.epochs=1")
    assert result.exit_code == 0, result.output[-4000:]
    experiment = _api(server, "experiments/get-by-name?experiment_name=smoke")  # the study's
    return project, experiment["experiment"]["experiment_id"]


def test_the_run_and_its_trainings_are_found_with_the_rest_api(server, tracked):
    project, experiment = tracked
    runs = _api(server, "runs/search", {"experiment_ids": [experiment]})["runs"]
    (parent,) = [r for r in runs if not any(t["key"] == "mlflow.parentRunId"
                                            for t in r["data"].get("tags", []))]
    children = [r for r in runs if r is not parent]
    assert sorted(r["info"]["run_name"] for r in children) == [f"{v}.seed_42" for v in VARIANTS]
    table = smoke_catalog(project).load("comparison_table").set_index("variant")
    for child in children:
        metrics = {m["key"]: m["value"] for m in child["data"]["metrics"]}
        variant = child["info"]["run_name"].split(".")[0]
        assert metrics["test_accuracy"] == pytest.approx(table.loc[variant, "test_accuracy"])
        history = _api(server, f"metrics/get-history?run_id={child['info']['run_id']}"
                               f"&metric_key=val_accuracy")["metrics"]
        assert sorted(m["step"] for m in history) == [1]


def test_the_ui_lists_the_run_with_its_trainings(server, tracked):
    _, experiment = tracked
    with chromium_page() as page:
        page.goto(f"{server}/#/experiments/{experiment}/runs", wait_until="load",
                  timeout=90_000)
        parent = page.locator("[role=row]").filter(has_text="compare smoke").first
        parent.wait_for(timeout=60_000)
        # the + before the run's name shows its child runs
        parent.locator("[col-id='attributes.`Run Name`'] button").first.click()
        for variant in VARIANTS:
            page.get_by_text(f"{variant}.seed_42").first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "mlflow-ui.png"))
        text = page.inner_text("body")
    assert all(f"{variant}.seed_42" in text for variant in VARIANTS)
