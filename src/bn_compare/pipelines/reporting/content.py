"""What the report says, as data (the versioned ``report_content`` dataset, JSON): every
sentence, label, number and table of the page, chosen and computed here from the tables,
the verdict and the section "Why", so that ``report.write_report`` only lays it out. A
table is pandas' JSON Table Schema (``{"schema": ..., "data": [records]}``): its records
with the column types the page prints them by."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from numbers import Real
from typing import Any

import pandas as pd

from bn_compare.grid import value_label
from bn_compare.parameters import DataParams, StatisticsParams, TrainingParams
from bn_compare.pipelines.statistics import (
    MIN_FOR_SPREAD,
    at_setting,
    groups,
    mean_interval,
    normalizations,
    normalizing_layers,
    pp_interval,
    seed_list,
    setting_label,
)

from .ablation import ablation_sentences
from .nodes import select_best_settings, target_metric
from .stability import stability_sentence
from .verdict import chosen_keys, interaction_sentence, plain_json

# The figures the page shows, by catalog name (the report loads each as ``<name>@png``).
FIGURES = ("learning_curves", "test_accuracy_intervals")
WHY_FIGURES = ("activation_percentiles", "landscape_smoothness")  # the diagnostics' plots
GRID_FIGURE = "sweep_curves"
SHOWN_SETTINGS = ("optimizer", "learning_rate", "batch_size", "epochs", "loss")
NORM_COLUMNS = ["variant", "layer", "class_name", "features", "gamma", "beta", "moving_mean",
                "moving_variance", "moving_stddev", "renorm_mean", "renorm_stddev", "total",
                "trainable", "non_trainable"]
ABBREVIATIONS = {"BatchNormalization": "BN"}  # a kind of normalization as the page names it


def build_report_content(  # noqa: PLR0913 (a node: one argument per dataset, then settings)
    comparison_table: pd.DataFrame, variant_statistics: pd.DataFrame,
    pairwise_differences: pd.DataFrame, parameter_accounting: pd.DataFrame,
    verdict: dict[str, Any], *, why: dict[str, Any] | None = None,
    sweep_table: pd.DataFrame | None = None, best_settings: pd.DataFrame | None = None,
    best_setting_differences: pd.DataFrame | None = None,
    confirmation_table: pd.DataFrame | None = None,
    cross_confirmation_table: pd.DataFrame | None = None,
    same_setting_differences: pd.DataFrame | None = None,
    selection_stability: pd.DataFrame | None = None,
    setting_interactions: pd.DataFrame | None = None,
    test_sampling_differences: pd.DataFrame | None = None,
    ablation_effects: pd.DataFrame | None = None,
    data: DataParams, training: TrainingParams, statistics: StatisticsParams,
    provenance: dict[str, str], layers: dict[str, list[dict[str, Any]]], study: str | None,
    grid_keys: Sequence[str] = (), per: Sequence[str] = (),
) -> dict[str, Any]:
    """The page's content; ``training``: the settings of a run (a grid's own keys are
    shown as the grid's values), ``layers``: each variant's layer specs, ``study``: its
    name (None: the default environment), ``provenance``: this run's ``commit`` and
    ``machine`` (the ``provenance`` dataset)."""
    comparison, confidence = comparison_table, statistics.confidence
    seeds = sorted(comparison["seed"].unique().tolist())
    values = {key: _sorted(pd.unique(comparison[key])) for key in grid_keys}
    # the seeds the answers rest on: across a grid with a confirmation, the confirmation's
    answered = seeds if confirmation_table is None else confirmation_table["seed"].unique()
    grid = None
    if grid_keys:
        grid = _grid(sweep_table, best_settings, best_setting_differences, confirmation_table,
                     grid_keys, confidence)
        grid["basis"] = _basis(seeds, confirmation_table, grid_keys, per)
        grid["same_setting"] = None if same_setting_differences is None else _same_setting(
            cross_confirmation_table, same_setting_differences, grid_keys, confidence)
        grid["stability"] = [] if selection_stability is None else _stability(
            best_settings, selection_stability, per)
        grid["interactions"] = [] if setting_interactions is None else _interactions(
            setting_interactions, parameter_accounting, list(comparison["variant"].unique()))
    return plain_json({
        "seeds": seeds, "one_seed": len(answered) < MIN_FOR_SPREAD,
        "confidence": f"{confidence:.0%}",
        "statistics_resamples": f"{statistics.resamples:,}",
        "setup": {
            "study": study, "commit": provenance["commit"], "machine": provenance["machine"],
            "classes": len(data.class_names), "image_shape": "x".join(map(str, data.image_shape)),
            "scale": f"{data.scale:g}",
            "images": {split: f"{count:,}" for split, count in data.split_sizes.items()},
            "training": {key: ", ".join(map(value_label, values[key])) + " (grid)"
                         if key in values else value_label(getattr(training, key))
                         for key in SHOWN_SETTINGS},
            "deterministic": training.deterministic,
            "target": f"{statistics.target_val_accuracy:g}",
        },
        "verdict": {part: [item["text"] for item in verdict.get(part, [])]
                    for part in ("answers", "points", "tolerance", "comparisons")},
        "architectures": _architectures(list(pd.unique(comparison["variant"])), layers,
                                        parameter_accounting),
        "grid": grid,
        "results": _table(_results(variant_statistics, statistics, grid_keys)),
        "differences": _table(_differences(pairwise_differences, confidence, grid_keys)),
        "ablation": None if ablation_effects is None else {
            "sentences": ablation_sentences(ablation_effects),
            "table": _table(_ablation(ablation_effects, confidence))},
        "test_sampling": None if test_sampling_differences is None else _table(
            _sampled(test_sampling_differences, confidence)),
        "figures": list(FIGURES),
        "why": None if why is None else {
            "seeds": why["seeds"], "note": why["note"],
            "sentences": [sentence["text"] for sentence in why["sentences"]],
            "figures": list(WHY_FIGURES) if why["seeds"] else []},
        "runs": _table(comparison.round(4).drop(
            columns=[] if comparison["diverged"].astype(bool).any()
            else ["diverged", "diverged_at_epoch"])),
    })


def _table(table: pd.DataFrame | None) -> dict[str, Any] | None:
    """``table`` as JSON Table Schema: records, and each column's type."""
    if table is None:
        return None
    return json.loads(table.to_json(orient="table", index=False, double_precision=15))


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


def _architectures(names: list[str], layers: dict[str, list[dict[str, Any]]],
                   accounting: pd.DataFrame) -> dict[str, Any]:
    counts = accounting.groupby("variant")[["total", "trainable", "non_trainable"]].sum(
    ).reindex(names, fill_value=0)
    norm = normalizing_layers(accounting)
    optional = ("class_name", "moving_stddev", "renorm_mean", "renorm_stddev")
    kept = [c for c in NORM_COLUMNS if c not in optional or (  # shown where they vary
        c in norm and (norm[c].nunique() > 1 if c == "class_name" else norm[c].any()))]
    return {
        "table": _table(pd.DataFrame([{
            "variant": name, "layers": " → ".join(map(_layer, layers[name])),
            "parameters": f"{int(counts.loc[name, 'total']):,}",
            "trainable": f"{int(counts.loc[name, 'trainable']):,}",
            "non-trainable": f"{int(counts.loc[name, 'non_trainable']):,}",
        } for name in names])),
        "norm_table": _table(norm[kept]) if len(norm) else None,
        "other_norms": "renorm_mean" in kept or set(norm["normalization"]) != {
            "BatchNormalization"},
        "norm_lines": [f"{name}: {features:,} normalised features x {total // features} = "
                       f"{total:,} {ABBREVIATIONS.get(kind, kind)} values, {trainable:,} "
                       f"trainable and {frozen:,} not." for (name, kind), (
                           features, total, trainable, frozen)
                       in norm.groupby(["variant", "normalization"], sort=False)[
                           ["features", "total", "trainable", "non_trainable"]].sum()
                       .astype(int).iterrows() if features],
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
        "p (Holm)": [f"{p:.2g}" if math.isfinite(p) else "–" for p in pairwise["p_holm"]],
        "finding": [_finding(row) for row in pairwise.to_dict("records")],
    })


def _finding(row: dict[str, Any]) -> str:
    """The finding in words; an equivalence whose interval excludes zero says both."""
    if row["finding"] != "equivalent":
        return row["finding"]
    words = f"equivalent within ±{100 * row['equivalence_margin']:g} pp"
    if math.isfinite(row["p_holm"]) and row["p_holm"] < 1 - row["confidence"]:
        words += f"; a small difference of {100 * row['mean_difference']:+.2f} pp is detectable"
    return words


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
    return {"seeds": seed_list(table["seed"].unique()),
            "count": table["seed"].nunique(), "table": _table(pd.DataFrame(rows))}


def _basis(seeds: Sequence[int], confirmation: pd.DataFrame | None, grid_keys: Sequence[str],
           per: Sequence[str]) -> str:
    """Across a grid, what the answers rest on: the seeds that judge each variant's best
    setting, and those that chose it."""
    best = (f"its best {chosen_keys(grid_keys, per) or 'setting'}"
            + (f" for each {chosen_keys(per)}" if per else ""))
    grid = f"the grid's {len(seeds)} seed{'s' * (len(seeds) != 1)} ({seed_list(seeds)})"
    if confirmation is None:
        return (f"The answers above rest on {grid}, each variant at {best}, chosen on the "
                f"validation accuracy of those same runs: this favours the winners.")
    fresh = confirmation["seed"].unique()
    return (f"The answers above rest on {len(fresh)} fresh confirmation seed"
            f"{'s' * (len(fresh) != 1)} ({seed_list(fresh)}), each variant trained again at "
            f"{best}, chosen on the validation accuracy of {grid}.")


def _grid(  # noqa: PLR0913, PLR0917 (the tables across a grid)
    sweep_table: pd.DataFrame, best: pd.DataFrame, best_differences: pd.DataFrame,
    confirmation: pd.DataFrame | None, grid_keys: Sequence[str], confidence: float,
) -> dict[str, Any]:
    """The section "Across the grid"."""
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
    return {
        "keys": list(grid_keys),
        "size": len(sweep_table.drop_duplicates(list(grid_keys))),
        "confirmation": None if confirmation is None else _confirmation(
            confirmation, grid_keys, confidence),
        "best": _table(best.assign(setting=settings)[[
            "variant", "setting", "runs", "diverged", "final_val_accuracy_mean",
            "test_accuracy_mean", "test_accuracy_ci_low", "test_accuracy_ci_high",
            *(f"stable_{k}" for k in grid_keys)]].round(4)),
        "best_differences": _table(_differences(best_differences, confidence).assign(
            settings=best_differences["variant_setting"] + " vs "
            + best_differences["versus_setting"])),
        "figure": GRID_FIGURE,
        "panels": _table(_panels(sweep_table, grid_keys)),
        "points": _table(pd.DataFrame(points)),
    }


def _same_setting(cross: pd.DataFrame, differences: pd.DataFrame, grid_keys: Sequence[str],
                  confidence: float) -> dict[str, Any]:
    """Every variant at the best variant's best setting (``confirm.cross``), pair by pair."""
    settings = cross.drop_duplicates(list(grid_keys))
    return {"at": "; ".join(f"{row['at_best_of']}'s best, {setting_label(row[list(grid_keys)])}"
                            for _, row in settings.iterrows()),
            "table": _table(_differences(differences, confidence, grid_keys))}


def _stability(best: pd.DataFrame, stability: pd.DataFrame, per: Sequence[str]) -> list[str]:
    """Per variant (and ``per`` value), how often its best setting is chosen on resampled
    seeds, and which settings are within the noise of it."""
    lines = []
    for row in best.to_dict("records"):
        rows = stability[(stability["variant"] == row["variant"])
                         & at_setting(stability, {key: row[key] for key in per})]
        where = f" ({setting_label({key: row[key] for key in per})})" if per else ""
        lines.append(f"{row['variant']}{where}: {stability_sentence(rows)}")
    return lines


def _interactions(interactions: pd.DataFrame, accounting: pd.DataFrame,
                  variants: list[str]) -> list[str]:
    """Whether BN's gain, and where it goes, depend on each grid key: per pair of a variant
    with normalization and one without, and per pair of variants with it."""
    normalized = normalizations(accounting)
    with_norm = [v for v in variants if normalized.get(v)]
    pairs = [(v, w, "its gain over " + w) for v in with_norm for w in variants
             if not normalized.get(w)] + [(v, w, "the difference to " + w)
                                          for i, v in enumerate(with_norm) for w in with_norm[i + 1:]]
    return [interaction_sentence(interactions, (v, w), key, subject=f"{v}: {what}",
                                 setting=key.replace("_", " "))
            for key in dict.fromkeys(interactions["grid_key"]) for v, w, what in pairs]


def _ablation(effects: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """The ablation's effects as the page shows them: each with its interval and Holm's p,
    its share of the gain with Fieller's interval (the rest: the dataset's CSV file)."""
    columns = list(effects.columns)
    keys = columns[columns.index("variant"):columns.index("path") + 1]  # the grid's between
    steps = effects["step_from"].fillna("").astype(str)
    return effects[[*keys, "factor", "change"]].assign(**{
        "comparison": [f"{to} − {since}" if since else "" for since, to
                       in zip(steps, effects["step_to"].fillna(""), strict=True)],
        "seeds": effects["seeds"], "diverged": effects["diverged"],
        "effect (pp)": effects["effect_pp"].round(2),
        f"{confidence:.0%} CI (pp)": [f"{low:+.2f} to {high:+.2f}" if math.isfinite(low)
                                     else "–" for low, high in zip(
                                         effects["ci_low_pp"], effects["ci_high_pp"],
                                         strict=True)],
        "p (Holm)": [f"{p:.2g}" if math.isfinite(p) else "–" for p in effects["p_holm"]],
        "share of the gain": [
            "–" if not math.isfinite(share) else f"{share:.0%}" + (
                f" [{low:.0%}, {high:.0%}]" if math.isfinite(low) else "")
            for share, low, high in zip(effects["share"], effects["share_ci_low"],
                                        effects["share_ci_high"], strict=True)],
        "finding": effects["finding"]})


def _sampled(sampled: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """The headline differences, with the interval over seeds and test images."""
    keys = [c for c in sampled.columns[:list(sampled.columns).index("variant")]]
    return pd.DataFrame({key: sampled[key] for key in keys}).assign(**{
        "comparison": sampled["variant"] + " − " + sampled["versus"],
        "seeds": sampled["seeds"],
        "mean difference (pp)": (100 * sampled["mean_difference"]).round(2),
        f"{confidence:.0%} CI over seeds and test images (pp)": [
            pp_interval(low, high) if math.isfinite(low) else "–"
            for low, high in zip(sampled["ci_low"], sampled["ci_high"], strict=True)],
    })


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
