"""What reporting and diagnostics both read, in a module of neither: intervals of means
over seeds, paired differences and their finding, tables split by keys or read at a
setting, and each variant's kinds of normalization (``parameter_accounting``'s
``normalization`` column, written by training's ``account_parameters``). Fewer than two
values have no spread: their sd, intervals and p-values are NaN."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bn_compare.grid import value_label

NAN = float("nan")
MIN_FOR_SPREAD = 2  # the fewest values with a standard deviation


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


def paired_difference(first: Sequence[float], second: Sequence[float],
                      confidence: float, margin: float = NAN) -> dict[str, Any]:
    """``mean_interval`` of ``first - second``, the two-sided paired t-test, and the
    equivalence test within ``±margin`` (TOST: two one-sided t-tests at α = 1 - confidence
    each, equivalent when the 1 - 2α interval lies inside the margin), in one word:
    ``equivalent``, else ``better`` / ``worse`` when the interval excludes zero, else ``not
    conclusive``."""
    differences = np.asarray(first, dtype=np.float64) - np.asarray(second, dtype=np.float64)
    result = mean_interval(differences.tolist(), confidence)
    n, mean, sd = result["n"], result["mean"], result["sd"]
    low = high = equivalence_p = NAN
    if n < MIN_FOR_SPREAD:
        t_statistic, p_value = NAN, NAN
    elif sd == 0:  # every pair differs by the same amount
        t_statistic = NAN if mean == 0 else math.copysign(math.inf, mean)
        p_value = 1.0 if mean == 0 else 0.0
        low = high = mean
        equivalence_p = 0.0 if abs(mean) < margin else 1.0
    else:
        from scipy import stats

        se = sd / math.sqrt(n)
        t_statistic = mean / se
        p_value = float(2 * stats.t.sf(abs(t_statistic), n - 1))
        half_width = float(stats.t.ppf(confidence, n - 1)) * se  # the 1 - 2α interval
        low, high = mean - half_width, mean + half_width
        equivalence_p = float(max(stats.t.sf((mean + margin) / se, n - 1),
                                  stats.t.cdf((mean - margin) / se, n - 1)))
    if equivalence_p < 1 - confidence:
        finding = "equivalent"
    elif result["ci_low"] > 0 or result["ci_high"] < 0:
        finding = "better" if mean > 0 else "worse"
    else:
        finding = "not conclusive"
    return {**result, "t_statistic": float(t_statistic), "p_value": p_value,
            "equivalence_margin": margin, "equivalence_low": low, "equivalence_high": high,
            "equivalence_p": equivalence_p, "finding": finding}


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
