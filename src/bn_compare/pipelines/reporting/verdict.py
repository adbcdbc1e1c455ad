"""The plain-language verdict, from the pairwise differences in test accuracy: the
answers, every comparison in words, and the numbers each rests on, as a plain dict (the
``verdict`` dataset, JSON; the report lays it out).

A difference is called conclusive when its confidence interval excludes zero (the
paired t-test's p-value is then below 1 - confidence). No correction for multiple
comparisons is made; the report says so. A variant whose every run diverged has no
accuracy to compare: it loses to any variant that trained.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bn_compare.run_matrix import value_label

from .nodes import PAIRED_METRIC, groups
from .statistics import MIN_FOR_SPREAD
from .sweep import setting_label


@dataclass(frozen=True)
class Difference:
    """``first - second`` in test accuracy over the shared seeds."""

    first: str
    second: str
    n: int  # seeds both trained without diverging
    mean: float
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float
    diverged: int = 0  # seeds left out because one of the two diverged
    settings: tuple[str, str] | None = None  # at the best settings: first's, second's

    @property
    def seeds(self) -> int:
        return self.n + self.diverged

    @property
    def has_interval(self) -> bool:
        return self.n >= MIN_FOR_SPREAD and math.isfinite(self.ci_low)

    @property
    def conclusive(self) -> bool:
        return self.has_interval and (self.ci_low > 0 or self.ci_high < 0)

    def describe(self) -> str:
        if self.n == 0:
            return (f"{self.first} vs {self.second}: no seed where both trained without "
                    f"diverging, nothing to compare.")
        text = f"{self.first} vs {self.second}: {100 * self.mean:+.2f} pp test accuracy"
        if not self.has_interval:
            return text + " (one seed: no interval, no test)."
        text += (f" ({self.confidence:.0%} CI {100 * self.ci_low:+.2f} to "
                 f"{100 * self.ci_high:+.2f} pp, paired t-test p = {self.p_value:.2g}, "
                 f"{self.n} seeds)")
        if not self.conclusive:
            return text + ": not conclusive, the interval includes zero."
        better = self.first if self.mean > 0 else self.second
        return text + f": {better} is better."

    def numbers(self) -> dict[str, Any]:
        """The difference as JSON values (no interval or test: null)."""
        numbers = {"first": self.first, "second": self.second, "seeds": self.seeds,
                   "n": self.n, "diverged": self.diverged,
                   "mean_difference": _number(self.mean), "ci_low": _number(self.ci_low),
                   "ci_high": _number(self.ci_high), "p_value": _number(self.p_value),
                   "confidence": self.confidence, "conclusive": self.conclusive}
        if self.settings:
            numbers["settings"] = dict(zip((self.first, self.second), self.settings,
                                           strict=True))
        return numbers


def _number(value: Any) -> Any:
    """A plain JSON value: numpy scalars unwrapped, NaN and infinities as null."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def difference(pairwise: pd.DataFrame, first: str, second: str) -> Difference:
    """The difference ``first - second``, whichever way round the table holds it."""
    for a, b, sign in ((first, second, 1), (second, first, -1)):
        row = pairwise[(pairwise["variant"] == a) & (pairwise["versus"] == b)]
        if len(row):
            r = row.iloc[0]
            low, high = sign * r["ci_low"], sign * r["ci_high"]
            settings = ((r["variant_setting"], r["versus_setting"])[::sign]
                        if "variant_setting" in r else None)
            return Difference(first, second, int(r["n"]), sign * float(r["mean_difference"]),
                              float(min(low, high)), float(max(low, high)),
                              float(r["p_value"]), float(r["confidence"]),
                              int(r.get("diverged", 0) or 0), settings)
    raise KeyError(f"no pairwise difference between {first} and {second}")


# --- the nodes -------------------------------------------------------------------------

def write_verdict(variant_statistics: pd.DataFrame, pairwise_differences: pd.DataFrame,
                  variants: dict[str, Any]) -> dict[str, Any]:
    """The answers and every comparison in words, with the numbers behind them:
    ``{"answers": [...], "comparisons": [...]}`` (see ``verdict``)."""
    test = variant_statistics[variant_statistics["metric"] == PAIRED_METRIC]
    return verdict(dict(zip(test["variant"], test["mean"], strict=True)),
                   pairwise_differences, uses_batch_normalization(variants),
                   {r["variant"]: (int(r["diverged"]), int(r["seeds"]))
                    for _, r in test.iterrows()})


def write_grid_verdict(  # noqa: PLR0913 (a node: one argument per dataset)
    sweep_table: pd.DataFrame, best_settings: pd.DataFrame,
    best_setting_differences: pd.DataFrame, pairwise_differences: pd.DataFrame,
    variants: dict[str, Any], *, grid_keys: Sequence[str],
) -> dict[str, Any]:
    """Across a grid: the answers at each variant's best setting, every comparison in
    words (at the best settings, then at each grid point), the answers at each grid
    point and which settings each variant tolerates: ``{"grid_keys", "answers",
    "comparisons", "points": [{"setting", "text", "answers"}], "tolerance": [{"variant",
    "text", "points"}]}`` (answers and comparisons as in ``verdict``)."""
    uses_bn = uses_batch_normalization(variants)
    at_best = verdict(dict(zip(best_settings["variant"], best_settings["test_accuracy_mean"],
                               strict=True)), best_setting_differences, uses_bn)
    first, *others = at_best["answers"]
    points = [_point(key, table, sweep_table, grid_keys, uses_bn)
              for key, table in groups(pairwise_differences, grid_keys)]
    return {
        "grid_keys": list(grid_keys),
        "answers": [{**first, "text": f"At each variant's best setting: {first['text']}"},
                    *others],
        "comparisons": [
            *({**line, "text": f"At the best settings: {line['text']}"}
              for line in at_best["comparisons"]),
            *(line for _, lines in points for line in lines),
            *({"text": f"{variant}: {count} of {runs} runs diverged across the grid.",
               "variant": variant, "diverged": count, "runs": runs}
              for variant, (count, runs) in _diverged_totals(sweep_table).items() if count),
        ],
        "points": [point for point, _ in points],
        "tolerance": [_tolerance(variant, table, grid_keys)
                      for (variant,), table in groups(sweep_table, ["variant"])],
    }


def uses_batch_normalization(variants: dict[str, Any]) -> dict[str, bool]:
    """Per variant (``params:variants``), whether a layer is BatchNormalization."""
    return {name: any(layer["class_name"] == "BatchNormalization" for layer in spec["layers"])
            for name, spec in variants.items()}


def _point(key: tuple, pairwise: pd.DataFrame, sweep_table: pd.DataFrame,
           grid_keys: Sequence[str], uses_bn: dict[str, bool],
           ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The answers at one grid point, and its comparisons (said with the point)."""
    setting = pd.Series(dict(zip(grid_keys, key, strict=True)))
    label = setting_label(setting, grid_keys)
    here = sweep_table[(sweep_table[list(grid_keys)] == setting).all(axis=1)]
    said = verdict(dict(zip(here["variant"], here["test_accuracy_mean"], strict=True)),
                   pairwise, uses_bn,
                   {r["variant"]: (int(r["diverged"]), int(r["runs"]))
                    for _, r in here.iterrows()})
    values = {k: _number(v) for k, v in setting.items()}
    point = {"setting": values, "answers": said["answers"],
             "text": f"{label}: " + " ".join(answer["text"] for answer in said["answers"])}
    # the runs that diverged are said once, for the whole grid
    comparisons = [{**line, "text": f"At {label}: {line['text']}", "setting": values}
                   for line in said["comparisons"] if "difference" in line]
    return point, comparisons


def _diverged_totals(sweep_table: pd.DataFrame) -> dict[str, tuple[int, int]]:
    totals = sweep_table.groupby("variant", sort=False)[["diverged", "runs"]].sum()
    return {v: (int(r["diverged"]), int(r["runs"])) for v, r in totals.iterrows()}


def _tolerance(variant: str, points: pd.DataFrame, grid_keys: Sequence[str]) -> dict[str, Any]:
    """``baseline trained without diverging at learning_rate 0.001, 0.01; diverged at 1
    (3 of 3 runs).`` (with several grid keys, each point spelled out)."""
    def where(row: pd.Series) -> str:
        return (value_label(row[grid_keys[0]]) if len(grid_keys) == 1
                else setting_label(row, grid_keys))
    joiner = ", " if len(grid_keys) == 1 else "; "
    axis = f"{grid_keys[0]} " if len(grid_keys) == 1 else ""
    clean = [where(r) for _, r in points.iterrows() if r["diverged"] == 0]
    failed = [f"{where(r)} ({int(r['diverged'])} of {int(r['runs'])} runs)"
              for _, r in points.iterrows() if r["diverged"] > 0]
    text = f"{variant} trained without diverging at " + (
        axis + joiner.join(clean) if clean else "no grid point")
    text += f"; diverged at {axis}{joiner.join(failed)}." if failed else "; never diverged."
    return {"variant": variant, "text": text,
            "points": [{"setting": {k: _number(r[k]) for k in grid_keys},
                        "runs": int(r["runs"]), "diverged": int(r["diverged"])}
                       for _, r in points.iterrows()]}


# --- the sentences ---------------------------------------------------------------------

def verdict(
    mean_test_accuracy: dict[str, float], pairwise: pd.DataFrame, uses_bn: dict[str, bool],
    diverged: dict[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """The answers (one sentence each, with the means and differences it rests on) and
    every pairwise comparison in words (with its difference):
    ``{"answers": [{"question", "text", "means", "differences"[, "diverged"]}],
    "comparisons": [{"text", "difference"} or {"text", "variant", "diverged", "runs"}]}``.

    ``mean_test_accuracy`` is NaN for a variant whose every run diverged; ``diverged``
    gives per variant (runs that diverged, runs) to say so.
    """
    diverged = diverged or {}
    failed = [v for v, mean in mean_test_accuracy.items() if not math.isfinite(mean)]
    ranked = sorted(mean_test_accuracy, key=lambda v: (v not in failed,
                                                       mean_test_accuracy[v] if v not in failed
                                                       else 0.0), reverse=True)
    with_bn = [v for v in ranked if uses_bn.get(v)]
    without_bn = [v for v in ranked if not uses_bn.get(v)]

    def answer(question: str, text: str, variants: list[str],
               differences: list[Difference]) -> dict[str, Any]:
        numbers = {"question": question, "text": text,
                   "means": {v: _number(mean_test_accuracy[v]) for v in variants},
                   "differences": [d.numbers() for d in differences]}
        if any(diverged.get(v, (0, 0))[0] for v in variants):
            numbers["diverged"] = {v: {"diverged": diverged[v][0], "runs": diverged[v][1]}
                                   for v in variants if v in diverged}
        return numbers

    answers = []
    if with_bn and without_bn:
        text, differences = _helps(with_bn, without_bn, pairwise, failed)
        answers.append(answer(
            "Does BatchNormalization help?",
            "Does BatchNormalization help? " + text
            + _stability(with_bn, without_bn, diverged, failed), ranked, differences))
    if len(with_bn) > 1:
        text, differences = _best_against(with_bn[0], with_bn[1:], pairwise, failed)
        answers.append(answer("Where should it go?",
                              "Where should it go? Best placement: " + text, with_bn,
                              differences))
    text, differences = _best_against(ranked[0], ranked[1:], pairwise, failed)
    answers.append(answer("Which variant is best?", "Best variant: " + text, ranked,
                          differences))
    comparisons = [{"text": d.describe(), "difference": d.numbers()}
                   for d in (difference(pairwise, row["variant"], row["versus"])
                             for _, row in pairwise.iterrows())]
    comparisons += [{"text": f"{variant}: {count} of {runs} runs diverged and are left out "
                             f"of its figures.", "variant": variant, "diverged": count,
                     "runs": runs}
                    for variant, (count, runs) in diverged.items() if count]
    return {"answers": answers, "comparisons": comparisons}


def _best_against(best: str, others: list[str], pairwise: pd.DataFrame,
                  failed: list[str]) -> tuple[str, list[Difference]]:
    if best in failed:
        return "none: every run diverged.", []
    differences = [difference(pairwise, best, other) for other in others if other not in failed]
    lost = ", ".join(other for other in others if other in failed)
    if not differences:
        return (f"{best}, the only one that trained ({lost}: every run diverged)." if lost
                else f"{best} (the only one)."), []
    return (_best_of(best, differences) + (f" {lost}: every run diverged." if lost else ""),
            differences)


def _best_of(best: str, differences: list[Difference]) -> str:
    if all(d.seeds < MIN_FOR_SPREAD for d in differences):
        return (f"no evidence from one seed per variant. {best} has the highest test "
                f"accuracy, but without an interval the ranking may change with the seed.")
    if all(d.conclusive and d.mean > 0 for d in differences):
        return f"{best}, beyond the seed-to-seed noise: {_margins(differences)}."
    close = [d for d in differences if not d.conclusive]
    return (f"not conclusive. {best} has the highest mean test accuracy, but its lead is "
            f"within the seed-to-seed noise: {_margins(close)}.")


def _margins(differences: list[Difference]) -> str:
    return "; ".join(f"{100 * d.mean:+.2f} pp over {d.second} "
                     + (f"(CI {100 * d.ci_low:+.2f} to {100 * d.ci_high:+.2f})"
                        if d.has_interval else "(too few runs for an interval)")
                     for d in differences)


def _stability(with_bn: list[str], without_bn: list[str],
               diverged: dict[str, tuple[int, int]], failed: list[str]) -> str:
    """A sentence when runs diverged on one side only, some of them (when all did, the
    answer itself says so)."""
    def lost(variants: list[str]) -> list[str]:
        return [v for v in variants if diverged.get(v, (0, 0))[0]]

    def spelled(variants: list[str]) -> str:
        return ", ".join(f"{v} {diverged[v][0]} of {diverged[v][1]}" for v in variants)

    plain, bn = lost(without_bn), lost(with_bn)
    if plain and not bn and not set(plain) <= set(failed):
        return (f" Stability: every run with BatchNormalization trained, while runs "
                f"without it diverged ({spelled(plain)}).")
    if bn and not plain and not set(bn) <= set(failed):
        return (f" Stability: every run without BatchNormalization trained, while runs "
                f"with it diverged ({spelled(bn)}).")
    return ""


def _helps(with_bn: list[str], without_bn: list[str], pairwise: pd.DataFrame,
           failed: list[str]) -> tuple[str, list[Difference]]:
    bn_trained = [v for v in with_bn if v not in failed]
    plain_trained = [v for v in without_bn if v not in failed]
    if not bn_trained or not plain_trained:
        return _helps_when_a_side_failed(bn_trained, plain_trained), []
    differences = [difference(pairwise, bn, plain) for bn in bn_trained
                   for plain in plain_trained]
    differences = [d for d in differences if d.n > 0] or differences
    return _helps_from(differences), differences


def _helps_from(differences: list[Difference]) -> str:
    if not differences[0].has_interval:
        return ("cannot be said from the accuracies: fewer than two seeds trained on both "
                "sides without diverging." if differences[0].n < differences[0].seeds else
                "cannot be said from one seed per variant: the differences below are "
                "single runs, comparable with the spread between reruns.")
    if all(d.conclusive and d.mean > 0 for d in differences):
        return ("Yes. Every variant with BatchNormalization has a higher test accuracy than "
                "every variant without it, beyond the seed-to-seed noise.")
    if all(d.conclusive and d.mean < 0 for d in differences):
        return ("No. Every variant with BatchNormalization has a lower test accuracy than "
                "every variant without it, beyond the seed-to-seed noise.")
    helped = [d for d in differences if d.conclusive and d.mean > 0]
    return ("Not conclusively: " + (
        f"{len(helped)} of {len(differences)} comparisons favour BatchNormalization beyond "
        f"the noise, the others do not (see below)." if helped else
        "no comparison shows a difference beyond the seed-to-seed noise."))


def _helps_when_a_side_failed(bn_trained: list[str], plain_trained: list[str]) -> str:
    if bn_trained:
        return (f"Yes: every run without BatchNormalization diverged, while "
                f"{', '.join(bn_trained)} trained.")
    if plain_trained:
        return (f"No: every run with BatchNormalization diverged, while "
                f"{', '.join(plain_trained)} trained.")
    return "cannot be said: every run diverged."
