"""`kedro viz` on a smoke run: the REST API, the page in Debian's chromium, the static
build, and the notebook that reads the catalog."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import (
    ARTIFACTS,
    KEDRO,
    PROJECT_ROOT,
    VARIANTS,
    chromium_page,
    descendants,
)
from tests.pipelines.test_viz_view import SIZE_WARNING, study_pipeline, top_level_view

pytestmark = pytest.mark.pipeline

LAYERS = ["raw", "model_input", "models", "model_output", "reporting"]


def _free_port() -> int:
    # Kedro-Viz refuses ports above 49151, where the OS hands out ephemeral ones.
    for port in random.Random().sample(range(20000, 45000), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 45000")


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)



@pytest.fixture(scope="module")
def viz(smoke_project):
    port = _free_port()
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "KEDRO_ENV": "smoke"}
    start = time.monotonic()
    process = subprocess.Popen(
        [KEDRO, "viz", "run", "--no-browser", "--host", "127.0.0.1", "--port", str(port),
         "--env", "smoke"],
        cwd=smoke_project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            main = _get(f"{url}/api/main")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() - start > 180:
                process.kill()
                pytest.fail(f"kedro viz did not start:\n{process.stdout.read()[-4000:]}")
            time.sleep(0.5)
    startup = time.monotonic() - start
    yield {"url": url, "main": main, "process": process, "startup": startup}
    os.killpg(process.pid, 15)
    process.wait(timeout=30)


def test_api_shows_one_namespace_per_variant_layers_and_parameters(viz):
    main = viz["main"]
    namespaces = {node["name"] for node in main["nodes"] if node["type"] == "modularPipeline"}
    assert set(VARIANTS) <= namespaces
    assert {f"{v}.seed_42" for v in VARIANTS} <= namespaces  # a seed inside each variant
    assert [layer for layer in main["layers"] if layer in LAYERS] == LAYERS
    by_name = {node["name"]: node for node in main["nodes"]}
    assert by_name["comparison_table"]["layer"] == "reporting"
    assert by_name["fashion_mnist_raw"]["layer"] == "raw"
    assert by_name["x_train"]["layer"] == "model_input"
    assert any(node["type"] == "parameters" for node in main["nodes"])


def _first_view(main: dict) -> tuple[set[str], set[tuple[str, str]]]:
    """What the page first draws, by name (the bundle's selectors): every modular pipeline
    collapsed, so the root's children and the inputs and outputs of the top-level ones,
    parameters hidden; and the edges between those."""
    by_id = {node["id"]: node for node in main["nodes"]}
    tree = main["modular_pipelines"]
    shown = {child["id"] for child in tree["__root__"]["children"]}
    shown |= {io for group in shown & tree.keys()
              for io in (*tree[group]["inputs"], *tree[group]["outputs"])}
    shown = {node for node in shown if by_id[node]["type"] != "parameters"}
    edges = {(by_id[edge["source"]]["name"], by_id[edge["target"]]["name"])
             for edge in main["edges"] if {edge["source"], edge["target"]} <= shown}
    return {by_id[node]["name"] for node in shown}, edges


def test_the_first_view_is_the_one_computed_from_the_pipeline(viz, smoke_project):
    names, edges = _first_view(viz["main"])
    view = top_level_view(study_pipeline("smoke", smoke_project))
    assert names == view.groups | view.tasks | view.datasets
    assert edges == view.edges
    assert view.groups == set(VARIANTS) and view.size < SIZE_WARNING


def test_comparison_table_preview(viz):
    node = next(n for n in viz["main"]["nodes"] if n["name"] == "comparison_table")
    detail = _get(f"{viz['url']}/api/nodes/{node['id']}")
    preview = json.dumps(detail.get("preview"))
    for variant in VARIANTS:
        assert variant in preview
    assert "test_accuracy" in preview


def test_drawing_the_graph_never_imports_tensorflow(viz):
    for pid in descendants(viz["process"].pid):
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "libtensorflow" not in maps, f"process {pid} loaded TensorFlow"


def test_page_renders_the_variant_namespaces_in_chromium(viz):
    with chromium_page() as page:
        page.goto(viz["url"], wait_until="load", timeout=60_000)
        page.wait_for_selector(".pipeline-node", timeout=60_000)
        text = page.inner_text("body").lower()
        page.screenshot(path=str(ARTIFACTS / "kedro-viz.png"), full_page=True)
    for variant in VARIANTS:
        pretty = variant.replace("_", " ")
        assert variant in text or pretty in text, variant


def test_notebook_runs_against_the_catalog(smoke_project, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / "compare_variants.ipynb", 4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    monkeypatch.setenv("KEDRO_ENV", "smoke")  # the kernel inherits it
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(smoke_project)}}).execute()
    outputs = "".join(str(o) for cell in notebook.cells for o in cell.get("outputs", []))
    assert "BN parameters: 4736" in outputs
    assert "image/png" in outputs
