"""TensorFlow, set up in one place.

A process's TensorFlow settings (threads per op, op determinism) are decided before any
node runs: in the main process by ``hooks.TensorFlowSetupHook`` from the run's
``training`` parameters; in a runner's worker process by the runner, which passes the
same settings with each task (``runner``). They are applied the first time anything in
the process asks for Keras through ``keras()`` (nodes, model datasets, the parameter
check), before TensorFlow runs its first op: threads cannot change after that, op
determinism can.

Several nodes can share a process (``runner.ThreadRunner``): for the duration of such a
run ``shared_by`` says so, so that no node clears the Keras session of the others, and
Keras' global state (seeds, model files) is touched under ``KERAS_STATE_LOCK``.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

logger = logging.getLogger(__name__)

# Held while a node seeds Keras' global random state and builds, loads or saves a model.
KERAS_STATE_LOCK = threading.RLock()


@dataclass(frozen=True)
class TensorFlowSettings:
    """``intra_op_threads``: threads per op (0 = TensorFlow's default, one per core);
    ``deterministic``: TensorFlow op determinism (same seed, same numbers)."""

    intra_op_threads: int = 1
    deterministic: bool = True

    @classmethod
    def from_training(cls, training: Any) -> TensorFlowSettings:
        return cls(training.intra_op_threads, training.deterministic)

    def within(self, cores: int) -> TensorFlowSettings:
        """At most ``cores`` threads per op (a worker's share of the machine)."""
        threads = self.intra_op_threads or cores
        return replace(self, intra_op_threads=max(1, min(threads, cores)))


class _Process:
    """This process's TensorFlow: the settings asked for, those applied, the nodes
    sharing it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requested = TensorFlowSettings()
        self.applied: TensorFlowSettings | None = None
        self.sharing_nodes = 1


_process = _Process()


def configure(settings: TensorFlowSettings) -> None:
    """Use ``settings`` in this process (applied now if Keras is already in use)."""
    with _process.lock:
        _process.requested = settings
        if _process.applied is not None and _process.applied != settings:
            _apply(settings)


def requested_settings() -> TensorFlowSettings:
    """The settings this process uses (applied, or to be applied at first use)."""
    return _process.requested


def keras() -> Any:
    """``keras``, with TensorFlow set up for this process."""
    with _process.lock:
        if _process.applied != _process.requested:
            _apply(_process.requested)
    import keras

    return keras


def _apply(settings: TensorFlowSettings) -> None:
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    threads = settings.intra_op_threads
    if threads and tf.config.threading.get_intra_op_parallelism_threads() != threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(os.cpu_count() or 1)
        except RuntimeError:  # TensorFlow already ran an op in this process
            logger.warning(
                "TensorFlow was already running in this process: it keeps %d threads per "
                "op instead of training.intra_op_threads=%d",
                tf.config.threading.get_intra_op_parallelism_threads(), threads)
    if settings.deterministic:
        tf.config.experimental.enable_op_determinism()
    else:
        tf_config.disable_op_determinism()
    if _process.applied is None:
        # Exempt TensorFlow's and Keras' module objects (hundreds of thousands) from
        # garbage collection: the collection after every node stays cheap.
        import keras  # noqa: F401

        gc.freeze()
    _process.applied = settings


def seeded_keras(seed: int) -> Any:
    """``keras`` with every random generator seeded with ``seed``."""
    keras_module = keras()
    with KERAS_STATE_LOCK:
        keras_module.utils.set_random_seed(int(seed))
    return keras_module


@contextlib.contextmanager
def shared_by(nodes: int) -> Iterator[None]:
    """Up to ``nodes`` nodes run at once in this process (threads) while inside."""
    previous, _process.sharing_nodes = _process.sharing_nodes, max(1, nodes)
    try:
        yield
    finally:
        _process.sharing_nodes = previous


def process_is_shared() -> bool:
    return _process.sharing_nodes > 1
