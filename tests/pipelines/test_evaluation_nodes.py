import numpy as np
import pandas as pd
import pytest

from bn_compare.pipelines.evaluation.nodes import (
    confusion_matrix,
    plot_confusion_matrix,
    summarise_run,
)
from bn_compare.pipelines.stacking import stack_tables
from tests.conftest import SUMMARY

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def _history(accuracies):
    n = len(accuracies)
    return pd.DataFrame({"epoch": range(1, n + 1), "loss": [1.0] * n, "accuracy": [0.5] * n,
                         "val_loss": [0.9] * n, "val_accuracy": accuracies,
                         "seconds": [2.0, 4.0][:n], "diverged": [False] * n,
                         "diverged_at_epoch": pd.array([None] * n, dtype="Int64")})


def test_confusion_matrix_counts_true_rows_predicted_columns():
    counts = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def test_summary_row():
    parameters = pd.DataFrame({"total": [10, 4], "trainable": [10, 2], "non_trainable": [0, 2]})
    row = summarise_run(_history([0.8, 0.7]), parameters,
                            {"test_accuracy": 0.75, "test_loss": 0.6}).iloc[0]
    assert row["final_val_accuracy"] == 0.7 and row["best_val_accuracy"] == 0.8
    assert (row["total_params"], row["trainable_params"], row["non_trainable_params"]) == (14, 12, 2)
    assert row["seconds_per_epoch"] == 3.0
    assert not row["diverged"] and pd.isna(row["diverged_at_epoch"])


def test_a_diverged_run_says_so_in_its_summary_row():
    history = _history([0.8, 0.1]).assign(
        diverged=True, diverged_at_epoch=pd.array([2, 2], dtype="Int64"))
    parameters = pd.DataFrame({"total": [1], "trainable": [1], "non_trainable": [0]})
    row = summarise_run(history, parameters, {"test_accuracy": 0.1, "test_loss": float("nan")})
    assert row.iloc[0]["diverged"] and row.iloc[0]["diverged_at_epoch"] == 2


def test_comparison_table_has_one_row_per_run_in_order_with_its_keys():
    parameters = pd.DataFrame({"total": [1], "trainable": [1], "non_trainable": [0]})
    metrics = {"test_accuracy": 0.5, "test_loss": 1.0}
    summary = summarise_run(_history([0.5]), parameters, metrics)
    table = stack_tables(summary, summary, summary, keys=[
        {"variant": "zeta", "seed": 1}, {"variant": "zeta", "seed": 2},
        {"variant": "alpha", "seed": 1}])
    assert list(table.columns) == ["variant", "seed", *SUMMARY]
    assert table["variant"].tolist() == ["zeta", "zeta", "alpha"]
    assert table["seed"].tolist() == [1, 2, 1]


def test_stacking_refuses_a_table_without_its_key():
    with pytest.raises(ValueError, match="2 tables but 1 keys"):
        stack_tables(pd.DataFrame(), pd.DataFrame(), keys=[{"variant": "a"}])


def test_confusion_matrix_plot_is_labelled():
    y = np.arange(20) % 10
    fig = plot_confusion_matrix(y, y, CLASS_NAMES, title="baseline (learning_rate=0.1) seed 7")
    ax = fig.axes[0]
    assert ax.get_title().startswith(
        "baseline (learning_rate=0.1) seed 7: confusion matrix on the 20 test images")
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASS_NAMES
    assert ax.get_ylabel() == "True class"
