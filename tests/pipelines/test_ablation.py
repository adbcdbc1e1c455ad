"""The ablation (reporting/ablation.py) on constructed comparison tables whose true effects
are known: a 2x2x2 factorial with an interaction, each factor's effect per path and over
all orders (the Shapley values, in closed form), the t intervals against scipy's,
Fieller's share interval against the t-test it inverts, a gain too small for a share,
diverged runs, and the sentences. Then the shipped `ablation` environment: every step of
every path changes the factor it names, as its layers show."""

import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bn_compare import settings
from bn_compare.parameters import (
    AblationParams,
    InvalidParametersError,
    ProjectParameters,
    StatisticsParams,
)
from bn_compare.pipelines.reporting.ablation import (
    ablation_sentences,
    compute_ablation_effects,
    share_interval,
)
from tests.conftest import PROJECT_ROOT

STATISTICS = StatisticsParams(confidence=0.95, equivalence_margin_pp=0.5)
SEEDS = [1, 2, 3, 4, 5]
FACTORS = {"act": "the switch to ReLU", "inp": "normalizing the input",
           "hid": "BN in the hidden layers"}
# Per seed, in pp: the baseline's accuracy, each factor's own effect, and the input x
# hidden interaction (added where both are on). Effects vary by seed: they have spread.
BASE = np.array([80.0, 81.0, 79.5, 80.5, 80.2])
EFFECT = {"act": np.array([0.2, 0.6, 0.1, 0.5, 0.1]),     # mean 0.3
          "inp": np.array([0.9, 1.3, 0.7, 1.1, 1.0]),     # mean 1.0
          "hid": np.array([2.2, 2.0, 2.5, 1.9, 2.4])}     # mean 2.2
INTERACTION = np.array([-0.8, -0.5, -0.7, -0.4, -0.6])    # mean -0.6: input BN matters less
# with hidden BN. The gain is their sum: 0.3 + 1.0 + 2.2 - 0.6 = 2.9 pp.


def cell(levels: dict[str, int], placement: str = "v") -> str:
    """The variant with these factors changed: v000 is the baseline, v111 the BN variant;
    with hidden BN, a second placement's cells are w001 ... w111 (those without, shared)."""
    return (placement if levels["hid"] else "v") + "".join(str(levels[f]) for f in FACTORS)


def all_orders(placement: str = "v") -> list[dict[str, str]]:
    """Every order of the changes from v000 to v111 (or w111): factor -> the step's variant."""
    paths = []
    for order in itertools.permutations(FACTORS):
        levels = dict.fromkeys(FACTORS, 0)
        path = {}
        for factor in order:
            levels[factor] = 1
            path[factor] = cell(levels, placement)
        paths.append(path)
    return paths


def accuracy_pp(levels: dict[str, int]) -> np.ndarray:
    return (BASE + sum(EFFECT[f] * levels[f] for f in FACTORS)
            + INTERACTION * levels["inp"] * levels["hid"])


def factorial_table(diverged: dict[tuple[str, int], bool] | None = None,
                    placements: str = "v", **extra_point: float) -> pd.DataFrame:
    """A comparison table of the factorial's cells x 5 seeds (test accuracy as a fraction;
    a diverged run's is 0.1, as after a divergence)."""
    rows = []
    names = dict.fromkeys(cell(dict(zip(FACTORS, bits, strict=True)), placement)
                          for placement in placements
                          for bits in itertools.product([0, 1], repeat=3))
    for name in names:
        levels = dict(zip(FACTORS, map(int, name[1:]), strict=True))
        for seed, value in zip(SEEDS, accuracy_pp(levels), strict=True):
            failed = (diverged or {}).get((name, seed), False)
            rows.append({"variant": name, **extra_point, "seed": seed,
                         "test_accuracy": 0.1 if failed else value / 100,
                         "diverged": failed})
    return pd.DataFrame(rows)


def ablation(paths=None) -> AblationParams:
    return AblationParams(baseline="v000", factors=FACTORS,
                          paths={"v111": paths or all_orders()})


def t_interval(values) -> tuple[float, float]:
    """The 95% t interval of the mean, as scipy computes it."""
    result = stats.ttest_1samp(np.asarray(values, dtype=float), 0.0)
    interval = result.confidence_interval(0.95)
    return interval.low, interval.high


def rows_of(effects: pd.DataFrame, path: str) -> pd.DataFrame:
    return effects[effects["path"] == path].set_index("factor")


def test_each_step_is_the_paired_difference_of_its_two_variants_with_scipys_interval():
    effects = compute_ablation_effects(factorial_table(), ablation=ablation(),
                                       statistics=STATISTICS)
    # activation first, then input, then hidden BN: the interaction falls to the hidden BN
    first = rows_of(effects, "act > inp > hid")
    assert list(first.index) == ["act", "inp", "hid"]
    assert list(first["step_from"]) == ["v000", "v100", "v110"]
    assert list(first["step_to"]) == ["v100", "v110", "v111"]
    known = {"act": EFFECT["act"], "inp": EFFECT["inp"], "hid": EFFECT["hid"] + INTERACTION}
    for factor, per_seed in known.items():
        row = first.loc[factor]
        assert row["effect_pp"] == pytest.approx(per_seed.mean(), abs=1e-9)
        assert (row["ci_low_pp"], row["ci_high_pp"]) == pytest.approx(t_interval(per_seed),
                                                                      abs=1e-9)
        assert row["p_value"] == pytest.approx(stats.ttest_1samp(per_seed, 0).pvalue, rel=1e-6)
        assert row["seeds"] == len(SEEDS) and row["diverged"] == 0
    # hidden BN first, then input: the interaction falls to the input
    last = rows_of(effects, "hid > inp > act")
    assert last.loc["hid", "effect_pp"] == pytest.approx(2.2, abs=1e-9)
    assert last.loc["inp", "effect_pp"] == pytest.approx(1.0 - 0.6, abs=1e-9)
    assert last.loc["act", "effect_pp"] == pytest.approx(0.3, abs=1e-9)


def test_effects_add_up_to_the_gain_on_every_path_and_the_shares_to_one():
    effects = compute_ablation_effects(factorial_table(), ablation=ablation(),
                                       statistics=STATISTICS)
    total = effects[effects["factor"] == "total"].iloc[0]
    assert (total["step_from"], total["step_to"]) == ("v000", "v111")
    assert total["effect_pp"] == pytest.approx(2.9, abs=1e-9)
    assert (total["ci_low_pp"], total["ci_high_pp"]) == pytest.approx(
        t_interval(accuracy_pp(dict.fromkeys(FACTORS, 1)) - BASE), abs=1e-9)
    assert total["finding"] == "better" and total["share"] == pytest.approx(1)
    assert (total["share_ci_low"], total["share_ci_high"]) == pytest.approx((1, 1))
    steps = effects[effects["factor"] != "total"]
    assert steps["path"].nunique() == 7  # 6 orders and their mean
    for _, path in steps.groupby("path"):
        assert path["effect_pp"].sum() == pytest.approx(2.9, abs=1e-9)
        assert path["share"].sum() == pytest.approx(1, abs=1e-12)


def test_the_mean_over_all_orders_is_each_factors_shapley_value():
    """With an interaction between input and hidden BN, each of the two gets half of it."""
    effects = compute_ablation_effects(factorial_table(), ablation=ablation(),
                                       statistics=STATISTICS)
    mean = rows_of(effects, "mean of 6 orders")
    shapley = {"act": EFFECT["act"], "inp": EFFECT["inp"] + INTERACTION / 2,
               "hid": EFFECT["hid"] + INTERACTION / 2}
    gain = accuracy_pp(dict.fromkeys(FACTORS, 1)) - BASE
    for factor, per_seed in shapley.items():
        row = mean.loc[factor]
        assert row["effect_pp"] == pytest.approx(per_seed.mean(), abs=1e-9)
        assert (row["ci_low_pp"], row["ci_high_pp"]) == pytest.approx(t_interval(per_seed),
                                                                      abs=1e-9)
        assert row["share"] == pytest.approx(per_seed.mean() / gain.mean(), abs=1e-12)
        assert row["share_ci_low"] < row["share"] < row["share_ci_high"]
    assert (mean["step_from"] == "").all() and list(mean["change"]) == list(FACTORS.values())


def test_the_finding_is_paired_differences_word_on_the_corrected_p():
    """A large effect is better, a negative one worse, one within ±0.5 pp equivalent, and
    one that is none of these not conclusive."""
    per_seed = {"act": [0.05, -0.05, 0.02, -0.02, 0.0],      # equivalent within ±0.5 pp
                "inp": [-1.0, -1.2, -0.9, -1.1, -1.3],       # worse
                "hid": [3.0, 2.0, 6.0, -1.0, 0.5]}           # not conclusive
    path = {"act": "relu", "inp": "relu_inp", "hid": "bn"}
    rows, value = [], np.array(BASE)
    for seed, base in zip(SEEDS, BASE, strict=True):
        rows.append({"variant": "base", "seed": seed, "test_accuracy": base / 100,
                     "diverged": False})
    for factor, variant in path.items():
        value = value + np.array(per_seed[factor])
        rows += [{"variant": variant, "seed": seed, "test_accuracy": v / 100, "diverged": False}
                 for seed, v in zip(SEEDS, value, strict=True)]
    effects = compute_ablation_effects(
        pd.DataFrame(rows), ablation=AblationParams(baseline="base", factors=FACTORS,
                                                    paths={"bn": [path]}),
        statistics=STATISTICS)
    findings = effects.set_index("factor")["finding"]
    assert findings.to_dict() == {"total": "not conclusive", "act": "equivalent",
                                  "inp": "worse", "hid": "not conclusive"}
    assert len(effects) == 4  # one path: no mean over orders


def holm_by_hand(p_values: list[float]) -> list[float]:
    """Holm's adjusted p-values, written out: the i-th smallest of m times m - i (from 0),
    never below the one before, at most 1."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def test_what_the_sentences_tell_is_one_family_and_the_orders_another_each_holm_corrected():
    """Two placements, one grid point: the sentences' 2 x (gain + 3 means) = 8 tests; the
    orders' 2 x 6 x 3 = 36 rows are 20 tests: each placement's cube has 12 edges, the 4
    without hidden BN shared (the same contrast on the same seeds is one test). The
    activation's effect (p = 0.046 alone) is no finding among 20: its finding is decided
    on the corrected p."""
    effects = compute_ablation_effects(
        factorial_table(placements="vw", learning_rate=0.1), statistics=STATISTICS,
        ablation=AblationParams(baseline="v000", factors=FACTORS,
                                paths={"v111": all_orders("v"), "w111": all_orders("w")}),
        grid_keys=["learning_rate"])
    headline = effects[effects["family"] == "ablation, learning_rate=0.1"]
    orders = effects[effects["family"] == "ablation by order, learning_rate=0.1"]
    assert len(headline) + len(orders) == len(effects)
    assert (len(headline), len(orders)) == (8, 36)
    for family, tests, size in ((headline, headline, 8),
                                (orders, orders.drop_duplicates(["step_from", "step_to"]), 20)):
        assert len(tests) == size and (family["family_size"] == size).all()
        p_values = [stats.ttest_1samp(row_values(row), 0).pvalue for _, row in tests.iterrows()]
        assert tests["p_value"].tolist() == pytest.approx(p_values, rel=1e-6)
        assert tests["p_holm"].tolist() == pytest.approx(holm_by_hand(p_values), rel=1e-6)
    # a shared contrast has one corrected p
    assert (orders.groupby(["step_from", "step_to"])["p_holm"].nunique() == 1).all()
    activation = effects[(effects["factor"] == "act")
                         & (effects["family"].str.startswith("ablation by order"))]
    assert (activation["p_value"] < 0.05).all() and (activation["p_holm"] > 0.05).all()  # noqa: PLR2004
    assert (activation["finding"] == "not conclusive").all()


def row_values(row: pd.Series) -> np.ndarray:
    """The per-seed values a row of the factorial tests: its known effect (see the top)."""
    if row["factor"] == "total":
        return accuracy_pp(dict.fromkeys(FACTORS, 1)) - BASE
    if row["path"].startswith("mean of"):
        return EFFECT[row["factor"]] + INTERACTION / 2 * (row["factor"] != "act")
    before = dict(zip(FACTORS, map(int, row["step_from"][1:]), strict=True))
    return accuracy_pp({**before, row["factor"]: 1}) - accuracy_pp(before)


@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_fiellers_interval_is_where_the_t_test_of_effect_minus_r_gain_does_not_reject(
        confidence):
    effect, gain = EFFECT["hid"] + INTERACTION / 2, accuracy_pp(dict.fromkeys(FACTORS, 1)) - BASE
    share, low, high = share_interval(effect, gain, confidence)
    assert share == pytest.approx(effect.mean() / gain.mean())
    for bound in (low, high):  # at each end the test is exactly at its level
        assert stats.ttest_1samp(effect - bound * gain, 0).pvalue == pytest.approx(
            1 - confidence, rel=1e-6)
    for inside in (share, (low + share) / 2, (share + high) / 2):
        assert stats.ttest_1samp(effect - inside * gain, 0).pvalue > 1 - confidence
    for outside in (low - 0.01, high + 0.01):
        assert stats.ttest_1samp(effect - outside * gain, 0).pvalue < 1 - confidence


def test_a_share_is_defined_exactly_where_the_gains_interval_excludes_zero():
    effect = np.array([0.5, 0.1, 0.3, 0.6, 0.2])
    excludes_zero = np.array([1.0, 0.2, 0.8, 1.4, 0.3])
    holds_zero = np.array([1.0, -0.9, 0.8, 1.4, -1.2])
    assert t_interval(excludes_zero)[0] > 0 and t_interval(holds_zero)[0] < 0
    assert not any(map(math.isnan, share_interval(effect, excludes_zero, 0.95)))
    assert all(map(math.isnan, share_interval(effect, holds_zero, 0.95)))
    assert all(map(math.isnan, share_interval(effect[:1], excludes_zero[:1], 0.95)))  # 1 seed


def test_a_gain_whose_interval_holds_zero_has_no_shares_and_the_sentence_says_so():
    noisy = {("v111", 2): -4.0, ("v111", 4): -3.0}  # two seeds where BN loses a lot
    table = factorial_table()
    for (variant, seed), shift in noisy.items():
        at = (table["variant"] == variant) & (table["seed"] == seed)
        table.loc[at, "test_accuracy"] += shift / 100
    effects = compute_ablation_effects(table, ablation=ablation(), statistics=STATISTICS)
    total = effects[effects["factor"] == "total"].iloc[0]
    assert total["ci_low_pp"] < 0 < total["ci_high_pp"]
    assert effects[["share", "share_ci_low", "share_ci_high"]].isna().all().all()
    assert effects["effect_pp"].notna().all()  # the effects themselves stay
    [sentence] = ablation_sentences(effects)
    assert "the shares are not defined: the gain's interval holds 0" in sentence
    assert re.search(r"\(-?\d+%", sentence) is None  # no share in it


def test_a_gain_without_spread_has_no_interval_no_finding_and_no_share_interval():
    """Every seed gains exactly +1 pp: one distinct value, no interval (statistics'
    rule), so neither a finding nor a share; the steps keep theirs where they have spread."""
    table = factorial_table()
    gain = BASE + 1.0
    at = table["variant"] == "v111"
    table.loc[at, "test_accuracy"] = gain / 100
    effects = compute_ablation_effects(table, ablation=ablation([all_orders()[0]]),
                                       statistics=STATISTICS)
    total = effects.set_index("factor").loc["total"]
    assert total["effect_pp"] == pytest.approx(1.0)
    assert math.isnan(total["ci_low_pp"]) and total["finding"].startswith("no interval")
    assert effects["share"].isna().all()
    [sentence] = ablation_sentences(effects)
    assert sentence.startswith("Of v111's +1.00 pp (no interval) over v000 (5 seeds), along ")
    assert sentence.endswith("; the shares are not defined: the gain's interval holds 0 (or it "
                             "has none).")


def test_a_diverged_run_leaves_out_its_seed_from_its_variants_decomposition_only():
    """v011 (input and hidden BN, placement v) diverged at seed 3: v111 loses seed 3 on
    every path, also those that never pass v011, so its effects still add up; w111, the
    other placement, never passes v011 and keeps its five seeds."""
    table = factorial_table(diverged={("v011", 3): True}, placements="vw")
    effects = compute_ablation_effects(
        table, statistics=STATISTICS,
        ablation=AblationParams(baseline="v000", factors=FACTORS,
                                paths={"v111": all_orders("v"), "w111": all_orders("w")}))
    kept = [i for i, seed in enumerate(SEEDS) if seed != 3]  # noqa: PLR2004
    broken = effects[effects["variant"] == "v111"]
    assert (broken["seeds"] == 4).all() and (broken["diverged"] == 1).all()  # noqa: PLR2004
    first = rows_of(broken, "act > inp > hid")
    assert first.loc["inp", "effect_pp"] == pytest.approx(EFFECT["inp"][kept].mean())
    assert (first.loc["inp", "ci_low_pp"], first.loc["inp", "ci_high_pp"]) == pytest.approx(
        t_interval(EFFECT["inp"][kept]))
    total = broken.set_index("factor").loc["total", "effect_pp"]
    assert rows_of(broken, "act > inp > hid")["effect_pp"].sum() == pytest.approx(total)
    intact = effects[effects["variant"] == "w111"]
    assert (intact["seeds"] == 5).all() and (intact["diverged"] == 0).all()  # noqa: PLR2004
    assert intact.set_index("path").loc["", "effect_pp"] == pytest.approx(2.9)
    first_sentence, second_sentence = ablation_sentences(effects)
    assert "(better, 4 seeds, 1 left out: a run on its paths diverged)" in first_sentence
    assert "(better, 5 seeds)" in second_sentence


def test_a_step_that_diverged_on_every_seed_leaves_no_decomposition():
    table = factorial_table(diverged={("v100", seed): True for seed in SEEDS})
    effects = compute_ablation_effects(table, ablation=ablation(), statistics=STATISTICS)
    assert (effects["seeds"] == 0).all() and (effects["diverged"] == 5).all()  # noqa: PLR2004
    assert effects[["effect_pp", "p_value", "share"]].isna().all().all()
    assert ablation_sentences(effects) == [
        "v111: no decomposition, on no seed did every run on its paths train (5 left out)."]


def test_each_grid_point_is_decomposed_on_its_own_runs():
    low = factorial_table(learning_rate=0.001)
    high = factorial_table(learning_rate=0.1)
    high["test_accuracy"] += np.where(high["variant"] == "v111", 0.01, 0.0)  # +1 pp gain
    effects = compute_ablation_effects(pd.concat([low, high]), ablation=ablation(),
                                       statistics=STATISTICS, grid_keys=["learning_rate"])
    assert list(effects.columns[:3]) == ["variant", "learning_rate", "path"]
    totals = effects[effects["factor"] == "total"].set_index("learning_rate")["effect_pp"]
    assert totals.to_dict() == pytest.approx({0.001: 2.9, 0.1: 3.9})
    sentences = ablation_sentences(effects)
    assert len(sentences) == 2  # noqa: PLR2004
    assert "over v000 at learning_rate=0.001 (better, 5 seeds)" in sentences[0]
    assert "at learning_rate=0.1 " in sentences[1]


def test_the_sentence_gives_the_gain_and_each_changes_part_with_its_share():
    effects = compute_ablation_effects(factorial_table(), ablation=ablation(),
                                       statistics=STATISTICS)
    mean = rows_of(effects, "mean of 6 orders")
    [sentence] = ablation_sentences(effects)
    low, high = t_interval(accuracy_pp(dict.fromkeys(FACTORS, 1)) - BASE)
    hidden = mean.loc["hid"]
    assert sentence.startswith(f"Of v111's +2.90 pp [95% CI {low:+.2f}, {high:+.2f}] over "
                               f"v000 (better, 5 seeds), averaged over the 6 orders of the "
                               f"changes, the switch to ReLU accounts for +0.30 pp [")
    assert (f"and BN in the hidden layers for +1.90 pp [{hidden['ci_low_pp']:+.2f}, "
            f"{hidden['ci_high_pp']:+.2f}] ({hidden['share']:.0%} "
            f"[{hidden['share_ci_low']:.0%}, {hidden['share_ci_high']:.0%}]; "
            f"+1.60 to +2.20 pp by order).") in sentence
    # the activation's effect is the same in every order; the input's is not
    assert "accounts for +0.30 pp [" in sentence and "; +0.30 pp by order)" in sentence
    assert "normalizing the input for +0.70 pp [" in sentence
    assert "; +0.40 to +1.00 pp by order)" in sentence


def test_one_path_is_told_step_by_step():
    path = all_orders()[0]
    effects = compute_ablation_effects(factorial_table(), ablation=ablation([path]),
                                       statistics=STATISTICS)
    [sentence] = ablation_sentences(effects)
    assert ", along v000 > v100 > v110 > v111, the switch to ReLU accounts for +0.30 pp" in (
        sentence)
    assert "by the order" not in sentence


def test_a_saved_and_reloaded_table_gives_the_same_sentences(tmp_path):
    effects = compute_ablation_effects(factorial_table(learning_rate=0.1), ablation=ablation(),
                                       statistics=STATISTICS, grid_keys=["learning_rate"])
    effects.to_csv(tmp_path / "ablation_effects.csv", index=False)
    reloaded = pd.read_csv(tmp_path / "ablation_effects.csv")
    assert ablation_sentences(reloaded) == ablation_sentences(effects)


# --- the parameters and the shipped environment ---------------------------------------

def ablation_environment() -> dict:
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(PROJECT_ROOT / "conf"),
                                          env="ablation", **settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]


def levels(layers: list[dict]) -> dict[str, str]:
    """What a variant's layers are on the three factors: its activation, whether a BN
    normalizes its input, and where its hidden layers' BN sits (none, after, before)."""
    hidden = layers[1:-1]
    relu = any(layer.get("activation") == "relu" for layer in hidden)
    leaky = any(layer["class_name"] == "LeakyReLU" for layer in hidden)
    placements = {
        "before" if (previous["class_name"] == "Dense" and "activation" not in previous)
        else "after"
        for previous, layer in itertools.pairwise(layers[1:])  # layers[1]: the input's
        if layer["class_name"] == "BatchNormalization"}
    assert relu != leaky and len(placements) <= 1, layers
    return {"act": "relu" if relu else "leaky",
            "inp": str(layers[1]["class_name"] == "BatchNormalization"),
            "hid": placements.pop() if placements else "none"}


def test_every_step_of_the_shipped_ablation_changes_the_factor_it_names(base_parameters):
    raw = ablation_environment()
    parameters = ProjectParameters.checked(raw)
    for name in ("baseline", "bn_after_activation", "bn_before_activation"):
        assert raw["variants"][name] == base_parameters["variants"][name]  # as in conf/base
    config = parameters.ablation
    factor_of = {"activation": "act", "input_bn": "inp", "hidden_bn": "hid"}
    assert set(config.factors) == set(factor_of)
    assert config.paths.keys() == {"bn_after_activation", "bn_before_activation"}
    variant_levels = {name: levels(list(variant.layers))
                      for name, variant in parameters.variants.items()}
    for variant, paths in config.paths.items():
        assert {tuple(path) for path in paths} == set(itertools.permutations(factor_of))
        for path in paths:
            previous = variant_levels[config.baseline]
            for factor, step in path.items():
                changed = {key for key, value in variant_levels[step].items()
                           if value != previous[key]}
                assert changed == {factor_of[factor]}, (variant, path, step)
                previous = variant_levels[step]
    # all 12 variants are used, and none twice under two names
    used = {config.baseline} | {s for paths in config.paths.values() for p in paths
                                for s in p.values()}
    assert used == set(parameters.variants)
    assert len({tuple(sorted(v.items())) for v in variant_levels.values()}) == len(used)


@pytest.mark.parametrize(("change", "problem"), [
    (lambda a: a.update(baseline="plain"), "ablation.baseline: names no variant, got 'plain'"),
    (lambda a: a["paths"]["bn_after_activation"][0].update(input_bn="relu_inp_bn"),
     "ablation.paths.bn_after_activation[0].input_bn: names no variant, got 'relu_inp_bn'"),
    (lambda a: a["paths"]["bn_after_activation"][0].pop("activation"),
     "ablation.paths.bn_after_activation[0]: must change each factor once (activation, "
     "input_bn, hidden_bn), got input_bn, hidden_bn"),
    (lambda a: a["paths"]["bn_before_activation"][1].update(input_bn="bn_after_activation"),
     "ablation.paths.bn_before_activation[1]: must end at bn_before_activation, got "
     "'bn_after_activation'"),
    (lambda a: a["paths"]["bn_after_activation"].append(
        dict(a["paths"]["bn_after_activation"][0])),
     "ablation.paths.bn_after_activation: must list each order of the factors once"),
    (lambda a: a["paths"].update(bn_renorm=a["paths"]["bn_after_activation"]),
     "ablation.paths.bn_renorm: names no variant"),
])
def test_an_ablation_naming_what_is_not_there_is_refused_with_its_path(change, problem):
    raw = ablation_environment()
    section = {"baseline": raw["ablation"]["baseline"], "factors": dict(raw["ablation"]["factors"]),
               "paths": {variant: [dict(path) for path in paths]
                         for variant, paths in raw["ablation"]["paths"].items()}}
    change(section)
    with pytest.raises(InvalidParametersError) as refused:
        ProjectParameters.checked({**raw, "ablation": section})
    assert problem in refused.value.problems[0]
