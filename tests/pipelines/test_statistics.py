"""The statistics' rules, each against an answer computed independently (scipy, statsmodels,
or a closed form written here): no finding from zero spread, an equivalence that says the
detectable difference beside it, rankings from the paired comparisons, Holm's correction
within each family (and the families' sizes in the shipped studies), and the test of
whether a difference depends on the setting."""

import math
from math import comb

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.anova import AnovaRM
from statsmodels.stats.multitest import multipletests

from bn_compare import settings
from bn_compare.parameters import ProjectParameters, StatisticsParams
from bn_compare.pipelines.reporting.nodes import (
    build_sweep_table,
    compare_best_settings,
    compute_pairwise_differences,
    compute_setting_interactions,
    compute_variant_statistics,
    select_best_settings,
)
from bn_compare.pipelines.reporting.verdict import (
    interaction_sentence,
    paired_ranking,
    verdict,
)
from bn_compare.pipelines.statistics import (
    NO_INTERVAL,
    holm,
    holm_family,
    paired_difference,
    repeated_measures_anova,
)
from bn_compare.run_matrix import RunMatrix
from tests.conftest import PROJECT_ROOT

STATISTICS = StatisticsParams()  # 95%, equivalence within ±0.5 pp
BN = ("BatchNormalization",)


def _runs(grid=None, **accuracies):
    """A comparison table: per variant its test accuracies seed by seed (seeds 1, 2, ...),
    at the grid point ``grid`` (key: value); ``None`` marks a diverged run."""
    return pd.DataFrame([
        {"variant": variant, **(grid or {}), "seed": seed, "final_val_accuracy": acc or 0.1,
         "best_val_accuracy": acc or 0.1, "test_accuracy": 0.1 if acc is None else acc,
         "test_loss": 1.0, "diverged": acc is None}
        for variant, values in accuracies.items() for seed, acc in enumerate(values, 1)])


def _said(table):
    """The verdict over ``table`` (one point), ``baseline`` without BN, the rest with."""
    pairwise = compute_pairwise_differences(table, statistics=STATISTICS)
    means = table[~table["diverged"]].groupby("variant", sort=False)["test_accuracy"].mean()
    per_variant = pd.DataFrame({"variant": means.index, "test_accuracy_mean": means.values,
                                "diverged": 0, "runs": 0})
    norms = {v: () if v == "baseline" else BN for v in means.index}
    return verdict(per_variant, pairwise, norms), pairwise


# 1. No finding from zero spread --------------------------------------------------------


def test_accuracies_in_steps_of_1e4_tie_although_their_floats_differ():
    """Test accuracies move in steps of 1/10,000: three seeds 0.01 pp apart each are one
    difference, which the floats spell three ways."""
    first, second = [0.8895, 0.8896, 0.8897], [0.8894, 0.8895, 0.8896]
    assert len(set(np.subtract(first, second))) > 1  # what the floats say
    result = paired_difference(first, second, 0.95, 0.005)
    assert result["distinct"] == 1 and result["mean"] == pytest.approx(1e-4)
    assert math.isnan(result["p_value"]) and result["finding"] == NO_INTERVAL


@pytest.mark.parametrize("differences", [
    [0.02, 0.02],                       # two seeds that tie: once p = 0, "better"
    [0.01, 0.02],                       # two seeds: two values at most
    [0.0001, 0.0001, 0.0002, 0.0001, 0.0002],  # five seeds, two values
])
def test_fewer_than_three_distinct_differences_give_no_interval_and_no_test(differences):
    second = [0.85 + 0.01 * i for i in range(len(differences))]
    first = [s + d for s, d in zip(second, differences, strict=True)]
    result = paired_difference(first, second, 0.95, 0.005)
    assert result["mean"] == pytest.approx(np.mean(differences))
    for key in ("ci_low", "ci_high", "t_statistic", "p_value", "equivalence_low",
                "equivalence_high", "equivalence_p"):
        assert math.isnan(result[key]), key
    assert result["finding"] == "no interval (fewer than 3 distinct values)"


def test_from_three_distinct_differences_the_interval_and_test_are_scipys():
    first, second = [0.86, 0.87, 0.885], [0.85, 0.86, 0.87]  # 1, 1, 1.5 pp: two values
    assert paired_difference(first, second, 0.95)["finding"] == NO_INTERVAL
    first = [0.86, 0.872, 0.885]  # 1, 1.2, 1.5 pp
    result = paired_difference(first, second, 0.95)
    reference = stats.ttest_rel(first, second)
    low, high = reference.confidence_interval(0.95)
    assert result["distinct"] == 3
    assert (result["t_statistic"], result["p_value"]) == pytest.approx(
        (reference.statistic, reference.pvalue))
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((low, high))
    assert result["finding"] == "better"


def test_two_seeds_that_tie_are_no_finding_in_words():
    """The issue's case: two seeds, each 2 pp apart, used to be p = 0 and *better*."""
    said, pairwise = _said(_runs(baseline=[0.85, 0.86], bn=[0.87, 0.88]))
    assert pairwise.iloc[0]["finding"] == NO_INTERVAL
    assert said["comparisons"][0]["text"] == (
        "bn vs baseline: +2.00 pp test accuracy over 2 seeds: no interval (fewer than 3 "
        "distinct values).")
    helps, best = (answer["text"] for answer in said["answers"])
    assert helps == ("Does BatchNormalization help? cannot be said from the accuracies: no "
                     "comparison has an interval (fewer than 3 distinct per-seed differences).")
    assert best.startswith("Best variant: no evidence: no comparison has an interval")
    assert "+2.00 pp over baseline (no interval)" in best


# 2. Equivalent, and a detectable difference -------------------------------------------

# Differences 0.1, 0.3, 0.2, 0.4, 0.0 pp (as in test_reporting_nodes): mean 0.2 pp, its 90%
# interval inside ±0.5 pp and its 95% interval +0.004 to +0.396 pp, p = 0.047.
SMALL = [0.001, 0.003, 0.002, 0.004, 0.000]


def test_an_equivalent_difference_whose_interval_excludes_zero_says_both():
    said, pairwise = _said(_runs(baseline=[0.8] * 5, bn=[0.8 + d for d in SMALL]))
    row = pairwise.iloc[0]
    reference = stats.ttest_rel([0.8 + d for d in SMALL], [0.8] * 5)
    assert row["p_value"] == pytest.approx(reference.pvalue) and row["p_value"] < 0.05
    assert row["finding"] == "equivalent"
    assert said["comparisons"][0]["text"].endswith(
        "equivalent within ±0.5 pp; a small difference of +0.20 pp is detectable (90% CI "
        "+0.05 to +0.35 pp).")
    helps = said["answers"][0]["text"]
    assert helps == ("Does BatchNormalization help? No difference that matters: every variant "
                     "with BatchNormalization is equivalent within ±0.5 pp of every variant "
                     "without it; a small difference is detectable in 1 of 1 comparisons "
                     "(see below).")
    assert said["answers"][1]["text"] == (
        "Best variant: bn or baseline, equivalent within ±0.5 pp; a small difference of "
        "+0.20 pp over baseline (CI +0.00 to +0.40) is detectable.")


def test_an_equivalent_difference_whose_interval_includes_zero_says_only_equivalent():
    """0.1, -0.1, 0.2, -0.2, 0 pp: mean 0, 90% interval -/+ 0.151 pp."""
    said, _ = _said(_runs(baseline=[0.8] * 5,
                          bn=[0.8 + d for d in (0.001, -0.001, 0.002, -0.002, 0.0)]))
    assert said["comparisons"][0]["text"].endswith(": equivalent within ±0.5 pp (90% CI "
                                                   "-0.15 to +0.15 pp).")
    # a mean paired difference of 0: the tie keeps the declaration order
    assert said["answers"][1]["text"] == (
        "Best variant: baseline or bn, equivalent within ±0.5 pp (+0.00 pp over bn "
        "(CI -0.20 to +0.20)).")


# 3. Rankings from the paired comparisons ----------------------------------------------


def test_the_ranking_is_the_paired_comparisons_not_the_means_of_the_runs_that_survived():
    """a trained on every seed, b diverged on seeds 4 and 5, where a did best: a has the
    higher mean over its runs, yet b beats a on every seed both trained."""
    table = _runs(a=[0.85, 0.86, 0.87, 0.95, 0.96], b=[0.86, 0.872, 0.885, None, None])
    means = table[~table["diverged"]].groupby("variant")["test_accuracy"].mean()
    assert means["a"] > means["b"]  # 0.898 against 0.872
    pairwise = compute_pairwise_differences(table, statistics=STATISTICS)
    reference = stats.ttest_rel([0.86, 0.872, 0.885], [0.85, 0.86, 0.87])
    assert pairwise.iloc[0]["p_value"] == pytest.approx(reference.pvalue)  # 0.0137
    assert paired_ranking(["a", "b"], pairwise) == ["b", "a"]
    said = verdict(pd.DataFrame({"variant": ["a", "b"], "test_accuracy_mean": means[["a", "b"]],
                                 "diverged": [0, 2], "runs": [5, 5]}),
                   pairwise, {"a": BN, "b": BN})
    placement, best = (answer["text"] for answer in said["answers"])
    assert best == ("Best variant: b, beyond the seed-to-seed noise: +1.23 pp over a (CI +0.61 "
                    "to +1.86).")
    assert placement.startswith("Where should it go? Best placement: b, beyond")


def test_with_every_run_paired_the_ranking_is_that_of_the_means():
    """The mean of v's paired differences is (k mean_v - sum of means) / (k - 1): the same
    order as the means when every seed trained."""
    rng = np.random.default_rng(3)
    accuracies = {v: (0.85 + rng.normal(0, 0.01, 5)).tolist() for v in "pqrst"}
    pairwise = compute_pairwise_differences(_runs(**accuracies), statistics=STATISTICS)
    assert paired_ranking(list(accuracies), pairwise) == sorted(
        accuracies, key=lambda v: -np.mean(accuracies[v]))


# 4. Holm's correction within a family -------------------------------------------------


def test_holm_by_hand_and_as_statsmodels_computes_it():
    # sorted 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, then 0.04 x 1 -> at least 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    p = [0.2, 0.001, float("nan"), 0.04, 0.012, 0.5, 0.03]  # NaN: no test, not counted
    adjusted = holm(p)
    assert math.isnan(adjusted[2])
    assert adjusted[:2] + adjusted[3:] == pytest.approx(
        multipletests(p[:2] + p[3:], method="holm")[1])


def test_a_family_decides_the_finding_on_the_adjusted_p():
    """+3 pp at p = 0.027 is *better* alone; among three with p 0.013 and 1, Holm doubles
    it and it is not conclusive."""
    differences = [paired_difference([0.8 + d / 100 for d in values], [0.8] * 5, 0.95, 0.005)
                   for values in ([1, 2, 3, 4, 5], [0, 0.5, -0.5, 1, -1], [0, 3, 2.5, 4.5, 5])]
    assert [d["finding"] for d in differences] == ["better", "not conclusive", "better"]
    family = holm_family(differences, "a point", 0.95)
    expected = multipletests([d["p_value"] for d in differences], method="holm")[1]
    assert [d["p_holm"] for d in family] == pytest.approx(expected)
    assert [d["finding"] for d in family] == ["better", "not conclusive", "not conclusive"]
    assert {(d["family"], d["family_size"]) for d in family} == {("a point", 3)}


def test_pairwise_differences_are_corrected_per_grid_point():
    table = pd.concat([_runs({"learning_rate": lr}, a=[0.80, 0.81, 0.82, 0.83, 0.84],
                             b=[0.82, 0.82, 0.85, 0.84, 0.87], c=[0.81, 0.83, 0.82, 0.86, 0.85])
                       for lr in (0.01, 0.1)])
    table.loc[(table["learning_rate"] == 0.1) & (table["variant"] == "c"), "diverged"] = True
    pairwise = compute_pairwise_differences(table, statistics=STATISTICS,
                                            grid_keys=["learning_rate"])
    assert pairwise.groupby("family", sort=False)["family_size"].first().to_dict() == {
        "learning_rate=0.01": 3, "learning_rate=0.1": 1}  # c's pairs at 0.1: no test
    for _, point in pairwise.groupby("family"):
        tested = point[point["p_value"].notna()]
        assert tested["p_holm"].tolist() == pytest.approx(
            multipletests(tested["p_value"], method="holm")[1])
    assert list(pairwise.columns[pairwise.columns.get_loc("p_value"):][:4]) == [
        "p_value", "p_holm", "test", "family"]


def _study(env):
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(PROJECT_ROOT / "conf"), env=env,
                                          **settings.CONFIG_LOADER_ARGS)
    return RunMatrix(ProjectParameters.checked(loader["parameters"]))


@pytest.mark.parametrize(("env", "pairs", "points", "best_families", "tests",
                          "interaction_tests"), [
    ("lr_sweep", 3, 7, 1, 24, 3),            # learning rate: one slice per pair
    ("optimizer_sweep", 3, 10, 1, 33, 12),   # per pair: lr at SGD, at Adam; the optimizer
                                             # at lr 0.001 and 0.01 (both ran there)
    ("batch_sweep", 3, 12, 4, 48, 12),       # lr at each batch size; no two points differ
                                             # in the batch size alone
    ("normalizers", 21, 3, 1, 84, 21),
])
def test_the_families_of_the_shipped_studies(  # noqa: PLR0913
        env, pairs, points, best_families, tests, interaction_tests):
    """Every run of the study's matrix trained (accuracies drawn at random), through the
    nodes: a family of all pairs per grid point, one at the best settings (per
    ``confirm.per`` value), one of every interaction test; the issue counted 24, 33, 48
    and 84 tests, uncorrected."""
    matrix = _study(env)
    keys, rng = list(matrix.grid_keys), np.random.default_rng(0)
    table = pd.DataFrame([{**run.key, "final_val_accuracy": a, "best_val_accuracy": a,
                           "test_accuracy": a, "test_loss": 1 - a, "diverged": False}
                          for run, a in zip(matrix.runs, rng.uniform(0.8, 0.9, len(matrix.runs)),
                                            strict=True)])
    curves = table.assign(epoch=1, val_accuracy=table["final_val_accuracy"])
    sweep = build_sweep_table(compute_variant_statistics(
        table, curves, statistics=STATISTICS, grid_keys=keys), keys)
    best = select_best_settings(sweep, keys, per=matrix.confirm_per)
    pairwise = compute_pairwise_differences(table, statistics=STATISTICS, grid_keys=keys)
    at_best = compare_best_settings(table, best, statistics=STATISTICS, grid_keys=keys,
                                    per=matrix.confirm_per)
    assert pairs == comb(len(matrix.parameters.variants), 2)
    assert pairwise.groupby("family")["family_size"].agg(["first", "size"]).values.tolist() == [
        [pairs, pairs]] * points
    assert at_best.groupby("family")["family_size"].agg(["first", "size"]).values.tolist() == [
        [pairs, pairs]] * best_families
    assert len(pairwise) + len(at_best) == tests
    interactions = compute_setting_interactions(table, statistics=STATISTICS, grid_keys=keys)
    assert set(interactions["family_size"]) == {interaction_tests}
    assert interactions["p_value"].notna().sum() == interaction_tests


# 5. Whether a difference depends on the setting ---------------------------------------


def test_repeated_measures_anova_by_hand_and_as_statsmodels_computes_it():
    # two seeds, two points: the paired t-test of 1 and 3 (mean 2, se 1): t = 2, F = 4,
    # and with one degree of freedom (Cauchy) P(|T| > 2) = 1 - 2 atan(2) / pi
    two = repeated_measures_anova([[0.0, 1.0], [0.0, 3.0]])
    assert (two["f_statistic"], two["df_points"], two["df_error"]) == pytest.approx((4, 1, 1))
    assert two["p_value"] == pytest.approx(1 - 2 * math.atan(2) / math.pi)
    cells = np.array([[0.010, 0.030, 0.020, 0.050], [0.020, 0.020, 0.030, 0.040],
                      [0.000, 0.040, 0.010, 0.060], [0.015, 0.025, 0.035, 0.045],
                      [0.005, 0.030, 0.015, 0.055]])
    result = repeated_measures_anova(cells)
    long = pd.DataFrame([{"seed": s, "point": p, "d": cells[s, p]}
                         for s in range(5) for p in range(4)])
    reference = AnovaRM(long, "d", "seed", within=["point"]).fit().anova_table.iloc[0]
    assert (result["f_statistic"], result["df_points"], result["df_error"], result["p_value"]
            ) == pytest.approx((reference["F Value"], reference["Num DF"], reference["Den DF"],
                                reference["Pr > F"]))


@pytest.mark.parametrize("cells", [
    [[0.01, 0.02], [0.01, 0.02], [0.01, 0.02]],  # every seed moves alike: two values
    [[0.01, 0.02, 0.04], [0.02, 0.03, 0.05]],    # ... and by the same amount: no residual
    [[0.01, 0.02, 0.04]],                          # one seed
])
def test_no_interaction_test_without_spread(cells):
    assert math.isnan(repeated_measures_anova(cells)["p_value"])


# d = a - b per seed (rows) and learning rate (columns): it grows with the learning rate.
D = np.array([[0.000, 0.010, 0.030], [0.005, 0.012, 0.028], [-0.002, 0.015, 0.035],
              [0.003, 0.008, 0.026]])
B = np.array([[0.85, 0.86, 0.84], [0.86, 0.85, 0.85], [0.84, 0.87, 0.86], [0.85, 0.85, 0.84]])
RATES = (0.01, 0.1, 1.0)


def _grid(d=D, b=B, rates=RATES, **where):
    return pd.concat([_runs({"learning_rate": lr, **where}, b=b[:, i], a=b[:, i] + d[:, i])
                      for i, lr in enumerate(rates)])


def _anova(cells):
    long = pd.DataFrame([{"seed": s, "point": p, "d": cells[s, p]}
                         for s in range(cells.shape[0]) for p in range(cells.shape[1])])
    return AnovaRM(long, "d", "seed", within=["point"]).fit().anova_table.iloc[0]


def test_whether_a_difference_depends_on_the_learning_rate_is_statsmodels_anova():
    table = compute_setting_interactions(_grid(), statistics=STATISTICS,
                                         grid_keys=["learning_rate"])
    (row,) = table.to_dict("records")
    reference = _anova(D)
    assert (row["variant"], row["versus"], row["grid_key"], row["at"]) == (
        "a", "b", "learning_rate", "")
    assert (row["points"], row["seeds"], row["left_out"]) == (3, 4, "")
    assert (row["f_statistic"], row["df_points"], row["df_error"], row["p_value"]) == \
        pytest.approx((reference["F Value"], 2, 6, reference["Pr > F"]))
    assert row["p_holm"] == row["p_value"] and row["family_size"] == 1
    assert row["finding"] == "depends on learning_rate"
    assert interaction_sentence(table, ("b", "a"), "learning_rate", subject="BN's gain",
                                setting="the learning rate") == (
        f"Whether BN's gain depends on the learning rate: it does (F(2, 6) = "
        f"{reference['F Value']:.2f}, p = {reference['Pr > F']:.2g}, over 3 points and 4 "
        f"seeds).")


def test_a_point_where_a_run_diverged_is_left_out_and_two_points_are_a_paired_t_test():
    grid = _grid()
    grid.loc[(grid["learning_rate"] == 1.0) & (grid["variant"] == "b") & (grid["seed"] == 2),
             "diverged"] = True
    (row,) = compute_setting_interactions(grid, statistics=STATISTICS,
                                          grid_keys=["learning_rate"]).to_dict("records")
    reference = stats.ttest_rel(D[:, 1], D[:, 0])
    assert (row["points"], row["seeds"], row["left_out"]) == (2, 4, "1")
    assert row["f_statistic"] == pytest.approx(reference.statistic ** 2)
    assert row["p_value"] == pytest.approx(reference.pvalue)


def test_no_evidence_and_not_testable_are_said_apart():
    flat = D - D.mean(axis=0)  # the same mean difference at every learning rate
    table = compute_setting_interactions(_grid(d=flat + 0.01), statistics=STATISTICS,
                                         grid_keys=["learning_rate"])
    assert table.iloc[0]["p_value"] == pytest.approx(1.0)
    assert table.iloc[0]["finding"] == "no evidence it depends on learning_rate"
    tied = compute_setting_interactions(_grid(d=np.full_like(D, 0.01)), statistics=STATISTICS,
                                        grid_keys=["learning_rate"])
    assert tied.iloc[0]["finding"] == "not testable"
    assert tied.iloc[0]["note"].startswith("no spread")
    assert interaction_sentence(tied, ("a", "b"), "learning_rate") == (
        "Whether a − b depends on learning_rate: not testable (no spread: fewer than 3 "
        "distinct values, or every seed moves alike).")


def test_with_two_keys_each_is_tested_where_the_other_is_held_fixed():
    """Blocks: SGD at 0.01, 0.1, 1 and Adam at 0.01, 0.1: the learning rate at each
    optimizer, the optimizer at 0.01 and at 0.1 (at 1 only SGD ran). The three tests with a
    p-value are one family."""
    grid = pd.concat([_grid(optimizer="SGD"),
                      _grid(d=D[:, :2] + 0.01, b=B[:, :2], rates=RATES[:2], optimizer="Adam")])
    table = compute_setting_interactions(grid, statistics=STATISTICS,
                                         grid_keys=["learning_rate", "optimizer"])
    assert list(zip(table["grid_key"], table["at"], table["points"], strict=True)) == [
        ("learning_rate", "optimizer=SGD", 3), ("learning_rate", "optimizer=Adam", 2),
        ("optimizer", "learning_rate=0.01", 2), ("optimizer", "learning_rate=0.1", 2)]
    # Adam - SGD at one learning rate: exactly 1 pp on every seed: no spread, no test
    assert table["finding"].tolist()[2:] == ["not testable", "not testable"]
    assert table["p_holm"].tolist()[:2] == pytest.approx(
        multipletests(table["p_value"].tolist()[:2], method="holm")[1])
    assert set(table["family_size"]) == {2}
    sentence = interaction_sentence(table, ("a", "b"), "learning_rate")
    assert sentence.startswith("Whether a − b depends on learning_rate: at optimizer=SGD, it "
                               "does (F(2, 6) = ")
    assert "after Holm's correction for 2 tests, over 3 points and 4 seeds); at " \
        "optimizer=Adam, " in sentence


def test_a_key_no_two_points_differ_in_alone_is_not_testable():
    """Batch sizes each with their own learning rates (conf/batch_sweep)."""
    grid = pd.concat([_grid(rates=(0.001, 0.01, 0.1), batch_size=32),
                      _grid(rates=(0.004, 0.04, 0.4), batch_size=128)])
    table = compute_setting_interactions(grid, statistics=STATISTICS,
                                         grid_keys=["learning_rate", "batch_size"])
    batch = table[table["grid_key"] == "batch_size"].iloc[0]
    assert (batch["finding"], batch["note"]) == (
        "not testable", "no two grid points differ in batch_size alone")
