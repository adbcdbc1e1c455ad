"""Each shipped study (conf/<study>), run end to end as `kedro run --env=<study>` runs it
(the project's CLI, in this process) on the real data at smoke size: one seed, one epoch,
500 training images, one confirmation seed, and each list of the grid cut to its first and
last value (every block, variant, optimizer and batch size kept; the full sizes are checked
in tests/test_studies.py). Kedro takes one `--env`, and lists cannot travel in `--params`,
so each test writes the combined environment. The studies are split over three files:
pytest-xdist runs each file on one worker."""

from __future__ import annotations

import pytest
import yaml

from bn_compare.pipelines.reporting.nodes import FINDINGS
from tests.conftest import make_project_copy, run_in_process, smoke_catalog

pytestmark = pytest.mark.pipeline

SMALL = {"training": {"seeds": [42], "epochs": 1}, "confirm": {"seeds": [1000]},
         "data": {"validation_size": 500, "max_train_images": 500}}
STUDIES = {  # study: (grid runs, confirmation runs, best-setting pairs, the first answer's start)
    "lr_sweep": (3 * 2, 3, 3, "At each variant's best setting: Does BatchNormalization help?"),
    "optimizer_sweep": (3 * 4, 3, 3, "At each variant's best setting: Does BatchNormalization"),
    "normalizers": (7 * 2, 7, 21, "At each variant's best setting: Does normalization help?"),
    "batch_sweep": (3 * 8, 3 * 4, 3 * 4,
                    "At each variant's best setting for batch_size=8: Does BatchNormalization"),
}
SECTIONS = ["<h3>At each variant's best setting</h3>", "Confirmation: each variant was trained",
            "<h3>The grid</h3>", "<h4>At each grid point</h4>",
            "<h3>Stability: which settings each variant tolerates</h3>"]


def run_study(tmp_path, study: str) -> None:
    grid_runs, confirmations, pairs, first_answer = STUDIES[study]
    project = make_project_copy(tmp_path / "project")
    conf = project / "conf"
    parameters = yaml.safe_load((conf / study / "parameters.yml").read_text())
    for section, values in SMALL.items():
        parameters[section] = {**parameters.get(section, {}), **values}
    blocks = parameters["grid"] if isinstance(parameters["grid"], list) else [parameters["grid"]]
    parameters["grid"] = [{key: values[::len(values) - 1] if len(values) > 2 else values  # noqa: PLR2004
                           for key, values in block.items()} for block in blocks]
    (conf / "smoke" / "parameters.yml").write_text(yaml.safe_dump(parameters))

    result = run_in_process(project, "--env=smoke", "--params=tracking.enabled=false")

    assert result.exit_code == 0, result.output[-4000:]
    catalog = smoke_catalog(project)
    assert len(catalog.load("comparison_table")) == grid_runs
    assert len(catalog.load("confirmation_table")) == confirmations
    differences = catalog.load("best_setting_differences")
    assert len(differences) == pairs
    assert set(differences["finding"]) <= set(FINDINGS)
    assert catalog.load("verdict")["answers"][0]["text"].startswith(first_answer)
    report = catalog.load("report")
    positions = [report.find(section) for section in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)  # fresh seeds first, then the grid, then stability
    two_keys = len(parameters["grid"][0]) > 1
    assert ("Best learning_rate per" in report) == two_keys  # a table per figure panel


@pytest.mark.parametrize("study", ["lr_sweep", "normalizers"])
def test_a_study_runs_its_grid_and_confirms_each_best_setting(tmp_path, study):
    run_study(tmp_path, study)
