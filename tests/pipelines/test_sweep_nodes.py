"""Across a grid, on constructed tables with known answers: the sweep table, the best
setting of each variant (chosen on validation, never on test), the comparisons at the
best settings, divergence counted and never averaged in, the sweep plot, the verdict
across the grid and the report's section on it."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from bn_compare.parameters import DataParams, StatisticsParams, TrainingParams
from bn_compare.pipelines.reporting.content import build_report_content
from bn_compare.pipelines.reporting.nodes import (
    build_confirmation_table,
    build_sweep_table,
    compare_best_settings,
    compute_pairwise_differences,
    compute_variant_statistics,
    select_best_settings,
)
from bn_compare.pipelines.reporting.plots import plot_sweep_curves
from bn_compare.pipelines.reporting.report import write_report
from bn_compare.pipelines.reporting.verdict import write_grid_verdict

STATISTICS = StatisticsParams()
KEYS = ("learning_rate",)
SEEDS = [1, 2, 3]
LAYERS = [{"class_name": "Flatten"}, {"class_name": "Dense", "units": 10}]
LAYERS_OF = {"plain": LAYERS, "bn": [{"class_name": "BatchNormalization"}, *LAYERS]}
ACCOUNTING = pd.DataFrame([  # which layers normalize; the counts are not read here
    {"variant": v, "layer": layer["class_name"].lower(), "class_name": layer["class_name"],
     "normalization": "BatchNormalization" if layer["class_name"] == "BatchNormalization"
     else "", "total": 0, "trainable": 0, "non_trainable": 0, "features": 0, "gamma": 0,
     "beta": 0, "moving_mean": 0, "moving_variance": 0}
    for v, layers in LAYERS_OF.items() for layer in layers])


def _runs(variant, learning_rate, val, test, diverged=(False, False, False)):
    return [{"variant": variant, "learning_rate": learning_rate, "seed": seed,
             "final_val_accuracy": v, "best_val_accuracy": v, "test_accuracy": t,
             "test_loss": 1 - t, "diverged": d, "diverged_at_epoch": 2 if d else pd.NA}
            for seed, v, t, d in zip(SEEDS, val, test, diverged, strict=True)]


def _table():
    return pd.DataFrame(
        # plain: best on validation at 0.1, although 0.01 has the higher *test* accuracy
        _runs("plain", 0.01, [0.80, 0.81, 0.82], [0.90, 0.91, 0.92])
        + _runs("plain", 0.1, [0.85, 0.86, 0.87], [0.84, 0.85, 0.86])
        + _runs("plain", 1.0, [0.10, 0.10, 0.10], [0.10, 0.10, 0.10], (True, True, True))
        # bn: 1.0 would be best on validation, but one of its runs diverged
        + _runs("bn", 0.01, [0.83, 0.84, 0.85], [0.82, 0.83, 0.84])
        # bn - plain at 0.1: 2.5, 3, 3.5 pp (three distinct values: an interval)
        + _runs("bn", 0.1, [0.86, 0.87, 0.88], [0.865, 0.88, 0.895])
        + _runs("bn", 1.0, [0.95, 0.96, 0.10], [0.95, 0.96, 0.10], (False, False, True)))


def _curves(table):
    return pd.DataFrame([{**row, "epoch": 1, "val_accuracy": row["final_val_accuracy"]}
                         for row in table.to_dict("records")])


@pytest.fixture
def statistics():
    table = _table()
    return compute_variant_statistics(table, _curves(table), statistics=STATISTICS,
                                      grid_keys=KEYS)


def test_diverged_runs_are_counted_and_never_averaged_in(statistics):
    test = statistics[statistics["metric"] == "test_accuracy"].set_index(
        ["variant", "learning_rate"])
    assert tuple(test.loc[("bn", 1.0), ["seeds", "diverged", "n"]]) == (3, 1, 2)
    assert test.loc[("bn", 1.0), "mean"] == pytest.approx(0.955)  # not (0.95+0.96+0.10)/3
    assert tuple(test.loc[("plain", 1.0), ["diverged", "n"]]) == (3, 0)
    assert np.isnan(test.loc[("plain", 1.0), "mean"])


def test_sweep_table_has_one_row_per_variant_and_point(statistics):
    sweep = build_sweep_table(statistics, KEYS)
    assert list(zip(sweep["variant"], sweep["learning_rate"], strict=True)) == [
        (v, lr) for v in ("plain", "bn") for lr in (0.01, 0.1, 1.0)]
    assert {"runs", "diverged", "final_val_accuracy_mean", "final_val_accuracy_ci_low",
            "final_val_accuracy_ci_high", "test_accuracy_mean", "test_accuracy_ci_low",
            "test_accuracy_ci_high"} <= set(sweep.columns)
    row = sweep.set_index(["variant", "learning_rate"]).loc[("plain", 0.1)]
    assert row["final_val_accuracy_mean"] == pytest.approx(0.86)
    assert row["final_val_accuracy_ci_low"] < 0.86 < row["final_val_accuracy_ci_high"]


def test_best_setting_is_chosen_on_validation_never_on_test(statistics):
    best = select_best_settings(build_sweep_table(statistics, KEYS), KEYS).set_index("variant")
    assert best.loc["plain", "learning_rate"] == 0.1  # 0.01 has the best *test* accuracy
    assert best.loc["plain", "test_accuracy_mean"] == pytest.approx(0.85)
    # bn at 1.0 has the best validation mean, but a run diverged there
    assert best.loc["bn", "learning_rate"] == 0.1
    assert best.loc["plain", "stable_learning_rate"] == "0.01, 0.1"
    assert best.loc["bn", "stable_learning_rate"] == "0.01, 0.1"


def test_best_setting_when_every_point_lost_a_run(statistics):
    sweep = build_sweep_table(statistics, KEYS)
    sweep.loc[sweep["variant"] == "bn", "diverged"] = 1
    best = select_best_settings(sweep, KEYS).set_index("variant")
    assert best.loc["bn", "learning_rate"] == 1.0  # the best of those that trained


def test_a_variant_that_always_diverged_has_no_best_setting(statistics):
    sweep = build_sweep_table(statistics, KEYS)
    sweep.loc[sweep["variant"] == "plain", "diverged"] = 3
    best = select_best_settings(sweep, KEYS).set_index("variant")
    assert np.isnan(best.loc["plain", "test_accuracy_mean"])
    assert best.loc["plain", "diverged"] == 9


def test_comparison_at_the_best_settings_is_paired_by_seed(statistics):
    table = _table()
    best = select_best_settings(build_sweep_table(statistics, KEYS), KEYS)
    differences = compare_best_settings(table, best, statistics=STATISTICS, grid_keys=KEYS)
    row = differences.iloc[0]
    assert (row["variant"], row["variant_setting"], row["versus"], row["versus_setting"]) == (
        "bn", "learning_rate=0.1", "plain", "learning_rate=0.1")
    assert row["n"] == 3 and row["mean_difference"] == pytest.approx(0.03)
    # 2.5, 3, 3.5 pp: sd 0.5 pp, t = 3 / (0.5 / sqrt(3)) = sqrt(108); with 2 degrees of
    # freedom P(|T| > t) = 1 - t / sqrt(t^2 + 2), and t(0.975, 2) = 4.302653
    assert row["ci_low"] == pytest.approx(0.03 - 4.302653 * 0.005 / np.sqrt(3), abs=1e-8)
    assert row["p_value"] == pytest.approx(1 - np.sqrt(108 / 110))
    # the only pair at the best settings: a family of one, Holm changes nothing
    assert (row["family"], row["family_size"], row["p_holm"]) == (
        "best settings", 1, row["p_value"])


def test_pairwise_differences_at_every_point_skip_diverged_seeds():
    pairwise = compute_pairwise_differences(_table(), statistics=STATISTICS,
                                            grid_keys=KEYS).set_index("learning_rate")
    assert pairwise.loc[0.01, "n"] == 3 and pairwise.loc[0.01, "diverged"] == 0
    assert (pairwise.loc[1.0, "n"], pairwise.loc[1.0, "diverged"]) == (0, 3)


def test_sweep_plot_marks_diverged_points_on_a_log_axis(statistics):
    fig = plot_sweep_curves(build_sweep_table(statistics, KEYS), KEYS)
    accuracy = fig.axes[0]
    assert accuracy.get_xscale() == "log"
    assert accuracy.get_xlabel() == "learning_rate"
    labels = [t.get_text() for t in accuracy.texts]
    assert "3/3 diverged" in labels and "1/3 diverged" in labels


def test_two_key_grid_gets_one_column_of_panels_per_value_of_the_second():
    table = pd.concat([_table().assign(optimizer=name) for name in ("SGD", "Adam")])
    keys = ("learning_rate", "optimizer")
    statistics = compute_variant_statistics(table, _curves(table), statistics=STATISTICS,
                                            grid_keys=keys)
    fig = plot_sweep_curves(build_sweep_table(statistics, keys), keys)
    assert len(fig.axes) == 4
    assert "optimizer=Adam" in fig.axes[1].get_title()


def _grid_verdict(statistics):
    table = _table()
    sweep = build_sweep_table(statistics, KEYS)
    best = select_best_settings(sweep, KEYS)
    return write_grid_verdict(
        sweep, best, compare_best_settings(table, best, statistics=STATISTICS, grid_keys=KEYS),
        compute_pairwise_differences(table, statistics=STATISTICS, grid_keys=KEYS), ACCOUNTING,
        grid_keys=KEYS)


def test_the_grid_verdict_answers_at_the_best_settings_and_at_each_point(statistics):
    said = _grid_verdict(statistics)
    assert json.loads(json.dumps(said, allow_nan=False)) == said  # plain JSON
    helps = said["answers"][0]
    assert helps["text"].startswith("At each variant's best learning rate, over the grid's 3 "
                                    "seeds: Does BatchNormalization help? Yes.")
    assert helps["seeds"] is None  # the grid's seeds: their count, said in the text
    assert helps["means"] == pytest.approx({"bn": 0.88, "plain": 0.85})
    (difference,) = helps["differences"]
    assert difference["settings"] == {"bn": "learning_rate=0.1", "plain": "learning_rate=0.1"}
    assert difference["mean_difference"] == pytest.approx(0.03)
    assert [point["setting"] for point in said["points"]] == [
        {"learning_rate": lr} for lr in (0.01, 0.1, 1.0)]
    assert said["points"][2]["text"] == (
        "learning_rate=1: Does BatchNormalization help? Yes: every run without "
        "BatchNormalization diverged, while bn trained. Best variant: bn, the only one "
        "that trained (plain: every run diverged).")
    assert said["tolerance"][0] == {
        "variant": "plain",
        "text": "plain trained without diverging at learning_rate 0.01, 0.1; diverged at "
                "learning_rate 1 (3 of 3 runs).",
        "points": [{"setting": {"learning_rate": lr}, "runs": 3, "diverged": d}
                   for lr, d in ((0.01, 0), (0.1, 0), (1.0, 3))]}
    texts = [line["text"] for line in said["comparisons"]]
    assert texts[0].startswith("At the best settings: bn vs plain: +3.00 pp")
    assert texts[1].startswith("At learning_rate=0.01: bn vs plain:")
    assert texts[-2:] == ["plain: 3 of 9 runs diverged across the grid.",
                          "bn: 1 of 9 runs diverged across the grid."]


CONFIRM_SEEDS = [1000, 1001, 1002]


def _confirmation(plain, bn):
    """Confirmation runs at each variant's best (learning rate 0.1) with fresh seeds."""
    return pd.DataFrame([{"variant": variant, "learning_rate": 0.1, "seed": seed,
                          "test_accuracy": accuracy, "diverged": False}
                         for variant, values in (("plain", plain), ("bn", bn))
                         for seed, accuracy in zip(CONFIRM_SEEDS, values, strict=True)])


def test_the_verdict_at_the_best_settings_rests_on_the_confirmation_alone(statistics):
    """The grid's seeds have bn 3 pp ahead at its best; the fresh seeds have plain ahead."""
    sweep = build_sweep_table(statistics, KEYS)
    best = select_best_settings(sweep, KEYS)
    confirmation = _confirmation(plain=[0.88, 0.89, 0.90], bn=[0.835, 0.85, 0.865])
    said = write_grid_verdict(
        sweep, best, compare_best_settings(confirmation, best, statistics=STATISTICS,
                                           grid_keys=KEYS),
        compute_pairwise_differences(_table(), statistics=STATISTICS, grid_keys=KEYS),
        ACCOUNTING, grid_keys=KEYS, confirmation_table=confirmation)
    helps = said["answers"][0]
    assert helps["text"].startswith("At each variant's best learning rate, on 3 confirmation "
                                    "seeds (1000–1002): Does BatchNormalization help? No.")
    assert [answer["seeds"] for answer in said["answers"]] == [CONFIRM_SEEDS] * 2
    assert helps["means"] == pytest.approx({"plain": 0.89, "bn": 0.85})
    (difference,) = helps["differences"]
    assert difference["n"] == 3 and difference["mean_difference"] == pytest.approx(-0.04)


def test_a_confirmation_trained_at_a_setting_no_longer_best_is_refused():
    best = pd.DataFrame([{"variant": "bn", "learning_rate": 0.3}])
    summary = pd.DataFrame([{"test_accuracy": 0.9, "diverged": False}])
    runs = [{"variant": "bn", "seed": 1000, "namespace": "confirm.bn.seed_1000"}]
    table = build_confirmation_table(best, pd.DataFrame([{"learning_rate": 0.3}]), summary,
                                     runs=runs, grid_keys=KEYS)
    assert table.to_dict("records") == [{"variant": "bn", "learning_rate": 0.3, "seed": 1000,
                                         "test_accuracy": 0.9, "diverged": False}]
    with pytest.raises(ValueError, match=r"confirm.bn.seed_1000 was trained at "
                                         r"learning_rate=0.1, but the best setting is now "
                                         r"learning_rate=0.3: run again without "
                                         r"--only-missing-outputs"):
        build_confirmation_table(best, pd.DataFrame([{"learning_rate": 0.1}]), summary,
                                 runs=runs, grid_keys=KEYS)


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def test_the_report_lays_out_the_grid(statistics):
    table = _table()
    sweep = build_sweep_table(statistics, KEYS)
    best = select_best_settings(sweep, KEYS)
    content = build_report_content(
        table, statistics,
        compute_pairwise_differences(table, statistics=STATISTICS, grid_keys=KEYS), ACCOUNTING,
        _grid_verdict(statistics), sweep_table=sweep, best_settings=best,
        best_setting_differences=compare_best_settings(table, best, statistics=STATISTICS,
                                                       grid_keys=KEYS),
        data=DataParams(), training=TrainingParams(), statistics=STATISTICS, layers=LAYERS_OF,
        study=None, provenance={"commit": "75a1027", "machine": "AMD EPYC, 2 cores, AVX2"},
        grid_keys=KEYS)
    assert [row["setting"] for row in content["grid"]["best"]["data"]] == [
        "learning_rate=0.1", "learning_rate=0.1"]
    figure = _png(plot_sweep_curves(sweep, KEYS))
    html = write_report(json.loads(json.dumps(content)), learning_curves=figure,
                        test_accuracy_intervals=figure, sweep_curves=figure)
    assert "<h2>Across the grid</h2>" in html
    assert ("At each variant&#39;s best learning rate, over the grid&#39;s 3 seeds: Does "
            "BatchNormalization help? Yes.") in html
    assert ("The answers above rest on the grid&#39;s 3 seeds (1–3), each variant at its best "
            "learning rate, chosen on the validation accuracy of those same runs: this favours "
            "the winners. Intervals are") in html
    assert "learning rate 0.01, 0.1, 1 (grid)" in html
    assert ("plain trained without diverging at learning_rate 0.01, 0.1; diverged at "
            "learning_rate 1 (3 of 3 runs).") in html
    assert "learning_rate=1: Does BatchNormalization help? Yes: every run without" in html
    assert "every run diverged (3)" in html
    assert html.count("data:image/png;base64,") == 3


def test_the_report_renders_its_content_and_figures_alone(base_parameters):
    """Across a grid with a confirmation (the most datasets): the report reads the content
    and the PNGs only; the settings are bound to the nodes, never ``params:`` inputs."""
    from bn_compare.parameters import ProjectParameters
    from bn_compare.pipelines import diagnostics, reporting
    from bn_compare.run_matrix import RunMatrix

    matrix = RunMatrix(ProjectParameters.checked({
        **base_parameters, "grid": {"learning_rate": [0.01, 0.1]}, "confirm": {"seeds": [7]}}))
    pipeline = reporting.create_pipeline(matrix) + diagnostics.create_pipeline(matrix)
    report = next(node for node in pipeline.nodes if node.name == "write_report")
    assert report.inputs == ["report_content", "learning_curves@png",
                             "test_accuracy_intervals@png", "activation_percentiles@png",
                             "landscape_smoothness@png", "sweep_curves@png"]
    assert not [name for name in pipeline.inputs() if name.startswith("params:")]
