"""The report: one self-contained HTML page that reads without the code. It computes
nothing: the Jinja2 template ``templates/report.html`` (autoescaped) lays out the tables,
the figures (the plot nodes' PNG files, embedded) and the verdict that other nodes made."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from functools import cache
from numbers import Real
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, Template, select_autoescape
from markupsafe import Markup

from bn_compare.parameters import DataParams, StatisticsParams, TrainingParams
from bn_compare.run_matrix import value_label

from .nodes import (
    MIN_FOR_SPREAD,
    groups,
    mean_interval,
    select_best_settings,
    setting_label,
    target_metric,
)
from .verdict import pp_interval

# What the report lays out, by catalog name: tables, and figures as PNG bytes.
TABLES = ("comparison_table", "variant_statistics", "pairwise_differences", "parameter_accounting")
FIGURES = ("learning_curves", "test_accuracy_intervals")
WHY_FIGURES = ("activation_percentiles", "landscape_smoothness")  # the diagnostics' plots
GRID_TABLES = ("sweep_table", "best_settings", "best_setting_differences")
GRID_FIGURES = ("sweep_curves",)
NORM_COLUMNS = ["variant", "layer", "class_name", "features", "gamma", "beta", "moving_mean",
                "moving_variance", "moving_stddev", "renorm_mean", "renorm_stddev", "total",
                "trainable", "non_trainable"]
SHORT_NAMES = {"BatchNormalization": "BN", "LayerNormalization": "LayerNormalization"}


@cache
def _template() -> Template:
    environment = Environment(loader=PackageLoader(__package__, "templates"),
                              autoescape=select_autoescape(["html"]))
    environment.filters["png"] = lambda png: (  # a data: URI
        "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
    environment.filters["table"] = lambda table: Markup(  # pandas escapes every cell
        '<div class="scroll">' + table.to_html(index=False, escape=True, border=0, na_rep="–")
        + "</div>")
    return environment.get_template("report.html")


def write_report(  # noqa: PLR0913, PLR0917 (a node: the verdict, the setup, the datasets)
    verdict: dict[str, Any], data: DataParams, training: TrainingParams,
    variants: dict[str, Any], statistics: StatisticsParams, why: dict[str, Any] | None = None,
    *,
    grid_keys: Sequence[str] = (), overrides: dict[str, Any] | None = None,
    **datasets: pd.DataFrame | bytes,
) -> str:
    """The whole comparison as a self-contained HTML page; ``datasets`` by catalog name."""
    comparison, confidence = datasets["comparison_table"], statistics.confidence
    seeds = sorted(comparison["seed"].unique().tolist())
    grid = {key: _sorted(pd.unique(comparison[key])) for key in grid_keys}
    training = training.at(overrides or {})  # the settings of a grid of one point
    return _template().render(
        verdict=verdict, seeds=seeds, one_seed=len(seeds) < MIN_FOR_SPREAD,
        confidence=f"{confidence:.0%}", data=data, deterministic=training.deterministic,
        images={split: f"{count:,}" for split, count in data.split_sizes.items()},
        training={key: ", ".join(map(value_label, grid[key])) + " (grid)" if key in grid
                  else value_label(getattr(training, key))
                  for key in ("optimizer", "learning_rate", "batch_size", "epochs", "loss")},
        grid_size=len(comparison.drop_duplicates(list(grid_keys))) if grid_keys else 1,
        grid_keys=grid_keys,
        target=statistics.target_val_accuracy,
        architectures=_architectures(list(pd.unique(comparison["variant"])), variants,
                                     datasets["parameter_accounting"]),
        grid=_grid(datasets, grid_keys, confidence) if grid_keys else None,
        results=_results(datasets["variant_statistics"], statistics, grid_keys),
        differences=_differences(datasets["pairwise_differences"], confidence, grid_keys),
        plots=[datasets[name] for name in FIGURES],
        why=why, why_plots=[datasets[name] for name in WHY_FIGURES] if why and why["seeds"] else [],
        runs=comparison.round(4).drop(columns=[] if comparison["diverged"].astype(bool).any()
                                      else ["diverged", "diverged_at_epoch"]),
    ) + "\n"


def _sorted(values: Sequence[Any]) -> list[Any]:
    """Numbers in order, anything else as the grid lists it."""
    numeric = all(isinstance(v, Real) and not isinstance(v, bool) for v in values)
    return sorted(values) if numeric else list(values)


def _interval(n: int, mean: float, low: float, high: float, digits: int = 4) -> str:
    """``mean [low, high]``, the mean alone without an interval; "not reached" if n = 0."""
    if n == 0:
        return "not reached"
    text = f"{mean:.{digits}f}" if math.isfinite(mean) else "–"
    return text + (f" [{low:.{digits}f}, {high:.{digits}f}]" if math.isfinite(low) else "")


def _layer(layer: dict[str, Any]) -> str:
    """``Dense(units=10)``."""
    arguments = ", ".join(f"{k}={v}" for k, v in layer.items() if k != "class_name")
    return f"{layer['class_name']}({arguments})" if arguments else layer["class_name"]


def _architectures(names: list[str], variants: dict[str, Any],
                   accounting: pd.DataFrame) -> dict[str, Any]:
    counts = accounting.groupby("variant")[["total", "trainable", "non_trainable"]].sum(
    ).reindex(names, fill_value=0)
    norm = accounting[accounting["class_name"].isin(SHORT_NAMES)]
    optional = ("class_name", "moving_stddev", "renorm_mean", "renorm_stddev")
    kept = [c for c in NORM_COLUMNS if c not in optional or (  # shown where they vary
        c in norm and (norm[c].nunique() > 1 if c == "class_name" else norm[c].any()))]
    return {
        "table": pd.DataFrame([{
            "variant": name, "layers": " → ".join(map(_layer, variants[name]["layers"])),
            "parameters": f"{int(counts.loc[name, 'total']):,}",
            "trainable": f"{int(counts.loc[name, 'trainable']):,}",
            "non-trainable": f"{int(counts.loc[name, 'non_trainable']):,}",
        } for name in names]),
        "bn_table": norm[kept] if len(norm) else None,
        "other_norms": "renorm_mean" in kept or set(norm["class_name"]) != {"BatchNormalization"},
        "bn_lines": [f"{name}: {features:,} normalised features x {total // features} = "
                     f"{total:,} {SHORT_NAMES[kind]} values, {trainable:,} trainable and "
                     f"{frozen:,} not." for (name, kind), (features, total, trainable, frozen)
                     in norm.groupby(["variant", "class_name"], sort=False)[
                         ["features", "total", "trainable", "non_trainable"]].sum().astype(int)
                     .iterrows() if features],
    }


def _differences(pairwise: pd.DataFrame, confidence: float,
                 keys: Sequence[str] = ()) -> pd.DataFrame:
    """Differences in test accuracy, in percentage points, as a table."""
    return pd.DataFrame({key: pairwise[key] for key in keys}).assign(**{
        "comparison": pairwise["variant"] + " − " + pairwise["versus"],
        "seeds": pairwise["n"],
        "mean difference (pp)": (100 * pairwise["mean_difference"]).round(2),
        f"{confidence:.0%} CI (pp)": [pp_interval(low, high) if math.isfinite(low) else "–"
                                     for low, high in zip(pairwise["ci_low"],
                                                          pairwise["ci_high"], strict=True)],
        "p (paired t-test)": [f"{p:.2g}" if math.isfinite(p) else "–"
                              for p in pairwise["p_value"]],
        "finding": [f"equivalent within ±{100 * margin:g} pp" if finding == "equivalent"
                    else finding for finding, margin in zip(
                        pairwise["finding"], pairwise["equivalence_margin"], strict=True)],
    })


def _results(variant_statistics: pd.DataFrame, statistics: StatisticsParams,
             grid_keys: Sequence[str]) -> pd.DataFrame:
    """Per variant (and grid point): the runs, and each metric's mean with its interval."""
    target, keys = target_metric(statistics), ["variant", *grid_keys]
    wide = []
    for key, rows in groups(variant_statistics, keys):
        seeds, diverged = int(rows["seeds"].iloc[0]), int(rows["diverged"].iloc[0])
        line = {**dict(zip(keys, key, strict=True)),
                "seeds": f"{seeds} ({diverged} diverged)" if diverged else seeds}
        for r in rows.to_dict("records"):
            cell = _interval(r["n"], r["mean"], r["ci_low"], r["ci_high"],
                             1 if r["metric"] == target else 4)
            line[r["metric"]] = ("every run diverged" if diverged == seeds else cell + (
                f" ({int(r['n'])} of {seeds - diverged} seeds reached it)"
                if r["metric"] == target else ""))
        wide.append(line)
    return pd.DataFrame(wide)


def _confirmation(table: pd.DataFrame, grid_keys: Sequence[str],
                  confidence: float) -> dict[str, Any]:
    """Per variant (and setting): its confirmation runs' test accuracy with its interval."""
    rows = []
    for (variant, *_), runs in groups(table, ["variant", *grid_keys]):
        kept = runs.loc[~runs["diverged"].astype(bool), "test_accuracy"].tolist()
        result = mean_interval(kept, confidence)
        rows.append({"variant": variant, "setting": setting_label(runs.iloc[0][list(grid_keys)]),
                     "seeds": len(runs), "diverged": len(runs) - len(kept),
                     f"test accuracy [{confidence:.0%} CI]": _interval(
                         result["n"], result["mean"], result["ci_low"], result["ci_high"])})
    return {"seeds": ", ".join(map(str, sorted(table["seed"].unique()))),
            "count": table["seed"].nunique(), "table": pd.DataFrame(rows)}


def _grid(datasets: dict[str, Any], grid_keys: Sequence[str],
          confidence: float) -> dict[str, Any]:
    """The section "Across the grid"."""
    sweep_table, best = datasets["sweep_table"], datasets["best_settings"]
    best_differences = datasets["best_setting_differences"]
    settings = [setting_label(row[list(grid_keys)]) if pd.notna(row["final_val_accuracy_mean"])
                else "every run diverged" for _, row in best.iterrows()]
    points = []  # per grid point and variant, the mean test accuracy with its interval
    for key, table in groups(sweep_table, grid_keys):
        row = {k: value_label(v) for k, v in zip(grid_keys, key, strict=True)}
        for r in table.to_dict("records"):
            runs, diverged = int(r["runs"]), int(r["diverged"])
            cell = _interval(runs - diverged, r["test_accuracy_mean"],
                             r["test_accuracy_ci_low"], r["test_accuracy_ci_high"])
            row[r["variant"]] = (f"every run diverged ({runs})" if diverged == runs else cell
                                 + (f" ({diverged} of {runs} diverged)" if diverged else ""))
        points.append(row)
    confirmation = datasets.get("confirmation_table")
    return {
        "confirmation": None if confirmation is None else _confirmation(
            confirmation, grid_keys, confidence),
        "size": len(sweep_table.drop_duplicates(list(grid_keys))),
        "best": best.assign(setting=settings)[[
            "variant", "setting", "runs", "diverged", "final_val_accuracy_mean",
            "test_accuracy_mean", "test_accuracy_ci_low", "test_accuracy_ci_high",
            *(f"stable_{k}" for k in grid_keys)]].round(4),
        "best_differences": _differences(best_differences, confidence).assign(
            settings=best_differences["variant_setting"] + " vs "
            + best_differences["versus_setting"]),
        "figure": datasets["sweep_curves"],
        "panels": _panels(sweep_table, grid_keys),
        "points": pd.DataFrame(points),
    }


def _panels(sweep_table: pd.DataFrame, grid_keys: Sequence[str]) -> pd.DataFrame | None:
    """A grid of several keys, per value of the others (a panel of the figure): each
    variant's best value of the first key there, on validation, and its test accuracy."""
    if len(grid_keys) < 2:  # noqa: PLR2004 (one key: the best settings say it all)
        return None
    first, others = grid_keys[0], list(grid_keys[1:])
    best = select_best_settings(sweep_table, grid_keys, per=others)
    rows = []
    for key, table in groups(best, others):
        row = {k: value_label(v) for k, v in zip(others, key, strict=True)}
        for r in table.to_dict("records"):
            row[r["variant"]] = ("every run diverged" if pd.isna(r["final_val_accuracy_mean"])
                                 else f"{first}={value_label(r[first])}: validation "
                                 f"{r['final_val_accuracy_mean']:.4f}, test "
                                 f"{r['test_accuracy_mean']:.4f}")
        rows.append(row)
    return pd.DataFrame(rows)
