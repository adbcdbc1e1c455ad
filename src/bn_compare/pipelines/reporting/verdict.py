"""The plain-language verdict, from the pairwise differences in test accuracy.

A difference is called conclusive when its confidence interval excludes zero (the
paired t-test's p-value is then below 1 - confidence). No correction for multiple
comparisons is made; the report says so. A variant whose every run diverged has no
accuracy to compare: it loses to any variant that trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .statistics import MIN_FOR_SPREAD


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


def difference(pairwise: pd.DataFrame, first: str, second: str) -> Difference:
    """The difference ``first - second``, whichever way round the table holds it."""
    for a, b, sign in ((first, second, 1), (second, first, -1)):
        row = pairwise[(pairwise["variant"] == a) & (pairwise["versus"] == b)]
        if len(row):
            r = row.iloc[0]
            low, high = sign * r["ci_low"], sign * r["ci_high"]
            return Difference(first, second, int(r["n"]), sign * float(r["mean_difference"]),
                              float(min(low, high)), float(max(low, high)),
                              float(r["p_value"]), float(r["confidence"]),
                              int(r.get("diverged", 0) or 0))
    raise KeyError(f"no pairwise difference between {first} and {second}")


def _best_against(best: str, others: list[str], pairwise: pd.DataFrame,
                  failed: list[str]) -> str:
    if best in failed:
        return "none: every run diverged."
    differences = [difference(pairwise, best, other) for other in others if other not in failed]
    lost = ", ".join(other for other in others if other in failed)
    if not differences:
        return (f"{best}, the only one that trained ({lost}: every run diverged)." if lost
                else f"{best} (the only one).")
    return _best_of(best, differences) + (f" {lost}: every run diverged." if lost else "")


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


def verdict(
    mean_test_accuracy: dict[str, float], pairwise: pd.DataFrame, uses_bn: dict[str, bool],
    diverged: dict[str, tuple[int, int]] | None = None,
) -> tuple[list[str], list[str]]:
    """The answers (one sentence each) and every pairwise comparison in words.

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
    answers = []
    if with_bn and without_bn:
        answers.append("Does BatchNormalization help? "
                       + _helps(with_bn, without_bn, pairwise, failed)
                       + _stability(with_bn, without_bn, diverged, failed))
    if len(with_bn) > 1:
        answers.append("Where should it go? Best placement: "
                       + _best_against(with_bn[0], with_bn[1:], pairwise, failed))
    answers.append("Best variant: " + _best_against(ranked[0], ranked[1:], pairwise, failed))
    details = [difference(pairwise, row["variant"], row["versus"]).describe()
               for _, row in pairwise.iterrows()]
    details += [f"{variant}: {count} of {runs} runs diverged and are left out of its "
                f"figures." for variant, (count, runs) in diverged.items() if count]
    return answers, details


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
           failed: list[str]) -> str:
    bn_trained = [v for v in with_bn if v not in failed]
    plain_trained = [v for v in without_bn if v not in failed]
    if not bn_trained or not plain_trained:
        return _helps_when_a_side_failed(bn_trained, plain_trained)
    differences = [difference(pairwise, bn, plain) for bn in bn_trained
                   for plain in plain_trained]
    differences = [d for d in differences if d.n > 0] or differences
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
