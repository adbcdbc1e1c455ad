"""The runs' diagnostics (``training/probes.py``) over seeds, and the section "Why" of the
report: sentences chosen by stated decision rules on intervals over seeds, never fixed
prose with numbers filled in. A grid is read at each variant's best setting, for every
value of the ``confirm.per`` keys apart.

Every larger / smaller in the section is a test (a paired t-test over seeds of the logs
of the ratios), decided on Holm's adjusted p-value within its family (``FAMILIES``, per
value of the ``per`` keys); the interval shown beside it is the unadjusted one. A test
needs at least ``MIN_DISTINCT`` distinct per-seed values (``statistics.paired_difference``);
without one the numbers are given and no word says larger or smaller."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.statistics import (
    MIN_FOR_SPREAD,
    NO_INTERVAL,
    at_setting,
    groups,
    holm,
    mean_interval,
    normalizations,
    paired_difference,
    setting_label,
)

LANDSCAPE = {"loss_range": "the loss range along the gradient",
             "gradient_change": "the change of the gradient along it (gradient predictiveness)",
             "gradient_change_relative": "the change of the gradient along it relative to "
                                         "the gradient's own size",
             "beta_smoothness": "the effective beta-smoothness"}
COVARIATE_SHIFT = {  # per layer: Santurkar et al.'s internal covariate shift
    "ics_l2": "{layer}'s gradient change when the earlier layers take a step (internal "
              "covariate shift as Santurkar et al. measure it)",
    "ics_l2_relative": "{layer}'s gradient change when the earlier layers take a step, over "
                       "the gradient's size before it (relative internal covariate shift)"}
FAMILIES = {"spread": "spread over training", "ioffe": "Ioffe & Szegedy's prediction",
            "santurkar": "Santurkar et al.'s predictions"}
DENSE = "dense_output"  # the Dense layer's affine output: the same quantity in every variant
INPUT = "pre_activation"  # the input to the nonlinearity: BN's output in bn_before_activation


def summary_keys(grid_keys: Sequence[str]) -> list[str]:
    """A summary row's keys: variant, every grid key (its best setting), layer, measure,
    epoch."""
    return ["variant", *grid_keys, "layer", "measure", "epoch"]


def at_best_settings(table: pd.DataFrame, best_settings: pd.DataFrame | None,
                     grid_keys: Sequence[str]) -> pd.DataFrame:
    """The rows of each variant's runs at its best grid setting (all rows without a grid);
    with ``confirm.per``, at its best setting for each value of the ``per`` keys."""
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
    """Per variant, grid setting (its best: one per value of the ``per`` keys), layer,
    measure and epoch: n, mean, sd and interval over seeds."""
    table = at_best_settings(diagnostics_table, best_settings, grid_keys)
    keys = summary_keys(grid_keys)
    rows = [{**dict(zip(keys, key, strict=True)),
             **mean_interval(group["value"].tolist(), statistics.confidence)}
            for key, group in groups(table, keys)] if len(table) else []
    return pd.DataFrame(rows, columns=[*keys, "n", "mean", "sd", "ci_low", "ci_high"])


def _per_seed(table: pd.DataFrame, measure: str, layer: str,
              epochs: Sequence[int] | None = None) -> pd.DataFrame:
    """variant x seed: the measure's mean over ``epochs`` (every epoch it was taken)."""
    rows = table[(table["measure"] == measure) & (table["layer"] == layer)]
    if epochs is not None:
        rows = rows[rows["epoch"].isin(epochs)]
    return rows.groupby(["variant", "seed"], sort=False)["value"].mean().unstack("seed")


def _log_test(first: pd.Series, second: pd.Series | None, family: str,
              confidence: float, **about: Any) -> dict[str, Any]:
    """The paired t-test over seeds of ``log(first) - log(second)`` (``second`` None: of
    ``log(first)`` against 0), with ``family`` for Holm's correction; on the log scale."""
    pairs = pd.concat([first, first * 0 + 1 if second is None else second], axis=1).dropna()
    pairs = pairs[(pairs > 0).all(axis=1) & np.isfinite(pairs).all(axis=1)]
    result = paired_difference(np.log(pairs.iloc[:, 0]).tolist(),
                               np.log(pairs.iloc[:, 1]).tolist(), confidence)
    return {**about, "family": family, "n": result["n"], "log_mean": result["mean"],
            "log_ci_low": result["ci_low"], "log_ci_high": result["ci_high"],
            "p_value": result["p_value"], "p_holm": math.nan}


def _difference_test(first: pd.Series, second: pd.Series, family: str, confidence: float,
                     **about: Any) -> dict[str, Any]:
    """The paired t-test over seeds of ``first - second`` (their common seeds)."""
    pairs = pd.concat([first, second], axis=1).dropna()
    result = paired_difference(pairs.iloc[:, 0].tolist(), pairs.iloc[:, 1].tolist(),
                               confidence)
    return {**about, "family": family, "n": result["n"], "mean": result["mean"],
            "ci_low": result["ci_low"], "ci_high": result["ci_high"],
            "p_value": result["p_value"], "p_holm": math.nan}


def _direction(test: Mapping[str, Any], alpha: float) -> str:
    """Decision rule: ``up`` / ``down`` when Holm's adjusted p is below ``alpha`` (by the
    sign of the mean), ``same`` when it is not, ``unknown`` without a test."""
    if math.isnan(test["p_value"]):
        return "unknown"
    if test["p_holm"] < alpha:
        return "up" if test.get("log_mean", test.get("mean")) > 0 else "down"
    return "same"


def _times(test: Mapping[str, Any]) -> str:
    """``1.21x [0.91, 1.61]`` from a test on the log scale (the interval: unadjusted)."""
    mean = math.exp(test["log_mean"]) if math.isfinite(test["log_mean"]) else math.nan
    digits = 3 if 0.95 < mean < 1.05 else 2  # noqa: PLR2004 (near 1: one more digit)
    if not math.isfinite(test["log_ci_low"]):
        return f"{mean:.{digits}f}x"
    return (f"{mean:.{digits}f}x [{math.exp(test['log_ci_low']):.{digits}f}, "
            f"{math.exp(test['log_ci_high']):.{digits}f}]")


def _p(test: Mapping[str, Any]) -> str:
    """``p = 0.003, Holm 0.012``, or that there is no interval."""
    if math.isnan(test["p_value"]):
        return NO_INTERVAL.replace(" (", ": ").removesuffix(")")
    return f"p = {test['p_value']:.2g}, Holm {test['p_holm']:.2g}"


def explain_diagnostics(  # noqa: PLR0913 (a node: its datasets, then its settings)
    diagnostics_table: pd.DataFrame, parameter_accounting: pd.DataFrame,
    best_settings: pd.DataFrame | None = None, *, statistics: StatisticsParams,
    grid_keys: Sequence[str] = (), per: Sequence[str] = (),
) -> dict[str, Any]:
    """The section "Why": each sentence with the rule that chose its words, its tests and
    its numbers. Ratios are per seed (paired by seed between variants), then a geometric
    mean with its interval over seeds; a ratio is called larger or smaller only when
    Holm's adjusted p within its family is below 1 - confidence. With ``per`` keys
    (``confirm.per``), each of their values apart: its own best settings, its own
    families."""
    table = at_best_settings(diagnostics_table, best_settings, grid_keys)
    if table.empty:
        return {"seeds": 0, "sentences": [], "families": [], "note": "Diagnostics were off "
                "for these runs (diagnostics.enabled: false): run with "
                "--params=diagnostics.enabled=true."}
    alpha = 1 - statistics.confidence
    kinds = normalizations(parameter_accounting)
    per = [key for key in per if key in grid_keys]
    sentences, families = [], []
    for key, group in groups(table, per):
        where = setting_label(dict(zip(per, key, strict=True)))
        runs, names = _labelled(group, [k for k in grid_keys if k not in per])
        normalizing = {name: " and ".join(kinds.get(v, ())) for v, name in names.items()}
        made = _stability(runs, statistics.confidence, normalizing)
        made += _landscape(runs, statistics.confidence, normalizing)
        tests = [test for sentence in made for test in sentence.get("tests", [])]
        for family, family_name in FAMILIES.items():
            members = [test for test in tests if test["family"] == family]
            for test, adjusted in zip(members, holm([t["p_value"] for t in members]),
                                      strict=True):
                test["p_holm"] = adjusted
            if members:
                families.append({"family": family_name, "where": where,
                                 "tests": sum(not math.isnan(t["p_value"]) for t in members)})
        made += _dead_units(runs, statistics.confidence)
        made += _agreement(made, alpha)
        for sentence in made:
            render: Callable[[str], str] = sentence.pop("render")
            sentence["text"] = f"At {where}: " + render(alpha) if where else render(alpha)
            sentences.append({**sentence, **({"setting": where} if where else {})})
    return {"seeds": int(table["seed"].nunique()), "sentences": sentences,
            "families": families, "note": _note(table, families, grid_keys, alpha)}


def _labelled(runs: pd.DataFrame, keys: Sequence[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """``runs`` with each variant named with its setting of ``keys`` (``bn_after_activation
    (learning_rate=1.0)``: the one its runs here share), and those names by variant."""
    names = {}
    for (variant,), rows in groups(runs, ["variant"]):
        settings = rows[list(keys)].drop_duplicates().to_dict("records") if keys else []
        names[variant] = (f"{variant} ({setting_label(settings[0])})" if len(settings) == 1
                          else variant)
    return runs.assign(variant=runs["variant"].map(names)), names


def _note(table: pd.DataFrame, families: list[dict[str, Any]], grid_keys: Sequence[str],
          alpha: float) -> str:
    tested = [f"{f['family']}{' at ' + f['where'] if f['where'] else ''} ({f['tests']})"
              for f in families if f["tests"]]
    if table.groupby("variant")["seed"].nunique().max() < MIN_FOR_SPREAD:
        note = ("One seed per variant: the numbers below have no interval, so no sentence "
                "says larger or smaller; run --env=seeds for that.")
    elif not tested:
        note = (f"Every comparison below has {NO_INTERVAL}, so no sentence says larger or "
                f"smaller; more seeds give one.")
    else:
        note = (f"Larger or smaller only where Holm's adjusted p is below {alpha:g} within "
                f"its family of tests: {'; '.join(tested)}. The intervals are the "
                f"unadjusted {1 - alpha:.0%} ones.")
    if grid_keys:
        note += " Each variant is read at its best setting of the grid."
    return note


def _hidden_layers(table: pd.DataFrame) -> list[str]:
    return sorted(layer for layer in pd.unique(table["layer"]) if layer.startswith("layer "))


def _not_dense_output(table: pd.DataFrame, layer: str) -> list[str]:
    """The variants whose input to the layer's nonlinearity is not its Dense output (a
    layer between them: BN in bn_before_activation): where the two measures differ."""
    both = table[(table["layer"] == layer)
                 & table["measure"].isin([f"{DENSE}_std", f"{INPUT}_std"])]
    wide = both.pivot_table(index=["variant", "seed", "epoch"], columns="measure",
                            values="value", sort=False)
    if len(wide.columns) < 2:  # noqa: PLR2004 (both measures)
        return []
    differs = ((wide[f"{INPUT}_std"] - wide[f"{DENSE}_std"]).abs() > 0).groupby(
        level="variant", sort=False).any()
    return [variant for variant, yes in differs.items() if yes]


SPREAD_WORDS = {"up": "grows {times} in {variant} ({p})",
                "down": "shrinks {times} in {variant} ({p})",
                "same": "is not shown to change, {times} in {variant} ({p})",
                "unknown": "{times} in {variant} ({p})"}


def _stability(table: pd.DataFrame, confidence: float,
               normalizing: Mapping[str, str]) -> list[dict[str, Any]]:
    """Ioffe & Szegedy: how much the spread (std) of each layer's Dense output (the same
    quantity in every variant) changes from before training to the end, per variant, and
    whether normalization keeps it closer to where it started (paired by seed); and the
    spread of the input to the nonlinearity where that is not the Dense output (BN's own
    output in bn_before_activation: near 1x largely by construction). ``normalizing``:
    per variant, its kinds of normalization (empty: none)."""
    sentences = []
    last = int(table["epoch"].max())
    for layer in _hidden_layers(table):
        growths = {}
        for quantity in (DENSE, INPUT):
            spread = _per_seed(table, f"{quantity}_std", layer, [0])
            growth = _per_seed(table, f"{quantity}_std", layer, [last]) / spread
            variants = (list(growth.index) if quantity == DENSE
                        else [v for v in _not_dense_output(table, layer) if v in growth.index])
            if growth.empty or not variants:
                continue
            growths[quantity] = growth
            tests = [_log_test(growth.loc[v], None, "spread", confidence, variant=v,
                               quantity=quantity) for v in variants]
            sentences.append({"rule": "spread", "layer": layer, "quantity": quantity,
                              "tests": tests, "render": _spread_text(
                                  tests, layer, quantity, last, normalizing)})
        growth = growths.get(DENSE, pd.DataFrame())
        for reference, variant in _pairs(normalizing, growth.index):
            test = _difference_test(np.log(growth.loc[reference]).abs(),
                                    np.log(growth.loc[variant]).abs(), "ioffe", confidence,
                                    variant=variant, reference=reference,
                                    measure=f"{DENSE}_std", layer=layer)
            sentences.append({"rule": "stabler", "layer": layer, "quantity": DENSE,
                              "tests": [test], "render": _stabler_text(test)})
    return sentences


def _pairs(normalizing: Mapping[str, str], present: Sequence[str]) -> list[tuple[str, str]]:
    """(without, with normalization): every variant without one against every variant
    with one, of those ``present``."""
    return [(reference, variant) for reference, kind in normalizing.items()
            if not kind and reference in present
            for variant, other in normalizing.items() if other and variant in present]


def _spread_text(tests: list[dict[str, Any]], layer: str, quantity: str, last: int,
                 normalizing: Mapping[str, str]) -> Callable[[float], str]:
    def render(alpha: float) -> str:
        parts = [SPREAD_WORDS[_direction(t, alpha)].format(
            times=_times(t), variant=t["variant"], p=_p(t)) for t in tests]
        if quantity == DENSE:
            what = (f"{layer}'s Dense output (x·W + b, before any normalization or "
                    f"nonlinearity: the same quantity in every variant)")
        else:
            between = ", ".join(f"{normalizing[t['variant']] or 'a layer'} in {t['variant']}"
                                for t in tests)
            what = f"the input to {layer}'s nonlinearity where it is not the Dense output"
        text = (f"The spread (std) of {what}, epoch {last} against before training: "
                + "; ".join(parts) + ".")
        if quantity == INPUT:
            text += f" There it is the output of {between}"
            text += (": a normalization's, whose spread only its scale and shift move, so "
                     "near 1x largely by construction and no evidence for either "
                     "explanation." if all(normalizing[t["variant"]] for t in tests) else ".")
        return text
    return render


STABLER_WORDS = {
    "up": "stays closer to where it started with normalization, as Ioffe & Szegedy's "
          "explanation predicts",
    "down": "moves further with normalization than without: this contradicts Ioffe & "
            "Szegedy's explanation here",
    "same": "is not shown to be stabler with normalization, where Ioffe & Szegedy's "
            "explanation predicts it would be",
    "unknown": "has no interval: not called stabler or less stable"}


def _stabler_text(test: dict[str, Any]) -> Callable[[float], str]:
    def render(alpha: float) -> str:
        difference = (f"{test['mean']:+.2f} [{test['ci_low']:+.2f}, {test['ci_high']:+.2f}]"
                      if math.isfinite(test["ci_low"]) else f"{test['mean']:+.2f}")
        return (f"{test['layer'].capitalize()}'s Dense output in {test['variant']} against "
                f"{test['reference']}: the spread {STABLER_WORDS[_direction(test, alpha)]} "
                f"(|log growth| without minus with normalization: {difference}; {_p(test)}).")
    return render


LANDSCAPE_WORDS = {
    "down": "smaller with normalization: a smoother landscape, as Santurkar et al.'s "
            "explanation predicts",
    "up": "larger with normalization: this contradicts Santurkar et al.'s explanation here",
    "same": "not shown to differ with normalization, where Santurkar et al.'s explanation "
            "predicts smaller",
    "unknown": "not called larger or smaller"}
SHIFT_WORDS = {
    "down": "smaller with normalization, unlike Santurkar et al.'s finding that BN does not "
            "reduce it",
    "up": "larger with normalization, as Santurkar et al. found",
    "same": "not shown to differ: neither confirms nor contradicts Santurkar et al.'s "
            "finding that BN does not reduce it",
    "unknown": "not called larger or smaller"}


def _landscape(table: pd.DataFrame, confidence: float,
               normalizing: Mapping[str, str]) -> list[dict[str, Any]]:
    """Santurkar et al.: the loss landscape along the gradient, and their internal
    covariate shift, absolute and relative to the gradient's size, with normalization over
    without (paired by seed), each the mean of the checkpoints."""
    sentences = []
    checkpoints = sorted(table.loc[table["measure"] == "loss_range", "epoch"].unique())
    measures = [(m, "network", d) for m, d in LANDSCAPE.items()] + [
        (m, layer, d.format(layer=layer)) for m, d in COVARIATE_SHIFT.items()
        for layer in sorted(table.loc[table["measure"] == m, "layer"].unique())]
    for measure, layer, description in measures:
        values = _per_seed(table, measure, layer, checkpoints)
        for reference, variant in _pairs(normalizing, values.index):
            test = _log_test(values.loc[variant], values.loc[reference], "santurkar",
                             confidence, variant=variant, reference=reference,
                             measure=measure, layer=layer, description=description)
            words = SHIFT_WORDS if measure in COVARIATE_SHIFT else LANDSCAPE_WORDS
            sentences.append({"rule": "landscape", "measure": measure, "layer": layer,
                              "tests": [test], "render": _landscape_text(
                                  test, checkpoints, words)})
    return sentences


def _landscape_text(test: dict[str, Any], checkpoints: Sequence[int],
                    words: Mapping[str, str]) -> Callable[[float], str]:
    def render(alpha: float) -> str:
        description = test["description"]
        return (f"{description[0].upper()}{description[1:]} in {test['variant']} is "
                f"{_times(test)} that in {test['reference']} (mean of epochs "
                f"{', '.join(map(str, checkpoints))}; {_p(test)}): "
                f"{words[_direction(test, alpha)]}.")
    return render


PREDICTED = {"ioffe": "up", "santurkar": "down"}  # the direction each paper predicts


def _agreement(sentences: list[dict[str, Any]], alpha: float) -> list[dict[str, Any]]:
    """One sentence on the papers' predictions tested here: how many agree, and by name
    the ones that contradict them or are not shown (none without a test)."""
    tests = [t for s in sentences for t in s.get("tests", []) if t["family"] in PREDICTED
             and not math.isnan(t["p_value"])]
    if not tests:
        return []

    def outcome(test: Mapping[str, Any]) -> str:
        predicted = PREDICTED[test["family"]]
        if test.get("measure") in COVARIATE_SHIFT:
            predicted = "up"  # Santurkar et al.: BN does not reduce it (they saw it grow)
        direction = _direction(test, alpha)
        return ("agrees" if direction == predicted else "not shown" if direction == "same"
                else "contradicts")

    def name(test: Mapping[str, Any]) -> str:
        if test["family"] == "ioffe":
            return (f"the spread of {test['layer']}'s Dense output in {test['variant']} "
                    f"against {test['reference']}")
        return f"{test['description']} in {test['variant']} against {test['reference']}"

    def render(alpha: float) -> str:
        outcomes = [outcome(t) for t in tests]
        agree = outcomes.count("agrees")
        text = (f"Of the papers' {len(tests)} predictions tested here, {agree} agree "
                f"(Holm within each family)")
        for kind, words in (("contradicts", "contradicted"), ("not shown", "not shown")):
            named = [f"{name(t)} ({_p(t)})" for t, o in zip(tests, outcomes, strict=True)
                     if o == kind]
            if named:
                text += f"; {words}: " + "; ".join(named)
        return text + "."

    return [{"rule": "agreement", "render": render}]


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
        text = (f"Units of {layer} whose input to the nonlinearity is never positive on the "
                f"probe images after epoch {last} (dead under ReLU; under LeakyReLU, never "
                f"in its linear regime): " + ", ".join(parts) + ".")
        sentences.append({"rule": "dead", "layer": layer, "render": lambda _, t=text: t})
    return sentences
