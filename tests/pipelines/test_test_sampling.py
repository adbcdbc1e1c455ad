"""The headline differences' interval over seeds and test images (from the predictions)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.reporting.test_sampling import (
    bootstrap_difference,
    compute_test_sampling_intervals,
)


def test_one_seed_gives_the_paired_proportion_interval_over_images():
    """One seed: only the images vary; the interval is the normal one of a paired
    difference of proportions, mean ± z * sd(d) / sqrt(m), within the bootstrap's noise."""
    rng = np.random.default_rng(1)
    first = rng.random((1, 10_000)) < 0.88
    second = rng.random((1, 10_000)) < 0.86
    d = first[0].astype(float) - second[0].astype(float)
    half = stats.norm.ppf(0.975) * d.std(ddof=1) / math.sqrt(d.size)
    low, high = bootstrap_difference(first, second, 2000, np.random.default_rng(0), 0.95)
    assert low == pytest.approx(d.mean() - half, abs=0.002)
    assert high == pytest.approx(d.mean() + half, abs=0.002)


def test_seeds_that_differ_widen_it_images_that_agree_do_not():
    """Every image scored alike within a run: only the seeds vary (their spread shows);
    with identical runs across seeds the interval is the images' alone, narrower."""
    seeds_only = np.repeat(np.array([[1], [0], [1], [1], [0]]), 50, axis=1)
    low, high = bootstrap_difference(seeds_only, np.zeros_like(seeds_only), 1000,
                                     np.random.default_rng(0), 0.95)
    # the mean of five draws of {1, 0, 1, 1, 0}: 5 x Binomial(5, 0.6); P(0 ones) = 1%,
    # P(at most 1) = 8.7%, P(5 ones) = 7.8%: the 2.5th and 97.5th percentiles are 0.2 and 1
    assert (low, high) == (pytest.approx(0.2), 1.0)
    same = np.tile(np.arange(50) % 2, (5, 1))
    low, high = bootstrap_difference(same, np.zeros_like(same), 1000,
                                     np.random.default_rng(0), 0.95)
    assert 0.3 < low < 0.5 < high < 0.7


def test_pairs_use_the_seeds_both_trained_and_the_same_draws_give_the_same_table():
    y = np.arange(200) % 10
    rng = np.random.default_rng(3)
    runs, predictions = [], []
    for variant, accuracy in (("plain", 0.8), ("bn", 0.9)):
        for seed in (1, 2, 3):
            runs.append({"variant": variant, "seed": seed})
            predictions.append(np.where(rng.random(200) < accuracy, y, (y + 1) % 10))
    table = pd.DataFrame({"variant": [r["variant"] for r in runs],
                          "seed": [r["seed"] for r in runs],
                          "diverged": [False, False, False, False, False, True]})
    statistics = StatisticsParams(resamples=200)
    groups = [np.stack(predictions[:3]), np.stack(predictions[3:])]  # a group per variant
    result = compute_test_sampling_intervals(table, y, *groups, runs=runs,
                                             statistics=statistics)
    (row,) = result.to_dict("records")
    assert (row["variant"], row["versus"], row["seeds"], row["images"]) == ("bn", "plain", 2, 200)
    expected = np.mean([(predictions[i] == y).mean() for i in (3, 4)]) - np.mean(
        [(predictions[i] == y).mean() for i in (0, 1)])
    assert row["mean_difference"] == pytest.approx(expected)
    assert row["ci_low"] < row["mean_difference"] < row["ci_high"]
    again = compute_test_sampling_intervals(table, y, *groups, runs=runs,
                                            statistics=statistics)
    pd.testing.assert_frame_equal(result, again)
