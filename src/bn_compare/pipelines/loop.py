"""Training, evaluation and prediction without Keras' tf.data input pipeline, which
``fit`` fills with a copy of the whole training set (and ``evaluate``/``predict`` rebuild
at every call): NumPy shuffles, ``steps_per_execution`` batches at a time are copied out
of the memory-mapped array, and Keras' own ``train_step``/``test_step`` run over them in
one compiled ``tf.function``; same optimizer, loss, metrics and batches as ``fit``, faster
(docs/measurements.md)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bn_compare import interruption

EpochCallback = Callable[[int, dict[str, float], float], None]


@dataclass
class DivergenceGuard:
    """Decides when a training has diverged: its training loss is NaN or infinite
    (checked after every chunk of steps), or, after the first epoch, its epoch's mean
    loss stays above ``loss_ceiling`` (the loss of a uniform guess, ln(classes), for
    cross-entropy; None for other losses). Epochs passed in count from 0."""

    loss_ceiling: float | None = None
    epoch: int | None = None  # the 1-based epoch it diverged in
    reason: str = ""

    @classmethod
    def for_model(cls, model: Any, loss: str) -> DivergenceGuard:
        classes = int(model.output_shape[-1])
        return cls(math.log(classes) if "crossentropy" in loss and classes > 1 else None)

    @property
    def diverged(self) -> bool:
        return self.epoch is not None

    def after_steps(self, epoch: int, loss: float) -> bool:
        if not self.diverged and not math.isfinite(loss):
            self.epoch, self.reason = epoch + 1, f"training loss {loss}"
        return self.diverged

    def after_epoch(self, epoch: int, loss: float) -> bool:
        if self.after_steps(epoch, loss):
            return True
        if epoch > 0 and self.loss_ceiling is not None and loss > self.loss_ceiling:
            self.epoch = epoch + 1
            self.reason = (f"training loss {loss:.4f} above {self.loss_ceiling:.4f}, the "
                           f"loss of a uniform guess, for a whole epoch")
        return self.diverged


def _compiled(step: Callable[[Any, Any], None], sample_shape: tuple[int, ...],
              label_dtype: Any) -> Callable[..., Any]:
    """``step(x, y)`` as one ``tf.function`` for float32 samples and labels of any count."""
    import tensorflow as tf

    return tf.function(step, input_signature=[
        tf.TensorSpec([None, *sample_shape], tf.float32),
        tf.TensorSpec([None], tf.as_dtype(label_dtype))])


def _chunk_trainer(model: Any, batch_size: int, sample_shape: tuple[int, ...],
                   label_dtype: Any) -> Callable[..., Any]:
    import tensorflow as tf

    def train_chunk(x: Any, y: Any) -> None:
        for start in tf.range(0, tf.shape(x)[0], batch_size):
            model.train_step((x[start:start + batch_size], y[start:start + batch_size]))

    return _compiled(train_chunk, sample_shape, label_dtype)


def _batch_tester(model: Any, sample_shape: tuple[int, ...],
                  label_dtype: Any) -> Callable[..., Any]:
    def test_batch(x: Any, y: Any) -> None:
        model.test_step((x, y))

    return _compiled(test_batch, sample_shape, label_dtype)


def _build_state(model: Any, x: np.ndarray, y: np.ndarray) -> None:
    """Create the optimizer's and the compiled loss and metrics' variables before a
    ``tf.function`` traces a step, as ``fit`` does: a function that creates variables on
    its first call is traced twice (a second or more per model at smoke size). One eager
    test step on one sample builds the metrics; it changes no weight."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.test_step((np.asarray(x[:1], dtype=np.float32), y[:1]))
    model.reset_metrics()


def _metric_results(model: Any) -> dict[str, float]:
    return {name: float(value) for name, value in model.get_metrics_result().items()}


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int,
             test_batch: Callable[..., Any] | None = None) -> dict[str, float]:
    """Loss and metrics over the whole of ``x`` as ``model.evaluate`` computes them;
    resets the model's metrics."""
    if test_batch is None:
        _build_state(model, x, y)
        test_batch = _batch_tester(model, x.shape[1:], y.dtype)
    model.reset_metrics()
    for first in range(0, len(x), batch_size):
        test_batch(np.asarray(x[first:first + batch_size], dtype=np.float32),
                   y[first:first + batch_size])
    return _metric_results(model)


def predict(model: Any, x: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's outputs for every row of ``x`` (inference mode), batch by batch."""
    import tensorflow as tf

    call = tf.function(lambda batch: model(batch, training=False),
                       input_signature=[tf.TensorSpec([None, *x.shape[1:]], tf.float32)])
    return np.concatenate([call(np.asarray(x[first:first + batch_size], dtype=np.float32))
                           .numpy() for first in range(0, len(x), batch_size)])


def train_epochs(  # noqa: PLR0913 (model.fit's options, keyword-only)
    model: Any, x: np.ndarray, y: np.ndarray, x_valid: np.ndarray, y_valid: np.ndarray, *,
    epochs: int, batch_size: int, steps_per_execution: int, eval_batch_size: int, seed: int,
    on_epoch_end: EpochCallback | None = None, guard: DivergenceGuard | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` (compiled), reshuffling every epoch from ``seed``; per epoch, the
    training loss and metrics (epoch means, as ``fit`` reports them) and the validation
    ones (``val_`` prefix). Stops after the chunk of steps where ``guard`` finds the run
    diverged; raises ``interruption.TrainingInterrupted`` there if the run is stopping."""
    rng = np.random.default_rng(seed)
    _build_state(model, x, y)
    train_chunk = _chunk_trainer(model, batch_size, x.shape[1:], y.dtype)
    test_batch = _batch_tester(model, x.shape[1:], y.dtype)
    chunk_rows = batch_size * steps_per_execution
    history = []
    for epoch in range(epochs):
        start = time.perf_counter()
        model.reset_metrics()
        order = rng.permutation(len(x))
        for first in range(0, len(x), chunk_rows):
            interruption.check(f"epoch {epoch + 1}/{epochs}")
            rows = order[first:first + chunk_rows]
            train_chunk(np.asarray(x[rows], dtype=np.float32), y[rows])
            if guard is not None and guard.after_steps(epoch, _loss(model)):
                break
        logs = _metric_results(model)
        validation = evaluate(model, x_valid, y_valid, eval_batch_size, test_batch)
        logs.update({f"val_{name}": value for name, value in validation.items()})
        history.append(logs)
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs, time.perf_counter() - start)
        if guard is not None and guard.after_epoch(epoch, logs["loss"]):
            break
    return history


def _loss(model: Any) -> float:
    return float(next(m for m in model.metrics if m.name == "loss").result())
