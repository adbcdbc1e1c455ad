"""The verdict in plain language, from the differences in test accuracy: the answers, every
comparison in words and the numbers behind them (the ``verdict`` dataset, JSON). Each
difference has one of five findings (``statistics.paired_difference``, decided on Holm's
adjusted p-values within its family: ``statistics.holm_family``): *no interval* (fewer than
three distinct per-seed differences), *equivalent* within the margin (TOST; said with the
small difference beside it when that is detectable too), else *better* or *worse*, else *not
conclusive*. Variants are ranked by the same paired comparisons (``paired_ranking``); a
variant whose every run diverged loses to any that trained."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from bn_compare.grid import value_label
from bn_compare.pipelines.statistics import (
    MIN_DISTINCT,
    MIN_FOR_SPREAD,
    NO_INTERVAL,
    at_setting,
    groups,
    normalizations,
    pp_interval,
    seed_list,
    setting_label,
)

from .nodes import build_sweep_table


def chosen_keys(grid_keys: Sequence[str], per: Sequence[str] = ()) -> str:
    """``learning rate``: the grid keys a best setting is chosen over, in words."""
    return " and ".join(key.replace("_", " ") for key in grid_keys if key not in per)


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
    """``first - second`` in test accuracy over ``n`` seeds (``diverged``: left out), with
    ``distinct`` different per-seed differences; ``p_holm`` and the finding corrected
    within a family of ``family_size`` tests."""

    first: str
    second: str
    n: int
    diverged: int
    distinct: int
    mean_difference: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float
    family_size: int
    confidence: float
    finding: str  # of first - second: equivalent, better, worse, not conclusive, no interval
    margin: float  # of equivalence, a fraction
    equivalence_low: float  # the 1 - 2α interval the equivalence test uses
    equivalence_high: float
    settings: dict[str, str] | None  # at the best settings: each variant's

    @property
    def has_interval(self) -> bool:
        return self.n >= MIN_FOR_SPREAD and math.isfinite(self.ci_low)

    @property
    def excludes_zero(self) -> bool:
        """The (uncorrected) interval excludes zero."""
        return self.has_interval and (self.ci_low > 0 or self.ci_high < 0)

    @property
    def detectable(self) -> bool:
        """The difference test rejects zero after Holm's correction."""
        return self.p_holm < 1 - self.confidence  # NaN: False

    @property
    def conclusive(self) -> bool:
        return self.finding in ("better", "worse")

    def numbers(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self).items() if v is not None},
                "seeds": self.n + self.diverged, "conclusive": self.conclusive}

    def describe(self) -> str:
        text = f"{self.first} vs {self.second}: "
        if self.n == 0:
            return text + "no seed where both trained without diverging, nothing to compare."
        text += f"{100 * self.mean_difference:+.2f} pp test accuracy"
        if not self.has_interval:
            if self.n == 1:
                return text + " (one seed: no interval, no test)."
            return text + f" over {self.n} seeds: {NO_INTERVAL}."
        text += (f" ({self.confidence:.0%} CI {pp_interval(self.ci_low, self.ci_high)} pp, "
                 f"paired t-test p = {self.p_value:.2g}{self.holm()}, {self.n} seeds): ")
        if self.finding == "equivalent":
            return text + (f"{self.equivalence_words()} ({2 * self.confidence - 1:.0%} CI "
                           f"{pp_interval(self.equivalence_low, self.equivalence_high)} pp).")
        if self.finding == "not conclusive":
            why = (f"the interval excludes zero, but not after Holm's correction for "
                   f"{self.family_size} comparisons" if self.excludes_zero
                   else "the interval includes zero")
            return text + (f"not conclusive: {why}, and a difference of "
                           f"±{100 * self.margin:g} pp is not ruled out.")
        return text + f"{self.finding}."

    def holm(self) -> str:
        """``, 0.039 after Holm's correction for 3 comparisons`` (nothing for one)."""
        return (f", {self.p_holm:.2g} after Holm's correction for {self.family_size} "
                f"comparisons" if self.family_size > 1 else "")

    def equivalent_within(self) -> str:
        return f"equivalent within ±{100 * self.margin:g} pp"

    def equivalence_words(self) -> str:
        """``equivalent within ±0.5 pp; a small difference of +0.20 pp is detectable``:
        both, when the difference test rejects zero too (after Holm's correction)."""
        return self.equivalent_within() + (
            f"; a small difference of {100 * self.mean_difference:+.2f} pp is detectable"
            if self.detectable else "")


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
                              int(r["distinct"]),  # + 0.0: a tie reversed is +0.00, not -0.00
                              sign * float(r["mean_difference"]) + 0.0, low, high,
                              float(r["p_value"]), float(r["p_holm"]), int(r["family_size"]),
                              float(r["confidence"]), finding, float(r["equivalence_margin"]),
                              *equivalence, settings)
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
    at each value of the ``per`` keys), at each point, and what each variant tolerates. Each
    answer at the best settings says what it rests on (``basis``, the first of each ``per``
    value in its text: the settings and the seeds; ``seeds``: the confirmation's)."""
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
        basis = _basis(sweep_table, confirmation_table, where, grid_keys, per)
        first, *others = at_best["answers"]
        prefix = f"{setting_label(where)}: " if per else ""  # the later answers' own
        answers += [{**answer, **basis} for answer in [
            {**first, "text": f"{basis['basis']}: {first['text']}"},
            *({**o, "text": prefix + o["text"]} for o in others)]]
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


def _basis(sweep_table: pd.DataFrame, confirmation_table: pd.DataFrame | None,
           where: dict[str, Any], grid_keys: Sequence[str],
           per: Sequence[str]) -> dict[str, Any]:
    """What the answers at the best settings (at the ``per`` values ``where``) rest on, in
    words (``basis``), and their seeds where they are known: the confirmation's."""
    label = f" for {setting_label(where)}" if per else ""
    chosen = chosen_keys(grid_keys, per) or "setting"
    if confirmation_table is None:  # the grid's own runs, as many as at each point
        count = int(sweep_table.loc[at_setting(sweep_table, where), "runs"].max())
        return {"basis": f"At each variant's best {chosen}{label}, over the grid's {count} "
                         f"seed{'s' * (count != 1)}", "seeds": None}
    seeds = sorted(pd.unique(confirmation_table.loc[at_setting(confirmation_table, where),
                                                    "seed"]).tolist())
    return {"basis": f"At each variant's best {chosen}{label}, on {len(seeds)} confirmation "
                     f"seed{'s' * (len(seeds) != 1)} ({seed_list(seeds)})", "seeds": seeds}


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

    def rank(variants: list[str]) -> list[str]:  # by the paired comparisons among them
        return paired_ranking([v for v in variants if v not in failed], pairwise) + [
            v for v in variants if v in failed]

    ranked = rank(list(means))
    normalized = rank([v for v in means if norms.get(v)])
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
    with_bn = rank([v for v in normalized if "BatchNormalization" in norms[v]])
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


def paired_ranking(variants: Sequence[str], pairwise: pd.DataFrame) -> list[str]:
    """``variants`` best first by the paired comparisons among them (those the answers
    quote): first those fewer of the others beat (finding ``better``, after Holm's
    correction), then by the mean of their paired mean differences against the others
    (declaration order among ties; a variant with none last)."""
    def place(variant: str) -> tuple[int, float]:
        against = [difference(pairwise, variant, other) for other in variants
                   if other != variant]
        means = [d.mean_difference for d in against if math.isfinite(d.mean_difference)]
        return (sum(d.finding == "worse" for d in against),
                -sum(means) / len(means) if means else math.inf)
    return sorted(variants, key=place)


def _best_against(best: str, others: list[str], pairwise: pd.DataFrame,
                  failed: set[str]) -> tuple[str, list[Difference]]:
    """Whether ``best`` (first by ``paired_ranking``) beats each of ``others``, in words."""
    if best in failed:
        return "none: every run diverged.", []
    differences = [difference(pairwise, best, other) for other in others if other not in failed]
    lost = ", ".join(other for other in others if other in failed)
    if not differences:
        return (f"{best}, the only one that trained ({lost}: every run diverged)." if lost
                else f"{best} (the only one)."), []

    def margins(differences: list[Difference]) -> str:
        return "; ".join(f"{100 * d.mean_difference:+.2f} pp over {d.second} " + (
            f"(CI {pp_interval(d.ci_low, d.ci_high)}"
            + (f", Holm p = {d.p_holm:.2g})" if d.excludes_zero != d.detectable else ")")
            if d.has_interval else "(no interval)") for d in differences)

    better = [d for d in differences if d.finding == "better"]
    equivalent = [d for d in differences if d.finding == "equivalent"]
    worse = [d for d in differences if d.finding == "worse"]
    if all(d.n + d.diverged < MIN_FOR_SPREAD for d in differences):
        text = (f"no evidence from one seed per variant. {best} has the highest test "
                f"accuracy, but without an interval the ranking may change with the seed.")
    elif not any(d.has_interval for d in differences):
        text = (f"no evidence: no comparison has an interval (fewer than {MIN_DISTINCT} "
                f"distinct per-seed differences). {best} ranks first on the paired "
                f"differences: {margins(differences)}; without an interval the ranking may "
                f"change with the seed.")
    elif worse:
        text = (f"not conclusive: every variant is worse than another in the paired "
                f"comparisons. {best}, first on the mean paired differences, is worse than "
                f"{', '.join(d.second for d in worse)}: {margins(worse)}.")
    elif len(better) == len(differences):
        text = f"{best}, beyond the seed-to-seed noise: {margins(differences)}."
    elif len(better) + len(equivalent) == len(differences):
        detectable = [d for d in equivalent if d.detectable]
        plain = [d for d in equivalent if not d.detectable]
        text = (f"{best} or {', '.join(d.second for d in equivalent)}, "
                f"{equivalent[0].equivalent_within()}"
                + (f" ({margins(plain)})" if plain else "")
                + (f"; a small difference of {margins(detectable)} is detectable"
                   if detectable else "")
                + (f"; better than {', '.join(d.second for d in better)}, beyond the "
                   f"seed-to-seed noise: {margins(better)}." if better else "."))
    else:
        shown = [d for d in differences if d.finding != "better"]
        corrected = " after Holm's correction" if any(d.excludes_zero for d in shown) else ""
        text = (f"not conclusive. {best} ranks first on the paired differences, but its lead "
                f"is not beyond the seed-to-seed noise{corrected}: {margins(shown)}.")
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
    if not any(d.has_interval for d in differences):
        text = ("cannot be said from one seed per variant: the differences below are "
                "single runs, comparable with the spread between reruns."
                if all(d.n + d.diverged < MIN_FOR_SPREAD for d in differences) else
                "cannot be said from the accuracies: fewer than two seeds trained on both "
                "sides without diverging." if all(d.n < MIN_FOR_SPREAD for d in differences)
                else f"cannot be said from the accuracies: no comparison has an interval "
                f"(fewer than {MIN_DISTINCT} distinct per-seed differences).")
    elif all(d.finding == "equivalent" for d in differences):
        detectable = sum(d.detectable for d in differences)
        text = (f"No difference that matters: every variant with {name} is "
                f"{differences[0].equivalent_within()} of every variant without it" + (
                    f"; a small difference is detectable in {detectable} of "
                    f"{len(differences)} comparisons (see below)." if detectable else "."))
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


def interaction_sentence(interactions: pd.DataFrame, pair: tuple[str, str], grid_key: str,
                         *, subject: str | None = None, setting: str | None = None) -> str:
    """What ``setting_interactions`` (``nodes.compute_setting_interactions``) says of
    ``pair`` (either order) and ``grid_key`` (said as ``setting``), of ``subject`` (default
    ``first − second``): ``Whether BN's gain depends on the learning rate: no evidence that
    it does (F(5, 10) = 1.23, p = 0.36, 0.72 after Holm's correction for 3 tests, over 6
    points and 3 seeds, without learning_rate 1 where a run diverged).``, one clause per
    slice of the grid (``at``)."""
    rows = interactions[interactions["variant"].isin(pair) & interactions["versus"].isin(pair)
                        & (interactions["variant"] != interactions["versus"])
                        & (interactions["grid_key"] == grid_key)]
    if not len(rows):
        raise KeyError(f"no interaction test of {' and '.join(pair)} over {grid_key}")
    clauses = []
    for r in rows.to_dict("records"):
        where = f"at {r['at']}, " if isinstance(r["at"], str) and r["at"] else ""
        if not math.isfinite(r["p_holm"]):
            clauses.append(f"{where}not testable ({r['note']})")
            continue
        answer = "it does" if r["finding"].startswith("depends") else "no evidence that it does"
        holm = (f", {r['p_holm']:.2g} after Holm's correction for {int(r['family_size'])} "
                f"tests" if r["family_size"] > 1 else "")
        left_out = (f", without {grid_key} {r['left_out']} where a run diverged"
                    if isinstance(r["left_out"], str) and r["left_out"] else "")
        clauses.append(f"{where}{answer} (F({r['df_points']:g}, {r['df_error']:g}) = "
                       f"{r['f_statistic']:.2f}, p = {r['p_value']:.2g}{holm}, over "
                       f"{int(r['points'])} points and {int(r['seeds'])} seeds{left_out})")
    return (f"Whether {subject or ' − '.join(pair)} depends on {setting or grid_key}: "
            + "; ".join(clauses) + ".")
