"""The diagnostics' plots, built without pyplot (thread-safe), from ``diagnostics_summary``
(means over seeds, with intervals): one row or line per variant at each of its settings
(``grid_keys``: its best, one per value of the ``confirm.per`` keys). Titles wrap to the
figure's width (``wrap=True``), as ``reporting.plots``' do."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bn_compare.pipelines.statistics import groups, setting_label

from .nodes import DENSE, INPUT, LANDSCAPE

UNIT = re.compile(rf"{INPUT}_unit_(\d+)_p50")  # a unit followed one by one: its median
UNIT_STYLES = ("--", ":", "-.")
YLABEL_WIDTH = 40  # characters a line: a measure's description along its axes' height


def _off(title: str) -> Figure:
    fig = Figure(figsize=(8, 2))
    fig.text(0.5, 0.5, f"{title}: no diagnostics in these runs (diagnostics.enabled: false)",
             ha="center", va="center", wrap=True)
    return fig


def _variants(table: pd.DataFrame,
              grid_keys: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """Per variant at a setting: its name (with the setting) and its rows."""
    named = []
    for (variant, *setting), rows in groups(table, ["variant", *grid_keys]):
        where = setting_label(dict(zip(grid_keys, setting, strict=True)))
        named.append((f"{variant} ({where})" if where else variant, rows))
    return named


def plot_activation_percentiles(diagnostics_summary: pd.DataFrame,
                                grid_keys: Sequence[str] = ()) -> Figure:
    """Per variant (rows) and hidden layer (columns): the 15th, 50th and 85th percentiles
    of the inputs to the nonlinearity over training, on the probe images, over all units
    and for each unit followed one by one (Ioffe & Szegedy's Figure 1 for this network);
    where a normalization lies between the Dense layer and its nonlinearity
    (bn_before_activation), also the Dense output's band before it. Means over seeds."""
    measures = diagnostics_summary["measure"]
    table = diagnostics_summary[measures.str.startswith((f"{INPUT}_", f"{DENSE}_p"))]
    if not table["measure"].str.startswith(f"{INPUT}_p").any():
        return _off("Activation percentiles")
    variants, layers = _variants(table, grid_keys), sorted(pd.unique(table["layer"]))
    fig = Figure(figsize=(4.5 * len(layers), 2.6 * len(variants) + 0.8), layout="constrained")
    axes = fig.subplots(len(variants), len(layers), squeeze=False, sharex=True)
    for row, (variant, rows) in enumerate(variants):
        for column, layer in enumerate(layers):
            ax = axes[row, column]
            lines = rows[rows["layer"] == layer].pivot(
                index="epoch", columns="measure", values="mean")
            if f"{INPUT}_p50" not in lines:
                ax.set_axis_off()
                continue
            _percentile_panel(ax, lines, f"C{row}")
            ax.set_title(f"{variant}: {layer}", fontsize=9, wrap=True)
            ax.set(xlabel="epoch (0: before training)" if row == len(variants) - 1 else None,
                   ylabel="input to the nonlinearity" if column == 0 else None)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6, loc="upper left")
    fig.suptitle("Inputs to each layer's nonlinearity over training, on the probe images\n"
                 "(band: 15th to 85th percentile over all units, line: median; thin lines: "
                 "single units' medians, dotted: their 15th and 85th; means over seeds)",
                 wrap=True)
    return fig


def _percentile_panel(ax: Axes, lines: pd.DataFrame, color: str) -> None:
    """One variant's layer: the pooled band and median, each followed unit's median with
    its 15th and 85th percentiles, and the Dense output's band where it is not the input
    to the nonlinearity."""
    ax.fill_between(lines.index, lines[f"{INPUT}_p15"], lines[f"{INPUT}_p85"], color=color,
                    alpha=0.25, linewidth=0, label="all units: 15th-85th percentile")
    ax.plot(lines.index, lines[f"{INPUT}_p50"], color=color, marker="o", markersize=3,
            label="all units: median")
    units = [int(match[1]) for match in map(UNIT.fullmatch, lines.columns) if match]
    for unit, style in zip(units, UNIT_STYLES, strict=False):
        prefix = f"{INPUT}_unit_{unit}_p"
        ax.plot(lines.index, lines[f"{prefix}50"], color="black", linestyle=style,
                linewidth=0.9, label=f"unit {unit}: median")
        for edge in ("15", "85"):
            ax.plot(lines.index, lines[prefix + edge], color="black", linestyle=style,
                    linewidth=0.4, alpha=0.6)
    dense = [f"{DENSE}_p{p}" for p in (15, 50, 85)]
    if set(dense) <= set(lines) and not np.array_equal(
            lines[dense].to_numpy(), lines[[f"{INPUT}_p{p}" for p in (15, 50, 85)]].to_numpy()):
        ax.fill_between(lines.index, lines[dense[0]], lines[dense[2]], facecolor="none",
                        edgecolor="grey", hatch="///", linewidth=0.5,
                        label="Dense output before normalization: 15th-85th")
    ax.axhline(0, color="grey", linewidth=0.6)


def plot_landscape_smoothness(diagnostics_summary: pd.DataFrame,
                              grid_keys: Sequence[str] = ()) -> Figure:
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
                _variants(table[table["measure"] == measure], grid_keys)):
            color = f"C{index}"
            ax.plot(points["epoch"], points["mean"], marker="o", color=color, label=variant)
            ax.fill_between(points["epoch"], points["ci_low"], points["ci_high"], color=color,
                            alpha=0.2, linewidth=0)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(textwrap.fill(description, YLABEL_WIDTH), fontsize=8)
        ax.set_title(measure, wrap=True)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("The loss landscape along the gradient at the checkpoints (Santurkar et al. "
                 "2018): lower is smoother\n(mean over seeds with its confidence band; steps "
                 "of 0.5, 1, 2 and 4 x the learning rate, on the probe images)", wrap=True)
    return fig
