"""The ablation: how much of a BN variant's gain over the baseline each of its differences
accounts for (``ablation`` parameters: the factors, and per BN variant the paths from the
baseline to it, one change a step; ``conf/ablation``).

At each grid point, on the seeds where every run on a BN variant's paths trained (a
diverged run leaves out its seed for the whole decomposition, so that the effects add up
to the gain seed by seed), a factor's effect on a path is the paired difference in test
accuracy between its step and the step before (``paired_difference``: t interval,
finding); with several paths, each factor's mean over them (over all orders of the
changes: the Shapley decomposition) is a paired difference too, of the per-seed means.
A factor's share of the gain is ``mean(effect) / mean(gain)`` with Fieller's interval
(``share_interval``), defined only where the gain's interval excludes 0. The p-values are
corrected with Holm's method within two families per grid point (``holm_family``): what
the sentences tell, and the effects along each order."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bn_compare.parameters import AblationParams, StatisticsParams
from bn_compare.pipelines.statistics import (
    MIN_FOR_SPREAD,
    NAN,
    groups,
    holm_family,
    paired_difference,
    setting_label,
)

TOTAL = "total"  # the factor of the rows with a BN variant's whole gain
EFFECT_COLUMNS = ["path", "factor", "change", "step_from", "step_to", "seeds", "diverged",
                  "effect_pp", "ci_low_pp", "ci_high_pp", "p_value", "p_holm", "family",
                  "family_size", "share", "share_ci_low", "share_ci_high", "confidence",
                  "finding"]
RENAMED = {"n": "seeds", "mean": "effect_pp", "ci_low": "ci_low_pp", "ci_high": "ci_high_pp"}


def share_interval(effect: Sequence[float], gain: Sequence[float],
                   confidence: float) -> tuple[float, float, float]:
    """``mean(effect) / mean(gain)`` over paired values and Fieller's interval: the ratios
    ``r`` for which the paired t-test of ``effect - r * gain`` does not reject a mean of 0
    at ``1 - confidence`` (the t interval's own test, inverted). It is a bounded interval
    exactly when the gain's t interval excludes 0; otherwise the ratio is not defined
    (NaN, NaN, NaN), as with fewer than two pairs."""
    x, y = np.asarray(effect, dtype=np.float64), np.asarray(gain, dtype=np.float64)
    n = len(x)
    if n < MIN_FOR_SPREAD:
        return NAN, NAN, NAN
    from scipy import stats  # here: its import is 0.6 s of every run's start-up

    q = float(stats.t.ppf((1 + confidence) / 2, n - 1)) ** 2 / n
    covariance = np.cov(x, y, ddof=1)
    x_mean, y_mean = float(x.mean()), float(y.mean())
    # (x_mean - r y_mean)^2 <= q var(x - r y): a r^2 - 2 b r + c <= 0
    a = y_mean**2 - q * covariance[1, 1]
    if not a > 0:  # the gain's interval holds 0: the set is unbounded
        return NAN, NAN, NAN
    b = x_mean * y_mean - q * covariance[0, 1]
    c = x_mean**2 - q * covariance[0, 0]
    root = math.sqrt(max(b * b - a * c, 0.0))  # >= 0 up to rounding: the ratio is inside
    return x_mean / y_mean, (b - root) / a, (b + root) / a


def _row(differences: pd.Series, gain: pd.Series, gain_defined: bool,
         statistics: StatisticsParams) -> dict[str, Any]:
    """``paired_difference`` of already paired ``differences`` (pp) against 0, and their
    share of ``gain``; the share's interval only where the difference has one."""
    result = paired_difference(differences.tolist(), [0.0] * len(differences),
                               statistics.confidence, statistics.equivalence_margin_pp)
    share = (NAN, NAN, NAN)
    if gain_defined:
        share = share_interval(differences.tolist(), gain.tolist(), statistics.confidence)
        if math.isnan(result["ci_low"]):  # no interval for the effect, none for its share
            share = (share[0], NAN, NAN)
    return {**result, "share": share[0], "share_ci_low": share[1], "share_ci_high": share[2],
            "confidence": statistics.confidence}


def _decomposition(by_seed: pd.DataFrame, variant: str, ablation: AblationParams,
                   statistics: StatisticsParams) -> list[dict[str, Any]]:
    """The rows of one BN variant at one grid point: its gain, each step of each path,
    and with several paths each factor's mean over them; ``headline``: the rows its
    sentence tells (the gain, and the means, or the one path's steps)."""
    paths, baseline = ablation.paths[variant], ablation.baseline
    cells = list(dict.fromkeys([baseline, *(step for path in paths for step in path.values())]))
    if missing := [cell for cell in cells if cell not in by_seed]:
        raise ValueError(f"comparison_table has no runs of {', '.join(missing)}, named in "
                         f"ablation.paths.{variant}")
    kept = by_seed[cells].dropna()  # NaN: a diverged run; its seed leaves every difference
    common = {"variant": variant, "step_from": "", "step_to": "",
              "diverged": len(by_seed) - len(kept), "headline": len(paths) == 1,
              "used": tuple(kept.index)}
    gain = kept[variant] - kept[baseline]
    gain_only = paired_difference(gain.tolist(), [0.0] * len(gain), statistics.confidence)
    defined = gain_only["ci_low"] > 0 or gain_only["ci_high"] < 0  # NaN (none): False
    rows = [{**common, "path": "", "factor": TOTAL, "change": "all of them",
             "step_from": baseline, "step_to": variant, "headline": True,
             **_row(gain, gain, defined, statistics)}]
    effects: dict[str, list[pd.Series]] = {factor: [] for factor in ablation.factors}
    for path in paths:
        previous = baseline
        for factor, step in path.items():
            effect = kept[step] - kept[previous]
            effects[factor].append(effect)
            rows.append({**common, "path": " > ".join(path), "factor": factor,
                         "change": ablation.factors[factor], "step_from": previous,
                         "step_to": step, **_row(effect, gain, defined, statistics)})
            previous = step
    if len(paths) > 1:
        rows += [{**common, "path": f"mean of {len(paths)} orders", "factor": factor,
                  "change": ablation.factors[factor], "headline": True,
                  **_row(sum(series) / len(series), gain, defined, statistics)}
                 for factor, series in effects.items()]
    return rows


def _holm_by_contrast(rows: list[dict[str, Any]], family: str,
                      confidence: float) -> list[dict[str, Any]]:
    """``holm_family`` over the family's distinct tests: a contrast that several paths (or
    both placements) share, on the same seeds, is one test, counted once."""
    def contrast(row: dict[str, Any]) -> tuple:
        steps = (row["step_from"], row["step_to"]) if row["step_to"] else (
            row["variant"], row["path"], row["factor"])
        return (*steps, row["used"])

    tests = {contrast(row): row for row in rows}
    corrected = dict(zip(tests, holm_family(list(tests.values()), family, confidence),
                         strict=True))
    decided = ("family", "family_size", "p_holm", "equivalence_p_holm", "finding")
    return [{**row, **{key: corrected[contrast(row)][key] for key in decided}} for row in rows]


def compute_ablation_effects(
    comparison_table: pd.DataFrame, *, ablation: AblationParams,
    statistics: StatisticsParams, grid_keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Per grid point and BN variant of ``ablation.paths``: its gain over the baseline
    (``factor`` total), each factor's effect along each path, and with several paths each
    factor's mean over them (``path``: ``mean of <n> orders``); each in pp of test accuracy
    with its t interval, p-value, finding and share of the gain (Fieller's interval; NaN
    where the gain's interval holds 0). ``seeds``: those used; ``diverged``: those left
    out because a run on the variant's paths diverged. Two families per grid point, each
    corrected with Holm's method (``p_holm``; the finding is decided on it), a contrast
    shared by several rows on the same seeds counted once: what the sentences tell
    (every BN variant's gain, and each factor's mean over the orders, or its effect on
    the one path) is ``ablation[, <setting>]``; the effects along each order, where there
    are several, ``ablation by order[, <setting>]``."""
    accuracy = (100 * comparison_table["test_accuracy"]).where(
        ~comparison_table["diverged"].astype(bool))
    runs = comparison_table.assign(accuracy_pp=accuracy)
    rows = []
    for key, table in groups(runs, grid_keys):
        point = dict(zip(grid_keys, key, strict=True))
        by_seed = table.pivot(index="seed", columns="variant", values="accuracy_pp")
        decomposed = [{**row, "order": i} for i, row in enumerate(
            row for variant in ablation.paths
            for row in _decomposition(by_seed, variant, ablation, statistics))]
        where, corrected = setting_label(point), []
        for family, headline in (("ablation", True), ("ablation by order", False)):
            if members := [row for row in decomposed if row["headline"] == headline]:
                corrected += _holm_by_contrast(members, f"{family}, {where}" if where else family,
                                               statistics.confidence)
        rows += [{**point, **{RENAMED.get(name, name): value for name, value in row.items()}}
                 for row in sorted(corrected, key=lambda row: row["order"])]
    return pd.DataFrame(rows, columns=["variant", *grid_keys, *EFFECT_COLUMNS])


def _pp(value: float) -> str:
    return f"{value:+.2f}"


def _effect(row: pd.Series, confidence_words: str = "") -> str:
    """``+3.08 pp [+2.42, +3.73]`` (``[95% CI +2.42, +3.73]`` with ``confidence_words``)."""
    if math.isnan(row["ci_low_pp"]):
        return f"{_pp(row['effect_pp'])} pp (no interval)"
    return (f"{_pp(row['effect_pp'])} pp [{confidence_words}{_pp(row['ci_low_pp'])}, "
            f"{_pp(row['ci_high_pp'])}]")


def _share(row: pd.Series, span: tuple[float, float] | None) -> str:
    """`` (68% [55%, 80%]; +1.60 to +2.20 pp by order)``: the share and the range of the
    effect over the orders, each where there is one."""
    parts = []
    if not math.isnan(row["share"]):
        parts.append(f"{row['share']:.0%}" + ("" if math.isnan(row["share_ci_low"]) else
                     f" [{row['share_ci_low']:.0%}, {row['share_ci_high']:.0%}]"))
    if span is not None:
        low, high = (_pp(value) for value in span)
        parts.append(f"{low if low == high else f'{low} to {high}'} pp by order")
    return f" ({'; '.join(parts)})" if parts else ""


def _sentence(rows: pd.DataFrame, grid_keys: Sequence[str]) -> str:
    total = rows[rows["factor"] == TOTAL].iloc[0]
    factors = rows[rows["factor"] != TOTAL]
    averaged = factors["path"].astype(str).str.startswith("mean of ")
    shown = factors[averaged] if averaged.any() else factors
    orders = factors.loc[~averaged, "path"].nunique()
    where = f" at {setting_label(total[list(grid_keys)].to_dict())}" if grid_keys else ""
    if not total["seeds"]:
        return (f"{total['variant']}{where}: no decomposition, on no seed did every run on "
                f"its paths train ({int(total['diverged'])} left out).")
    left_out = (f", {int(total['diverged'])} left out: a run on its paths diverged"
                if total["diverged"] else "")
    how = (f"averaged over the {orders} orders of the changes" if averaged.any() else
           f"along {' > '.join([total['step_from'], *shown['step_to']])}")
    spans = factors[~averaged].groupby("factor", sort=False)["effect_pp"].agg(["min", "max"])
    parts = [f"{row['change']} {'accounts for ' if i == 0 else 'for '}{_effect(row)}"
             + _share(row, tuple(spans.loc[row["factor"]]) if averaged.any() else None)
             for i, (_, row) in enumerate(shown.iterrows())]
    listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
    gain = _effect(total, f"{total['confidence']:.0%} CI ")
    finding = "" if math.isnan(total["ci_low_pp"]) else f"{total['finding']}, "  # none: said
    text = (f"Of {total['variant']}'s {gain} over {total['step_from']}{where} "
            f"({finding}{int(total['seeds'])} seeds{left_out}), {how}, {listed}")
    if math.isnan(total["share"]):
        text += "; the shares are not defined: the gain's interval holds 0 (or it has none)"
    return text + "."


def ablation_sentences(effects: pd.DataFrame) -> list[str]:
    """One sentence per grid point and BN variant of ``ablation_effects``: its gain over the
    baseline and what each change accounts for, in pp and share (averaged over the orders
    where there are several, with the range over them), each with its interval."""
    columns = list(effects.columns)
    grid_keys = columns[columns.index("variant") + 1:columns.index("path")]
    return [_sentence(rows, grid_keys)
            for _, rows in groups(effects, [*grid_keys, "variant"])]
