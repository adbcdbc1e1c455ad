"""Build, account for and train one variant's model."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from bn_compare import interruption
from bn_compare.grid import GridPoint
from bn_compare.parameters import DataParams, DiagnosticsParams, TrainingParams
from bn_compare.pipelines.loop import DivergenceGuard, train_epochs
from bn_compare.pipelines.training.model_spec import build_sequential
from bn_compare.pipelines.training.probes import Probe, probe_batch
from bn_compare.tf_runtime import KERAS_STATE_LOCK, seeded_keras

logger = logging.getLogger(__name__)

HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds",
                   "diverged", "diverged_at_epoch"]
DIAGNOSTICS_COLUMNS = ["epoch", "layer", "measure", "value"]
# Per normalised feature: scale and offset (trainable), BatchNormalization's moving
# statistics, and with ``renorm`` its three more (none of them trainable).
NORM_VECTORS = ("gamma", "beta", "moving_mean", "moving_variance", "moving_stddev",
                "renorm_mean", "renorm_stddev")
# The layers that normalize, the one place that says so: ``account_parameters`` writes
# each layer's kind in ``normalization`` (its class; empty for none), read by every step after.
NORMALIZATION_LAYERS = ("BatchNormalization", "LayerNormalization")


Settings = TrainingParams | Mapping[str, TrainingParams]  # a run's, or each grid point's


def settings_at(training: Settings, setting: Mapping[str, Any] | None) -> TrainingParams:
    """A run's training settings: its own, or a confirmation's, those of the grid point it
    was given (``setting``, from ``choose_setting``)."""
    return training if setting is None else training[GridPoint.of(setting).name]


def build_model(  # noqa: PLR0913 (a node: datasets, then the run's bound settings)
    layers: list[dict[str, Any]], setting: Mapping[str, Any] | None = None, *,
    data: DataParams, training: Settings, seed: int, variant: str = "model",
) -> Any:
    """The variant's model, compiled and untrained (initial weights from the seed), with
    its run's training settings."""
    training = settings_at(training, setting)
    with KERAS_STATE_LOCK:  # seeding and layer creation must not interleave (threads)
        keras = seeded_keras(seed, training.deterministic)
        model = build_sequential(layers, data.image_shape, name=variant,
                                 where=f"variants.{variant}.layers", seed=seed)
        optimizer = keras.optimizers.get(
            {"class_name": training.optimizer,
             "config": {"learning_rate": float(training.learning_rate)}})
        model.compile(optimizer=optimizer, loss=training.loss, metrics=list(training.metrics),
                      steps_per_execution=training.steps_per_execution)
    return model


def choose_setting(best_settings: pd.DataFrame, *, variant: str | None,
                   points: list[dict[str, Any]], per: dict[str, Any]) -> dict[str, Any]:
    """The grid point (of ``points``) a confirmation trains at: its variant's best, chosen
    on the grid's validation accuracy, at the ``per`` values (``confirm.per``) if any;
    ``variant=None``: the best of the variant whose best is best there (``confirm.cross``)."""
    rows = best_settings
    for key, value in per.items():
        rows = rows[rows[key] == value]
    if variant is None:
        rows = rows.sort_values("final_val_accuracy_mean", ascending=False, kind="stable")[:1]
        variant = "the best variant"
    else:
        rows = rows[rows["variant"] == variant]
    # the point as the grid declares it: a CSV column with NaN holds 128 as 128.0
    best = next((point for point in points if len(rows) and all(
        rows.iloc[0][key] == value for key, value in point.items())), None)
    if best is None:
        raise ValueError(f"{variant}: no best setting to confirm{f' at {per}' if per else ''}:"
                         f" every run of the grid there diverged (change the grid, or set "
                         f"confirm.seeds: [] to train no confirmation)")
    return dict(best)


def _count(weights: list[Any]) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def account_parameters(model: Any) -> pd.DataFrame:
    """One row per layer: its kind of ``normalization`` (``NORMALIZATION_LAYERS``; empty
    for none), total, trainable and non-trainable parameter counts; for the normalization
    layers also the features and the per-feature vectors: BatchNormalization's four (the
    notebook's 4 x features, half of it trainable), seven with ``renorm``;
    LayerNormalization's two. Every figure is checked against Keras' own counts."""
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        row = {"layer": layer.name, "class_name": kind,
               "normalization": kind if kind in NORMALIZATION_LAYERS else "",
               "total": _count(layer.weights), "trainable": _count(layer.trainable_weights),
               "non_trainable": _count(layer.non_trainable_weights),
               "features": 0, **dict.fromkeys(NORM_VECTORS, 0)}
        if row["normalization"]:
            vectors = {w.path.rsplit("/", 1)[-1]: _count([w]) for w in layer.weights}
            row["features"] = int(layer.output.shape[-1])
            row.update({name: vectors.get(name, 0) for name in NORM_VECTORS})
            per_feature = int(layer.center) + int(layer.scale) + (
                2 + 3 * int(layer.renorm) if row["class_name"] == "BatchNormalization" else 0)
            _check(row["total"] == row["features"] * per_feature == sum(vectors.values()),
                   layer, row)
            _check(row["trainable"] == row["gamma"] + row["beta"], layer, row)
        _check(row["total"] == layer.count_params(), layer, row)
        rows.append(row)
    table = pd.DataFrame(rows)
    _check(int(table["total"].sum()) == model.count_params(), model, {"sum": table["total"].sum()})
    _check(int(table["trainable"].sum()) == _count(model.trainable_weights), model, {})
    return table


def _check(condition: bool, owner: Any, details: dict[str, Any]) -> None:
    if not condition:
        raise AssertionError(f"Parameter accounting for {owner.name} disagrees with Keras: "
                             f"{details}")


def train_model(  # noqa: PLR0913, PLR0917 (a node: datasets, then the run's settings)
    model: Any, x_train: np.ndarray, y_train: np.ndarray, x_valid: np.ndarray,
    y_valid: np.ndarray, setting: Mapping[str, Any] | None = None, *, training: Settings,
    diagnostics: DiagnosticsParams | None = None, seed: int, label: str | None = None,
) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """Train the model (shuffles drawn from ``seed``) with its run's training settings;
    return it, its history table and its diagnostics (tidy: epoch, layer, measure, value;
    epoch 0 before training; empty when turned off).

    A training that diverges (``loop.DivergenceGuard``) stops at once, is logged as a
    warning and recorded in the history (``diverged``, ``diverged_at_epoch``); the
    pipeline goes on with the model as it is."""
    training = settings_at(training, setting)
    label = label or f"{model.name} seed {seed}"
    seeded_keras(seed, training.deterministic)
    log = EpochLog(label, training.epochs)
    guard = DivergenceGuard.for_model(model, training.loss)
    measured: list[dict[str, Any]] = []
    on_epoch_end = log
    if diagnostics is not None and diagnostics.enabled:
        probe = Probe(model, *probe_batch(x_train, y_train, diagnostics.probe_size,
                                          diagnostics.seed),
                      learning_rate=training.learning_rate,
                      checkpoints=diagnostics.checkpoint_epochs(training.epochs),
                      seed=diagnostics.seed)
        measured += probe.measure(0)

        def on_epoch_end(epoch: int, logs: dict[str, float], seconds: float) -> None:
            log(epoch, logs, seconds)
            measured.extend(probe.measure(epoch + 1))
    try:
        history = pd.DataFrame(train_epochs(
            model, x_train, y_train, x_valid, y_valid, epochs=training.epochs,
            batch_size=training.batch_size, steps_per_execution=training.steps_per_execution,
            eval_batch_size=training.eval_batch_size, seed=seed, on_epoch_end=on_epoch_end,
            guard=guard))
    except interruption.TrainingInterrupted as stopped:
        logger.warning("%s stopped at %s: the run is being stopped, nothing of this "
                       "training is saved", label, stopped)
        raise interruption.TrainingInterrupted(f"{label} stopped at {stopped}") from None
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    history["seconds"] = log.seconds
    history["diverged"] = guard.diverged
    history["diverged_at_epoch"] = pd.array([guard.epoch] * len(history), dtype="Int64")
    if guard.diverged:
        logger.warning("%s diverged at epoch %d/%d (%s): training stopped, the run is "
                       "recorded as diverged", label, guard.epoch, training.epochs,
                       guard.reason)
    return model, history[HISTORY_COLUMNS], pd.DataFrame(measured, columns=DIAGNOSTICS_COLUMNS)


class EpochLog:
    """Times each epoch and logs a line a user can follow."""

    def __init__(self, name: str, epochs: int) -> None:
        self.name, self.epochs = name, epochs
        self.seconds: list[float] = []

    def __call__(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        self.seconds.append(seconds)
        logger.info("%s epoch %d/%d - %.1fs - loss %.4f - accuracy %.4f - "
                    "val_loss %.4f - val_accuracy %.4f", self.name, epoch + 1, self.epochs,
                    seconds, *(float(logs.get(key, np.nan))
                               for key in ("loss", "accuracy", "val_loss", "val_accuracy")))
