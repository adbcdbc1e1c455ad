"""Tracking to a real MLflow server, as a team would: `mlflow server` started here on
127.0.0.1, a smoke run logged to it over HTTP and found with its REST API, its UI in
Debian's chromium, and a server that goes away in the middle of a run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, KEDRO, VARIANTS, chromium_page, kedro, smoke_catalog

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
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    process = subprocess.Popen(
        [MLFLOW, "server", "--backend-store-uri", f"sqlite:///{folder / 'server.db'}",
         "--default-artifact-root", str(folder / "artifacts"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=5)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail(f"mlflow server did not start:\n{process.stdout.read()[-3000:]}")
            time.sleep(0.5)
    yield url
    os.killpg(process.pid, signal.SIGTERM)  # the server and its workers, by process id
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:  # uvicorn can wait on a connection the test cut
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def tracked(server, smoke_project, tmp_path_factory):
    project = shutil.copytree(smoke_project, tmp_path_factory.mktemp("tracked") / "project")
    result = kedro(project, "run", "--env=smoke", f"--params=tracking.uri={server}")
    assert result.returncode == 0, result.stderr[-4000:]
    experiment = _api(server, "experiments/get-by-name?experiment_name=bn-compare")
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
        assert sorted(m["step"] for m in history) == [1, 2]


def test_the_ui_lists_the_run_with_its_trainings(server, tracked):
    _, experiment = tracked
    with chromium_page() as page:
        page.goto(f"{server}/#/experiments/{experiment}/runs", wait_until="networkidle",
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


class _Proxy:
    """A TCP relay to the server that can be cut: the tracking server going away."""

    def __init__(self, target_port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.target, self.open, self.sockets = target_port, True, []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:  # accepted while being cut
                client.close()
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.open = False
        # close() alone leaves a thread blocked in accept() listening (Linux)
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass


def test_a_server_that_goes_away_mid_run_loses_no_output(server, smoke_project, tmp_path):
    project = shutil.copytree(smoke_project, tmp_path / "project")
    proxy = _Proxy(int(server.rsplit(":", 1)[1]))
    process = subprocess.Popen(
        [KEDRO, "run", "--env=smoke",
         f"--params=tracking.uri=http://127.0.0.1:{proxy.port},training.epochs=3"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "MPLBACKEND": "Agg",
             "COLUMNS": "200"})
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "epoch 1/3" in line:
            proxy.cut()
            break
    seen.append(process.stdout.read())
    process.wait(timeout=300)
    output = "".join(seen)
    assert process.returncode == 1, output[-3000:]
    assert output.count("failed (") == 1, output[-3000:]  # warned once
    assert "Error: The run completed and its outputs are saved, but tracking in MLflow" in output
    assert "Pipeline execution completed successfully" in output
    versions = sorted((project / "data/smoke/08_reporting/comparison_table.csv").iterdir())
    assert len(versions) == 2  # this run's comparison table was saved
    assert smoke_catalog(project).load("baseline.seed_42.history")["epoch"].tolist() == [1, 2, 3]
