"""What reporting and diagnostics both read, in a module of neither: intervals of means
over seeds, paired differences and their finding, tables split by keys or read at a
setting, Holm's correction within a family of differences, the repeated-measures ANOVA of
an interaction, and each variant's kinds of normalization (``parameter_accounting``'s
``normalization`` column, written by training's ``account_parameters``), and how an
interval in percentage points and a list of seeds are said. Fewer than two
values have no spread: their sd, intervals and p-values are NaN; a difference with fewer
than three distinct per-seed values has no interval and no test either."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bn_compare.grid import value_label

NAN = float("nan")
MIN_FOR_SPREAD = 2  # the fewest values with a standard deviation
MIN_DISTINCT = 3  # the fewest distinct per-seed differences with an interval and a test
DISTINCT_DECIMALS = 9  # differences equal to 9 decimals are one value (float rounding)
NO_INTERVAL = f"no interval (fewer than {MIN_DISTINCT} distinct values)"  # the finding
RANGE_FROM = 3  # seeds in a row said as a range: 1000–1009


def mean_interval(values: Sequence[float], confidence: float) -> dict[str, float]:
    """n, mean, sample standard deviation and the t interval of the mean (NaN left out)."""
    sample = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    n = len(sample)
    mean = float(sample.mean()) if n else NAN
    if n < MIN_FOR_SPREAD:
        return {"n": n, "mean": mean, "sd": NAN, "ci_low": NAN, "ci_high": NAN}
    sd = float(sample.std(ddof=1))
    from scipy import stats  # here: its import is 0.6 s of every run's start-up

    half_width = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd,
            "ci_low": mean - half_width, "ci_high": mean + half_width}


def distinct_values(values: Sequence[float]) -> int:
    """How many different values ``values`` holds (NaN left out), two closer than
    ``10**-DISTINCT_DECIMALS`` counted as one: accuracies move in steps of 1e-4 (10,000 test
    images), so two equal differences of them differ by float rounding only."""
    sample = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    return len(np.unique(np.round(sample, DISTINCT_DECIMALS)))


def finding_of(mean: float, p_value: float, equivalence_p: float, alpha: float) -> str:
    """A difference's one word: ``equivalent`` when the equivalence test rejects at
    ``alpha``, else ``better`` / ``worse`` when the two-sided test does, else ``not
    conclusive``; ``NO_INTERVAL`` without a p-value (``paired_difference``)."""
    if math.isnan(p_value):
        return NO_INTERVAL
    if equivalence_p < alpha:
        return "equivalent"
    if p_value < alpha:
        return "better" if mean > 0 else "worse"
    return "not conclusive"


def paired_difference(first: Sequence[float], second: Sequence[float],
                      confidence: float, margin: float = NAN) -> dict[str, Any]:
    """``mean_interval`` of ``first - second``, the two-sided paired t-test, and the
    equivalence test within ``±margin`` (TOST: two one-sided t-tests at α = 1 - confidence
    each, equivalent when the 1 - 2α interval lies inside the margin), in one word
    (``finding_of``): ``equivalent``, else ``better`` / ``worse`` when the interval excludes
    zero, else ``not conclusive``. With fewer than ``MIN_DISTINCT`` distinct per-seed
    differences (``distinct``) there is no interval, no test and no finding but
    ``NO_INTERVAL``: zero spread would make a tie of two seeds *certain*."""
    differences = np.asarray(first, dtype=np.float64) - np.asarray(second, dtype=np.float64)
    result = mean_interval(differences.tolist(), confidence)
    n, mean, sd = result["n"], result["mean"], result["sd"]
    distinct = distinct_values(differences.tolist())
    t_statistic = p_value = low = high = equivalence_p = NAN
    if distinct < MIN_DISTINCT:
        result = {**result, "ci_low": NAN, "ci_high": NAN}
    else:
        from scipy import stats

        se = sd / math.sqrt(n)
        t_statistic = mean / se
        p_value = float(2 * stats.t.sf(abs(t_statistic), n - 1))
        half_width = float(stats.t.ppf(confidence, n - 1)) * se  # the 1 - 2α interval
        low, high = mean - half_width, mean + half_width
        equivalence_p = float(max(stats.t.sf((mean + margin) / se, n - 1),
                                  stats.t.cdf((mean - margin) / se, n - 1)))
    return {**result, "distinct": distinct, "t_statistic": float(t_statistic),
            "p_value": p_value, "equivalence_margin": margin, "equivalence_low": low,
            "equivalence_high": high, "equivalence_p": equivalence_p,
            "finding": finding_of(mean, p_value, equivalence_p, 1 - confidence)}


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: the i-th smallest of m times (m - i + 1), never
    below an earlier one, at most 1. A NaN is no test: it stays NaN and is not counted in
    m."""
    p = np.asarray(p_values, dtype=np.float64)
    tested = np.flatnonzero(~np.isnan(p))
    adjusted, running = np.full(len(p), NAN), 0.0
    for rank, index in enumerate(tested[np.argsort(p[tested], kind="stable")]):
        running = max(running, min(1.0, (len(tested) - rank) * float(p[index])))
        adjusted[index] = running
    return adjusted.tolist()


def holm_family(differences: Sequence[Mapping[str, Any]], family: str,
                confidence: float) -> list[dict[str, Any]]:
    """``paired_difference`` results that answer one family of questions, each with the
    ``family``'s name and size (its tests: the differences with a p-value), Holm's adjusted
    p-values of the difference test (``p_holm``) and of the equivalence test
    (``equivalence_p_holm``), and its ``finding`` decided on these at α = 1 - confidence
    (for a family of one: unchanged)."""
    p_holm = holm([d["p_value"] for d in differences])
    equivalence_p_holm = holm([d["equivalence_p"] for d in differences])
    size = sum(not math.isnan(d["p_value"]) for d in differences)
    return [{**d, "family": family, "family_size": size, "p_holm": p, "equivalence_p_holm": e,
             "finding": finding_of(d["mean"], p, e, 1 - confidence)}
            for d, p, e in zip(differences, p_holm, equivalence_p_holm, strict=True)]


def repeated_measures_anova(cells: np.ndarray) -> dict[str, float]:
    """The one-way repeated-measures ANOVA of ``cells`` (seeds x points, complete): does
    the mean differ between points, each seed its own block? ``F = (SS_points / (k - 1)) /
    (SS_error / ((k - 1)(n - 1)))``, sphericity assumed (no Greenhouse-Geisser
    correction). For two points F = t² of the paired t-test of point 2 - point 1. NaN
    without a test: fewer than two seeds or points, fewer than ``MIN_DISTINCT`` distinct
    values, or no residual spread (every seed moving alike: equal to 9 decimals)."""
    cells = np.asarray(cells, dtype=np.float64)
    n, k = cells.shape
    nothing = {"f_statistic": NAN, "df_points": NAN, "df_error": NAN, "p_value": NAN}
    if n < MIN_FOR_SPREAD or k < MIN_FOR_SPREAD or distinct_values(cells.ravel()) < MIN_DISTINCT:
        return nothing
    grand = cells.mean()
    residuals = cells - cells.mean(axis=0) - cells.mean(axis=1, keepdims=True) + grand
    if not np.round(residuals, DISTINCT_DECIMALS).any():  # every seed moves alike
        return nothing
    ss_points = n * float(((cells.mean(axis=0) - grand) ** 2).sum())
    ss_error = float((residuals ** 2).sum())
    from scipy import stats

    df_points, df_error = k - 1, (k - 1) * (n - 1)
    f_statistic = (ss_points / df_points) / (ss_error / df_error)
    return {"f_statistic": f_statistic, "df_points": float(df_points),
            "df_error": float(df_error),
            "p_value": float(stats.f.sf(f_statistic, df_points, df_error))}


def groups(table: pd.DataFrame, keys: Sequence[str]) -> list[tuple[tuple, pd.DataFrame]]:
    """``table`` split by ``keys`` in the order the rows come (tuples as keys)."""
    return list(table.groupby(list(keys), sort=False)) if keys else [((), table)]


def setting_label(setting: Mapping[str, Any]) -> str:
    """``learning_rate=0.1, optimizer=SGD``."""
    return ", ".join(f"{key}={value_label(value)}" for key, value in setting.items())


def at_setting(table: pd.DataFrame, setting: Mapping[str, Any]) -> pd.Series:
    """Which rows of ``table`` are at ``setting`` (grid key: value)."""
    return (table[list(setting.keys())] == pd.Series(setting)).all(axis=1)


def normalizing_layers(parameter_accounting: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``parameter_accounting`` whose layer normalizes (its ``normalization``:
    the kind, empty for none, which a CSV file gives back as NaN)."""
    if "normalization" not in parameter_accounting:
        raise ValueError("parameter_accounting has no normalization column (saved by an "
                         "older version): run again without --only-missing-outputs")
    kinds = parameter_accounting["normalization"]
    return parameter_accounting[kinds.notna() & (kinds != "")]


def normalizations(parameter_accounting: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Per variant, the kinds of normalization its layers do, in layer order (none: ())."""
    kinds = normalizing_layers(parameter_accounting)
    return {variant: tuple(dict.fromkeys(kinds.loc[kinds["variant"] == variant,
                                                   "normalization"]))
            for variant in pd.unique(parameter_accounting["variant"])}


def pp_interval(low: float, high: float) -> str:
    """``+1.04 to +4.96``: an interval of fractions in percentage points."""
    return f"{100 * low:+.2f} to {100 * high:+.2f}"


def seed_list(seeds: Sequence[int]) -> str:
    """``1000–1009``, ``1, 2`` or ``1–3, 7``: the seeds in order, three or more in a row
    as a range."""
    runs: list[list[int]] = []
    for seed in sorted(set(seeds)):
        if runs and seed == runs[-1][-1] + 1:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    return ", ".join(f"{run[0]}–{run[-1]}" if len(run) >= RANGE_FROM
                     else ", ".join(map(str, run)) for run in runs)
