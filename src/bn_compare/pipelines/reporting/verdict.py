"""The verdict in plain language, from the differences in test accuracy: the answers, every
comparison in words and the numbers behind them (the ``verdict`` dataset, JSON). Each
difference is one of four findings (``statistics.paired_difference``): *equivalent* within
the margin (TOST), else *better* or *worse* when its confidence interval excludes zero (no
correction for multiple comparisons), else *not conclusive*; a variant whose every run
diverged loses to any that trained."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from bn_compare.grid import value_label
from bn_compare.pipelines.statistics import (
    MIN_FOR_SPREAD,
    at_setting,
    groups,
    normalizations,
    setting_label,
)

from .nodes import build_sweep_table


def pp_interval(low: float, high: float) -> str:
    """``+1.04 to +4.96``: an interval of fractions in percentage points."""
    return f"{100 * low:+.2f} to {100 * high:+.2f}"


def plain_json(value: Any) -> Any:
    """``value`` as JSON: numpy scalars unwrapped, NaN and infinities as null, all through."""
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


@dataclass(frozen=True)
class Difference:
    """``first - second`` in test accuracy over ``n`` seeds (``diverged``: left out)."""

    first: str
    second: str
    n: int
    diverged: int
    mean_difference: float
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float
    finding: str  # of first - second: equivalent, better, worse, not conclusive
    margin: float  # of equivalence, a fraction
    equivalence_low: float  # the 1 - 2α interval the equivalence test uses
    equivalence_high: float
    settings: dict[str, str] | None  # at the best settings: each variant's

    @property
    def has_interval(self) -> bool:
        return self.n >= MIN_FOR_SPREAD and math.isfinite(self.ci_low)

    @property
    def conclusive(self) -> bool:
        return self.has_interval and (self.ci_low > 0 or self.ci_high < 0)

    def numbers(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self).items() if v is not None},
                "seeds": self.n + self.diverged, "conclusive": self.conclusive}

    def describe(self) -> str:
        text = f"{self.first} vs {self.second}: "
        if self.n == 0:
            return text + "no seed where both trained without diverging, nothing to compare."
        text += f"{100 * self.mean_difference:+.2f} pp test accuracy"
        if not self.has_interval:
            return text + " (one seed: no interval, no test)."
        text += (f" ({self.confidence:.0%} CI {pp_interval(self.ci_low, self.ci_high)} pp, "
                 f"paired t-test p = {self.p_value:.2g}, {self.n} seeds): ")
        if self.finding == "equivalent":
            return text + (f"{self.equivalent_within()} ({2 * self.confidence - 1:.0%} CI "
                           f"{pp_interval(self.equivalence_low, self.equivalence_high)} pp).")
        if self.finding == "not conclusive":
            return text + (f"not conclusive: the interval includes zero, and a difference of "
                           f"±{100 * self.margin:g} pp is not ruled out.")
        return text + f"{self.finding}."

    def equivalent_within(self) -> str:
        return f"equivalent within ±{100 * self.margin:g} pp"


def difference(pairwise: pd.DataFrame, first: str, second: str) -> Difference:
    """The difference ``first - second``, whichever way round the table holds it."""
    for a, b, sign in ((first, second, 1), (second, first, -1)):
        rows = pairwise[(pairwise["variant"] == a) & (pairwise["versus"] == b)]
        if len(rows):
            r = rows.iloc[0]
            low, high = sorted((sign * float(r["ci_low"]), sign * float(r["ci_high"])))
            equivalence = sorted((sign * float(r["equivalence_low"]),
                                  sign * float(r["equivalence_high"])))
            finding = {"better": "worse", "worse": "better"}.get(r["finding"], r["finding"]) \
                if sign < 0 else r["finding"]
            settings = ({a: r["variant_setting"], b: r["versus_setting"]}
                        if "variant_setting" in r else None)
            return Difference(first, second, int(r["n"]), int(r["diverged"]),
                              sign * float(r["mean_difference"]), low, high,
                              float(r["p_value"]), float(r["confidence"]), finding,
                              float(r["equivalence_margin"]), *equivalence, settings)
    raise KeyError(f"no pairwise difference between {first} and {second}")


def _diverged_lines(counts: pd.DataFrame, where: str) -> list[dict[str, Any]]:
    """A line per variant (row of ``counts``: variant, runs, diverged) where runs diverged."""
    return [{"text": f"{variant}: {count} of {runs} runs diverged {where}.",
             "variant": variant, "diverged": count, "runs": runs} for variant, count, runs
            in zip(counts["variant"], counts["diverged"], counts["runs"], strict=True) if count]


def write_verdict(variant_statistics: pd.DataFrame, pairwise_differences: pd.DataFrame,
                  parameter_accounting: pd.DataFrame) -> dict[str, Any]:
    """The answers and every comparison in words, with the numbers behind them."""
    return verdict(build_sweep_table(variant_statistics, ()), pairwise_differences,
                   normalizations(parameter_accounting))


def write_grid_verdict(  # noqa: PLR0913 (a node: one argument per dataset)
    sweep_table: pd.DataFrame, best_settings: pd.DataFrame,
    best_setting_differences: pd.DataFrame, pairwise_differences: pd.DataFrame,
    parameter_accounting: pd.DataFrame, *, grid_keys: Sequence[str], per: Sequence[str] = (),
    confirmation_table: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The answers at the best settings (on the confirmation's runs when there are some;
    at each value of the ``per`` keys), at each point, and what each variant tolerates."""
    norms = normalizations(parameter_accounting)
    if confirmation_table is not None:  # the means of the confirmation's runs rank them
        trained = confirmation_table.assign(test_accuracy=confirmation_table[
            "test_accuracy"].where(~confirmation_table["diverged"].astype(bool)))
        best_settings = trained.groupby(["variant", *per], sort=False).agg(
            test_accuracy_mean=("test_accuracy", "mean"), runs=("seed", "size"),
            diverged=("diverged", "sum")).reset_index()
    answers, comparisons = [], []
    for key, bests in groups(best_settings, per):
        where = dict(zip(per, key, strict=True))
        label = f" for {setting_label(where)}" if per else ""
        at_best = verdict(bests, best_setting_differences[at_setting(
            best_setting_differences, where)] if per else best_setting_differences, norms,
            say_diverged=False)  # the divergence is said per point and in total
        first, *others = at_best["answers"]
        prefix = f"{setting_label(where)}: " if per else ""  # the later answers' own
        answers += [{**first, "text": f"At each variant's best setting{label}: "
                     f"{first['text']}"}, *({**o, "text": prefix + o["text"]} for o in others)]
        comparisons += [{**line, "text": f"At the best settings{label}: {line['text']}"}
                        for line in at_best["comparisons"]]
    points = []
    for key, pairwise in groups(pairwise_differences, grid_keys):
        setting = dict(zip(grid_keys, key, strict=True))
        said = verdict(sweep_table[at_setting(sweep_table, setting)], pairwise, norms)
        label = setting_label(setting)
        points.append({"setting": setting, "answers": said["answers"], "text": f"{label}: "
                       + " ".join(answer["text"] for answer in said["answers"])})
        # the runs that diverged are said once, for the whole grid
        comparisons += [{**line, "text": f"At {label}: {line['text']}", "setting": setting}
                        for line in said["comparisons"] if "difference" in line]
    return plain_json({
        "grid_keys": list(grid_keys),
        "answers": answers,
        "comparisons": comparisons + _diverged_lines(sweep_table.groupby(
            "variant", sort=False)[["diverged", "runs"]].sum().reset_index(), "across the grid"),
        "points": points,
        "tolerance": [_tolerance(variant, table, grid_keys)
                      for (variant,), table in groups(sweep_table, ["variant"])],
    })


def _tolerance(variant: str, points: pd.DataFrame, grid_keys: Sequence[str]) -> dict[str, Any]:
    """``baseline trained without diverging at learning_rate 0.01; diverged at 1 (...)``."""
    records = points.to_dict("records")
    one_key = len(grid_keys) == 1  # then only its values are said
    axis, joiner = (f"{grid_keys[0]} ", ", ") if one_key else ("", "; ")
    where = [value_label(r[grid_keys[0]]) if one_key else setting_label(
        {k: r[k] for k in grid_keys}) for r in records]
    clean = [w for w, r in zip(where, records, strict=True) if r["diverged"] == 0]
    failed = [f"{w} ({int(r['diverged'])} of {int(r['runs'])} runs)"
              for w, r in zip(where, records, strict=True) if r["diverged"] > 0]
    return {"variant": variant, "text": f"{variant} trained without diverging at "
            + (axis + joiner.join(clean) if clean else "no grid point")
            + (f"; diverged at {axis}{joiner.join(failed)}." if failed else "; never diverged."),
            "points": [{"setting": {k: r[k] for k in grid_keys}, "runs": int(r["runs"]),
                        "diverged": int(r["diverged"])} for r in records]}


def verdict(per_variant: pd.DataFrame, pairwise: pd.DataFrame,
            norms: dict[str, tuple[str, ...]], say_diverged: bool = True) -> dict[str, Any]:
    """``{"answers": [{"question", "text", "means", "differences"[, "diverged"]}],
    "comparisons": [{"text", "difference"} or {"text", "variant", "diverged", "runs"}]}``
    from sweep table rows, one per variant (``test_accuracy_mean`` NaN: all diverged)."""
    means = dict(zip(per_variant["variant"], per_variant["test_accuracy_mean"], strict=True))
    diverged = {r["variant"]: (int(r["diverged"]), int(r["runs"]))  # per variant
                for r in per_variant.to_dict("records")} if say_diverged else {}
    failed = {v for v, mean in means.items() if not math.isfinite(mean)}
    ranked = sorted(means, reverse=True,
                    key=lambda v: (v not in failed, 0.0 if v in failed else means[v]))
    normalized = [v for v in ranked if norms.get(v)]
    plain = [v for v in ranked if not norms.get(v)]
    kinds = {kind for v in normalized for kind in norms[v]}
    # BatchNormalization alone is named; with other kinds the question is normalization's
    name = "BatchNormalization" if kinds == {"BatchNormalization"} else "normalization"
    answers = []  # (question, text, the variants and differences it rests on)
    if normalized and plain:
        text, differences = _helps(normalized, plain, pairwise, failed, name)
        text += _stability(normalized, plain, diverged, failed, name)
        answers.append((f"Does {name} help?", f"Does {name} help? {text}", ranked,
                        differences))
    if len(kinds) > 1:
        text, differences = _best_against(normalized[0], normalized[1:], pairwise, failed)
        answers.append(("Which kind?", f"Which kind? Best normalized variant: {text}",
                        normalized, differences))
    with_bn = [v for v in normalized if "BatchNormalization" in norms[v]]
    if len(with_bn) > 1:
        where = "it" if name == "BatchNormalization" else "BatchNormalization"
        text, differences = _best_against(with_bn[0], with_bn[1:], pairwise, failed)
        answers.append((f"Where should {where} go?",
                        f"Where should {where} go? Best placement: {text}", with_bn,
                        differences))
    text, differences = _best_against(ranked[0], ranked[1:], pairwise, failed)
    answers.append(("Which variant is best?", f"Best variant: {text}", ranked, differences))
    comparisons = [difference(pairwise, variant, versus) for variant, versus
                   in zip(pairwise["variant"], pairwise["versus"], strict=True)]
    return plain_json({
        "answers": [{"question": question, "text": text,
                     "means": {v: means[v] for v in variants},
                     "differences": [d.numbers() for d in differences],
                     **({"diverged": {v: {"diverged": diverged[v][0], "runs": diverged[v][1]}
                                      for v in variants if v in diverged}}
                        if any(diverged.get(v, (0, 0))[0] for v in variants) else {})}
                    for question, text, variants, differences in answers],
        "comparisons": [{"text": d.describe(), "difference": d.numbers()} for d in comparisons]
        + (_diverged_lines(per_variant, "and are left out of its figures") if say_diverged
           else []),
    })


def _best_against(best: str, others: list[str], pairwise: pd.DataFrame,
                  failed: set[str]) -> tuple[str, list[Difference]]:
    """Whether ``best`` beats each of ``others``, in words."""
    if best in failed:
        return "none: every run diverged.", []
    differences = [difference(pairwise, best, other) for other in others if other not in failed]
    lost = ", ".join(other for other in others if other in failed)
    if not differences:
        return (f"{best}, the only one that trained ({lost}: every run diverged)." if lost
                else f"{best} (the only one)."), []

    def margins(differences: list[Difference]) -> str:
        return "; ".join(f"{100 * d.mean_difference:+.2f} pp over {d.second} " + (
            f"(CI {pp_interval(d.ci_low, d.ci_high)})" if d.has_interval
            else "(too few runs for an interval)") for d in differences)

    better = [d for d in differences if d.finding == "better"]
    equivalent = [d for d in differences if d.finding == "equivalent"]
    if all(d.n + d.diverged < MIN_FOR_SPREAD for d in differences):
        text = (f"no evidence from one seed per variant. {best} has the highest test "
                f"accuracy, but without an interval the ranking may change with the seed.")
    elif len(better) == len(differences):
        text = f"{best}, beyond the seed-to-seed noise: {margins(differences)}."
    elif len(better) + len(equivalent) == len(differences):
        text = (f"a toss-up between {best} and {', '.join(d.second for d in equivalent)}: "
                f"{equivalent[0].equivalent_within()} ({margins(equivalent)})" + (
                    f"; better than {', '.join(d.second for d in better)}, beyond the "
                    f"seed-to-seed noise: {margins(better)}." if better else "."))
    else:
        text = (f"not conclusive. {best} has the highest mean test accuracy, but its lead is "
                f"within the seed-to-seed noise: "
                f"{margins([d for d in differences if d.finding != 'better'])}.")
    return text + (f" {lost}: every run diverged." if lost else ""), differences


def _stability(with_bn: list[str], without_bn: list[str],
               diverged: dict[str, tuple[int, int]], failed: set[str], name: str) -> str:
    """A sentence when some (not all: the answer says so) runs diverged on one side only."""
    plain, bn = ([v for v in side if diverged.get(v, (0, 0))[0]] for side in (without_bn, with_bn))
    for lost, other, kept_side, lost_side in ((plain, bn, "with", "without"),
                                              (bn, plain, "without", "with")):
        if lost and not other and not set(lost) <= failed:
            runs = ", ".join(f"{v} {diverged[v][0]} of {diverged[v][1]}" for v in lost)
            return (f" Stability: every run {kept_side} {name} trained, while "
                    f"runs {lost_side} it diverged ({runs}).")
    return ""


def _helps(with_bn: list[str], without_bn: list[str], pairwise: pd.DataFrame,
           failed: set[str], name: str) -> tuple[str, list[Difference]]:
    """Whether every variant with ``name`` (normalization) beats every variant without."""
    bn = [v for v in with_bn if v not in failed]
    plain = [v for v in without_bn if v not in failed]
    if not bn and not plain:
        return "cannot be said: every run diverged.", []
    if not bn or not plain:
        answer, side = ("Yes", "without") if bn else ("No", "with")
        return (f"{answer}: every run {side} {name} diverged, while "
                f"{', '.join(bn or plain)} trained."), []
    differences = [difference(pairwise, b, p) for b in bn for p in plain]
    differences = [d for d in differences if d.n > 0] or differences
    helped = [d for d in differences if d.finding == "better"]
    if not differences[0].has_interval:
        text = ("cannot be said from the accuracies: fewer than two seeds trained on both "
                "sides without diverging." if differences[0].diverged else
                "cannot be said from one seed per variant: the differences below are "
                "single runs, comparable with the spread between reruns.")
    elif all(d.finding == "equivalent" for d in differences):
        text = (f"No difference that matters: every variant with {name} is "
                f"{differences[0].equivalent_within()} of every variant without it.")
    elif len(helped) == len(differences) or all(d.finding == "worse" for d in differences):
        text = (f"{'Yes' if helped else 'No'}. Every variant with {name} has a "
                f"{'higher' if helped else 'lower'} test accuracy than every variant without "
                f"it, beyond the seed-to-seed noise.")
    else:
        text = "Not conclusively: " + (
            f"{len(helped)} of {len(differences)} comparisons favour {name} "
            f"beyond the noise, the others do not (see below)." if helped else
            "no comparison shows a difference beyond the seed-to-seed noise.")
    return text, differences
