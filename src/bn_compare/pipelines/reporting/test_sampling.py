"""The headline differences with an interval that also covers the test set's own
sampling: a t interval over seeds treats each run's test accuracy as exact, but 10,000
test images measure it with an error of about 0.3 pp. Here both are resampled: seeds
(paired: both variants' runs of a seed) and test images (paired: the same images for both
variants), from the runs' saved predictions."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.statistics import groups

CHUNK = 25  # resamples at a time: seeds x images x CHUNK values in memory


def bootstrap_difference(first: np.ndarray, second: np.ndarray, resamples: int,
                         rng: np.random.Generator, confidence: float) -> tuple[float, float]:
    """Percentile interval of mean(first - second) over seeds (rows) and images (columns),
    resampling both with replacement: ``first`` and ``second`` are seeds x images arrays of
    1 (correct) and 0, row ``i`` of each the same seed."""
    differences = first.astype(np.float32) - second.astype(np.float32)
    seeds, images = differences.shape
    estimates = []
    for start in range(0, resamples, CHUNK):
        count = min(CHUNK, resamples - start)
        rows = rng.integers(0, seeds, (count, seeds))
        columns = rng.integers(0, images, (count, images))
        per_seed = np.stack([differences[:, c].mean(axis=1) for c in columns])  # count x seeds
        estimates.append(np.take_along_axis(per_seed, rows, axis=1).mean(axis=1))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(np.concatenate(estimates), [tail, 100 - tail])
    return float(low), float(high)


def compute_test_sampling_intervals(
    table: pd.DataFrame, y_test: np.ndarray, *predictions: np.ndarray,
    runs: list[dict[str, Any]], statistics: StatisticsParams, per: Sequence[str] = (),
) -> pd.DataFrame:
    """For each pair of variants (at each value of the ``per`` keys), the difference in test
    accuracy over the seeds both trained (diverged runs left out, as in the paired t-test),
    with the bootstrap interval over seeds and test images. ``table``: the runs (the
    comparison or the confirmation table); ``predictions``: each group's runs' predicted
    classes, stacked (a row per run); ``runs``: variant and seed of each of those runs, in
    order."""
    labels = np.asarray(y_test)
    each_run = [row for group in predictions for row in group]
    correct = {(run["variant"], run["seed"], *(run[k] for k in per)): classes == labels
               for run, classes in zip(runs, each_run, strict=True)}
    rng = np.random.default_rng(statistics.bootstrap_seed)
    rows = []
    for key, group in groups(table, per):
        trained = group[~group["diverged"].astype(bool)]
        seeds = {v: set(rows_["seed"]) for (v,), rows_ in groups(trained, ["variant"])}
        for versus, variant in itertools.combinations(dict.fromkeys(group["variant"]), 2):
            both = sorted(seeds.get(variant, set()) & seeds.get(versus, set()))
            row = {**dict(zip(per, key, strict=True)), "variant": variant, "versus": versus,
                   "seeds": len(both), "images": len(labels), "resamples": statistics.resamples,
                   "confidence": statistics.confidence}
            if both:
                first, second = (np.stack([correct[(v, s, *key)] for s in both])
                                 for v in (variant, versus))
                low, high = bootstrap_difference(first, second, statistics.resamples, rng,
                                                 statistics.confidence)
                row.update(mean_difference=float(first.mean() - second.mean()),
                           ci_low=low, ci_high=high)
            rows.append(row)
    return pd.DataFrame(rows, columns=[*per, "variant", "versus", "seeds", "images",
                                       "mean_difference", "ci_low", "ci_high", "resamples",
                                       "confidence"])
