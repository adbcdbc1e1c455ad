"""The tables: statistics over seeds per variant (and grid point), differences between
variants, and across a grid the best settings and the differences there. A diverged run
(``bn_compare.pipelines.loop.DivergenceGuard``) is counted in ``diverged``, never averaged in (the
statistics themselves: ``pipelines.statistics``)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pandas as pd

from bn_compare.grid import value_label
from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.statistics import (
    at_setting,
    groups,
    mean_interval,
    paired_difference,
    setting_label,
)

RUN_METRICS = ["final_val_accuracy", "best_val_accuracy", "test_accuracy", "test_loss"]
PAIRED_METRIC = "test_accuracy"
SWEEP_COLUMNS = {f"{m}_{s}": (m, s) for m in ("final_val_accuracy", "test_accuracy")
                 for s in ("mean", "ci_low", "ci_high")}  # sweep table column: (metric, statistic)
DIFFERENCE_COLUMNS = ["n", "diverged", "mean_difference", "sd", "ci_low", "ci_high",
                      "confidence", "t_statistic", "p_value", "test", "equivalence_margin",
                      "equivalence_low", "equivalence_high", "equivalence_p", "finding"]


def target_metric(statistics: StatisticsParams) -> str:
    return f"epochs_to_val_accuracy_{statistics.target_val_accuracy:g}"


def epochs_to_target(curves: pd.DataFrame, target: float,
                     grid_keys: Sequence[str] = ()) -> pd.DataFrame:
    """Per run, the first epoch whose validation accuracy reaches ``target`` (NaN if none)."""
    reached = curves["epoch"].where(curves["val_accuracy"] >= target).astype(float)
    keys = [curves[key] for key in ("variant", *grid_keys, "seed")]
    return reached.groupby(keys, sort=False).min().rename("epochs").reset_index()


def compute_variant_statistics(
    comparison_table: pd.DataFrame, learning_curve_table: pd.DataFrame, *,
    statistics: StatisticsParams, grid_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Per variant (and grid point) and metric: runs (``seeds``), diverged, n, mean, sd, CI."""
    keys, target = ["variant", *grid_keys], target_metric(statistics)
    epochs = epochs_to_target(learning_curve_table, statistics.target_val_accuracy, grid_keys)
    runs = comparison_table.merge(epochs.rename(columns={"epochs": target}), how="left",
                                  on=[*keys, "seed"])
    rows = []
    for key, group in groups(runs, keys):
        kept = group[~group["diverged"].astype(bool)]
        # n: the runs that trained; for the epochs to the target, those that reached it
        rows += [{**dict(zip(keys, key, strict=True)), "metric": metric,
                  "seeds": len(group), "diverged": len(group) - len(kept),
                  **mean_interval(kept[metric].tolist(), statistics.confidence),
                  "confidence": statistics.confidence} for metric in [*RUN_METRICS, target]]
    return pd.DataFrame(rows)


def paired(runs: pd.DataFrame, versus: pd.DataFrame,
           statistics: StatisticsParams) -> dict[str, Any]:
    """``runs - versus`` in test accuracy over the seeds both trained (others: diverged)."""
    confidence = statistics.confidence
    both = pd.concat([table[PAIRED_METRIC].where(~table["diverged"].astype(bool))
                      .set_axis(table["seed"]) for table in (runs, versus)],
                     axis=1, join="inner")
    pairs = both.dropna()
    result = paired_difference(pairs.iloc[:, 0].tolist(), pairs.iloc[:, 1].tolist(),
                               confidence, statistics.equivalence_margin_pp / 100)
    return {"metric": PAIRED_METRIC, "diverged": len(both) - len(pairs), **result,
            "mean_difference": result["mean"], "confidence": confidence,
            "test": "paired t-test, two-sided"}


def compute_pairwise_differences(
    comparison_table: pd.DataFrame, *, statistics: StatisticsParams,
    grid_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """At each grid point, ``variant - versus`` (declared first) for each pair: ``paired``."""
    rows = []
    for key, table in groups(comparison_table, grid_keys):
        by_variant = {variant: runs for (variant,), runs in groups(table, ["variant"])}
        rows += [{**dict(zip(grid_keys, key, strict=True)), "variant": variant,
                  "versus": versus,
                  **paired(by_variant[variant], by_variant[versus], statistics)}
                 for versus, variant in itertools.combinations(by_variant, 2)]
    return pd.DataFrame(rows, columns=[*grid_keys, "metric", "variant", "versus",
                                       *DIFFERENCE_COLUMNS])


def build_sweep_table(variant_statistics: pd.DataFrame,
                      grid_keys: Sequence[str]) -> pd.DataFrame:
    """Per variant and grid point: runs, diverged, final validation and test accuracy."""
    keys = ["variant", *grid_keys]
    return pd.DataFrame([
        {**dict(zip(keys, key, strict=True)), "runs": int(rows["seeds"].iloc[0]),
         "diverged": int(rows["diverged"].iloc[0]),
         **{column: rows.set_index("metric").loc[cell] for column, cell in SWEEP_COLUMNS.items()}}
        for key, rows in groups(variant_statistics, keys)])


def select_best_settings(sweep_table: pd.DataFrame, grid_keys: Sequence[str],
                         per: Sequence[str] = ()) -> pd.DataFrame:
    """Per variant (and value of each ``per`` key: ``confirm.per``), its best grid point on
    validation, and its stable range per grid key."""
    rows = []
    for (variant, *_), points in groups(sweep_table, ["variant", *per]):
        trained = points[points["runs"] > points["diverged"]]
        stable = trained[trained["diverged"] == 0]
        candidates = stable if len(stable) else trained  # where no run diverged, if any
        if not len(candidates):
            rows.append({"variant": variant, **points[list(per)].iloc[0].to_dict(),
                         "runs": int(points["runs"].sum()),
                         "diverged": int(points["diverged"].sum())})
            continue
        # chosen on the validation accuracy: the test set judges, it never chooses
        best = candidates.loc[candidates["final_val_accuracy_mean"].idxmax()]
        row = best.to_dict()
        for key in grid_keys:  # its stable range: where none diverged, the others as at best
            line = points[at_setting(points, best[[k for k in grid_keys if k != key]])]
            row[f"stable_{key}"] = ", ".join(map(value_label, line.loc[line["diverged"] == 0, key]))
        rows.append(row)
    return pd.DataFrame(rows, columns=["variant", *grid_keys, "runs", "diverged",
                                       *SWEEP_COLUMNS, *(f"stable_{k}" for k in grid_keys)])


def build_confirmation_table(best_settings: pd.DataFrame, *settings_and_summaries: Any,
                             runs: list[dict[str, Any]], grid_keys: Sequence[str],
                             per: Sequence[str] = ()) -> pd.DataFrame:
    """One row per confirmation run (``runs``: variant, seed, namespace), with the setting
    it trained at; refused when that is no longer its variant's best (at its ``per``
    values: a grid grown since, the confirmation reused by ``--only-missing-outputs``)."""
    rows = []
    for run, setting, summary in zip(runs, settings_and_summaries[::2],
                                     settings_and_summaries[1::2], strict=True):
        best = best_settings[(best_settings["variant"] == run["variant"])
                             & at_setting(best_settings, {k: setting[k] for k in per})]
        now = {key: best.iloc[0][key] for key in grid_keys}
        if not at_setting(pd.DataFrame([setting]), now).all():
            raise ValueError(
                f"{run['namespace']} was trained at {setting_label(setting)}, but the best "
                f"setting is now {setting_label(now)}: run again without "
                f"--only-missing-outputs to retrain the confirmation")
        rows.append({"variant": run["variant"], **setting, "seed": run["seed"],
                     **summary.iloc[0].to_dict()})
    return pd.DataFrame(rows)


def compare_best_settings(
    comparison_table: pd.DataFrame, best_settings: pd.DataFrame, *,
    statistics: StatisticsParams, grid_keys: Sequence[str], per: Sequence[str] = (),
) -> pd.DataFrame:
    """For each pair of variants (at each value of the ``per`` keys), ``paired`` at each
    one's best setting, over the runs of ``comparison_table`` there (the grid's, or the
    confirmation's)."""
    rows = []
    for key, bests in groups(best_settings, per):
        at_best = {}  # variant: (its best setting, its runs there)
        for best in bests.to_dict("records"):
            if pd.notna(best["final_val_accuracy_mean"]):  # NaN: every run diverged
                setting = {k: best[k] for k in grid_keys}
                at_best[best["variant"]] = (setting_label(setting), comparison_table[
                    (comparison_table["variant"] == best["variant"])
                    & at_setting(comparison_table, setting)])
        rows += [{**dict(zip(per, key, strict=True)), "variant": variant,
                  "variant_setting": at_best[variant][0], "versus": versus,
                  "versus_setting": at_best[versus][0],
                  **paired(at_best[variant][1], at_best[versus][1], statistics)}
                 for versus, variant in itertools.combinations(at_best, 2)]
    return pd.DataFrame(rows, columns=[*per, "metric", "variant", "variant_setting", "versus",
                                       "versus_setting", *DIFFERENCE_COLUMNS])
