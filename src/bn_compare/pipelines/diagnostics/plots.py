"""The diagnostics' plots, built without pyplot (thread-safe), from ``diagnostics_summary``
(means over seeds, with intervals)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .nodes import LANDSCAPE


def _off(title: str) -> Figure:
    fig = Figure(figsize=(8, 2))
    fig.text(0.5, 0.5, f"{title}: no diagnostics in these runs (diagnostics.enabled: false)",
             ha="center", va="center")
    return fig


def plot_activation_percentiles(diagnostics_summary: pd.DataFrame) -> Figure:
    """Per variant (rows) and hidden layer (columns): the 15th, 50th and 85th percentiles
    of the inputs to the nonlinearity over training, on the probe images (Ioffe &
    Szegedy's Figure 1 for this network); means over seeds."""
    table = diagnostics_summary[diagnostics_summary["measure"].str.startswith("pre_activation_p")]
    if table.empty:
        return _off("Activation percentiles")
    variants, layers = list(pd.unique(table["variant"])), sorted(pd.unique(table["layer"]))
    fig = Figure(figsize=(4.5 * len(layers), 2.6 * len(variants) + 0.8), layout="constrained")
    axes = fig.subplots(len(variants), len(layers), squeeze=False, sharex=True)
    for row, variant in enumerate(variants):
        for column, layer in enumerate(layers):
            ax = axes[row, column]
            lines = table[(table["variant"] == variant) & (table["layer"] == layer)].pivot(
                index="epoch", columns="measure", values="mean")
            if lines.empty:
                ax.set_axis_off()
                continue
            color = f"C{row}"
            ax.fill_between(lines.index, lines["pre_activation_p15"],
                            lines["pre_activation_p85"], color=color, alpha=0.25,
                            linewidth=0, label="15th-85th percentile")
            ax.plot(lines.index, lines["pre_activation_p50"], color=color, marker="o",
                    markersize=3, label="median")
            ax.axhline(0, color="grey", linewidth=0.6)
            ax.set_title(f"{variant}: {layer}", fontsize=9)
            ax.set(xlabel="epoch (0: before training)" if row == len(variants) - 1 else None,
                   ylabel="input to the nonlinearity" if column == 0 else None)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Inputs to each layer's nonlinearity over training, on the probe images\n"
                 "(band: 15th to 85th percentile, line: median; means over seeds)")
    return fig


def plot_landscape_smoothness(diagnostics_summary: pd.DataFrame) -> Figure:
    """Per landscape measure (Santurkar et al.), its value at each checkpoint per variant:
    mean over seeds with its interval (lower is smoother)."""
    table = diagnostics_summary[(diagnostics_summary["layer"] == "network")
                                & diagnostics_summary["measure"].isin(LANDSCAPE)]
    if table.empty:
        return _off("Loss landscape")
    fig = Figure(figsize=(5 * len(LANDSCAPE), 4.2), layout="constrained")
    axes = fig.subplots(1, len(LANDSCAPE), squeeze=False)[0]
    for ax, (measure, description) in zip(axes, LANDSCAPE.items(), strict=True):
        for index, (variant, points) in enumerate(
                table[table["measure"] == measure].groupby("variant", sort=False)):
            color = f"C{index}"
            ax.plot(points["epoch"], points["mean"], marker="o", color=color, label=variant)
            ax.fill_between(points["epoch"], points["ci_low"], points["ci_high"], color=color,
                            alpha=0.2, linewidth=0)
        ax.set_yscale("log")
        ax.set(xlabel="epoch", title=measure, ylabel=description)
        ax.yaxis.label.set_size(8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("The loss landscape along the gradient at the checkpoints (Santurkar et al. "
                 "2018): lower is smoother\n(mean over seeds with its confidence band; steps "
                 "of 0.5, 1, 2 and 4 x the learning rate, on the probe images)")
    return fig
