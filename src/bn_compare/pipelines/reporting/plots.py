"""The plots, built without pyplot (thread-safe). Diverged runs are left out of every
line and band, and said so. Titles wrap (``wrap=True``) to the figure's width: constrained
layout makes room for a title's lines but never narrows it, so a long one is cut at both
edges of the figure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.statistics import at_setting, groups, mean_interval, setting_label

from .nodes import select_best_settings

LOG_SCALE_SPAN = 100  # grid values spanning this factor or more get a log axis
SWEEP_PANELS = {"final_val_accuracy": "final validation accuracy",
                "test_accuracy": "test accuracy"}  # one row of panels each


def _trained(table: pd.DataFrame) -> pd.DataFrame:
    return table[~table["diverged"].astype(bool)] if "diverged" in table else table


def plot_learning_curves(learning_curve_table: pd.DataFrame, *, statistics: StatisticsParams,
                         grid_keys: Sequence[str] = ()) -> Figure:
    """Per variant, the mean validation accuracy (and loss) per epoch over seeds, in bands."""
    if grid_keys:
        points = groups(learning_curve_table, grid_keys)
        columns = min(4, len(points))
        rows = -(-len(points) // columns)
        fig = Figure(figsize=(4.2 * columns, 3.6 * rows), layout="constrained")
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for ax in axes[len(points):]:
            ax.set_visible(False)
        panels = [(ax, table, "val_accuracy", setting_label(dict(zip(grid_keys, key, strict=True))))
                  for ax, (key, table) in zip(axes, points, strict=False)]
    else:
        fig = Figure(figsize=(13, 5), layout="constrained")
        panels = [(ax, learning_curve_table, f"val_{name}", f"Validation {name} per epoch")
                  for ax, name in zip(fig.subplots(1, 2), ("accuracy", "loss"), strict=True)]
    for ax, table, column, title in panels:
        for (variant,), runs in groups(table, ["variant"]):
            trained = _trained(runs)
            seeds, ran = trained["seed"].nunique(), runs["seed"].nunique()
            if not seeds:
                continue
            per_epoch = pd.DataFrame({epoch: mean_interval(at_epoch[column].tolist(),
                                                           statistics.confidence)
                                      for epoch, at_epoch in trained.groupby("epoch")}).T
            line, = ax.plot(per_epoch.index, per_epoch["mean"], marker="o",
                            label=f"{variant} ({seeds} seed{'s' * (seeds != 1)}"
                            + (f"; {ran - seeds} diverged)" if ran > seeds else ")"))
            if seeds > 1:  # the band of the mean's confidence interval
                ax.fill_between(per_epoch.index, per_epoch["ci_low"], per_epoch["ci_high"],
                                color=line.get_color(), alpha=0.2, linewidth=0)
        if not len(_trained(table)):
            ax.text(0.5, 0.5, "every run diverged", transform=ax.transAxes, ha="center")
        ax.set(xlabel="epoch", ylabel="accuracy" if column == "val_accuracy"
               else "sparse categorical cross-entropy")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if column == "val_accuracy":
            ax.axhline(statistics.target_val_accuracy, color="grey", linestyle=":", label="target")
        ax.set_title(title, fontsize=10 if grid_keys else None, wrap=True)
        ax.legend(title="variant", fontsize=8 if grid_keys else None)
    band = (f"band: {statistics.confidence:.0%} confidence interval of the mean over seeds"
            if learning_curve_table.groupby("variant")["seed"].nunique().max() > 1
            else "one seed per variant: no band")
    fig.suptitle(f"Learning curves on the validation images\n(line: mean over seeds; {band})",
                 wrap=True)
    return fig


def plot_test_accuracy_intervals(
    comparison_table: pd.DataFrame, variant_statistics: pd.DataFrame,
    best_settings: pd.DataFrame | None = None, grid_keys: Sequence[str] = (),
) -> Figure:
    """Per variant (at its best setting), each seed's test accuracy and their mean's CI."""
    test = variant_statistics[variant_statistics["metric"] == "test_accuracy"]
    runs = _trained(comparison_table)
    if best_settings is not None:  # at each variant's best setting; none: every run diverged
        best = best_settings.dropna(subset=["final_val_accuracy_mean"])[["variant", *grid_keys]]
        test, runs = test.merge(best), runs.merge(best)
    fig = Figure(figsize=(9, 1.2 + 0.8 * len(test) * (1.5 if grid_keys else 1)),
                 layout="constrained")
    ax = fig.subplots()
    labels = []
    for position, row in enumerate(test.to_dict("records")):
        first = position == 0  # labelled in the legend
        seeds = runs.loc[runs["variant"] == row["variant"], "test_accuracy"]
        ax.scatter(seeds, np.full(len(seeds), position + 0.15), s=14, color="grey",
                   label="one seed" if first else None, zorder=2)
        if np.isfinite(row["ci_low"]):
            ax.errorbar(row["mean"], position, xerr=[[row["mean"] - row["ci_low"]],
                                                     [row["ci_high"] - row["mean"]]],
                        fmt="o", color="C0", markersize=8, capsize=5, zorder=3,
                        label=f"mean, {row['confidence']:.0%} CI" if first else None)
        elif np.isfinite(row["mean"]):
            ax.plot(row["mean"], position, "o", color="C0", markersize=8, zorder=3,
                    label="mean (one seed: no interval)" if first else None)
        where = (f"\n({setting_label({k: row[k] for k in grid_keys})})"
                 if best_settings is not None else "")
        lost = f"\n{row['diverged']} of {row['seeds']} diverged" if row["diverged"] else ""
        labels.append(row["variant"] + where + lost)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("test accuracy")
    ax.set_title("Test accuracy per variant over seeds"
                 + (" at its best setting (chosen on validation)" if grid_keys else ""), wrap=True)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_sweep_curves(sweep_table: pd.DataFrame, grid_keys: Sequence[str]) -> Figure:
    """Per variant, the accuracies against the first grid key (a panel per value of the
    others), its best point in each panel (chosen on validation) starred."""
    x_key, panel_keys = grid_keys[0], list(grid_keys[1:])
    panels = groups(sweep_table, panel_keys)
    x_values = list(pd.unique(sweep_table[x_key]))
    numeric = all(isinstance(v, (int, float)) for v in x_values)
    positive = [v for v in x_values if numeric and v > 0]
    log_scale = len(positive) == len(x_values) and (
        x_key == "learning_rate" or max(positive) / min(positive) >= LOG_SCALE_SPAN)
    fig = Figure(figsize=(max(9.0, 5.5 * len(panels)), 8), layout="constrained")
    axes = fig.subplots(2, len(panels), squeeze=False)
    for column, (key, table) in enumerate(panels):
        title = setting_label(dict(zip(panel_keys, key, strict=True)))
        best = {row["variant"]: {key: row[key] for key in grid_keys}  # where none diverged
                for row in select_best_settings(table, grid_keys).dropna(
                    subset=["final_val_accuracy_mean"]).to_dict("records")}
        for ax, (metric, name) in zip(axes[:, column], SWEEP_PANELS.items(), strict=True):
            for index, ((variant,), points) in enumerate(groups(table, ["variant"])):
                xs = points[x_key] if numeric else points[x_key].map(x_values.index)
                color = f"C{index}"
                ax.plot(xs, points[f"{metric}_mean"], marker="o", color=color, label=variant)
                if variant in best:
                    chosen = at_setting(points, best[variant])
                    ax.plot(xs[chosen], points.loc[chosen, f"{metric}_mean"], "*",
                            color=color, markersize=16, markeredgecolor="black")
                ax.fill_between(xs, points[f"{metric}_ci_low"], points[f"{metric}_ci_high"],
                                color=color, alpha=0.2, linewidth=0)
                for point in points.assign(x=xs)[points["diverged"] > 0].to_dict("records"):
                    x, mean = point["x"], point[f"{metric}_mean"]
                    transform, y = ((ax.transData, mean) if pd.notna(mean)  # else: at the bottom
                                    else (ax.get_xaxis_transform(), 0.03))
                    ax.plot(x, y, "x", color=color, markersize=10, markeredgewidth=2,
                            transform=transform)
                    ax.annotate(f"{int(point['diverged'])}/{int(point['runs'])} diverged", (x, y),
                                xycoords=transform, textcoords="offset points",
                                xytext=(6, 4 + 9 * index), fontsize=7, color=color)
            if log_scale:
                ax.set_xscale("log")
            if not numeric:
                ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
            ax.set(xlabel=x_key, ylabel=name)
            ax.set_title(name + (f" ({title})" if title else ""), wrap=True)
            ax.grid(alpha=0.3)
            ax.legend(title="variant", fontsize=8)
    fig.suptitle("Accuracy across the grid: mean over seeds with its confidence band\n"
                 "★: each variant's best in the panel, on validation; x: runs that diverged "
                 "(left out of the means; at the bottom when all did)", wrap=True)
    return fig
