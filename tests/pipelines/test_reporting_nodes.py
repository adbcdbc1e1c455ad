"""Statistics over seeds on constructed inputs with known answers, the verdict, the
plots, the report's content and the page (multi-seed and single-seed)."""

import io
import json
import math
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from scipy import stats

from bn_compare.parameters import DataParams, StatisticsParams, TrainingParams
from bn_compare.pipelines.diagnostics.nodes import summarise_diagnostics
from bn_compare.pipelines.diagnostics.plots import (
    plot_activation_percentiles,
    plot_landscape_smoothness,
)
from bn_compare.pipelines.evaluation.nodes import plot_confusion_matrix
from bn_compare.pipelines.reporting.ablation import compute_ablation_effects
from bn_compare.pipelines.reporting.content import build_report_content
from bn_compare.pipelines.reporting.cross import best_variant_settings
from bn_compare.pipelines.reporting.nodes import (
    build_sweep_table,
    compare_best_settings,
    compute_pairwise_differences,
    compute_setting_interactions,
    compute_variant_statistics,
    epochs_to_target,
    select_best_settings,
)
from bn_compare.pipelines.reporting.plots import (
    plot_learning_curves,
    plot_sweep_curves,
    plot_test_accuracy_intervals,
)
from bn_compare.pipelines.reporting.report import write_report
from bn_compare.pipelines.reporting.stability import compute_selection_stability
from bn_compare.pipelines.reporting.verdict import (
    verdict,
    write_grid_verdict,
    write_verdict,
)
from bn_compare.pipelines.statistics import (
    NO_INTERVAL,
    mean_interval,
    normalizations,
    paired_difference,
    seed_list,
)
from tests.pipelines.test_ablation import ablation, factorial_table
from tests.pipelines.test_diagnostics_nodes import _table as diagnostics_table

STATISTICS = StatisticsParams(confidence=0.95, target_val_accuracy=0.85)
SEEDS = [1, 2, 3, 4, 5]
# bn is the baseline plus 1..5 pp, seed by seed: differences 0.01..0.05, mean 0.03.
BASELINE = [0.80, 0.82, 0.81, 0.83, 0.79]
BN = [b + d for b, d in zip(BASELINE, [0.01, 0.02, 0.03, 0.04, 0.05], strict=True)]
# other is the baseline give or take 1 pp: no difference to speak of.
OTHER = [b + d for b, d in zip(BASELINE, [0.01, -0.01, 0.005, -0.005, 0.0], strict=True)]
# The known answers for differences 1, 2, 3, 4, 5 (n = 5, t(0.975, 4) = 2.776445):
# mean 3, sd sqrt(2.5), CI 3 -/+ 2.776445 * sqrt(2.5) / sqrt(5), t = 3 / sqrt(0.5).
KNOWN_HALF_WIDTH = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
KNOWN_T = 3 / math.sqrt(0.5)
KNOWN_P = 0.013236
BN_LAYER = ("BatchNormalization",)  # what a variant normalizes with (``verdict``)


def _comparison(seeds=SEEDS, **accuracies):
    rows = [{"variant": variant, "seed": seed, "total_params": 10, "trainable_params": 10,
             "non_trainable_params": 0, "final_val_accuracy": acc, "best_val_accuracy": acc,
             "test_accuracy": acc, "test_loss": 1 - acc, "seconds_per_epoch": 1.0,
             "diverged": False, "diverged_at_epoch": pd.NA}
            for variant, values in accuracies.items() for seed, acc in zip(seeds, values)]
    return pd.DataFrame(rows)


def _curves(seeds=SEEDS, **final):
    """Two epochs per run: 0.80, then the run's final accuracy."""
    rows = [{"variant": variant, "seed": seed, "epoch": epoch, "loss": 1.0, "accuracy": 0.5,
             "val_loss": 1 - acc, "val_accuracy": acc, "seconds": 1.0}
            for variant, values in final.items() for seed, last in zip(seeds, values)
            for epoch, acc in ((1, 0.80), (2, last))]
    return pd.DataFrame(rows)


def test_mean_interval_known_answer():
    result = mean_interval([1, 2, 3, 4, 5], 0.95)
    assert result["n"] == 5 and result["mean"] == 3
    assert result["sd"] == pytest.approx(math.sqrt(2.5))
    assert result["ci_low"] == pytest.approx(3 - KNOWN_HALF_WIDTH)
    assert result["ci_high"] == pytest.approx(3 + KNOWN_HALF_WIDTH)
    assert result["ci_high"] == pytest.approx(4.963243, abs=1e-6)


def test_paired_difference_known_answer_agrees_with_scipy():
    first, second = [11, 22, 33, 44, 55], [10, 20, 30, 40, 50]
    result = paired_difference(first, second, 0.95)
    assert result["mean"] == 3
    assert result["ci_low"] == pytest.approx(3 - KNOWN_HALF_WIDTH)
    assert result["t_statistic"] == pytest.approx(KNOWN_T)
    assert result["p_value"] == pytest.approx(KNOWN_P, abs=1e-6)
    reference = stats.ttest_rel(first, second)
    assert result["p_value"] == pytest.approx(reference.pvalue)


def test_one_value_has_no_spread_and_no_test():
    assert mean_interval([0.8], 0.95)["mean"] == 0.8
    result = paired_difference([0.8], [0.7], 0.95)
    assert result["mean"] == pytest.approx(0.1)
    for key in ("sd", "ci_low", "ci_high", "t_statistic", "p_value"):
        assert math.isnan(result[key]), key


def test_identical_differences_have_no_interval_and_no_finding():
    """Zero spread is no certainty (more cases: tests/pipelines/test_statistics.py)."""
    result = paired_difference([2, 3, 4], [1, 2, 3], 0.95, 2.0)
    assert (result["mean"], result["sd"], result["distinct"]) == (1, 0, 1)
    for key in ("ci_low", "ci_high", "t_statistic", "p_value", "equivalence_p"):
        assert math.isnan(result[key]), key
    assert result["finding"] == NO_INTERVAL == "no interval (fewer than 3 distinct values)"


# Differences 0.1, 0.3, 0.2, 0.4, 0.0 pp, by hand: mean 0.2 pp, sd sqrt(0.025) pp, standard
# error sqrt(0.005) = 0.0707107 pp, t(0.95, 4) = 2.131847: the 90% interval 0.2 -/+ 0.150745
# pp lies inside ±0.5 pp. The one-sided tests: t = (0.2 + 0.5) / 0.0707107 = 9.899 and
# t = (0.2 - 0.5) / 0.0707107 = -4.24264; for 4 degrees of freedom P(T <= t) = 1/2 + 3/4 x
# (1 - x^2 / 3) with x = t / sqrt(t^2 + 4), so the larger p is P(T <= -4.24264) = 0.006618.
SMALL_DIFFERENCES = [0.001, 0.003, 0.002, 0.004, 0.000]


def test_equivalence_two_one_sided_tests_known_answer():
    result = paired_difference([0.8 + d for d in SMALL_DIFFERENCES], [0.8] * 5, 0.95, 0.005)
    assert result["equivalence_low"] == pytest.approx(0.002 - 0.00150745, abs=1e-8)
    assert result["equivalence_high"] == pytest.approx(0.002 + 0.00150745, abs=1e-8)
    assert result["equivalence_p"] == pytest.approx(0.006618, abs=1e-6)
    # its 95% interval excludes zero too: equivalence is said first, the number beside it
    assert result["ci_low"] > 0 and result["finding"] == "equivalent"


@pytest.mark.parametrize(("first", "second", "margin", "finding"), [
    (BN, BASELINE, 0.005, "better"),          # +3 pp, 90% interval far outside ±0.5 pp
    (BASELINE, BN, 0.005, "worse"),
    (OTHER, BASELINE, 0.005, "not conclusive"),  # mean 0, 90% interval -/+ 0.754 pp
    (OTHER, BASELINE, 0.01, "equivalent"),       # ... inside ±1 pp
    ([0.8], [0.7], 0.005, NO_INTERVAL),          # one seed
    ([2, 3, 4], [1, 2, 3], 2.0, NO_INTERVAL),    # every pair 1 apart: no spread
    ([2, 3.1, 4.2], [1, 2, 3], 2.0, "equivalent"),  # 1, 1.1, 1.2: 90% CI 1.1 -/+ 0.17
])
def test_every_difference_is_one_of_five_findings(first, second, margin, finding):
    assert paired_difference(first, second, 0.95, margin)["finding"] == finding


def test_epochs_to_target_is_the_first_epoch_reaching_it():
    curves = _curves(seeds=[1, 2], a=[0.86, 0.84])
    assert epochs_to_target(curves, 0.85)["epochs"].tolist()[0] == 2
    assert math.isnan(epochs_to_target(curves, 0.85)["epochs"].tolist()[1])
    assert epochs_to_target(curves, 0.80)["epochs"].tolist() == [1, 1]


def test_variant_statistics_per_variant_and_metric():
    table = compute_variant_statistics(_comparison(baseline=BASELINE, bn=BN),
                                       _curves(baseline=BASELINE, bn=BN), statistics=STATISTICS)
    assert table["variant"].unique().tolist() == ["baseline", "bn"]
    row = table.set_index(["variant", "metric"]).loc[("baseline", "test_accuracy")]
    assert row["mean"] == pytest.approx(np.mean(BASELINE))
    assert row["sd"] == pytest.approx(np.std(BASELINE, ddof=1))
    half = 2.7764451051977987 * np.std(BASELINE, ddof=1) / math.sqrt(5)
    assert row["ci_high"] - row["mean"] == pytest.approx(half)
    epochs = table.set_index(["variant", "metric"]).loc[("bn", "epochs_to_val_accuracy_0.85")]
    reached = sum(acc >= 0.85 for acc in BN)
    assert (epochs["seeds"], epochs["n"], epochs["mean"]) == (5, reached, 2.0)


def test_pairwise_difference_is_variant_minus_the_earlier_declared_one():
    table = compute_pairwise_differences(_comparison(baseline=BASELINE, bn=BN, other=OTHER),
                                         statistics=STATISTICS)
    assert list(zip(table["variant"], table["versus"], strict=True)) == [
        ("bn", "baseline"), ("other", "baseline"), ("other", "bn")]
    bn = table.iloc[0]
    assert bn["n"] == 5 and bn["mean_difference"] == pytest.approx(0.03)
    assert bn["ci_low"] == pytest.approx(0.03 - KNOWN_HALF_WIDTH / 100)
    assert bn["p_value"] == pytest.approx(KNOWN_P, abs=1e-6)
    assert bn["test"] == "paired t-test, two-sided"
    assert table.iloc[1]["ci_low"] < 0 < table.iloc[1]["ci_high"]


def test_pairs_use_only_the_seeds_both_variants_ran():
    comparison = pd.concat([_comparison(baseline=BASELINE, bn=BN),
                            _comparison(seeds=[9], baseline=[0.5])])
    assert compute_pairwise_differences(comparison, statistics=STATISTICS).iloc[0]["n"] == 5


def _texts(said):
    return [item["text"] for item in said]


def _per_variant(means, diverged=None):
    """What ``verdict`` reads: sweep table rows, one per variant (diverged: (count, runs))."""
    counts = {v: (diverged or {}).get(v, (0, 0)) for v in means}
    return pd.DataFrame([{"variant": v, "test_accuracy_mean": mean, "diverged": counts[v][0],
                          "runs": counts[v][1]} for v, mean in means.items()])


def _verdict_of(norms=None, **accuracies):
    """``verdict`` over runs with these test accuracies per seed; ``norms``: the
    normalization layers per variant (default: all but ``baseline`` use BN)."""
    comparison = _comparison(**accuracies)
    pairwise = compute_pairwise_differences(comparison, statistics=STATISTICS)
    means = comparison.groupby("variant")["test_accuracy"].mean().to_dict()
    norms = norms or {v: () if v == "baseline" else BN_LAYER for v in accuracies}
    return verdict(_per_variant(means), pairwise, norms), pairwise, means


def test_verdict_says_what_is_conclusive_and_what_is_not():
    said, _, _ = _verdict_of(baseline=BASELINE, bn_after=BN, bn_before=OTHER)
    answers, details = _texts(said["answers"]), _texts(said["comparisons"])
    assert answers[0].startswith("Does BatchNormalization help? Not conclusively: 1 of 2")
    # bn_after - bn_before = 0, 3, 2.5, 4.5, 5 pp: mean 3, sd sqrt(3.875), p = 0.0271; its
    # 95% interval excludes zero, but Holm's correction over the 3 pairs doubles its p (the
    # second smallest of three: 0.0132 x 3, then 0.0271 x 2 = 0.054)
    assert answers[1] == ("Where should it go? Best placement: not conclusive. bn_after ranks "
                          "first on the paired differences, but its lead is not beyond the "
                          "seed-to-seed noise after Holm's correction: +3.00 pp over "
                          "bn_before (CI +0.56 to +5.44, Holm p = 0.054).")
    assert details[0].startswith("bn_after vs baseline: +3.00 pp test accuracy (95% CI +1.04")
    assert details[0].endswith("paired t-test p = 0.013, 0.04 after Holm's correction for 3 "
                               "comparisons, 5 seeds): better.")
    assert details[1].endswith("not conclusive: the interval includes zero, and a difference "
                               "of ±0.5 pp is not ruled out.")
    assert details[2].endswith("p = 0.027, 0.054 after Holm's correction for 3 comparisons, 5 "
                               "seeds): not conclusive: the interval excludes zero, but not "
                               "after Holm's correction for 3 comparisons, and a difference of "
                               "±0.5 pp is not ruled out.")


def test_two_placements_equivalent_with_a_detectable_difference_say_both():
    bn_before = [b - d for b, d in zip(BN, SMALL_DIFFERENCES, strict=True)]
    said, pairwise, means = _verdict_of(baseline=BASELINE, bn_after=BN, bn_before=bn_before)
    answers, details = _texts(said["answers"]), _texts(said["comparisons"])
    assert answers[0].startswith("Does BatchNormalization help? Yes. Every variant with")
    # p = 0.047 is the largest of the three, so Holm leaves it: the difference is
    # detectable, and its 90% interval lies inside ±0.5 pp (TOST p 0.0066 x 3 = 0.020)
    assert answers[1] == ("Where should it go? Best placement: bn_after or bn_before, "
                          "equivalent within ±0.5 pp; a small difference of +0.20 pp over "
                          "bn_before (CI +0.00 to +0.40) is detectable.")
    assert details[2] == ("bn_before vs bn_after: -0.20 pp test accuracy (95% CI -0.40 to -0.00 "
                          "pp, paired t-test p = 0.047, 0.047 after Holm's correction for 3 "
                          "comparisons, 5 seeds): equivalent within ±0.5 pp; a small "
                          "difference of -0.20 pp is detectable (90% CI -0.35 to -0.05 pp).")
    assert not any("toss-up" in text for text in answers + details)
    placements = {v: m for v, m in means.items() if v != "baseline"}
    no_bn_effect = verdict(_per_variant(placements), pairwise[pairwise["versus"] != "baseline"],
                           {"bn_after": (), "bn_before": BN_LAYER})
    assert no_bn_effect["answers"][0]["text"] == (
        "Does BatchNormalization help? No difference that matters: every variant with "
        "BatchNormalization is equivalent within ±0.5 pp of every variant without it; a "
        "small difference is detectable in 1 of 1 comparisons (see below).")


def test_with_layer_normalization_the_question_is_normalization_and_which_kind():
    """A LayerNormalization variant is normalized, not one "without BN"."""
    said, _, _ = _verdict_of(
        {"baseline": (), "bn_after": BN_LAYER, "bn_before": BN_LAYER,
         "layer_norm": ("LayerNormalization",)},
        baseline=BASELINE, bn_after=BN, bn_before=OTHER, layer_norm=BN)
    questions = [answer["question"] for answer in said["answers"]]
    assert questions == ["Does normalization help?", "Which kind?",
                         "Where should BatchNormalization go?", "Which variant is best?"]
    helps = said["answers"][0]
    assert {(d["first"], d["second"]) for d in helps["differences"]} == {
        ("bn_after", "baseline"), ("layer_norm", "baseline"), ("bn_before", "baseline")}
    # +3 pp (p = 0.013) twice, but six pairs at one point: Holm's p for each is 0.066
    assert helps["text"].startswith("Does normalization help? Not conclusively: no comparison")


def test_verdict_with_one_seed_gives_no_evidence():
    comparison = _comparison(seeds=[42], baseline=[0.82], bn=[0.85])
    pairwise = compute_pairwise_differences(comparison, statistics=STATISTICS)
    said = verdict(_per_variant({"baseline": 0.82, "bn": 0.85}), pairwise,
                   {"baseline": (), "bn": BN_LAYER})
    answers, details = _texts(said["answers"]), _texts(said["comparisons"])
    assert "cannot be said from one seed" in answers[0]
    assert details == ["bn vs baseline: +3.00 pp test accuracy (one seed: no interval, "
                       "no test)."]
    numbers = said["comparisons"][0]["difference"]
    assert numbers["mean_difference"] == pytest.approx(0.03)
    assert numbers["ci_low"] is None and numbers["p_value"] is None  # JSON has no NaN


def test_the_verdict_node_gives_each_answer_with_the_numbers_it_rests_on():
    comparison = _comparison(baseline=BASELINE, bn=BN)
    statistics = compute_variant_statistics(comparison, _curves(baseline=BASELINE, bn=BN),
                                            statistics=STATISTICS)
    pairwise = compute_pairwise_differences(comparison, statistics=STATISTICS)
    said = write_verdict(statistics, pairwise, _accounting(["baseline", "bn"]))
    assert json.loads(json.dumps(said, allow_nan=False)) == said  # plain JSON
    helps, best = said["answers"]
    assert helps["question"] == "Does BatchNormalization help?"
    assert helps["text"].startswith("Does BatchNormalization help? Yes. Every variant with")
    assert helps["means"] == pytest.approx({"bn": np.mean(BN), "baseline": np.mean(BASELINE)})
    (difference,) = helps["differences"]
    assert (difference["first"], difference["second"], difference["n"]) == ("bn", "baseline", 5)
    assert difference["mean_difference"] == pytest.approx(0.03)
    assert difference["ci_low"] == pytest.approx(0.03 - KNOWN_HALF_WIDTH / 100)
    assert difference["p_value"] == pytest.approx(KNOWN_P, abs=1e-6)
    assert difference["conclusive"] and difference["finding"] == "better"
    assert best["question"] == "Which variant is best?"
    assert best["text"] == ("Best variant: bn, beyond the seed-to-seed noise: +3.00 pp over "
                            "baseline (CI +1.04 to +4.96).")
    assert best["differences"] == [difference]
    assert said["comparisons"] == [{"text": "bn vs baseline: +3.00 pp test accuracy (95% CI "
                                            "+1.04 to +4.96 pp, paired t-test p = 0.013, 5 "
                                            "seeds): better.",
                                    "difference": difference}]


def test_plots_show_a_band_only_with_several_seeds():
    many = plot_learning_curves(_curves(baseline=BASELINE, bn=BN), statistics=STATISTICS)
    one = plot_learning_curves(_curves(seeds=[42], baseline=[0.8]), statistics=STATISTICS)
    assert len(many.axes[0].collections) == 2 and not one.axes[0].collections
    assert "confidence interval of the mean" in many.get_suptitle()
    assert "one seed per variant: no band" in one.get_suptitle()
    comparison = _comparison(baseline=BASELINE, bn=BN)
    dots = plot_test_accuracy_intervals(
        comparison, compute_variant_statistics(comparison, _curves(baseline=BASELINE, bn=BN),
                                               statistics=STATISTICS))
    assert [t.get_text() for t in dots.axes[0].get_yticklabels()] == ["baseline", "bn"]


def _cut_off(figure):
    """What ``figure`` draws past its own edges, by name: each axes (with its title, labels,
    ticks and legend) by its title, the suptitle and other texts by their text; what the
    saved PNG would cut."""
    figure.set_dpi(120)  # the catalog's: text and layout differ by a pixel between dpis
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)  # the layout, as savefig does it
    edge = figure.bbox.padded(0.5)  # half a pixel of rounding
    cut = []
    for artist in figure.get_children():
        if artist is figure.patch or not artist.get_visible() or not artist.get_in_layout():
            continue
        box = artist.get_tightbbox(renderer)
        if not (edge.contains(box.x0, box.y0) and edge.contains(box.x1, box.y1)):
            cut.append(artist.get_title() if isinstance(artist, Axes) else artist.get_text()
                       if isinstance(artist, Text) else type(artist).__name__)
    return cut


def test_no_figure_cuts_off_its_own_text():
    """Every plot with the longest names the studies have (the sweep's suptitle, wider than
    its figure, used to be cut at both edges)."""
    long = {"baseline": "leaky_hidden_bn_before", "bn": "bn_before_activation_renorm"}
    comparison = pd.DataFrame([row for v in SWEEP_VARIANTS
                               for row in _sweep_runs(v, SWEEP_RATES[:3], SWEEP_SEEDS)])
    curves = pd.DataFrame([{**row, "epoch": epoch, "val_accuracy": 0.8, "val_loss": 0.5}
                           for row in comparison.to_dict("records") for epoch in (1, 2)])
    statistics = compute_variant_statistics(comparison, curves, statistics=STATISTICS,
                                            grid_keys=SWEEP_KEYS)
    sweep = build_sweep_table(statistics, SWEEP_KEYS)
    two_keys = pd.concat([comparison.assign(optimizer=name) for name in ("SGD", "Adam")])
    two_key_sweep = build_sweep_table(compute_variant_statistics(
        two_keys, pd.concat([curves.assign(optimizer=name) for name in ("SGD", "Adam")]),
        statistics=STATISTICS, grid_keys=(*SWEEP_KEYS, "optimizer")), (*SWEEP_KEYS, "optimizer"))
    diagnostics = summarise_diagnostics(
        diagnostics_table().replace({"variant": long}).assign(learning_rate=0.1),
        statistics=STATISTICS, grid_keys=SWEEP_KEYS)
    figures = {
        "learning curves": plot_learning_curves(curves, statistics=STATISTICS),
        "learning curves across the grid": plot_learning_curves(
            curves, statistics=STATISTICS, grid_keys=SWEEP_KEYS),
        "intervals at the best settings": plot_test_accuracy_intervals(
            comparison, statistics, select_best_settings(sweep, SWEEP_KEYS),
            grid_keys=SWEEP_KEYS),
        "sweep curves": plot_sweep_curves(sweep, SWEEP_KEYS),
        "sweep curves of two keys": plot_sweep_curves(two_key_sweep,
                                                      (*SWEEP_KEYS, "optimizer")),
        "activation percentiles": plot_activation_percentiles(diagnostics, SWEEP_KEYS),
        "landscape smoothness": plot_landscape_smoothness(diagnostics, SWEEP_KEYS),
        "no diagnostics": plot_landscape_smoothness(diagnostics.iloc[:0]),
        "confusion matrix": plot_confusion_matrix(
            np.arange(100) % 10, np.arange(100) % 7, list(DataParams().class_names),
            title="leaky_hidden_bn_before at the best variant's best for batch_size=8, seed 1009"),
    }
    assert {name: _cut_off(figure) for name, figure in figures.items()} == dict.fromkeys(
        figures, [])


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


LAYERS = [{"class_name": "Flatten"}, {"class_name": "Dense", "units": 10}]
VECTORS = ("gamma", "beta", "moving_mean", "moving_variance", "moving_stddev", "renorm_mean",
           "renorm_stddev")


def _variants(names):
    """``baseline`` without BatchNormalization, every other variant with it."""
    return {v: {"layers": LAYERS if v == "baseline"
                else [{"class_name": "BatchNormalization"}, *LAYERS]} for v in names}


def _accounting(names):
    """``parameter_accounting`` of ``_variants(names)``: a Dense layer, after a
    BatchNormalization layer but in ``baseline``."""
    return pd.DataFrame([
        {"variant": v, "layer": name, "class_name": cls, "normalization": kind,
         "total": total, "trainable": trainable, "non_trainable": total - trainable,
         "features": 784 if kind else 0, "gamma": 0, "beta": 0, "moving_mean": 0,
         "moving_variance": 0}
        for v in names for name, cls, kind, total, trainable in (
            [("batch_normalization", "BatchNormalization", "BatchNormalization", 3136, 1568)]
            if v != "baseline" else []) + [("dense", "Dense", "", 7850, 7850)]])


def test_which_variants_normalize_is_read_from_the_accounting():
    accounting = pd.DataFrame({  # a CSV file gives the empty normalization back as NaN
        "variant": ["plain", "plain", "norms", "norms", "norms"],
        "normalization": [np.nan, np.nan, "GroupNormalization", np.nan, "BatchNormalization"]})
    assert normalizations(accounting) == {
        "plain": (), "norms": ("GroupNormalization", "BatchNormalization")}


def _content(seeds, accounting=None, ablation_effects=None, **accuracies):
    """``report_content`` of runs with these test accuracies per seed."""
    comparison = _comparison(seeds=seeds, **accuracies)
    statistics = compute_variant_statistics(comparison, _curves(seeds=seeds, **accuracies),
                                            statistics=STATISTICS)
    pairwise = compute_pairwise_differences(comparison, statistics=STATISTICS)
    accounting = _accounting(accuracies) if accounting is None else accounting
    return build_report_content(
        comparison, statistics, pairwise, accounting,
        write_verdict(statistics, pairwise, accounting), ablation_effects=ablation_effects,
        data=DataParams(class_names=list("abcdefghij")), training=TrainingParams(epochs=2),
        statistics=STATISTICS, study="seeds",
        provenance={"commit": "75a1027", "machine": "AMD EPYC, 2 cores, AVX2"},
        layers={v: spec["layers"] for v, spec in _variants(accuracies).items()})


def test_the_architectures_name_every_kind_of_normalization_the_accounting_has():
    """Renorm's three more vectors, LayerNormalization's two, and a kind the page has no
    short name for under its own (none left out)."""
    norms = [("BatchNormalization", 30, {name: 30 for name in VECTORS}, 210, 60),
             ("LayerNormalization", 20, {"gamma": 20, "beta": 20}, 40, 40),
             ("GroupNormalization", 10, {"gamma": 10, "beta": 10}, 20, 20)]
    accounting = pd.DataFrame([
        {"variant": "bn", "layer": kind.lower(), "class_name": kind, "normalization": kind,
         "features": features, **dict.fromkeys(VECTORS, 0), **vectors, "total": total,
         "trainable": trainable, "non_trainable": total - trainable}
        for kind, features, vectors, total, trainable in norms]
        + [{"variant": v, "layer": "dense", "class_name": "Dense", "normalization": np.nan,
            "features": 0, **dict.fromkeys(VECTORS, 0), "total": 7850, "trainable": 7850,
            "non_trainable": 0} for v in ("baseline", "bn")])
    section = _content(SEEDS, accounting, baseline=BASELINE, bn=BN)["architectures"]
    assert section["norm_lines"] == [
        "bn: 30 normalised features x 7 = 210 BN values, 60 trainable and 150 not.",
        "bn: 20 normalised features x 2 = 40 LayerNormalization values, 40 trainable "
        "and 0 not.",
        "bn: 10 normalised features x 2 = 20 GroupNormalization values, 20 trainable "
        "and 0 not."]
    table = section["norm_table"]
    assert {"class_name", "renorm_mean"} <= {field["name"] for field in table["schema"]["fields"]}
    assert [row["class_name"] for row in table["data"]] == [kind for kind, *_ in norms]
    assert section["other_norms"]


def test_the_content_is_plain_json_with_what_the_page_says():
    content = _content([42], baseline=[0.82], bn=[0.85])
    assert json.loads(json.dumps(content, allow_nan=False)) == content  # NaN as null
    assert content["one_seed"] and content["seeds"] == [42]
    assert content["verdict"]["answers"][0].startswith("Does BatchNormalization help? cannot")
    assert content["setup"]["training"]["epochs"] == "2"
    (row,) = content["differences"]["data"]
    assert (row["comparison"], row["seeds"], row["95% CI (pp)"]) == ("bn − baseline", 1, "–")
    assert content["figures"] == ["learning_curves", "test_accuracy_intervals"]
    assert content["why"] is None  # no diagnostics given: no section "Why"


def test_the_ablation_table_gives_each_effect_with_its_interval_and_share():
    """Its 21 columns, too many for the page, shown as 12 (all of them: the CSV file)."""
    effects = compute_ablation_effects(factorial_table(), ablation=ablation(),
                                       statistics=STATISTICS)
    table = _content(SEEDS, ablation_effects=effects, baseline=BASELINE,
                     bn=BN)["ablation"]["table"]
    assert [field["name"] for field in table["schema"]["fields"]] == [
        "variant", "path", "factor", "change", "comparison", "seeds", "diverged", "effect (pp)",
        "95% CI (pp)", "p (Holm)", "share of the gain", "finding"]
    total = next(row for row in table["data"] if row["factor"] == "total")
    assert (total["comparison"], total["effect (pp)"], total["share of the gain"]) == (
        "v111 − v000", 2.9, "100% [100%, 100%]")
    gain = effects[effects["factor"] == "total"].iloc[0]
    assert total["95% CI (pp)"] == f"{gain['ci_low_pp']:+.2f} to {gain['ci_high_pp']:+.2f}"


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _report(seeds, **accuracies):
    """The page (rendered from its content after a trip through JSON) and its images."""
    comparison = _comparison(seeds=seeds, **accuracies)
    curves = _curves(seeds=seeds, **accuracies)
    statistics = compute_variant_statistics(comparison, curves, statistics=STATISTICS)
    content = json.loads(json.dumps(_content(seeds, **accuracies)))
    html = write_report(
        content, learning_curves=_png(plot_learning_curves(curves, statistics=STATISTICS)),
        test_accuracy_intervals=_png(plot_test_accuracy_intervals(comparison, statistics)))
    images = _Images()
    images.feed(html)
    return html, images.sources


# A report across a grid as lr_sweep writes it: three variants at seven learning rates with
# three seeds each (the baseline diverging at the largest two), each variant's best
# confirmed on ten fresh seeds, and every variant again at the best variant's best.
SWEEP_VARIANTS = {  # variant: (its accuracy at its best learning rate, that rate)
    "baseline": (0.880, 0.1), "bn_after_activation": (0.890, 0.1),
    "bn_before_activation": (0.893, 0.3)}
SWEEP_RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
SWEEP_SEEDS, CONFIRM_SEEDS = [42, 43, 44], list(range(1000, 1010))
SWEEP_KEYS = ("learning_rate",)
SWEEP_LAYERS = {  # conf/base's variants
    "baseline": ["Flatten", ("Dense", 300, "he_normal"), "LeakyReLU", ("Dense", 100, "he_normal"),
                 "LeakyReLU", ("Dense", 10, "softmax")],
    "bn_after_activation": ["Flatten", "BatchNormalization", ("Dense", 300, "relu"),
                            "BatchNormalization", ("Dense", 100, "relu"), "BatchNormalization",
                            ("Dense", 10, "softmax")],
    "bn_before_activation": ["Flatten", "BatchNormalization", ("Dense", 300, "he_normal"),
                             "BatchNormalization", "Activation", ("Dense", 100, "he_normal"),
                             "BatchNormalization", "Activation", ("Dense", 10, "softmax")]}


def _layer_spec(layer):
    if isinstance(layer, str):
        return {"class_name": layer}
    name, units, how = layer
    return {"class_name": name, "units": units, **(
        {"kernel_initializer": how} if how == "he_normal" else {"activation": how})}


def _sweep_accounting():
    """Three BatchNormalization layers (784, 300 and 100 features) in each BN variant."""
    dense = [("dense", 235500), ("dense_1", 30100), ("dense_2", 1010)]
    norms = [("batch_normalization", 784), ("batch_normalization_1", 300),
             ("batch_normalization_2", 100)]
    return pd.DataFrame(
        [{"variant": v, "layer": name, "class_name": "Dense", "normalization": "",
          "total": total, "trainable": total, "non_trainable": 0, "features": 0,
          **dict.fromkeys(VECTORS[:4], 0)} for v in SWEEP_VARIANTS for name, total in dense]
        + [{"variant": v, "layer": name, "class_name": "BatchNormalization",
            "normalization": "BatchNormalization", "total": 4 * n, "trainable": 2 * n,
            "non_trainable": 2 * n, "features": n, **dict.fromkeys(VECTORS[:4], n)}
           for v in SWEEP_VARIANTS if v != "baseline" for name, n in norms])


def _sweep_runs(variant, rates, seeds, **columns):
    """Runs of ``variant``: its accuracy falls 1 pp per step of the grid from its best, and
    moves by seed, differently in each variant; the baseline diverges at 1, and at 0.3 but
    for every third seed."""
    (peak, best), factor = SWEEP_VARIANTS[variant], 2 + list(SWEEP_VARIANTS).index(variant)
    rows = []
    for rate in rates:
        steps = abs(SWEEP_RATES.index(rate) - SWEEP_RATES.index(best))
        for seed in seeds:
            accuracy = peak - 0.01 * steps + 0.002 * ((seed * factor + steps) % 5 - 2)
            lost = variant == "baseline" and (rate == 1.0 or (rate == 0.3 and seed % 3 > 0))
            rows.append({"variant": variant, "learning_rate": rate, "seed": seed,
                         "total_params": 266610, "trainable_params": 266610,
                         "non_trainable_params": 0, "final_val_accuracy": accuracy + 0.004,
                         "best_val_accuracy": accuracy + 0.006, "test_accuracy": accuracy,
                         "test_loss": 0.33 + (0.9 - accuracy), "seconds_per_epoch": 3.1,
                         "diverged": lost, "diverged_at_epoch": 3 if lost else pd.NA,
                         **columns})
    return rows


def _sweep():
    """The ``report_content`` of ``SWEEP_VARIANTS`` across ``SWEEP_RATES``, built as the
    pipeline's nodes build it, and the tables its figures are drawn from."""
    comparison = pd.DataFrame([row for v in SWEEP_VARIANTS
                               for row in _sweep_runs(v, SWEEP_RATES, SWEEP_SEEDS)])
    curves = pd.DataFrame([{**row, "epoch": epoch, "loss": 0.4, "accuracy": 0.85,
                            "val_loss": 0.35, "seconds": 3.1,
                            "val_accuracy": row["final_val_accuracy"] - 0.02 * (10 - epoch)}
                           for row in comparison.to_dict("records") for epoch in range(1, 11)])
    statistics = compute_variant_statistics(comparison, curves, statistics=STATISTICS,
                                            grid_keys=SWEEP_KEYS)
    pairwise = compute_pairwise_differences(comparison, statistics=STATISTICS,
                                            grid_keys=SWEEP_KEYS)
    sweep = build_sweep_table(statistics, SWEEP_KEYS)
    best = select_best_settings(sweep, SWEEP_KEYS)
    confirmation = pd.DataFrame([row for v, (_, rate) in SWEEP_VARIANTS.items()
                                 for row in _sweep_runs(v, [rate], CONFIRM_SEEDS)])
    winner = best_variant_settings(best, SWEEP_KEYS).iloc[0]
    cross = pd.DataFrame([row for v in SWEEP_VARIANTS for row in _sweep_runs(
        v, [winner["learning_rate"]], CONFIRM_SEEDS, at_best_of=winner["variant"])])
    differences = compare_best_settings(confirmation, best, statistics=STATISTICS,
                                        grid_keys=SWEEP_KEYS)
    accounting = _sweep_accounting()
    said = write_grid_verdict(sweep, best, differences, pairwise, accounting,
                              grid_keys=SWEEP_KEYS, confirmation_table=confirmation)
    content = build_report_content(
        comparison, statistics, pairwise, accounting, said, sweep_table=sweep,
        best_settings=best, best_setting_differences=differences,
        confirmation_table=confirmation, cross_confirmation_table=cross,
        same_setting_differences=compute_pairwise_differences(
            cross, statistics=STATISTICS, grid_keys=SWEEP_KEYS),
        selection_stability=compute_selection_stability(
            comparison, statistics=STATISTICS, grid_keys=SWEEP_KEYS, resamples=200),
        setting_interactions=compute_setting_interactions(
            comparison, statistics=STATISTICS, grid_keys=SWEEP_KEYS),
        data=DataParams(), training=TrainingParams(epochs=10), statistics=STATISTICS,
        study="lr_sweep", provenance={"commit": "75a1027 with uncommitted changes",
                                      "machine": "AMD EPYC, 2 cores, AVX2"},
        layers={v: list(map(_layer_spec, layers)) for v, layers in SWEEP_LAYERS.items()},
        grid_keys=SWEEP_KEYS)
    return json.loads(json.dumps(content)), {
        "comparison": comparison, "curves": curves, "statistics": statistics, "best": best,
        "sweep": sweep}


def _sweep_report():
    """The page of ``_sweep``'s content, with its figures, and its images."""
    content, tables = _sweep()
    html = write_report(
        content, learning_curves=_png(plot_learning_curves(
            tables["curves"], statistics=STATISTICS, grid_keys=SWEEP_KEYS)),
        test_accuracy_intervals=_png(plot_test_accuracy_intervals(
            tables["comparison"], tables["statistics"], tables["best"], grid_keys=SWEEP_KEYS)),
        sweep_curves=_png(plot_sweep_curves(tables["sweep"], SWEEP_KEYS)))
    images = _Images()
    images.feed(html)
    return html, images.sources


@pytest.mark.parametrize(("seeds", "said"), [
    ([42], "42"), ([1000, 1001], "1000, 1001"), ([44, 42, 43], "42–44"),
    ([1, 2, 3, 7, 8], "1–3, 7, 8")])
def test_seeds_are_said_in_order_three_in_a_row_as_a_range(seeds, said):
    assert seed_list(seeds) == said


def test_a_grid_report_says_which_seeds_each_answer_rests_on():
    """The answers at the best settings rest on the confirmation's ten seeds, not on the
    grid's three: the first answer, the sentence under the answers and the setup say so."""
    content, _ = _sweep()
    html = write_report(content, **dict.fromkeys(
        ["learning_curves", "test_accuracy_intervals", "sweep_curves"], b""))
    first, *others = content["verdict"]["answers"]
    assert first.startswith("At each variant's best learning rate, on 10 confirmation seeds "
                            "(1000–1009): Does BatchNormalization help? Yes.")
    assert [answer[:20] for answer in others] == ["Where should it go? ", "Best variant: bn_bef"]
    assert content["grid"]["basis"] == (
        "The answers above rest on 10 fresh confirmation seeds (1000–1009), each variant "
        "trained again at its best learning rate, chosen on the validation accuracy of the "
        "grid's 3 seeds (42–44).")
    assert not content["one_seed"]
    assert "seeds per variant" not in html
    assert "Seeds: 42, 43, 44; confirmation: 1000–1009." in html


def test_report_reads_without_the_code():
    html, images = _report(SEEDS, baseline=BASELINE, bn=BN)
    assert html.startswith("<!DOCTYPE html>")
    assert "Does BatchNormalization help? Yes." in html
    assert "55,000 training, 5,000 validation" in html
    assert "784 normalised features x 4 = 3,136 BN values, 1,568 trainable" in html
    assert "5 seeds per variant. Intervals are 95% t-intervals" in html
    assert "+1.04 to +4.96" in html  # the pairwise CI in percentage points
    assert len(images) == 2 and all(s.startswith("data:image/png;base64,") for s in images)


def test_report_with_one_seed_renders_and_says_no_intervals():
    html, images = _report([42], baseline=[0.82], bn=[0.85])
    assert "Only one seed per variant was run: no standard deviation, interval" in html
    assert "cannot be said from one seed" in html
    assert len(images) == 2


def test_verdict_counts_diverged_runs_as_instability_not_as_accuracy():
    comparison = _comparison(seeds=[1, 2, 3], baseline=[0.80, 0.10, 0.10],
                             bn=[0.85, 0.86, 0.84])
    comparison.loc[(comparison["variant"] == "baseline") & (comparison["seed"] > 1),
                   "diverged"] = True
    pairwise = compute_pairwise_differences(comparison, statistics=STATISTICS)
    assert (pairwise.iloc[0]["n"], pairwise.iloc[0]["diverged"]) == (1, 2)
    said = verdict(_per_variant({"baseline": 0.80, "bn": 0.85},
                                {"baseline": (2, 3), "bn": (0, 3)}),
                   pairwise, {"baseline": (), "bn": BN_LAYER})
    answers, details = _texts(said["answers"]), _texts(said["comparisons"])
    assert answers[0] == (
        "Does BatchNormalization help? cannot be said from the accuracies: fewer than two "
        "seeds trained on both sides without diverging. Stability: every run with "
        "BatchNormalization trained, while runs without it diverged (baseline 2 of 3).")
    assert answers[1].startswith("Best variant: no evidence: no comparison has an interval")
    assert "+5.00 pp over baseline (no interval)" in answers[1]
    assert details[-1] == "baseline: 2 of 3 runs diverged and are left out of its figures."
    assert said["answers"][0]["diverged"] == {"bn": {"diverged": 0, "runs": 3},
                                              "baseline": {"diverged": 2, "runs": 3}}
    assert said["comparisons"][-1] == {"text": details[-1], "variant": "baseline",
                                       "diverged": 2, "runs": 3}
