"""Each shipped study (conf/<study>, merged over conf/base as Kedro merges it) runs end to
end in memory, at smoke size: one seed, one epoch, a few hundred synthetic images, one
confirmation seed, and the grid cut to two points per key (a grid of one block: each list
to its first and last value; of several blocks: each block to its first point; every
block, variant, optimizer and batch size kept). The full sizes: tests/test_studies.py;
the catalog's files and `kedro run` itself: test_grid_run.py. Two files (this one and
test_study_runs_more.py): pytest-xdist runs each file on one worker."""

from __future__ import annotations

import pytest

from bn_compare import settings
from tests.conftest import PROJECT_ROOT
from tests.pipelines.test_pipeline_in_memory import run_in_memory

FINDINGS = {"equivalent", "better", "worse", "not conclusive"}
STUDIES = {  # study: (grid runs, confirmation runs, best-setting pairs, the first answer's start)
    "lr_sweep": (3 * 2, 3, 3, "At each variant's best setting: Does BatchNormalization help?"),
    "optimizer_sweep": (3 * 2, 3, 3, "At each variant's best setting: Does BatchNormalization"),
    "normalizers": (7 * 2, 7, 21, "At each variant's best setting: Does normalization help?"),
    "batch_sweep": (3 * 4, 3 * 4, 3 * 4,
                    "At each variant's best setting for batch_size=8: Does BatchNormalization"),
}
SECTIONS = ["<h3>At each variant's best setting</h3>", "Confirmation: each variant was trained",
            "<h3>The grid</h3>", "<h4>At each grid point</h4>",
            "<h3>Stability: which settings each variant tolerates</h3>"]


def run_study(study: str) -> None:
    grid_runs, confirmations, pairs, first_answer = STUDIES[study]
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(PROJECT_ROOT / "conf"), env=study,
                                          **settings.CONFIG_LOADER_ARGS)
    parameters = loader["parameters"]
    blocks = parameters["grid"] if isinstance(parameters["grid"], list) else [parameters["grid"]]
    grid = [{key: values[:1] if len(blocks) > 1 else [values[0], values[-1]]
             for key, values in block.items()} for block in blocks]

    catalog = run_in_memory(parameters, grid=grid, training={"seeds": [42], "epochs": 1},
                            confirm={"seeds": [1000]})

    assert len(catalog.load("comparison_table")) == grid_runs
    assert len(catalog.load("confirmation_table")) == confirmations
    differences = catalog.load("best_setting_differences")
    assert len(differences) == pairs
    assert set(differences["finding"]) <= FINDINGS
    assert catalog.load("verdict")["answers"][0]["text"].startswith(first_answer)
    report = catalog.load("report")
    positions = [report.find(section) for section in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)  # fresh seeds first, then the grid, then stability
    assert ("Best learning_rate per" in report) == (len(grid[0]) > 1)  # a table per panel


@pytest.mark.long
@pytest.mark.parametrize("study", ["batch_sweep", "lr_sweep"])
def test_a_study_runs_its_grid_and_confirms_each_best_setting(study):
    run_study(study)
