"""The section "Why" follows its decision rules: a ratio between variants is called
larger or smaller only when its interval over seeds excludes 1 (constructed tables)."""

from __future__ import annotations

import pandas as pd

from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.diagnostics.nodes import explain_diagnostics, summarise_diagnostics

ACCOUNTING = pd.DataFrame({  # which layers normalize
    "variant": ["baseline", "bn", "bn"], "layer": ["dense", "dense", "batch_normalization"],
    "normalization": ["", "", "BatchNormalization"]})
JITTER = [0.0, 0.02, -0.01, 0.01]  # per seed


def _table(seeds=(1, 2, 3, 4)):
    """baseline: layer 2's spread triples, loss range 2; bn: spread kept, loss range 1;
    the covariate shift the same in both."""
    rows = []
    for variant, (growth, loss_range) in {"baseline": (3.0, 2.0), "bn": (1.0, 1.0)}.items():
        for seed in seeds:
            jitter = 1 + JITTER[seed - 1]
            for epoch, std in ((0, 1.0), (2, growth * jitter)):
                rows.append((variant, seed, epoch, "layer 2", "pre_activation_std", std))
                rows.append((variant, seed, epoch, "layer 2", "dead_fraction", 0.25))
            for epoch in (1, 2):
                rows.append((variant, seed, epoch, "network", "loss_range", loss_range * jitter))
                rows.append((variant, seed, epoch, "layer 2", "ics_l2", 0.5 * jitter))
    return pd.DataFrame(rows, columns=["variant", "seed", "epoch", "layer", "measure", "value"])


def _texts(why, rule):
    return [s["text"] for s in why["sentences"] if s["rule"] == rule]


def test_with_seeds_each_sentence_follows_its_rule():
    why = explain_diagnostics(_table(), ACCOUNTING, statistics=StatisticsParams())
    spread, stabler = _texts(why, "spread")[0], _texts(why, "stabler")[0]
    assert "grows 3.01x [" in spread and "in baseline" in spread  # geometric mean
    assert "stays where it was" in spread.split("; ")[1]  # bn: 1.00x, interval around 1
    assert "stays closer to where it started with normalization" in stabler
    loss_range, shift = _texts(why, "landscape")
    assert "in bn is 0.50x [" in loss_range and "smoother landscape" in loss_range
    assert "not shown to differ" in shift  # a ratio of exactly 1 every seed: no interval off 1
    assert "baseline 25.0%" in _texts(why, "dead")[0]


def test_one_seed_gives_numbers_but_never_calls_a_ratio_larger_or_smaller():
    why = explain_diagnostics(_table(seeds=(1,)), ACCOUNTING, statistics=StatisticsParams())
    assert why["seeds"] == 1 and "One seed per variant" in why["note"]
    text = " ".join(s["text"] for s in why["sentences"])
    assert "0.50x" in text and "smoother" not in text and "contradicts" not in text
    assert not _texts(why, "stabler")  # a paired comparison needs seeds


def test_without_diagnostics_the_section_says_how_to_turn_them_on():
    empty = _table().iloc[:0]
    why = explain_diagnostics(empty, ACCOUNTING, statistics=StatisticsParams())
    assert why["sentences"] == [] and "diagnostics.enabled=true" in why["note"]
    assert summarise_diagnostics(empty, statistics=StatisticsParams()).empty


def test_the_summary_is_a_mean_with_its_interval_over_seeds():
    summary = summarise_diagnostics(_table(), statistics=StatisticsParams()).set_index(
        ["variant", "layer", "measure", "epoch"])
    row = summary.loc[("baseline", "network", "loss_range", 1)]
    assert row["n"] == 4 and row["mean"] == 2.0 * (1 + sum(JITTER) / 4)
    assert row["ci_low"] < row["mean"] < row["ci_high"]
