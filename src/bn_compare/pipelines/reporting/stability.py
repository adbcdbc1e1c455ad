"""How stable a variant's choice of grid point is: how often each point would be chosen
had the grid's seeds come out differently (a bootstrap over seeds), and which points are
within the noise of the best. The choice in every resample is ``select_best_settings``'s
rule, applied to the resample's runs (``choose``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bn_compare.grid import value_label
from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.statistics import (
    groups,
    mean_interval,
    paired_difference,
    setting_label,
)

CHOICE_METRIC = "final_val_accuracy"  # as in select_best_settings: validation chooses
STABILITY_COLUMNS = ["chosen_share", "within_noise", "is_best", "resamples", "seeds"]


def choose(runs: np.ndarray, diverged: np.ndarray, means: np.ndarray) -> np.ndarray:
    """``select_best_settings``'s rule along the last axis (the points, in the sweep
    table's order), for any number of leading axes (resamples): among the points where
    some run trained, those where none diverged if there are any, the highest mean final
    validation accuracy, the first on ties; a NaN mean is never chosen. The index of the
    chosen point, -1 where none can be."""
    trained = runs > diverged
    stable = trained & (diverged == 0)
    candidates = np.where(stable.any(axis=-1, keepdims=True), stable, trained)
    candidates &= ~np.isnan(means)
    chosen = np.where(candidates, means, -np.inf).argmax(axis=-1)
    return np.where(candidates.any(axis=-1), chosen, -1)


def _resampled_means(values: np.ndarray) -> np.ndarray:
    """Per resample and point, the mean of ``values`` (resamples x points x draws; NaN:
    not averaged in) over its draws in their order, to the bit what ``mean_interval``
    gives for the resample's runs (NumPy's sum depends on the order and the count)."""
    kept = ~np.isnan(values)
    order = np.argsort(~kept, axis=-1, kind="stable")  # the kept ones first, in order
    packed = np.take_along_axis(values, order, axis=-1)
    counts = kept.sum(axis=-1)
    means = np.full(counts.shape, np.nan)
    for count in np.unique(counts[counts > 0]):
        rows = counts == count
        means[rows] = np.add.reduce(np.ascontiguousarray(packed[rows][:, :count]),
                                    axis=-1) / count
    return means


def point_stability(group: pd.DataFrame, grid_keys: Sequence[str], draws: np.ndarray,
                    seeds: np.ndarray, statistics: StatisticsParams) -> list[dict[str, Any]]:
    """One variant's (and ``per`` value's) points: their share of ``draws`` (resamples x
    draws, indices into ``seeds``), whether each is the best or within the noise of it."""
    at = {}  # grid point (values of grid_keys): its index, in the order the rows come
    point = np.array([at.setdefault(values, len(at)) for values in
                      zip(*(group[key].tolist() for key in grid_keys), strict=True)]
                     if grid_keys else [0] * len(group))
    seed = np.searchsorted(seeds, group["seed"].to_numpy())
    if len(set(zip(point.tolist(), seed.tolist()))) < len(group):
        raise ValueError(f"comparison_table has two runs of {group['variant'].iloc[0]} at "
                         f"one grid point and seed")
    diverged = group["diverged"].astype(bool).to_numpy()
    accuracy = group[CHOICE_METRIC].to_numpy(dtype=np.float64)
    n_points = len(at) if grid_keys else 1
    present = np.zeros((n_points, len(seeds)), dtype=bool)
    failed = np.zeros_like(present)
    values = np.full(present.shape, np.nan)  # NaN: no run, diverged, or no accuracy
    present[point, seed], failed[point, seed] = True, diverged
    values[point[~diverged], seed[~diverged]] = accuracy[~diverged]

    # the choice on the grid's own runs: each point's mean over its runs in their order
    means = np.array([mean_interval(accuracy[(point == p) & ~diverged].tolist(),
                                    statistics.confidence)["mean"] for p in range(n_points)])
    best = int(choose(present.sum(axis=1), failed.sum(axis=1), means))
    # the choice in each resample: the runs at the drawn seeds, a seed drawn twice twice
    chosen = choose(present[:, draws].sum(axis=-1).T, failed[:, draws].sum(axis=-1).T,
                    _resampled_means(values[:, draws].transpose(1, 0, 2)))
    shares = np.bincount(chosen[chosen >= 0], minlength=n_points) / len(draws)
    within = np.arange(n_points) == best
    for p in np.flatnonzero(~within) if best >= 0 else ():
        both = ~np.isnan(values[p]) & ~np.isnan(values[best])
        interval = paired_difference(values[p, both], values[best, both], statistics.confidence,
                                     statistics.equivalence_margin_pp / 100)
        within[p] = bool(interval["ci_low"] <= 0 <= interval["ci_high"])  # none: False
    return [{**dict(zip(grid_keys, values, strict=True)), "chosen_share": float(shares[p]),
             "within_noise": bool(within[p]), "is_best": p == best,
             "resamples": len(draws), "seeds": len(seeds)}
            for p, values in enumerate(at or [()])]


def compute_selection_stability(  # noqa: PLR0913 (a node: the table, then settings)
    comparison_table: pd.DataFrame, *, statistics: StatisticsParams,
    grid_keys: Sequence[str], per: Sequence[str] = (), resamples: int = 1000, seed: int = 0,
) -> pd.DataFrame:
    """Per variant (and value of each ``per`` key: ``confirm.per``) and grid point, how
    stable the choice of best setting is.

    ``chosen_share``: the share of ``resamples`` bootstrap resamples of the seeds (drawn
    with replacement, as many as there are; the same draws for every point of a variant,
    so the runs stay paired by seed, and for every variant with as many seeds) in which
    the point is chosen by ``select_best_settings``'s rule (``choose``) on the resample's
    runs: a seed drawn twice counts twice, a diverged run counts in ``diverged`` and is
    never averaged in, so a point whose drawn runs all diverged cannot be chosen, and one
    with a diverged run among its draws only where every point has one. Resamples in
    which no point can be chosen leave the shares summing to less than one. Seeded:
    ``numpy.random.default_rng(seed)``.

    ``is_best``: the point chosen on the grid's own runs (``best_settings``'s).
    ``within_noise``: the best, and each point whose paired difference from the best in
    final validation accuracy (over the seeds where both trained) has a t interval at
    ``statistics.confidence`` (``paired_difference``'s) that includes zero; a point with no
    interval (``paired_difference``: too few seeds trained at both, or too few distinct
    differences) is not within the noise: nothing measured puts it there. ``seeds``: the
    seeds resampled."""
    keys = list(grid_keys)
    columns = ["variant", *per, *(k for k in keys if k not in per), *STABILITY_COLUMNS]
    rng, draws = np.random.default_rng(seed), {}  # per number of seeds, drawn once
    rows = []
    for key, group in groups(comparison_table, ["variant", *per]):
        seeds = np.unique(group["seed"].to_numpy())
        if len(seeds) not in draws:
            draws[len(seeds)] = rng.integers(0, len(seeds), size=(resamples, len(seeds)))
        rows += [{**dict(zip(["variant", *per], key, strict=True)), **row} for row in
                 point_stability(group, keys, draws[len(seeds)], seeds, statistics)]
    return pd.DataFrame(rows, columns=columns)


def stability_sentence(rows: pd.DataFrame) -> str:
    """The rows of one variant (at one ``per`` value) in a sentence: ``learning_rate=0.1:
    chosen in 64% of resamples; 0.1 and 1 within the noise``, with the point chosen most
    often when that is another; settings over the keys that vary among ``rows`` (all when
    none varies)."""
    best = rows[rows["is_best"]]
    if len(best) > 1 or rows["variant"].nunique() > 1:
        raise ValueError("stability_sentence: rows of one variant (at one per value) only")
    keys = [c for c in rows.columns[1:] if c not in STABILITY_COLUMNS]
    keys = [k for k in keys if rows[k].nunique() > 1] or keys

    def label(row: pd.Series) -> str:
        return setting_label(row[keys].to_dict()) or "its only setting"

    if best.empty:
        return "no setting chosen: every run diverged"
    best = best.iloc[0]
    sentence = f"{label(best)}: chosen in {best['chosen_share']:.0%} of resamples"
    most = rows.loc[rows["chosen_share"].idxmax()]
    if most["chosen_share"] > best["chosen_share"]:
        sentence += f" ({label(most)} in {most['chosen_share']:.0%})"
    within = rows[rows["within_noise"]]
    if len(within) == 1:  # the best alone
        return f"{sentence}; no other setting within the noise"
    names = [value_label(row[keys[0]]) if len(keys) == 1 else f"({label(row)})"
             for _, row in within.iterrows()]
    return f"{sentence}; {', '.join(names[:-1])} and {names[-1]} within the noise"
