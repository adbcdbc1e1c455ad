"""Test-set evaluation of each run (variant x seed), its confusion matrix and summary
row; the tables that collect runs (a group's, then every run)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

DARK_CELL = 0.5  # confusion matrix cells darker than this get white text


def evaluate_model(model: Any, x_test: np.ndarray, y_test: np.ndarray,
                   eval_batch_size: int) -> tuple[dict[str, float], np.ndarray]:
    """Test loss and metrics (as ``model.evaluate`` computes them) and the predicted
    class of every test image."""
    from bn_compare.pipelines.loop import evaluate, predict

    results = evaluate(model, x_test, y_test, eval_batch_size)
    predictions = np.argmax(predict(model, x_test, eval_batch_size), axis=1).astype(np.uint8)
    return {f"test_{name}": value for name, value in results.items()}, predictions


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts: row = true class, column = predicted class."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true.astype(np.int64), y_pred.astype(np.int64)), 1)
    return counts


def plot_confusion_matrix(y_test: np.ndarray, predictions: np.ndarray,
                          class_names: list[str], title: str = "model") -> Figure:
    """Row-normalised confusion matrix on the test set; ``title`` names the run."""
    class_names = list(class_names)
    counts = confusion_matrix(y_test, predictions, len(class_names))
    recall = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    accuracy = np.trace(counts) / max(counts.sum(), 1)

    fig = Figure(figsize=(8, 7), layout="constrained")  # no pyplot: thread-safe
    ax = fig.subplots()
    image = ax.imshow(recall, cmap="Blues", vmin=0, vmax=1)
    for (row, col), count in np.ndenumerate(counts):
        ax.text(col, row, str(count), ha="center", va="center", fontsize=8,
                color="white" if recall[row, col] > DARK_CELL else "black")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    ax.set_title(
        f"{title}: confusion matrix on the {counts.sum():,} test images\n"
        f"(accuracy {accuracy:.4f}; numbers are counts, colour is the share of the row)",
        wrap=True,  # a long run description stays inside the figure
    )
    fig.colorbar(image, ax=ax, label="share of true class")
    return fig


def summarise_run(history: pd.DataFrame, parameters: pd.DataFrame,
                  test_metrics: dict[str, float]) -> pd.DataFrame:
    """One row of the comparison table, without the run's variant, grid values and seed."""
    row = {
        "total_params": int(parameters["total"].sum()),
        "trainable_params": int(parameters["trainable"].sum()),
        "non_trainable_params": int(parameters["non_trainable"].sum()),
        "final_val_accuracy": float(history["val_accuracy"].iloc[-1]),
        "best_val_accuracy": float(history["val_accuracy"].max()),
        "test_accuracy": float(test_metrics["test_accuracy"]),
        "test_loss": float(test_metrics["test_loss"]),
        "seconds_per_epoch": float(history["seconds"].mean()),
        "diverged": bool(history["diverged"].iloc[-1]),
    }
    diverged_at = pd.array([history["diverged_at_epoch"].iloc[-1]], dtype="Int64")
    return pd.DataFrame([row]).assign(diverged_at_epoch=diverged_at)
