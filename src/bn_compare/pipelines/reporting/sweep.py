"""Across a grid: one row per variant and grid point, each variant's best setting
(chosen on validation, never on test) and the comparisons between variants at their best
settings."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pandas as pd

from bn_compare.parameters import StatisticsParams
from bn_compare.run_matrix import value_label

from .nodes import PAIRED_METRIC, PAIRED_TEST, groups, paired, test_accuracy_by_seed

SWEEP_METRICS = ["final_val_accuracy", "test_accuracy"]


def build_sweep_table(variant_statistics: pd.DataFrame,
                      grid_keys: Sequence[str]) -> pd.DataFrame:
    """One row per variant and grid point: runs, diverged, and the mean with its
    interval of the final validation and the test accuracy."""
    keys = ["variant", *grid_keys]
    rows = []
    for key, stats in groups(variant_statistics, keys):
        row = {**dict(zip(keys, key, strict=True)), "runs": int(stats["seeds"].iloc[0]),
               "diverged": int(stats["diverged"].iloc[0])}
        for metric in SWEEP_METRICS:
            s = stats[stats["metric"] == metric].iloc[0]
            row.update({f"{metric}_mean": s["mean"], f"{metric}_ci_low": s["ci_low"],
                        f"{metric}_ci_high": s["ci_high"]})
        rows.append(row)
    return pd.DataFrame(rows)


def select_best_settings(sweep_table: pd.DataFrame,
                         grid_keys: Sequence[str]) -> pd.DataFrame:
    """Per variant, the grid point with the highest mean final *validation* accuracy
    (never chosen on the test set) among those where no run diverged (if every point had
    a diverged run: among those with a run that trained); its test accuracy with the
    interval; and per grid key its stable range: the values, with the best point's other
    keys, at which no run diverged."""
    rows = []
    for variant, points in groups(sweep_table, ["variant"]):
        trained = points[points["runs"] > points["diverged"]]
        stable = trained[trained["diverged"] == 0]
        candidates = stable if len(stable) else trained
        if not len(candidates):
            rows.append({"variant": variant[0], "runs": int(points["runs"].sum()),
                         "diverged": int(points["diverged"].sum())})
            continue
        best = candidates.loc[candidates["final_val_accuracy_mean"].idxmax()]
        row = best.to_dict()
        for key in grid_keys:
            others = [k for k in grid_keys if k != key]
            line = points[(points[others] == best[others]).all(axis=1)] if others else points
            row[f"stable_{key}"] = ", ".join(
                value_label(v) for v in line.loc[line["diverged"] == 0, key])
        rows.append(row)
    columns = ["variant", *grid_keys, "runs", "diverged",
               *(f"{m}_{s}" for m in SWEEP_METRICS for s in ("mean", "ci_low", "ci_high")),
               *(f"stable_{key}" for key in grid_keys)]
    return pd.DataFrame(rows, columns=columns)


def compare_best_settings(
    comparison_table: pd.DataFrame, best_settings: pd.DataFrame,
    statistics: StatisticsParams, grid_keys: Sequence[str],
) -> pd.DataFrame:
    """For each pair of variants, ``variant`` at its best setting minus ``versus`` at
    its own, in test accuracy, paired by seed, with interval and paired t-test."""
    at_best = {}
    for _, best in best_settings.iterrows():
        if pd.isna(best["final_val_accuracy_mean"]):
            continue  # every run of the variant diverged
        mine = (comparison_table["variant"] == best["variant"]) & (
            comparison_table[list(grid_keys)] == best[list(grid_keys)]).all(axis=1)
        at_best[best["variant"]] = (setting_label(best, grid_keys),
                                    test_accuracy_by_seed(comparison_table[mine]))
    rows = []
    for versus, variant in itertools.combinations(at_best, 2):
        rows.append({"metric": PAIRED_METRIC, "variant": variant,
                     "variant_setting": at_best[variant][0], "versus": versus,
                     "versus_setting": at_best[versus][0],
                     **paired(at_best[variant][1], at_best[versus][1], statistics.confidence),
                     "confidence": statistics.confidence, "test": PAIRED_TEST})
    columns = ["metric", "variant", "variant_setting", "versus", "versus_setting", "n",
               "diverged", "mean", "sd", "ci_low", "ci_high", "confidence", "t_statistic",
               "p_value", "test"]
    return pd.DataFrame(rows, columns=columns).rename(columns={"mean": "mean_difference"})


def setting_label(row: pd.Series, grid_keys: Sequence[str]) -> str:
    """``learning_rate=0.1, optimizer=SGD``."""
    return ", ".join(f"{key}={value_label(row[key])}" for key in grid_keys)
