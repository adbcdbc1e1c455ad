"""Statistics over seeds, their plots and the report."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from . import report
from .statistics import mean_interval, paired_difference
from .verdict import verdict

RUN_METRICS = ["final_val_accuracy", "best_val_accuracy", "test_accuracy", "test_loss"]
PAIRED_METRIC = "test_accuracy"
PAIRED_TEST = "paired t-test, two-sided"


def _variants(table: pd.DataFrame) -> list[str]:
    return list(pd.unique(table["variant"]))


def target_metric(statistics: dict[str, Any]) -> str:
    return f"epochs_to_val_accuracy_{float(statistics['target_val_accuracy']):g}"


def epochs_to_target(learning_curves: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per run, the first epoch whose validation accuracy reaches ``target`` (NaN when
    none does)."""
    def first_epoch(curve: pd.DataFrame) -> float:
        reached = curve.loc[curve["val_accuracy"] >= target, "epoch"]
        return float(reached.min()) if len(reached) else np.nan

    rows = [{"variant": variant, "seed": seed, "epochs": first_epoch(curve)}
            for (variant, seed), curve in learning_curves.groupby(["variant", "seed"],
                                                                  sort=False)]
    return pd.DataFrame(rows, columns=["variant", "seed", "epochs"])


def compute_variant_statistics(
    comparison_table: pd.DataFrame,
    learning_curve_table: pd.DataFrame,
    statistics: dict[str, Any],
) -> pd.DataFrame:
    """Per variant and metric: the number of seeds, n (values behind the figures: for the
    epochs to the target, the seeds that reached it), mean, sd and confidence interval."""
    confidence = float(statistics["confidence"])
    epochs = epochs_to_target(learning_curve_table, float(statistics["target_val_accuracy"]))
    rows = []
    for variant in _variants(comparison_table):
        runs = comparison_table[comparison_table["variant"] == variant]
        samples = {metric: runs[metric].tolist() for metric in RUN_METRICS}
        samples[target_metric(statistics)] = epochs.loc[epochs["variant"] == variant,
                                                        "epochs"].tolist()
        for metric, values in samples.items():
            rows.append({"variant": variant, "metric": metric, "seeds": len(runs),
                         **mean_interval(values, confidence), "confidence": confidence})
    return pd.DataFrame(rows)


def compute_pairwise_differences(
    comparison_table: pd.DataFrame, statistics: dict[str, Any]
) -> pd.DataFrame:
    """For each pair of variants, ``variant - versus`` in test accuracy over the seeds
    both ran with: mean difference, its interval and a paired t-test. ``versus`` is the
    one declared first (the baseline, in the seed experiment)."""
    confidence = float(statistics["confidence"])
    by_seed = comparison_table.pivot(index="seed", columns="variant", values=PAIRED_METRIC)
    rows = []
    for versus, variant in itertools.combinations(_variants(comparison_table), 2):
        pairs = by_seed[[variant, versus]].dropna()
        rows.append({
            "metric": PAIRED_METRIC, "variant": variant, "versus": versus,
            **paired_difference(pairs[variant].tolist(), pairs[versus].tolist(), confidence),
            "confidence": confidence, "test": PAIRED_TEST,
        })
    columns = ["metric", "variant", "versus", "n", "mean", "sd", "ci_low", "ci_high",
               "confidence", "t_statistic", "p_value", "test"]
    return pd.DataFrame(rows, columns=columns).rename(columns={"mean": "mean_difference"})


def plot_learning_curves(
    learning_curve_table: pd.DataFrame, statistics: dict[str, Any]
) -> Figure:
    """Validation accuracy and loss per epoch: per variant the mean over seeds, with a
    band for the confidence interval of that mean when there are two seeds or more."""
    confidence = float(statistics["confidence"])
    seeds = learning_curve_table.groupby("variant", sort=False)["seed"].nunique()
    fig = Figure(figsize=(13, 5), layout="constrained")  # no pyplot: thread-safe
    axes = fig.subplots(1, 2)
    for ax, column, label in ((axes[0], "val_accuracy", "accuracy"),
                              (axes[1], "val_loss", "sparse categorical cross-entropy")):
        for variant in _variants(learning_curve_table):
            curves = learning_curve_table[learning_curve_table["variant"] == variant]
            per_epoch = [(epoch, mean_interval(group[column].tolist(), confidence))
                         for epoch, group in curves.groupby("epoch")]
            epochs = [epoch for epoch, _ in per_epoch]
            line, = ax.plot(epochs, [s["mean"] for _, s in per_epoch], marker="o",
                            label=f"{variant} ({seeds[variant]} seed"
                                  f"{'s' if seeds[variant] > 1 else ''})")
            if seeds[variant] > 1:
                ax.fill_between(epochs, [s["ci_low"] for _, s in per_epoch],
                                [s["ci_high"] for _, s in per_epoch],
                                color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].axhline(float(statistics["target_val_accuracy"]), color="grey", linestyle=":",
                    label="target")
    axes[0].set_title("Validation accuracy per epoch")
    axes[1].set_title("Validation loss per epoch")
    for ax in axes:
        ax.legend(title="variant")
    band = (f"band: {confidence:.0%} confidence interval of the mean over seeds"
            if seeds.max() > 1 else "one seed per variant: no band")
    fig.suptitle(f"Learning curves on the validation images (line: mean over seeds; {band})")
    return fig


def plot_test_accuracy_intervals(
    comparison_table: pd.DataFrame, variant_statistics: pd.DataFrame
) -> Figure:
    """Test accuracy per variant: every seed as a small dot, the mean as a large one with
    its confidence interval."""
    variants = _variants(comparison_table)
    rows = variant_statistics[variant_statistics["metric"] == "test_accuracy"].set_index(
        "variant")
    fig = Figure(figsize=(9, 1.2 + 0.8 * len(variants)), layout="constrained")
    ax = fig.subplots()
    for position, variant in enumerate(variants):
        runs = comparison_table.loc[comparison_table["variant"] == variant, "test_accuracy"]
        ax.scatter(runs, np.full(len(runs), position + 0.15), s=14, color="grey",
                   label="one seed" if position == 0 else None, zorder=2)
        stats = rows.loc[variant]
        if np.isfinite(stats["ci_low"]):
            ax.errorbar(stats["mean"], position, xerr=[[stats["mean"] - stats["ci_low"]],
                                                       [stats["ci_high"] - stats["mean"]]],
                        fmt="o", color="C0", markersize=8, capsize=5, zorder=3,
                        label=f"mean, {stats['confidence']:.0%} CI" if position == 0 else None)
        else:
            ax.plot(stats["mean"], position, "o", color="C0", markersize=8, zorder=3,
                    label="mean (one seed: no interval)" if position == 0 else None)
    ax.set_yticks(range(len(variants)), variants)
    ax.invert_yaxis()
    ax.set_xlabel("test accuracy")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_title("Test accuracy per variant over seeds")
    return fig


def write_report(
    comparison_table: pd.DataFrame,
    variant_statistics: pd.DataFrame,
    pairwise_differences: pd.DataFrame,
    learning_curve_table: pd.DataFrame,
    parameter_accounting: pd.DataFrame,
    y_train: np.ndarray,
    y_valid: np.ndarray,
    y_test: np.ndarray,
    data: dict[str, Any],
    training: dict[str, Any],
    variants: dict[str, Any],
    statistics: dict[str, Any],
) -> str:
    """The whole comparison as a self-contained HTML page."""
    names = _variants(comparison_table)
    seeds = sorted(comparison_table["seed"].unique().tolist())
    uses_bn = {v: any(layer["class_name"] == "BatchNormalization"
                      for layer in variants[v]["layers"]) for v in names}
    test = variant_statistics[variant_statistics["metric"] == "test_accuracy"]
    answers, details = verdict(dict(zip(test["variant"], test["mean"], strict=True)),
                               pairwise_differences, uses_bn)
    confidence = float(statistics["confidence"])
    image_counts = {"train": len(y_train), "validation": len(y_valid), "test": len(y_test)}
    single = len(seeds) < 2
    caveat = ("Only one seed per variant was run: no standard deviation, interval or test "
              "can be given, and the differences below are single runs. Run with several "
              "seeds (kedro run --pipeline=compare --env=seeds) for the answer with its "
              "uncertainty." if single else
              f"{len(seeds)} seeds per variant. Intervals are {confidence:.0%} t-intervals "
              f"of the mean over seeds; differences are paired by seed (same initial-weight "
              f"and shuffle seed) and tested with a two-sided paired t-test. No correction "
              f"for multiple comparisons is applied.")
    body = [
        '<div class="answer">' + report.bullet_list(answers) + "</div>",
        report.paragraph(caveat),
        report.section("Setup", *_setup(image_counts, data, training, seeds, statistics)),
        report.section("Architectures", *_architectures(names, variants,
                                                        parameter_accounting)),
        report.section("Results", *_results(comparison_table, variant_statistics,
                                            pairwise_differences, statistics)),
        report.section("Plots",
                       report.figure_png(plot_learning_curves(learning_curve_table,
                                                              statistics)),
                       report.figure_png(plot_test_accuracy_intervals(comparison_table,
                                                                      variant_statistics))),
        report.section("Every comparison in words", report.bullet_list(details)),
        report.section("Every run", report.table_html(comparison_table.round(4))),
    ]
    return report.page("Does BatchNormalization help, and where should it go?", body)


def _setup(image_counts: dict[str, int], data: dict[str, Any], training: dict[str, Any],
           seeds: list[int], statistics: dict[str, Any]) -> list[str]:
    shape = "x".join(str(d) for d in data["image_shape"])
    return [report.bullet_list([
        f"Data: Fashion-MNIST, {len(data['class_names'])} classes of {shape} grey-scale "
        f"images scaled by 1/{data['scale']:g}: {image_counts['train']:,} training, "
        f"{image_counts['validation']:,} validation (held out of the official training set) "
        f"and {image_counts['test']:,} test images.",
        f"Training: {training['optimizer']} with learning rate {training['learning_rate']:g}, "
        f"batch size {training['batch_size']}, {training['epochs']} epochs, loss "
        f"{training['loss']}.",
        f"Seeds: {', '.join(map(str, seeds))}. A seed fixes the initial weights and the "
        f"shuffling; TensorFlow op determinism is "
        f"{'on' if training.get('deterministic', True) else 'off'}.",
        f"Target for 'epochs to target': validation accuracy "
        f"{float(statistics['target_val_accuracy']):g}.",
    ])]


def _architectures(names: list[str], variants: dict[str, Any],
                   accounting: pd.DataFrame) -> list[str]:
    rows = []
    for name in names:
        layers = accounting[accounting["variant"] == name]
        rows.append({
            "variant": name,
            "layers": " → ".join(report.layer_text(layer) for layer in variants[name]["layers"]),
            "parameters": f"{int(layers['total'].sum()):,}",
            "trainable": f"{int(layers['trainable'].sum()):,}",
            "non-trainable": f"{int(layers['non_trainable'].sum()):,}",
        })
    parts = [report.table_html(pd.DataFrame(rows))]
    bn = accounting[accounting["class_name"] == "BatchNormalization"]
    if len(bn):
        parts.append(report.paragraph(
            "BatchNormalization keeps 4 values per feature: gamma and beta, learned by the "
            "optimizer, and the moving mean and variance, updated during training but not "
            "trainable. So each BN layer holds 4 x features values, half of them trainable:"))
        table = bn[["variant", "layer", "features", "gamma", "beta", "moving_mean",
                    "moving_variance", "total", "trainable", "non_trainable"]]
        parts.append(report.table_html(table))
        for name, layers in bn.groupby("variant", sort=False):
            features = int(layers["features"].sum())
            parts.append(report.paragraph(
                f"{name}: {features:,} normalised features x 4 = {4 * features:,} BN values, "
                f"{int(layers['trainable'].sum()):,} trainable and "
                f"{int(layers['non_trainable'].sum()):,} not."))
    return parts


def _results(comparison_table: pd.DataFrame, variant_statistics: pd.DataFrame,
             pairwise: pd.DataFrame, statistics: dict[str, Any]) -> list[str]:
    confidence = float(statistics["confidence"])
    target = target_metric(statistics)
    wide = {}
    for (variant, metric), row in variant_statistics.set_index(["variant", "metric"]).iterrows():
        cell = report.interval_cell(row, 1 if metric == target else 4)
        if metric == target:
            cell += f" ({int(row['n'])} of {int(row['seeds'])} seeds reached it)"
        wide.setdefault(variant, {"variant": variant, "seeds": int(row["seeds"])})[metric] = cell
    differences = pd.DataFrame({
        "comparison": pairwise["variant"] + " − " + pairwise["versus"],
        "seeds": pairwise["n"],
        "mean difference (pp)": (100 * pairwise["mean_difference"]).round(2),
        f"{confidence:.0%} CI (pp)": [
            "–" if not np.isfinite(lo) else f"{100 * lo:+.2f} to {100 * hi:+.2f}"
            for lo, hi in zip(pairwise["ci_low"], pairwise["ci_high"], strict=True)],
        "p (paired t-test)": pairwise["p_value"].map(
            lambda p: "–" if not np.isfinite(p) else f"{p:.2g}"),
    })
    return [
        report.paragraph(f"Per variant: mean [{confidence:.0%} confidence interval] over "
                         f"seeds. Accuracies are fractions; test figures are on the "
                         f"official test set, validation figures after the last epoch "
                         f"(final) and at the best epoch (best)."),
        report.table_html(pd.DataFrame(list(wide.values()))),
        report.paragraph("Test accuracy, pair by pair (difference = first − second, in "
                         "percentage points, paired by seed):"),
        report.table_html(differences),
    ]
