"""The section "Why" follows its decision rules: a ratio between variants is called
larger or smaller only when Holm's adjusted p within its family is below 0.05, each
number as scipy and statsmodels compute it; like is compared with like; a grid is read at
each variant's best setting for every value of the ``per`` keys apart (constructed
tables)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.diagnostics.nodes import explain_diagnostics, summarise_diagnostics
from bn_compare.pipelines.diagnostics.plots import (
    plot_activation_percentiles,
    plot_landscape_smoothness,
)

ACCOUNTING = pd.DataFrame({  # which layers normalize
    "variant": ["baseline", "bn", "bn"], "layer": ["dense", "dense", "batch_normalization"],
    "normalization": ["", "", "BatchNormalization"]})
SEEDS = (1, 2, 3, 4, 5)
A = [0.0, 0.02, -0.01, 0.01, 0.03]  # baseline's jitter per seed
B = [0.01, -0.02, 0.0, 0.02, -0.01]  # bn's
LOG_RATIOS = {  # bn over baseline per seed, at both checkpoints
    "gradient_change": [-0.10, -0.30, -0.02, -0.20, -0.12],  # p = 0.036, Holm 0.082
    "gradient_change_relative": [-0.15, -0.30, -0.02, -0.18, -0.12],  # p = 0.027, Holm 0.082
    "beta_smoothness": [0.05, -0.04, 0.02, -0.01, 0.03],  # p = 0.56
    "ics_l2": [-1.2, -1.1, -1.3, -1.25, -1.15],  # smaller with BN: contradicts Santurkar
    "ics_l2_relative": [0.4, 0.5, 0.45, 0.35, 0.5]}  # larger with BN: as they found


def _table(seeds=SEEDS, scale=1.0):
    """baseline: layer 2's Dense output (its input to the nonlinearity) triples, loss range
    2; bn (BN before the activation): its Dense output grows 1.2x, BN's output stays at 1,
    loss range 1; the other landscape measures as ``LOG_RATIOS``. ``scale``: every value
    but the spreads times it."""
    rows = []
    for i, seed in enumerate(seeds):
        for variant, dense, pre, loss_range in (
                ("baseline", 3 * (1 + A[i]), 3 * (1 + A[i]), 2 * (1 + A[i])),
                ("bn", 1.2 * (1 + B[i]), 1 + B[i] / 100, 1 + B[i])):
            for epoch, values in ((0, (1.0, 1.0)), (2, (dense, pre))):
                rows += [(variant, seed, epoch, "layer 2", "dense_output_std", values[0]),
                         (variant, seed, epoch, "layer 2", "pre_activation_std", values[1]),
                         (variant, seed, epoch, "layer 2", "dead_fraction", 0.25)]
                rows += [(variant, seed, epoch, "layer 2", f"{measure}_p{p}", value * p / 50)
                         for measure, value in (("dense_output", values[0]),
                                                ("pre_activation", values[1]),
                                                ("pre_activation_unit_7", values[1] / 2))
                         for p in (15, 50, 85)]
            for epoch in (1, 2):
                rows.append((variant, seed, epoch, "network", "loss_range", scale * loss_range))
                rows += [(variant, seed, epoch, "layer 2" if m.startswith("ics") else "network",
                          m, scale * (1.0 if variant == "baseline" else math.exp(logs[i])))
                         for m, logs in LOG_RATIOS.items()]
    return pd.DataFrame(rows, columns=["variant", "seed", "epoch", "layer", "measure", "value"])


def _sentences(why, rule):
    return [s for s in why["sentences"] if s["rule"] == rule]


def _texts(why, rule):
    return [s["text"] for s in _sentences(why, rule)]


def _times(logs):
    """A geometric mean with its t interval, computed by scipy."""
    low, high = stats.t.interval(0.95, len(logs) - 1, loc=np.mean(logs), scale=stats.sem(logs))
    return f"{math.exp(np.mean(logs)):.2f}x [{math.exp(low):.2f}, {math.exp(high):.2f}]"


def test_spreads_compare_the_dense_output_in_every_variant_and_say_what_bn_holds_by_construction():
    why = explain_diagnostics(_table(), ACCOUNTING, statistics=StatisticsParams())
    dense, bn_output = _texts(why, "spread")
    baseline = np.log(3 * (1 + np.array(A)))
    assert "layer 2's Dense output (x·W + b, before any normalization" in dense
    assert f"grows {_times(baseline)} in baseline" in dense
    assert f"grows {_times(np.log(1.2 * (1 + np.array(B))))} in bn" in dense
    assert "input to layer 2's nonlinearity where it is not the Dense output" in bn_output
    assert "There it is the output of BatchNormalization in bn" in bn_output
    assert "largely by construction" in bn_output and "baseline" not in bn_output
    (stabler,) = _texts(why, "stabler")  # like with like: the Dense outputs
    assert stabler.startswith("Layer 2's Dense output in bn against baseline: the spread "
                              "stays closer to where it started with normalization")


def test_larger_or_smaller_only_where_holms_adjusted_p_says_so():
    why = explain_diagnostics(_table(), ACCOUNTING, statistics=StatisticsParams())
    tests = [t for s in _sentences(why, "landscape") for t in s["tests"]]
    logs = {t["measure"]: t for t in tests}
    expected = {m: stats.ttest_1samp(v, 0).pvalue for m, v in LOG_RATIOS.items()}
    expected["loss_range"] = stats.ttest_1samp(
        np.log((1 + np.array(B)) / (2 * (1 + np.array(A)))), 0).pvalue
    measures = list(logs)
    holm = multipletests([expected[m] for m in measures], method="holm")[1]
    for measure, adjusted in zip(measures, holm, strict=True):
        assert logs[measure]["p_value"] == pytest.approx(expected[measure])
        assert logs[measure]["p_holm"] == pytest.approx(adjusted)
    texts = {s["measure"]: s["text"] for s in _sentences(why, "landscape")}
    assert expected["gradient_change"] < 0.05 < logs["gradient_change"]["p_holm"]
    assert "p = 0.036, Holm 0.082): not shown to differ" in texts["gradient_change"]
    assert "relative to the gradient's own size" in texts["gradient_change_relative"]
    assert "not shown to differ" in texts["gradient_change_relative"]
    assert "smaller with normalization: a smoother landscape" in texts["loss_range"]
    assert "unlike Santurkar et al.'s finding" in texts["ics_l2"]
    assert "over the gradient's size before it" in texts["ics_l2_relative"]
    assert "larger with normalization, as Santurkar et al. found" in texts["ics_l2_relative"]
    assert "Santurkar et al.'s predictions (6)" in why["note"]


def test_the_last_sentence_names_every_prediction_that_did_not_agree():
    why = explain_diagnostics(_table(), ACCOUNTING, statistics=StatisticsParams())
    (agreement,) = _texts(why, "agreement")
    assert agreement.startswith("Of the papers' 7 predictions tested here, 3 agree")
    contradicted = agreement.split("; contradicted: ")[1].split("; not shown: ")
    assert "layer 2's gradient change when the earlier layers take a step (internal" in (
        contradicted[0])
    assert all(f"{what} in bn against baseline" in contradicted[1] for what in (
        "the change of the gradient along it (gradient predictiveness)",
        "the change of the gradient along it relative to the gradient's own size",
        "the effective beta-smoothness"))


def test_one_seed_gives_numbers_but_never_calls_a_ratio_larger_or_smaller():
    why = explain_diagnostics(_table(seeds=(1,)), ACCOUNTING, statistics=StatisticsParams())
    assert why["seeds"] == 1 and "One seed per variant" in why["note"]
    text = " ".join(s["text"] for s in why["sentences"])
    assert "0.30x" in text and "smoother" not in text and "contradicts" not in text
    assert not _texts(why, "agreement")


def test_below_three_distinct_values_a_comparison_has_no_interval_and_says_so():
    why = explain_diagnostics(_table(seeds=(1, 2)), ACCOUNTING, statistics=StatisticsParams())
    assert "no interval" in why["note"] and not _texts(why, "agreement")
    (stabler,) = _texts(why, "stabler")
    assert "has no interval" in stabler and "fewer than 3 distinct values" in stabler


def test_without_diagnostics_the_section_says_how_to_turn_them_on():
    empty = _table().iloc[:0]
    why = explain_diagnostics(empty, ACCOUNTING, statistics=StatisticsParams())
    assert why["sentences"] == [] and "diagnostics.enabled=true" in why["note"]
    assert summarise_diagnostics(empty, statistics=StatisticsParams()).empty


def test_the_summary_is_a_mean_with_its_interval_over_seeds():
    summary = summarise_diagnostics(_table(), statistics=StatisticsParams()).set_index(
        ["variant", "layer", "measure", "epoch"])
    row = summary.loc[("baseline", "network", "loss_range", 1)]
    assert row["n"] == len(SEEDS) and row["mean"] == pytest.approx(2.0 * (1 + np.mean(A)))
    assert row["ci_low"] < row["mean"] < row["ci_high"]


def _grid():
    """Two batch sizes (``confirm.per``) x two learning rates; bn's best learning rate is
    0.1 at batch size 8 and 0.01 at 32, baseline's 0.01 at both; the values at batch size
    32 ten times those at 8, those off the best settings a hundred times."""
    tables = []
    for batch_size in (8, 32):
        for rate in (0.01, 0.1):
            for variant in ("baseline", "bn"):
                best = rate == (0.1 if variant == "bn" and batch_size == 8 else 0.01)
                runs = _table(scale=(1 if batch_size == 8 else 10) * (1 if best else 100))
                tables.append(runs[runs["variant"] == variant].assign(
                    batch_size=batch_size, learning_rate=rate))
    best = pd.DataFrame({"variant": ["baseline", "bn", "baseline", "bn"],
                         "batch_size": [8, 8, 32, 32], "learning_rate": [0.01, 0.1, 0.01, 0.01],
                         "final_val_accuracy_mean": [0.8, 0.85, 0.8, 0.84]})
    return pd.concat(tables, ignore_index=True), best


def test_with_confirm_per_every_per_value_is_read_apart_at_its_own_best_setting():
    table, best = _grid()
    keys = ("batch_size", "learning_rate")
    summary = summarise_diagnostics(table, best, statistics=StatisticsParams(), grid_keys=keys)
    assert (summary["n"] == len(SEEDS)).all()  # batch sizes are not extra seeds
    loss_range = summary[(summary["measure"] == "loss_range") & (summary["epoch"] == 1)]
    assert loss_range.set_index(["variant", *keys])["mean"].to_dict() == pytest.approx({
        ("baseline", 8, 0.01): 2 * (1 + np.mean(A)), ("bn", 8, 0.1): 1 + np.mean(B),
        ("baseline", 32, 0.01): 20 * (1 + np.mean(A)), ("bn", 32, 0.01): 10 * (1 + np.mean(B))})
    why = explain_diagnostics(table, ACCOUNTING, best, statistics=StatisticsParams(),
                              grid_keys=keys, per=("batch_size",))
    stabler = _texts(why, "stabler")
    assert [s.split(":")[0] for s in stabler] == ["At batch_size=8", "At batch_size=32"]
    assert "in bn (learning_rate=0.1) against baseline (learning_rate=0.01)" in stabler[0]
    assert "in bn (learning_rate=0.01) against baseline (learning_rate=0.01)" in stabler[1]
    assert len(_texts(why, "agreement")) == 2  # each batch size its own families
    assert [f["where"] for f in why["families"]] == ["batch_size=8"] * 3 + ["batch_size=32"] * 3
    landscape = plot_landscape_smoothness(summary, keys).get_axes()[0]
    assert [line.get_label() for line in landscape.get_lines()] == [
        "baseline (batch_size=8, learning_rate=0.01)", "bn (batch_size=8, learning_rate=0.1)",
        "baseline (batch_size=32, learning_rate=0.01)", "bn (batch_size=32, learning_rate=0.01)"]


def test_the_percentile_plot_follows_single_units_and_shows_bns_dense_output_before_it():
    summary = summarise_diagnostics(_table(), statistics=StatisticsParams())
    baseline, bn = plot_activation_percentiles(summary).get_axes()
    for ax in (baseline, bn):
        assert "unit 7: median" in [line.get_label() for line in ax.get_lines()]
    hatched = [[c for c in ax.collections if c.get_hatch()] for ax in (baseline, bn)]
    assert not hatched[0] and len(hatched[1]) == 1  # only where BN lies between
