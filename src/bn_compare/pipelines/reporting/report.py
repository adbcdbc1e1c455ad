"""The report: one self-contained HTML page that reads without the code. It computes
nothing: it lays out the tables, the figures (the plot nodes' PNG files, embedded) and
the verdict that other nodes made. ``page_content`` says what the page says, as a plain
dict; the Jinja2 template ``templates/report.html`` (autoescaped) lays it out."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bn_compare.parameters import DataParams, StatisticsParams, TrainingParams
from bn_compare.run_matrix import value_label

from .nodes import groups, target_metric, variants
from .statistics import MIN_FOR_SPREAD
from .sweep import setting_label

TITLE = "Does BatchNormalization help, and where should it go?"
# What the report lays out, by catalog name: tables, and figures as PNG bytes.
TABLES = ("comparison_table", "variant_statistics", "pairwise_differences",
          "parameter_accounting")
FIGURES = ("learning_curves", "test_accuracy_intervals")
GRID_TABLES = ("sweep_table", "best_settings", "best_setting_differences")
GRID_FIGURES = ("sweep_curves",)


def png_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def table_html(table: pd.DataFrame) -> Markup:
    """A table as HTML (pandas escapes every cell)."""
    html = table.to_html(index=False, escape=True, border=0, na_rep="–")
    return Markup(f'<div class="scroll">{html}</div>')


@cache
def _template() -> Any:
    environment = Environment(loader=PackageLoader(__package__, "templates"),
                              autoescape=select_autoescape(["html"]))
    environment.filters["table"] = table_html
    return environment.get_template("report.html")


def render(content: dict[str, Any]) -> str:
    return _template().render(**content) + "\n"


def layer_text(layer: dict[str, Any]) -> str:
    arguments = ", ".join(f"{k}={v}" for k, v in layer.items() if k != "class_name")
    return f"{layer['class_name']}({arguments})" if arguments else layer["class_name"]


def _fmt(value: float, digits: int = 4) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def interval_cell(row: pd.Series, digits: int = 4) -> str:
    """``mean [low, high]``, or the mean alone when there is no interval."""
    if row["n"] == 0:
        return "not reached"
    text = _fmt(row["mean"], digits)
    if math.isfinite(row["ci_low"]):
        text += f" [{_fmt(row['ci_low'], digits)}, {_fmt(row['ci_high'], digits)}]"
    return text


@dataclass(frozen=True)
class Setup:
    """What the run was: data, training settings, layers, statistics."""

    data: DataParams
    training: TrainingParams
    layers: dict[str, Any]
    statistics: StatisticsParams


def write_report(  # noqa: PLR0913 (a node: the verdict, the setup, then the datasets)
    verdict: dict[str, Any],
    data: DataParams,
    training: TrainingParams,
    variants: dict[str, Any],
    statistics: StatisticsParams,
    *,
    grid_keys: Sequence[str] = (),
    overrides: dict[str, Any] | None = None,
    **datasets: pd.DataFrame | bytes,
) -> str:
    """The whole comparison as a self-contained HTML page. ``datasets`` are the tables
    and the figures' PNG bytes, by catalog name: ``TABLES`` and ``FIGURES``, and for a
    grid of several points (``grid_keys``) also ``GRID_TABLES`` and ``GRID_FIGURES``;
    ``overrides`` are the settings of a grid of one point."""
    setup = Setup(data, training.at(overrides or {}), variants, statistics)
    return render(page_content(datasets, verdict, setup, grid_keys))


def page_content(datasets: Mapping[str, Any], verdict: dict[str, Any], setup: Setup,
                 grid_keys: Sequence[str] = ()) -> dict[str, Any]:
    """What the page says."""
    comparison, statistics = datasets["comparison_table"], setup.statistics
    seeds = sorted(comparison["seed"].unique().tolist())
    return {
        "title": TITLE,
        "answers": _texts(verdict["answers"]),
        "caveat": _caveat(seeds, statistics, bool(grid_keys)),
        "setup": _setup(setup, seeds, {key: list(pd.unique(comparison[key]))
                                       for key in grid_keys}),
        "architectures": _architectures(variants(comparison), setup.layers,
                                        datasets["parameter_accounting"]),
        "grid": _grid(datasets, verdict, grid_keys, statistics) if grid_keys else None,
        "results": _results(datasets["variant_statistics"], datasets["pairwise_differences"],
                            statistics, grid_keys),
        "plots": [png_uri(datasets[name]) for name in FIGURES],
        "comparisons": _texts(verdict["comparisons"]),
        "runs": _runs(comparison),
    }


def _texts(said: list[dict[str, Any]]) -> list[str]:
    return [item["text"] for item in said]


def _caveat(seeds: list[int], statistics: StatisticsParams, is_sweep: bool) -> str:
    if len(seeds) < MIN_FOR_SPREAD:
        return ("Only one seed per variant was run: no standard deviation, interval or test "
                "can be given, and the differences below are single runs. Run with several "
                "seeds (kedro run --pipeline=compare --env=seeds) for the answer with its "
                "uncertainty.")
    text = (f"{len(seeds)} seeds per variant. Intervals are {statistics.confidence:.0%} "
            f"t-intervals of the mean over seeds; differences are paired by seed (same "
            f"initial-weight and shuffle seed) and tested with a two-sided paired t-test. "
            f"No correction for multiple comparisons is applied.")
    if is_sweep:
        text += (" Across the grid, the answers compare each variant at its best setting, "
                 "chosen on the validation accuracy; the test set judges, it never chooses.")
    return text


def _setup(setup: Setup, seeds: list[int], grid: dict[str, list[Any]]) -> list[str]:
    data, training = setup.data, setup.training
    images = data.split_sizes
    shape = "x".join(str(d) for d in data.image_shape)
    lines = [
        f"Data: Fashion-MNIST, {len(data.class_names)} classes of {shape} grey-scale "
        f"images scaled by 1/{data.scale:g}: {images['train']:,} training, "
        f"{images['validation']:,} validation (held out of the official training set) "
        f"and {images['test']:,} test images.",
        _training_line(training, grid),
        f"Seeds: {', '.join(map(str, seeds))}. A seed fixes the initial weights and the "
        f"shuffling; TensorFlow op determinism is {'on' if training.deterministic else 'off'}.",
        f"Target for 'epochs to target': validation accuracy "
        f"{setup.statistics.target_val_accuracy:g}.",
    ]
    if grid:
        points = math.prod(len(values) for values in grid.values())
        lines.insert(2, f"Grid: {points} points ({' x '.join(grid)}); every variant is "
                        f"trained at each point with each seed.")
    return lines


def _training_line(training: TrainingParams, grid: dict[str, list[Any]]) -> str:
    said = {key: ", ".join(map(value_label, grid[key])) + " (grid)" if key in grid
            else value_label(getattr(training, key))
            for key in ("optimizer", "learning_rate", "batch_size", "epochs", "loss")}
    return (f"Training: {said['optimizer']} with learning rate {said['learning_rate']}, "
            f"batch size {said['batch_size']}, {said['epochs']} epochs, loss {said['loss']}.")


def _architectures(names: list[str], layers: dict[str, Any],
                   accounting: pd.DataFrame) -> dict[str, Any]:
    rows = []
    for name in names:
        counts = accounting[accounting["variant"] == name]
        rows.append({
            "variant": name,
            "layers": " → ".join(layer_text(layer) for layer in layers[name]["layers"]),
            "parameters": f"{int(counts['total'].sum()):,}",
            "trainable": f"{int(counts['trainable'].sum()):,}",
            "non-trainable": f"{int(counts['non_trainable'].sum()):,}",
        })
    bn = accounting[accounting["class_name"] == "BatchNormalization"]
    lines = []
    for name, bn_layers in bn.groupby("variant", sort=False):
        features = int(bn_layers["features"].sum())
        lines.append(f"{name}: {features:,} normalised features x 4 = {4 * features:,} BN "
                     f"values, {int(bn_layers['trainable'].sum()):,} trainable and "
                     f"{int(bn_layers['non_trainable'].sum()):,} not.")
    return {
        "table": pd.DataFrame(rows),
        "bn_table": bn[["variant", "layer", "features", "gamma", "beta", "moving_mean",
                        "moving_variance", "total", "trainable", "non_trainable"]]
        if len(bn) else None,
        "bn_lines": lines,
    }


def _ci_text(low: float, high: float) -> str:
    return "–" if not np.isfinite(low) else f"{100 * low:+.2f} to {100 * high:+.2f}"


def _differences(pairwise: pd.DataFrame, confidence: float,
                 keys: Sequence[str] = ()) -> pd.DataFrame:
    table = pd.DataFrame({key: pairwise[key] for key in keys})
    return table.assign(**{
        "comparison": pairwise["variant"] + " − " + pairwise["versus"],
        "seeds": pairwise["n"],
        "mean difference (pp)": (100 * pairwise["mean_difference"]).round(2),
        f"{confidence:.0%} CI (pp)": [_ci_text(lo, hi) for lo, hi in
                                     zip(pairwise["ci_low"], pairwise["ci_high"], strict=True)],
        "p (paired t-test)": pairwise["p_value"].map(
            lambda p: "–" if not np.isfinite(p) else f"{p:.2g}"),
    })


def _results(variant_statistics: pd.DataFrame, pairwise: pd.DataFrame,
             statistics: StatisticsParams, grid_keys: Sequence[str]) -> dict[str, Any]:
    confidence = statistics.confidence
    target = target_metric(statistics)
    keys = ["variant", *grid_keys]
    wide = []
    for key, rows in groups(variant_statistics, keys):
        first = rows.iloc[0]
        line = {**dict(zip(keys, key, strict=True)), "seeds": int(first["seeds"])}
        if first["diverged"]:
            line["seeds"] = f"{int(first['seeds'])} ({int(first['diverged'])} diverged)"
        for _, row in rows.iterrows():
            cell = interval_cell(row, 1 if row["metric"] == target else 4)
            if first["diverged"] == first["seeds"]:
                cell = "every run diverged"
            elif row["metric"] == target:
                trained = int(row["seeds"] - row["diverged"])
                cell += f" ({int(row['n'])} of {trained} seeds reached it)"
            line[row["metric"]] = cell
        wide.append(line)
    return {
        "intro": f"Per variant: mean [{confidence:.0%} confidence interval] over seeds. "
                 f"Accuracies are fractions; test figures are on the official test set, "
                 f"validation figures after the last epoch (final) and at the best epoch "
                 f"(best).",
        "table": pd.DataFrame(wide),
        "differences": _differences(pairwise, confidence, grid_keys),
    }


def _runs(comparison: pd.DataFrame) -> pd.DataFrame:
    runs = comparison.round(4)
    if not runs["diverged"].astype(bool).any():
        runs = runs.drop(columns=["diverged", "diverged_at_epoch"])
    return runs


def _grid(datasets: Mapping[str, Any], verdict: dict[str, Any], grid_keys: Sequence[str],
          statistics: StatisticsParams) -> dict[str, Any]:
    """The section "Across the grid"."""
    sweep_table, best = datasets["sweep_table"], datasets["best_settings"]
    best_differences = datasets["best_setting_differences"]
    confidence = statistics.confidence
    best_table = best.assign(setting=[setting_label(r, grid_keys) if pd.notna(
        r["final_val_accuracy_mean"]) else "every run diverged" for _, r in best.iterrows()])
    return {
        "intro": f"Every variant was trained at each of the {len(sweep_table.drop_duplicates(list(grid_keys)))} "
                 f"grid points with each seed. A variant's best setting is the grid point "
                 f"with the highest mean final validation accuracy among those where no run "
                 f"diverged; its test accuracy is reported with its {confidence:.0%} "
                 f"interval. The stable range lists the values of each grid key, with the "
                 f"best point's other settings, at which no run diverged.",
        "best": best_table[["variant", "setting", "runs", "diverged",
                            "final_val_accuracy_mean", "test_accuracy_mean",
                            "test_accuracy_ci_low", "test_accuracy_ci_high",
                            *(f"stable_{k}" for k in grid_keys)]].round(4),
        "best_differences": _differences(best_differences, confidence).assign(
            settings=best_differences["variant_setting"] + " vs "
            + best_differences["versus_setting"]),
        "tolerance": _texts(verdict["tolerance"]),
        "figure": png_uri(datasets["sweep_curves"]),
        "confidence": f"{confidence:.0%}",
        "points": _points_table(sweep_table, grid_keys),
        "point_answers": _texts(verdict["points"]),
    }


def _points_table(sweep_table: pd.DataFrame, grid_keys: Sequence[str]) -> pd.DataFrame:
    rows = []
    for key, table in groups(sweep_table, grid_keys):
        row = dict(zip(grid_keys, (value_label(v) for v in key), strict=True))
        for _, r in table.iterrows():
            cell = interval_cell(pd.Series({"n": r["runs"] - r["diverged"],
                                            "mean": r["test_accuracy_mean"],
                                            "ci_low": r["test_accuracy_ci_low"],
                                            "ci_high": r["test_accuracy_ci_high"]}))
            if r["diverged"] == r["runs"]:
                cell = f"every run diverged ({int(r['runs'])})"
            elif r["diverged"]:
                cell += f" ({int(r['diverged'])} of {int(r['runs'])} diverged)"
            row[r["variant"]] = cell
        rows.append(row)
    return pd.DataFrame(rows)
