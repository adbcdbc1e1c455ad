"""The wiring, in memory and in seconds (the Kedro starters' pattern): `compare` built for
a small run matrix, a DataCatalog of in-memory datasets with a few hundred synthetic
images, run with a runner, and the outputs checked."""

from __future__ import annotations

import functools
import io

import numpy as np
import pandas as pd
import pytest
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from bn_compare.pipelines.compare import create_pipeline
from bn_compare.runner import ThreadRunner
from tests.conftest import PROJECT_ROOT, context_for

SMALL = {"validation_size": 100, "max_train_images": 300}


class KeptDataset(MemoryDataset):
    """A memory dataset the runner does not empty after its last use (the test reads
    every output afterwards); models pass by reference, never deep-copied."""

    def __init__(self, data=None, metadata=None):
        super().__init__(data=data, copy_mode="assign", metadata=metadata)

    def _release(self) -> None:
        pass


class FigureInMemory(KeptDataset):
    """A plot's two faces in memory: ``<plot>@figure`` saves a Figure, ``<plot>@png``
    loads its PNG bytes (as the catalog's two datasets on one file do)."""

    def save(self, data) -> None:
        buffer = io.BytesIO()
        if data is not None:
            data.savefig(buffer, format="png")
        super().save(buffer.getvalue())


def synthetic_raw(train=400, test=100, seed=0):
    """Images whose class is the bright band they hold: learnable in a few steps."""
    rng = np.random.default_rng(seed)

    def images(count):
        labels = rng.integers(0, 10, count).astype(np.uint8)
        pixels = rng.integers(0, 60, (count, 28, 28)).astype(np.uint8)
        for image, label in zip(pixels, labels, strict=True):
            image[2 * label:2 * label + 3] = 255
        return pixels, labels

    (train_images, train_labels), (test_images, test_labels) = images(train), images(test)
    return {"train_images": train_images, "train_labels": train_labels,
            "test_images": test_images, "test_labels": test_labels}


@functools.cache
def _project_catalog() -> DataCatalog:
    """conf/base's catalog: where the in-memory datasets take their metadata from."""
    from kedro.config import OmegaConfigLoader

    from bn_compare.settings import CONFIG_LOADER_ARGS

    conf = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), **CONFIG_LOADER_ARGS)["catalog"]
    return DataCatalog.from_config(conf)


def in_memory_catalog(pipeline, raw: dict, parameters) -> DataCatalog:
    """A dataset in memory for each of the pipeline's, with the catalog's metadata, and
    the parameters as Kedro hands them to nodes."""
    project = _project_catalog()
    datasets = {name: KeptDataset(metadata=getattr(project.get(name), "metadata", None))
                for name in pipeline.datasets()}
    for plot in {name.split("@")[0] for name in datasets if "@" in name}:
        datasets[f"{plot}@figure"] = datasets[f"{plot}@png"] = FigureInMemory()
    catalog = DataCatalog({**datasets, "parameters": KeptDataset(raw)})
    catalog.save("fashion_mnist_raw", synthetic_raw())
    catalog.save("provenance", {"commit": "abc1234", "machine": "AMD EPYC, 2 cores, AVX2"})
    typed = {**dict(parameters), "variants": raw["variants"]}
    for name in pipeline.inputs():
        if name.startswith("params:"):
            section, *path = name.removeprefix("params:").split(".")
            value = typed[section]
            for key in path:
                value = value[key] if isinstance(value, dict) else getattr(value, key)
            catalog.save(name, value)
    return catalog


def small_parameters(base_parameters, variants=None, **sections) -> dict:
    """conf/base's parameters on a few hundred images, ``sections`` merged key by key,
    only ``variants`` if given."""
    raw = {**base_parameters, "data": {**base_parameters["data"], **SMALL}}
    for key, values in sections.items():
        raw[key] = values if isinstance(values, list) else {**raw.get(key, {}), **values}
    if variants is not None:
        raw["variants"] = {name: base_parameters["variants"][name] for name in variants}
    return raw


def run_in_memory(base_parameters, runner=None, variants=None, hooks=(), run_id="test",
                  **sections):
    """``compare`` for the parameters (see ``small_parameters``) on synthetic data, with
    ``hooks`` called as ``kedro run`` calls them; returns the catalog after the run."""
    raw = small_parameters(base_parameters, variants, **sections)
    context = context_for(raw)
    pipeline = create_pipeline(context.run_matrix)
    catalog = in_memory_catalog(pipeline, raw, context.run_matrix.parameters)
    manager = _create_hook_manager()
    for hook in hooks:
        manager.register(hook)
    manager.hook.after_context_created(context=context)
    run_params = {"run_id": run_id, "env": "test", "pipeline_names": ["compare"],
                  "runner": str(runner), "runtime_params": {}}
    manager.hook.before_pipeline_run(run_params=run_params, pipeline=pipeline,
                                     catalog=catalog)
    try:
        (runner or SequentialRunner()).run(pipeline, catalog, manager, run_id=run_id)
    except Exception as error:
        manager.hook.on_pipeline_error(error=error, run_params=run_params,
                                       pipeline=pipeline, catalog=catalog)
        raise
    manager.hook.after_pipeline_run(run_params=run_params, run_result={},
                                    pipeline=pipeline, catalog=catalog)
    return catalog


@pytest.fixture(scope="module")
def two_seeds(base_parameters):
    return run_in_memory(base_parameters, training={"seeds": [42, 43], "epochs": 2})


def test_every_run_is_trained_evaluated_and_collected(two_seeds):
    table = two_seeds.load("comparison_table")
    assert list(zip(table["variant"], table["seed"], strict=True)) == [
        (v, s) for v in ("baseline", "bn_after_activation", "bn_before_activation")
        for s in (42, 43)]
    assert table["total_params"].tolist() == [266_610] * 2 + [271_346] * 4
    assert table["test_accuracy"].between(0, 1).all() and not table["diverged"].any()
    assert len(two_seeds.load("learning_curve_table")) == 6 * 2
    assert two_seeds.load("baseline.seed_43.history")["epoch"].tolist() == [1, 2]
    assert two_seeds.load("bn_after_activation.seed_42.model").count_params() == 271_346


def test_statistics_and_report_cover_every_variant(two_seeds):
    statistics = two_seeds.load("variant_statistics")
    assert set(statistics["variant"]) == {"baseline", "bn_after_activation",
                                          "bn_before_activation"}
    assert (statistics["seeds"] == 2).all()
    test = statistics[statistics["metric"] == "test_accuracy"].iloc[0]
    assert test["n"] == 2 and test["ci_low"] < test["mean"] < test["ci_high"]
    pairwise = two_seeds.load("pairwise_differences")
    assert pairwise["n"].tolist() == [2, 2, 2]  # two seeds: no interval, and it says so
    assert set(pairwise["finding"]) == {"no interval (fewer than 3 distinct values)"}
    report = two_seeds.load("report")
    assert "2 seeds per variant" in report and "300 training, 100 validation" in report


def test_each_seeds_numbers_do_not_depend_on_the_other_seeds(base_parameters, two_seeds):
    alone = run_in_memory(base_parameters, training={"seeds": [43], "epochs": 2})
    both = two_seeds.load("comparison_table")
    columns = ["variant", "seed", "final_val_accuracy", "test_accuracy", "test_loss"]
    pd.testing.assert_frame_equal(
        both[both["seed"] == 43].reset_index(drop=True)[columns],
        alone.load("comparison_table")[columns], check_exact=True)


def test_a_grid_of_blocks_with_an_absurd_learning_rate_reports_the_divergence(
        base_parameters):
    """Two blocks (a learning-rate range per optimizer), one learning rate absurd."""
    catalog = run_in_memory(base_parameters, variants=["baseline", "bn_after_activation"],
                            training={"epochs": 2}, confirm={"seeds": []}, grid=[
                                {"optimizer": ["SGD"], "learning_rate": [0.05, 1e4]},
                                {"optimizer": ["Adam"], "learning_rate": [0.001]}])
    table = catalog.load("comparison_table")
    assert list(table.columns[:4]) == ["variant", "learning_rate", "optimizer", "seed"]
    assert len(table) == 2 * 3 and len(catalog.load("sweep_table")) == 2 * 3
    assert table.loc[table["learning_rate"] == 1e4, "diverged"].all()
    assert not table.loc[table["learning_rate"] != 1e4, "diverged"].any()
    best = catalog.load("best_settings")
    assert set(best["learning_rate"]) <= {0.05, 0.001}
    assert "diverged at learning_rate=10000, optimizer=SGD (1 of 1 runs)" in catalog.load(
        "report")


def test_a_grid_is_confirmed_on_fresh_seeds_at_each_variants_best_setting(base_parameters):
    """The grid's seed chooses each variant's best learning rate; two fresh seeds are
    trained there, and the differences at the best settings are theirs alone; both are
    also trained at the best variant's best, and compared there."""
    catalog = run_in_memory(base_parameters, variants=["baseline", "bn_after_activation"],
                            training={"epochs": 2}, grid={"learning_rate": [0.05, 0.005]},
                            confirm={"seeds": [1000, 1001]})
    best = catalog.load("best_settings").set_index("variant")["learning_rate"]
    confirmation = catalog.load("confirmation_table")
    assert confirmation[["variant", "seed"]].values.tolist() == [
        ["baseline", 1000], ["baseline", 1001],
        ["bn_after_activation", 1000], ["bn_after_activation", 1001]]
    assert (confirmation["learning_rate"] == confirmation["variant"].map(best)).all()
    assert catalog.load("confirm.baseline.seed_1000.setting") == {
        "learning_rate": best["baseline"]}
    (difference,) = catalog.load("best_setting_differences").to_dict("records")
    assert difference["n"] == 2  # the confirmation's seeds, not the grid's one
    grid_runs = catalog.load("comparison_table")
    assert set(grid_runs["seed"]) == {42}  # the confirmations stay out of the grid's tables
    assert catalog.load("verdict")["answers"][0]["differences"][0]["n"] == 2
    assert "with 2 fresh seeds (1000, 1001)" in catalog.load("report")
    # confirm.cross: both again at the best variant's best, compared there by seed
    cross = catalog.load("cross_confirmation_table")
    winner = cross["at_best_of"].iloc[0]
    assert (cross["learning_rate"] == best[winner]).all() and len(cross) == 4
    (same,) = catalog.load("same_setting_differences").to_dict("records")
    assert (same["learning_rate"], same["n"]) == (best[winner], 2)
    assert (f"The same variants at one setting: each was trained again at the best variant's "
            f"best setting ({winner}&#39;s best, learning_rate=") in catalog.load("report")


def test_threads_give_the_numbers_of_one_node_at_a_time(base_parameters, two_seeds):
    """Three trainings on two threads against the same trainings one at a time."""
    threads = run_in_memory(base_parameters, runner=ThreadRunner(max_workers=2),
                            training={"seeds": [43], "epochs": 2})
    one_at_a_time = two_seeds.load("comparison_table")
    columns = ["variant", "seed", "final_val_accuracy", "test_accuracy", "test_loss"]
    pd.testing.assert_frame_equal(
        threads.load("comparison_table")[columns],
        one_at_a_time[one_at_a_time["seed"] == 43].reset_index(drop=True)[columns],
        check_exact=True)


def test_diagnostics_cover_every_run_of_a_grid_and_the_report_says_why(base_parameters):
    """A grid of two points and two seeds: every run's diagnostics, before training and
    after each epoch, in one tidy table; the summary and the section "Why" at each
    variant's best setting."""
    catalog = run_in_memory(base_parameters, variants=["baseline", "bn_before_activation"],
                            training={"seeds": [42, 43], "epochs": 2}, confirm={"seeds": []},
                            grid={"learning_rate": [0.05, 0.005]}, diagnostics={"enabled": True})
    table = catalog.load("diagnostics_table")
    runs = table.groupby(["variant", "learning_rate", "seed"])
    assert len(runs) == 2 * 2 * 2
    assert all(sorted(run["epoch"].unique()) == [0, 1, 2] for _, run in runs)
    assert runs.size().nunique() == 1  # the same measures in every run
    landscape = table[table["measure"] == "loss_range"]
    assert sorted(landscape["epoch"].unique()) == [1, 2]  # checkpoints 1, 5, last of 2
    summary = catalog.load("diagnostics_summary")
    assert (summary["n"] == 2).all()  # two seeds, at one setting per variant
    assert len(summary) == len(table) // (2 * 2 * 2) * 2  # one point per variant
    why = catalog.load("why")
    assert why["seeds"] == 2 and "best setting" in why["note"]
    assert {s["rule"] for s in why["sentences"]} == {"spread", "stabler", "landscape", "dead"}
    assert "<h2>Why</h2>" in catalog.load("report")
