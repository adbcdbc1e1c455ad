"""The runs' diagnostics (``training/probes.py``) over seeds, and the section "Why" of the
report: sentences chosen by stated decision rules on intervals over seeds, never fixed
prose with numbers filled in. A grid is read at each variant's best setting."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.statistics import (
    MIN_FOR_SPREAD,
    at_setting,
    mean_interval,
    normalizations,
)

LANDSCAPE = {"loss_range": "the loss range along the gradient",
             "gradient_change": "the change of the gradient along it (gradient predictiveness)",
             "beta_smoothness": "the effective beta-smoothness"}
KEYS = ["variant", "layer", "measure", "epoch"]


def at_best_settings(table: pd.DataFrame, best_settings: pd.DataFrame | None,
                     grid_keys: Sequence[str]) -> pd.DataFrame:
    """The rows of each variant's runs at its best grid setting (all rows without a grid)."""
    if not grid_keys or best_settings is None or table.empty:
        return table
    keep = pd.Series(False, index=table.index)
    for best in best_settings.dropna(subset=["final_val_accuracy_mean"]).to_dict("records"):
        keep |= (table["variant"] == best["variant"]) & at_setting(
            table, {key: best[key] for key in grid_keys})
    return table[keep]


def summarise_diagnostics(diagnostics_table: pd.DataFrame,
                          best_settings: pd.DataFrame | None = None, *,
                          statistics: StatisticsParams,
                          grid_keys: Sequence[str] = ()) -> pd.DataFrame:
    """Per variant, layer, measure and epoch: n, mean, sd and interval over seeds."""
    table = at_best_settings(diagnostics_table, best_settings, grid_keys)
    rows = [{**dict(zip(KEYS, key, strict=True)),
             **mean_interval(group["value"].tolist(), statistics.confidence)}
            for key, group in table.groupby(KEYS, sort=False)]
    return pd.DataFrame(rows, columns=[*KEYS, "n", "mean", "sd", "ci_low", "ci_high"])


def _per_seed(table: pd.DataFrame, measure: str, layer: str,
              epochs: Sequence[int] | None = None) -> pd.DataFrame:
    """variant x seed: the measure's mean over ``epochs`` (every epoch it was taken)."""
    rows = table[(table["measure"] == measure) & (table["layer"] == layer)]
    if epochs is not None:
        rows = rows[rows["epoch"].isin(epochs)]
    return rows.groupby(["variant", "seed"])["value"].mean().unstack("seed")


def _ratio(values: Sequence[float], confidence: float) -> dict[str, float]:
    """The geometric mean of positive ratios with its interval (a t interval of logs)."""
    logs = [math.log(v) for v in values if v > 0 and math.isfinite(v)]
    result = mean_interval(logs, confidence)
    return {key: math.exp(result[key]) if math.isfinite(result[key]) else math.nan
            for key in ("mean", "ci_low", "ci_high")} | {"n": result["n"]}


def _times(ratio: Mapping[str, float]) -> str:
    digits = 3 if 0.95 < ratio["mean"] < 1.05 else 2  # noqa: PLR2004 (near 1: one more digit)
    interval = (f" [{ratio['ci_low']:.{digits}f}, {ratio['ci_high']:.{digits}f}]"
                if math.isfinite(ratio["ci_low"]) else "")
    return f"{ratio['mean']:.{digits}f}x{interval}"


def _direction(ratio: Mapping[str, float]) -> str:
    """Decision rule: above or below 1 only when the whole interval is."""
    if not math.isfinite(ratio["ci_low"]):
        return "unknown"
    return "up" if ratio["ci_low"] > 1 else "down" if ratio["ci_high"] < 1 else "same"


def explain_diagnostics(diagnostics_table: pd.DataFrame, parameter_accounting: pd.DataFrame,
                        best_settings: pd.DataFrame | None = None, *,
                        statistics: StatisticsParams,
                        grid_keys: Sequence[str] = ()) -> dict[str, Any]:
    """The section "Why": each sentence with the rule that chose its words and its numbers.
    Ratios are per seed (paired by seed between variants), then a geometric mean with its
    interval over seeds; a ratio is called larger or smaller only when its interval
    excludes 1."""
    table = at_best_settings(diagnostics_table, best_settings, grid_keys)
    if table.empty:
        return {"seeds": 0, "sentences": [], "note": "Diagnostics were off for these runs "
                "(diagnostics.enabled: false): run with --params=diagnostics.enabled=true."}
    confidence = statistics.confidence
    seeds = int(table["seed"].nunique())
    kinds = normalizations(parameter_accounting)
    normalized = {v: bool(kinds.get(v)) for v in pd.unique(table["variant"])}
    plain = [v for v, norm in normalized.items() if not norm]
    sentences = _stability(table, confidence, plain, normalized)
    sentences += _landscape(table, confidence, plain, normalized)
    sentences += _dead_units(table, confidence)
    note = ("" if seeds >= MIN_FOR_SPREAD else "One seed per variant: the numbers below have "
            "no interval, so no sentence says larger or smaller; run --env=seeds for that.")
    if grid_keys:
        note += " Each variant is read at its best setting of the grid."
    return {"seeds": seeds, "sentences": sentences, "note": note.strip()}


def _hidden_layers(table: pd.DataFrame) -> list[str]:
    return sorted(layer for layer in pd.unique(table["layer"]) if layer.startswith("layer "))


def _stability(table: pd.DataFrame, confidence: float, plain: list[str],
               normalized: Mapping[str, bool]) -> list[dict[str, Any]]:
    """Ioffe & Szegedy: how much the spread (std) of each layer's inputs to the
    nonlinearity changes from before training to the end, per variant; and whether
    normalization keeps it closer to where it started (paired by seed)."""
    sentences = []
    last = int(table["epoch"].max())
    for layer in _hidden_layers(table):
        spread = _per_seed(table, "pre_activation_std", layer, [0])
        growth = _per_seed(table, "pre_activation_std", layer, [last]) / spread
        if growth.empty:
            continue
        ratios = {v: _ratio(growth.loc[v].tolist(), confidence) for v in growth.index}
        words = {"up": "grows", "down": "shrinks", "same": "stays where it was, within its "
                 "interval,", "unknown": "changes"}
        parts = [f"{words[_direction(r)]} {_times(r)} in {v}" for v, r in ratios.items()]
        sentences.append({"rule": "spread", "layer": layer, "ratios": ratios, "text": (
            f"The spread (std) of {layer}'s inputs to the nonlinearity over training "
            f"(epoch {last} against before training): " + "; ".join(parts) + ".")})
        for reference in plain:  # |log growth| without normalization less with it: stabler
            for variant in [v for v, norm in normalized.items() if norm and v in growth.index]:
                change = (np.log(growth.loc[reference]).abs()
                          - np.log(growth.loc[variant]).abs()).dropna()
                result = mean_interval(change.tolist(), confidence)
                if not math.isfinite(result["ci_low"]):
                    continue
                verdict = ("stays closer to where it started with normalization, as Ioffe & "
                           "Szegedy's explanation predicts" if result["ci_low"] > 0 else
                           "moves further with normalization than without: this contradicts "
                           "Ioffe & Szegedy's explanation here" if result["ci_high"] < 0 else
                           "is not shown to be stabler with normalization")
                sentences.append({"rule": "stabler", "layer": layer, "text": (
                    f"{layer.capitalize()} in {variant} against {reference}: the spread "
                    f"{verdict}.")})
    return sentences


def _landscape(table: pd.DataFrame, confidence: float, plain: list[str],
               normalized: Mapping[str, bool]) -> list[dict[str, Any]]:
    """Santurkar et al.: the loss landscape along the gradient, and their internal
    covariate shift, with normalization over without (paired by seed), each the mean of
    the checkpoints."""
    sentences = []
    checkpoints = sorted(table.loc[table["measure"] == "loss_range", "epoch"].unique())
    measures = [(m, "network", d) for m, d in LANDSCAPE.items()] + [
        ("ics_l2", layer, f"{layer}'s gradient change when the earlier layers take a step "
         f"(internal covariate shift as Santurkar et al. measure it)")
        for layer in sorted(table.loc[table["measure"] == "ics_l2", "layer"].unique())]
    for measure, layer, description in measures:
        values = _per_seed(table, measure, layer, checkpoints)
        for reference in [v for v in plain if v in values.index]:
            for variant in [v for v, norm in normalized.items() if norm and v in values.index]:
                ratio = _ratio((values.loc[variant] / values.loc[reference]).dropna().tolist(),
                               confidence)
                if measure == "ics_l2":
                    meaning = {"down": "smaller with normalization, unlike Santurkar et al.'s "
                               "finding that BN does not reduce it",
                               "up": "larger with normalization, as Santurkar et al. found",
                               "same": "not shown to differ, as Santurkar et al. found"}
                else:
                    meaning = {"down": "smaller with normalization: a smoother landscape, as "
                               "Santurkar et al.'s explanation predicts",
                               "up": "larger with normalization: this contradicts Santurkar "
                               "et al.'s explanation here",
                               "same": "not shown to differ with normalization"}
                meaning["unknown"] = "one seed, no interval: not called larger or smaller"
                sentences.append({"rule": "landscape", "measure": measure, "ratio": ratio,
                                  "text": (f"{description[0].upper()}{description[1:]} in "
                                           f"{variant} is {_times(ratio)} that in {reference} "
                                           f"(mean of epochs "
                                           f"{', '.join(map(str, checkpoints))}): "
                                           f"{meaning[_direction(ratio)]}.")})
    return sentences


def _dead_units(table: pd.DataFrame, confidence: float) -> list[dict[str, Any]]:
    """The share of units never active on the probe batch at the end, per variant."""
    last = int(table["epoch"].max())
    rows = table[(table["measure"] == "dead_fraction") & (table["epoch"] == last)]
    sentences = []
    for layer in _hidden_layers(rows):
        parts = []
        for variant, group in rows[rows["layer"] == layer].groupby("variant", sort=False):
            result = mean_interval(group["value"].tolist(), confidence)
            interval = (f" [{max(result['ci_low'], 0):.1%}, {min(result['ci_high'], 1):.1%}]"
                        if math.isfinite(result["ci_low"]) else "")  # a share: within 0-100%
            parts.append(f"{variant} {result['mean']:.1%}{interval}")
        sentences.append({"rule": "dead", "layer": layer, "text": (
            f"Units of {layer} whose input to the nonlinearity is never positive on the probe "
            f"images after epoch {last} (dead under ReLU; under LeakyReLU, never in its "
            f"linear regime): " + ", ".join(parts) + ".")})
    return sentences
