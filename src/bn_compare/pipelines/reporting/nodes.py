"""The tables: statistics over seeds per variant (and grid point), differences between
variants, and across a grid the best settings, the differences there and whether a
difference depends on the setting. A diverged run
(``bn_compare.pipelines.loop.DivergenceGuard``) is counted in ``diverged``, never averaged in (the
statistics themselves: ``pipelines.statistics``). The differences that answer one question
on the same runs are a family, corrected with Holm's method within it: all pairs at one grid
point (``pairwise_differences``), all pairs at the best settings (per ``confirm.per`` value:
``best_setting_differences``), all tests of ``setting_interactions``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

from bn_compare.grid import value_label
from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.statistics import (
    MIN_DISTINCT,
    MIN_FOR_SPREAD,
    at_setting,
    groups,
    holm,
    holm_family,
    mean_interval,
    paired_difference,
    repeated_measures_anova,
    setting_label,
)

RUN_METRICS = ["final_val_accuracy", "best_val_accuracy", "test_accuracy", "test_loss"]
PAIRED_METRIC = "test_accuracy"
SWEEP_COLUMNS = {f"{m}_{s}": (m, s) for m in ("final_val_accuracy", "test_accuracy")
                 for s in ("mean", "ci_low", "ci_high")}  # sweep table column: (metric, statistic)
DIFFERENCE_COLUMNS = ["n", "diverged", "distinct", "mean_difference", "sd", "ci_low",
                      "ci_high", "confidence", "t_statistic", "p_value", "p_holm", "test",
                      "family", "family_size", "equivalence_margin", "equivalence_low",
                      "equivalence_high", "equivalence_p", "equivalence_p_holm", "finding"]
INTERACTION_COLUMNS = ["variant", "versus", "grid_key", "at", "points", "seeds", "left_out",
                       "test", "f_statistic", "df_points", "df_error", "p_value", "family",
                       "family_size", "p_holm", "finding", "note"]
INTERACTION_FAMILY = "setting interactions"


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
    """At each grid point, ``variant - versus`` (declared first) for each pair: ``paired``;
    the pairs at one point are a family (``family``: its setting, or ``all pairs``)."""
    rows = []
    for key, table in groups(comparison_table, grid_keys):
        setting = dict(zip(grid_keys, key, strict=True))
        by_variant = {variant: runs for (variant,), runs in groups(table, ["variant"])}
        rows += [{**setting, **row} for row in holm_family([
            {"variant": variant, "versus": versus,
             **paired(by_variant[variant], by_variant[versus], statistics)}
            for versus, variant in itertools.combinations(by_variant, 2)],
            setting_label(setting) or "all pairs", statistics.confidence)]
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
    values: a grid grown since, the confirmation reused by ``--only-missing-outputs``).
    ``settings_and_summaries``: a pair per group of runs, in the order of ``runs``: the
    group's stacked settings and summaries (two tables, a row per run)."""
    rows = []
    for run, (setting, summary) in zip(runs, _each_run(settings_and_summaries), strict=True):
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


def _each_run(settings_and_summaries: Sequence[pd.DataFrame]) -> Iterator[
        tuple[dict[str, Any], pd.DataFrame]]:
    """Per run, its setting (a mapping) and summary (a one-row table), from the pairs of
    each group's stacked tables (a row per run)."""
    for settings, summaries in zip(settings_and_summaries[::2], settings_and_summaries[1::2],
                                   strict=True):
        yield from zip(settings.to_dict("records"),
                       (summaries.iloc[[row]] for row in range(len(summaries))), strict=True)


def compare_best_settings(
    comparison_table: pd.DataFrame, best_settings: pd.DataFrame, *,
    statistics: StatisticsParams, grid_keys: Sequence[str], per: Sequence[str] = (),
) -> pd.DataFrame:
    """For each pair of variants (at each value of the ``per`` keys), ``paired`` at each
    one's best setting, over the runs of ``comparison_table`` there (the grid's, or the
    confirmation's); the pairs at one value of the ``per`` keys are a family (``best
    settings[, <per values>]``)."""
    rows = []
    for key, bests in groups(best_settings, per):
        at_best = {}  # variant: (its best setting, its runs there)
        for best in bests.to_dict("records"):
            if pd.notna(best["final_val_accuracy_mean"]):  # NaN: every run diverged
                setting = {k: best[k] for k in grid_keys}
                at_best[best["variant"]] = (setting_label(setting), comparison_table[
                    (comparison_table["variant"] == best["variant"])
                    & at_setting(comparison_table, setting)])
        where = setting_label(dict(zip(per, key, strict=True)))
        rows += [{**dict(zip(per, key, strict=True)), **row} for row in holm_family([
            {"variant": variant, "variant_setting": at_best[variant][0], "versus": versus,
             "versus_setting": at_best[versus][0],
             **paired(at_best[variant][1], at_best[versus][1], statistics)}
            for versus, variant in itertools.combinations(at_best, 2)],
            f"best settings, {where}" if where else "best settings", statistics.confidence)]
    return pd.DataFrame(rows, columns=[*per, "metric", "variant", "variant_setting", "versus",
                                       "versus_setting", *DIFFERENCE_COLUMNS])


def compute_setting_interactions(
    comparison_table: pd.DataFrame, *, statistics: StatisticsParams,
    grid_keys: Sequence[str],
) -> pd.DataFrame:
    """Whether ``variant - versus`` in test accuracy (each pair, ``versus`` declared first)
    depends on each grid key: the per-seed differences at the points that differ in that key
    alone (``at``: the other keys' values, one row per such slice of the grid) in a one-way
    repeated-measures ANOVA (``statistics.repeated_measures_anova``; seeds are the blocks;
    for two points the paired t-test of the two differences, F = t²). A point where a run of
    either variant diverged is left out (``left_out``: its accuracy difference says nothing of
    accuracy), then a seed missing at a remaining point. All the table's tests are one family
    (Holm). ``finding``: ``depends on <key>`` (Holm-adjusted p below 1 - confidence), ``no
    evidence it depends on <key>``, or ``not testable`` (``note`` says why)."""
    rows = []
    variants = list(pd.unique(comparison_table["variant"]))
    for versus, variant in itertools.combinations(variants, 2):
        pair = comparison_table[comparison_table["variant"].isin([variant, versus])]
        for key in grid_keys:
            others = [k for k in grid_keys if k != key]
            slices = [(dict(zip(others, at, strict=True)), runs)
                      for at, runs in groups(pair, others) if runs[key].nunique() > 1]
            head = {"variant": variant, "versus": versus, "grid_key": key}
            rows += [{**head, "at": setting_label(at),
                      **_interaction(runs, variant, versus, key)} for at, runs in slices] or [
                {**head, "at": "", "points": 0, "seeds": 0, "left_out": "",
                 **repeated_measures_anova([[]]),
                 "note": f"no two grid points differ in {key} alone"}]
    alpha = 1 - statistics.confidence
    p_holm = holm([row["p_value"] for row in rows])
    size = sum(not math.isnan(row["p_value"]) for row in rows)
    return pd.DataFrame([
        {**row, "test": "repeated-measures ANOVA (F-test)", "family": INTERACTION_FAMILY,
         "family_size": size, "p_holm": p,
         "finding": "not testable" if math.isnan(p) else f"depends on {row['grid_key']}"
         if p < alpha else f"no evidence it depends on {row['grid_key']}"}
        for row, p in zip(rows, p_holm, strict=True)], columns=INTERACTION_COLUMNS)


def _interaction(runs: pd.DataFrame, variant: str, versus: str, key: str) -> dict[str, Any]:
    """The repeated-measures ANOVA of ``variant - versus`` across the values of ``key`` in
    ``runs`` (one slice of the grid), with what it was over and, without a test, why."""
    accuracy = runs[PAIRED_METRIC].where(~runs["diverged"].astype(bool))
    by_run = runs.assign(accuracy=accuracy).set_index(["seed", key, "variant"])["accuracy"]
    differences = (by_run.xs(variant, level="variant") - by_run.xs(versus, level="variant"))
    cells = differences.unstack(key).reindex(columns=pd.unique(runs[key]))
    diverged = list(pd.unique(runs.loc[runs["diverged"].astype(bool), key]))
    cells = cells.drop(columns=diverged).dropna(axis=1, how="all").dropna(axis=0)
    result = repeated_measures_anova(cells.to_numpy())
    points, seeds = cells.shape[1], cells.shape[0]
    note = ""
    if math.isnan(result["p_value"]):
        note = (f"fewer than {MIN_FOR_SPREAD} points where no run diverged"
                if points < MIN_FOR_SPREAD else
                f"fewer than {MIN_FOR_SPREAD} seeds trained at every point"
                if seeds < MIN_FOR_SPREAD else
                f"no spread: fewer than {MIN_DISTINCT} distinct values, or every seed moves "
                f"alike")
    return {"points": points, "seeds": seeds,
            "left_out": ", ".join(map(value_label, diverged)), **result, "note": note}
