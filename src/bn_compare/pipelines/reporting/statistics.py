"""Means, t-based confidence intervals and the paired t-test, on plain sequences.

With fewer than two values there is no spread: sd, intervals and p-values are NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

NAN = float("nan")
MIN_FOR_SPREAD = 2  # the fewest values with a standard deviation


def mean_interval(values: Sequence[float], confidence: float) -> dict[str, float]:
    """n, mean, sample standard deviation and the t interval of the mean."""
    sample = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    n = len(sample)
    if n == 0:
        return {"n": 0, "mean": NAN, "sd": NAN, "ci_low": NAN, "ci_high": NAN}
    mean = float(sample.mean())
    if n < MIN_FOR_SPREAD:
        return {"n": 1, "mean": mean, "sd": NAN, "ci_low": NAN, "ci_high": NAN}
    sd = float(sample.std(ddof=1))
    half_width = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd,
            "ci_low": mean - half_width, "ci_high": mean + half_width}


def paired_difference(
    first: Sequence[float], second: Sequence[float], confidence: float
) -> dict[str, float]:
    """``first - second`` pair by pair: the mean difference with its t interval, and the
    two-sided paired t-test of "no difference" (t statistic, p-value)."""
    differences = np.asarray(first, dtype=np.float64) - np.asarray(second, dtype=np.float64)
    result = mean_interval(differences.tolist(), confidence)
    n, mean, sd = result["n"], result["mean"], result["sd"]
    if n < MIN_FOR_SPREAD:
        return {**result, "t_statistic": NAN, "p_value": NAN}
    if sd == 0:  # every pair differs by the same amount
        t_statistic = NAN if mean == 0 else math.copysign(math.inf, mean)
        p_value = 1.0 if mean == 0 else 0.0
    else:
        t_statistic = mean / (sd / math.sqrt(n))
        p_value = float(2 * stats.t.sf(abs(t_statistic), n - 1))
    return {**result, "t_statistic": float(t_statistic), "p_value": p_value}
