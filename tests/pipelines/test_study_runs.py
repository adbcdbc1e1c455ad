"""Each shipped study (conf/<study>, merged over conf/base as Kedro merges it) runs end to
end in memory, at smoke size: one seed, one epoch, a few hundred synthetic images, one
confirmation seed, and the grid cut to two points per key (a grid of one block: each list
to its first and last value; of several blocks: the first and last block, each to its
first point; every variant kept). The full sizes: tests/test_studies.py;
the catalog's files and `kedro run` itself: test_grid_run.py. Two files (this one and
test_study_runs_more.py): pytest-xdist runs each file on one worker."""

from __future__ import annotations

import pytest

from bn_compare import settings
from tests.conftest import PROJECT_ROOT
from tests.pipelines.test_pipeline_in_memory import run_in_memory

FINDINGS = {"equivalent", "better", "worse", "not conclusive",
            "no interval (fewer than 3 distinct values)"}
STUDIES = {  # study: (grid runs, confirmation runs, best-setting pairs, the first answer's start)
    "lr_sweep": (3 * 2, 3, 3, "At each variant's best learning rate, on 1 confirmation seed "
                 "(1000): Does BatchNormalization help?"),
    "optimizer_sweep": (3 * 2, 3, 3, "At each variant's best learning rate and optimizer, on 1 "
                        "confirmation seed (1000): Does BatchNormalization"),
    "normalizers": (7 * 2, 7, 21, "At each variant's best learning rate, on 1 confirmation "
                    "seed (1000): Does normalization help?"),
    "batch_sweep": (3 * 2, 3 * 2, 3 * 2, "At each variant's best learning rate for "
                    "batch_size=8, on 1 confirmation seed (1000): Does BatchNormalization"),
}
SECTIONS = ["<h3>At each variant's best setting</h3>", "Confirmation: each variant was trained",
            "<h3>The grid</h3>", "<h4>At each grid point</h4>",
            "<h3>Stability: which settings each variant tolerates</h3>"]


def smoke_size(study: str, **sections):
    """The study's parameters at smoke size, run in memory: its catalog afterwards."""
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(PROJECT_ROOT / "conf"), env=study,
                                          **settings.CONFIG_LOADER_ARGS)
    parameters = loader["parameters"]
    blocks = parameters["grid"] if isinstance(parameters["grid"], list) else [parameters["grid"]]
    grid = [{key: values[:1] if len(blocks) > 1 else [values[0], values[-1]]
             for key, values in block.items()} for block in (blocks[0], blocks[-1])[:len(blocks)]]
    return run_in_memory(parameters, **{"grid": grid, "training": {"seeds": [42], "epochs": 1},
                                        **sections})


def run_study(study: str) -> None:
    grid_runs, confirmations, pairs, first_answer = STUDIES[study]
    # the cross confirmation here in lr_sweep only: it is the same nodes in every study
    catalog = smoke_size(study, confirm={"seeds": [1000], "cross": study == "lr_sweep"})

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
    columns = list(catalog.load("comparison_table").columns)
    keys = columns[1:columns.index("seed")]  # the grid's keys, between variant and seed
    assert ("Best learning_rate per" in report) == (len(keys) > 1)  # a table per panel


@pytest.mark.long
def test_the_ablation_decomposes_each_bn_variants_gain():
    """Its twelve variants at one learning rate, one seed: each change's effect has a value
    (no interval from one seed: the intervals are tests/pipelines/test_ablation.py's)."""
    catalog = smoke_size("ablation", grid={"learning_rate": [0.1]})
    assert len(catalog.load("comparison_table")) == 12
    effects = catalog.load("ablation_effects")
    assert set(effects["variant"]) == {"bn_after_activation", "bn_before_activation"}
    assert set(effects["factor"]) == {"total", "activation", "input_bn", "hidden_bn"}
    assert "<h2>How much of the gain is BN</h2>" in catalog.load("report")


@pytest.mark.long
@pytest.mark.parametrize("study", ["batch_sweep", "lr_sweep"])
def test_a_study_runs_its_grid_and_confirms_each_best_setting(study):
    run_study(study)
