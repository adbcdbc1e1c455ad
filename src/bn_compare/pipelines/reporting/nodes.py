"""Statistics over seeds: per variant (and grid point) and the pairwise differences
between variants (``sweep`` holds the tables across a grid).

A diverged run (see ``training_loop.DivergenceGuard``) is never averaged in: it is
counted in ``diverged`` and left out of ``n`` and of every figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bn_compare.parameters import StatisticsParams

from .statistics import mean_interval, paired_difference

RUN_METRICS = ["final_val_accuracy", "best_val_accuracy", "test_accuracy", "test_loss"]
PAIRED_METRIC = "test_accuracy"
PAIRED_TEST = "paired t-test, two-sided"


def variants(table: pd.DataFrame) -> list[str]:
    return list(pd.unique(table["variant"]))


def groups(table: pd.DataFrame, keys: Sequence[str]) -> list[tuple[tuple, pd.DataFrame]]:
    """``table`` split by ``keys`` in the order the rows come (always tuples as keys)."""
    if not keys:
        return [((), table)]
    return [(key if isinstance(key, tuple) else (key,), rows)
            for key, rows in table.groupby(list(keys), sort=False)]


def target_metric(statistics: StatisticsParams) -> str:
    return f"epochs_to_val_accuracy_{statistics.target_val_accuracy:g}"


def epochs_to_target(curves: pd.DataFrame, target: float,
                     grid_keys: Sequence[str] = ()) -> pd.DataFrame:
    """Per run, the first epoch whose validation accuracy reaches ``target`` (NaN when
    none does)."""
    keys = ["variant", *grid_keys, "seed"]
    rows = []
    for key, curve in groups(curves, keys):
        reached = curve.loc[curve["val_accuracy"] >= target, "epoch"]
        rows.append({**dict(zip(keys, key, strict=True)),
                     "epochs": float(reached.min()) if len(reached) else np.nan})
    return pd.DataFrame(rows, columns=[*keys, "epochs"])


def compute_variant_statistics(
    comparison_table: pd.DataFrame, learning_curve_table: pd.DataFrame,
    statistics: StatisticsParams, grid_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Per variant (and grid point) and metric: the runs (``seeds``), how many diverged,
    n (the values behind the figures: runs that did not diverge; for the epochs to the
    target, those that reached it), mean, sd and confidence interval."""
    keys = ["variant", *grid_keys]
    epochs = epochs_to_target(learning_curve_table, statistics.target_val_accuracy, grid_keys)
    trained = comparison_table.loc[~comparison_table["diverged"].astype(bool), [*keys, "seed"]]
    epochs = epochs.merge(trained, on=[*keys, "seed"])
    rows = []
    for key, runs in groups(comparison_table, keys):
        kept = runs[~runs["diverged"].astype(bool)]
        samples = {metric: kept[metric].tolist() for metric in RUN_METRICS}
        mine = (epochs[keys] == pd.Series(key, index=keys)).all(axis=1)
        samples[target_metric(statistics)] = epochs.loc[mine, "epochs"].tolist()
        for metric, values in samples.items():
            rows.append({**dict(zip(keys, key, strict=True)), "metric": metric,
                         "seeds": len(runs), "diverged": len(runs) - len(kept),
                         **mean_interval(values, statistics.confidence),
                         "confidence": statistics.confidence})
    return pd.DataFrame(rows)


def paired(first: pd.Series, second: pd.Series, confidence: float) -> dict:
    """``first - second`` over the seeds both ran; seeds where either diverged (NaN)
    are counted in ``diverged``."""
    both = pd.concat([first, second], axis=1, join="inner")
    pairs = both.dropna()
    return {**paired_difference(pairs.iloc[:, 0].tolist(), pairs.iloc[:, 1].tolist(),
                                confidence),
            "diverged": len(both) - len(pairs)}


def test_accuracy_by_seed(runs: pd.DataFrame) -> pd.Series:
    """Test accuracy per seed, NaN where the run diverged."""
    indexed = runs.set_index("seed")
    return indexed[PAIRED_METRIC].where(~indexed["diverged"].astype(bool))


def compute_pairwise_differences(
    comparison_table: pd.DataFrame, statistics: StatisticsParams,
    grid_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """At each grid point, for each pair of variants, ``variant - versus`` in test
    accuracy over the seeds both ran without diverging: mean difference, its interval
    and a paired t-test. ``versus`` is the one declared first."""
    rows = []
    for key, table in groups(comparison_table, grid_keys):
        by_variant = {v: test_accuracy_by_seed(table[table["variant"] == v])
                      for v in variants(table)}
        for versus, variant in itertools.combinations(by_variant, 2):
            rows.append({**dict(zip(grid_keys, key, strict=True)), "metric": PAIRED_METRIC,
                         "variant": variant, "versus": versus,
                         **paired(by_variant[variant], by_variant[versus],
                                   statistics.confidence),
                         "confidence": statistics.confidence, "test": PAIRED_TEST})
    columns = [*grid_keys, "metric", "variant", "versus", "n", "diverged", "mean", "sd",
               "ci_low", "ci_high", "confidence", "t_statistic", "p_value", "test"]
    return pd.DataFrame(rows, columns=columns).rename(columns={"mean": "mean_difference"})
