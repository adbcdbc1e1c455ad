"""The plots: learning curves, test accuracy per variant, accuracy across the grid.

Figures are built without pyplot (thread-safe); diverged runs are left out of every
line and band, and said so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bn_compare.parameters import StatisticsParams

from .nodes import groups, variants
from .statistics import mean_interval
from .sweep import setting_label

LOG_SCALE_SPAN = 100  # grid values spanning this factor or more get a log axis
METRIC_LABELS = {"final_val_accuracy": "final validation accuracy",
                 "test_accuracy": "test accuracy"}


def _trained(table: pd.DataFrame) -> pd.DataFrame:
    return table[~table["diverged"].astype(bool)] if "diverged" in table else table


def _mean_line(ax, curves: pd.DataFrame, column: str, label: str, confidence: float) -> None:
    per_epoch = [(epoch, mean_interval(rows[column].tolist(), confidence))
                 for epoch, rows in curves.groupby("epoch")]
    epochs = [epoch for epoch, _ in per_epoch]
    line, = ax.plot(epochs, [s["mean"] for _, s in per_epoch], marker="o", label=label)
    if curves["seed"].nunique() > 1:
        ax.fill_between(epochs, [s["ci_low"] for _, s in per_epoch],
                        [s["ci_high"] for _, s in per_epoch], color=line.get_color(),
                        alpha=0.2, linewidth=0)


def _seeds_label(variant: str, curves: pd.DataFrame, all_curves: pd.DataFrame) -> str:
    seeds, runs = curves["seed"].nunique(), all_curves["seed"].nunique()
    label = f"{variant} ({seeds} seed{'s' if seeds != 1 else ''}"
    return label + (f"; {runs - seeds} diverged)" if runs > seeds else ")")


def plot_learning_curves(learning_curve_table: pd.DataFrame, statistics: StatisticsParams,
                         grid_keys: Sequence[str] = ()) -> Figure:
    """Validation accuracy (and, without a grid, loss) per epoch: per variant the mean
    over seeds, with a band for the confidence interval of that mean when there are two
    seeds or more. With a grid, one panel per grid point."""
    confidence = statistics.confidence
    points = groups(learning_curve_table, grid_keys)
    several = learning_curve_table.groupby("variant")["seed"].nunique().max() > 1
    if grid_keys:
        columns = min(4, len(points))
        rows = -(-len(points) // columns)
        fig = Figure(figsize=(4.2 * columns, 3.6 * rows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False).ravel())
        panels = [(axes[i], key, table, "val_accuracy")
                  for i, (key, table) in enumerate(points)]
        for ax in axes[len(points):]:
            ax.set_visible(False)
    else:
        fig = Figure(figsize=(13, 5), layout="constrained")
        axes = fig.subplots(1, 2)
        panels = [(axes[0], (), learning_curve_table, "val_accuracy"),
                  (axes[1], (), learning_curve_table, "val_loss")]
    for ax, key, table, column in panels:
        for variant in variants(table):
            runs = table[table["variant"] == variant]
            trained = _trained(runs)
            if len(trained):
                _mean_line(ax, trained, column, _seeds_label(variant, trained, runs),
                           confidence)
        if not len(_trained(table)):
            ax.text(0.5, 0.5, "every run diverged", transform=ax.transAxes, ha="center")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("accuracy" if column == "val_accuracy"
                      else "sparse categorical cross-entropy")
        ax.grid(alpha=0.3)
        if column == "val_accuracy":
            ax.axhline(statistics.target_val_accuracy, color="grey", linestyle=":",
                       label="target")
        ax.set_title(setting_label(pd.Series(dict(zip(grid_keys, key, strict=True))),
                                   grid_keys) if grid_keys else
                     f"Validation {'accuracy' if column == 'val_accuracy' else 'loss'} per epoch",
                     fontsize=10 if grid_keys else None)
        ax.legend(title="variant", fontsize=8 if grid_keys else None)
    band = (f"band: {confidence:.0%} confidence interval of the mean over seeds"
            if several else "one seed per variant: no band")
    fig.suptitle(f"Learning curves on the validation images\n(line: mean over seeds; {band})")
    return fig


def plot_test_accuracy_intervals(
    comparison_table: pd.DataFrame, variant_statistics: pd.DataFrame,
    best_settings: pd.DataFrame | None = None, grid_keys: Sequence[str] = (),
) -> Figure:
    """Test accuracy per variant (with a grid: at its best setting): every seed as a
    small dot, the mean as a large one with its confidence interval."""
    rows = []  # (label, runs, statistics row)
    test = variant_statistics[variant_statistics["metric"] == "test_accuracy"]
    for variant in variants(comparison_table):
        mine_runs = comparison_table["variant"] == variant
        mine_stats = test["variant"] == variant
        label = variant
        if best_settings is not None:
            best = best_settings.set_index("variant").loc[variant]
            if pd.isna(best["final_val_accuracy_mean"]):
                continue
            mine_runs &= (comparison_table[list(grid_keys)] == best[list(grid_keys)]).all(axis=1)
            mine_stats &= (test[list(grid_keys)] == best[list(grid_keys)]).all(axis=1)
            label = f"{variant}\n({setting_label(best, grid_keys)})"
        stats = test[mine_stats].iloc[0]
        if stats["diverged"]:
            label += f"\n{int(stats['diverged'])} of {int(stats['seeds'])} diverged"
        rows.append((label, _trained(comparison_table[mine_runs])["test_accuracy"], stats))
    fig = Figure(figsize=(9, 1.2 + 0.8 * len(rows) * (1.5 if grid_keys else 1)),
                 layout="constrained")
    ax = fig.subplots()
    for position, (label, runs, stats) in enumerate(rows):
        ax.scatter(runs, np.full(len(runs), position + 0.15), s=14, color="grey",
                   label="one seed" if position == 0 else None, zorder=2)
        if np.isfinite(stats["ci_low"]):
            ax.errorbar(stats["mean"], position, xerr=[[stats["mean"] - stats["ci_low"]],
                                                       [stats["ci_high"] - stats["mean"]]],
                        fmt="o", color="C0", markersize=8, capsize=5, zorder=3,
                        label=f"mean, {stats['confidence']:.0%} CI" if position == 0 else None)
        elif np.isfinite(stats["mean"]):
            ax.plot(stats["mean"], position, "o", color="C0", markersize=8, zorder=3,
                    label="mean (one seed: no interval)" if position == 0 else None)
    ax.set_yticks(range(len(rows)), [label for label, _, _ in rows])
    ax.invert_yaxis()
    ax.set_xlabel("test accuracy")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_title("Test accuracy per variant over seeds"
                 + (" at its best setting (chosen on validation)" if grid_keys else ""))
    return fig


def _is_log_scale(key: str, values: Sequence) -> bool:
    numbers = [v for v in values if isinstance(v, (int, float)) and v > 0]
    return len(numbers) == len(values) and (
        key == "learning_rate" or max(numbers) / min(numbers) >= LOG_SCALE_SPAN)


def plot_sweep_curves(sweep_table: pd.DataFrame, grid_keys: Sequence[str]) -> Figure:
    """Accuracy against the first grid key, per variant, with the confidence band; a
    point where runs diverged is marked with a cross (at the bottom when every run
    there diverged). With more grid keys, one column of panels per value of the others."""
    x_key, panel_keys = grid_keys[0], list(grid_keys[1:])
    panels = groups(sweep_table, panel_keys)
    x_values = list(pd.unique(sweep_table[x_key]))
    numeric = all(isinstance(v, (int, float)) for v in x_values)
    fig = Figure(figsize=(max(9.0, 5.5 * len(panels)), 8), layout="constrained")
    axes = fig.subplots(2, len(panels), squeeze=False)
    for column, (key, table) in enumerate(panels):
        for row, metric in enumerate(("final_val_accuracy", "test_accuracy")):
            ax = axes[row][column]
            for index, variant in enumerate(variants(table)):
                points = table[table["variant"] == variant]
                xs = points[x_key] if numeric else points[x_key].map(x_values.index)
                color = f"C{index}"
                ax.plot(xs, points[f"{metric}_mean"], marker="o", color=color, label=variant)
                ax.fill_between(xs, points[f"{metric}_ci_low"], points[f"{metric}_ci_high"],
                                color=color, alpha=0.2, linewidth=0)
                failed = points[points["diverged"] > 0]
                for x, (_, point) in zip(xs[points["diverged"] > 0], failed.iterrows(),
                                         strict=True):
                    y = point[f"{metric}_mean"]
                    transform = ax.get_xaxis_transform() if pd.isna(y) else ax.transData
                    ax.plot(x, 0.03 if pd.isna(y) else y, "x", color=color, markersize=10,
                            markeredgewidth=2, transform=transform)
                    ax.annotate(f"{int(point['diverged'])}/{int(point['runs'])} diverged",
                                (x, 0.03 if pd.isna(y) else y), xycoords=transform,
                                textcoords="offset points", xytext=(6, 4 + 9 * index),
                                fontsize=7, color=color)
            if numeric and _is_log_scale(x_key, x_values):
                ax.set_xscale("log")
            if not numeric:
                ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
            ax.set_xlabel(x_key)
            ax.set_ylabel(METRIC_LABELS[metric])
            ax.grid(alpha=0.3)
            title = setting_label(pd.Series(dict(zip(panel_keys, key, strict=True))),
                                  panel_keys)
            ax.set_title(f"{METRIC_LABELS[metric]}" + (f" ({title})" if title else ""))
            ax.legend(title="variant", fontsize=8)
    fig.suptitle("Accuracy across the grid: mean over seeds with its confidence band\n"
                 "x: runs that diverged (left out of the means; at the bottom when all did)")
    return fig
