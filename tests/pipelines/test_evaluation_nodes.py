import numpy as np
import pandas as pd

from bn_compare.pipelines.evaluation.nodes import (
    COMPARISON_COLUMNS,
    build_comparison_table,
    confusion_matrix,
    plot_confusion_matrix,
    plot_learning_curves,
    summarise_variant,
)

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def _history(accuracies):
    n = len(accuracies)
    return pd.DataFrame({"epoch": range(1, n + 1), "loss": [1.0] * n, "accuracy": [0.5] * n,
                         "val_loss": [0.9] * n, "val_accuracy": accuracies,
                         "seconds": [2.0, 4.0][:n]})


def test_confusion_matrix_counts_true_rows_predicted_columns():
    counts = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def test_summary_row():
    parameters = pd.DataFrame({"total": [10, 4], "trainable": [10, 2], "non_trainable": [0, 2]})
    row = summarise_variant(_history([0.8, 0.7]), parameters,
                            {"test_accuracy": 0.75, "test_loss": 0.6}).iloc[0]
    assert row["final_val_accuracy"] == 0.7 and row["best_val_accuracy"] == 0.8
    assert (row["total_params"], row["trainable_params"], row["non_trainable_params"]) == (14, 12, 2)
    assert row["seconds_per_epoch"] == 3.0


def test_comparison_table_has_one_row_per_variant_in_order():
    parameters = pd.DataFrame({"total": [1], "trainable": [1], "non_trainable": [0]})
    metrics = {"test_accuracy": 0.5, "test_loss": 1.0}
    summary = summarise_variant(_history([0.5]), parameters, metrics)
    table = build_comparison_table(zeta=summary, alpha=summary)
    assert list(table.columns) == COMPARISON_COLUMNS
    assert table["variant"].tolist() == ["zeta", "alpha"]


def test_plots_are_labelled():
    fig = plot_learning_curves(baseline=_history([0.7, 0.8]), bn=_history([0.75, 0.85]))
    acc_ax, loss_ax = fig.axes[:2]
    assert acc_ax.get_title() == "Validation accuracy per epoch"
    assert acc_ax.get_xlabel() == "epoch"
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["baseline", "bn"]

    y = np.arange(20) % 10
    fig = plot_confusion_matrix(y, y, {"class_names": CLASS_NAMES}, variant="baseline")
    ax = fig.axes[0]
    assert ax.get_title().startswith("baseline: confusion matrix on the 20 test images")
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASS_NAMES
    assert ax.get_ylabel() == "True class"
