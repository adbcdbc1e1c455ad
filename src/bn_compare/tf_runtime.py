"""TensorFlow set-up done once per process, the first time a node needs Keras.

Threads must be fixed before TensorFlow runs its first op; op determinism and the seed
make a rerun with the same seed give the same numbers.

Under ``bn_compare.runner.ThreadRunner`` several nodes share the process: each op runs
single-threaded, the inter-op pool has one thread per concurrent node (at most one
per core), Keras' global
state (seeds, layer names, model files) is touched under ``KERAS_STATE_LOCK`` and no
node clears the Keras session of the others.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
from typing import Any

logger = logging.getLogger(__name__)

# Set by runners that start several workers, so that N workers x threads <= cores.
THREADS_ENV = "BN_COMPARE_TF_THREADS"

# Held while a node seeds Keras' global random state and builds, loads or saves a model.
KERAS_STATE_LOCK = threading.RLock()
_concurrent_nodes = 1


def share_process(nodes: int) -> None:
    """Declare that up to ``nodes`` nodes run at once in this process (threads)."""
    global _concurrent_nodes  # noqa: PLW0603
    _concurrent_nodes = max(1, nodes)
    os.environ[THREADS_ENV] = "1"


def process_is_shared() -> bool:
    return _concurrent_nodes > 1


def keras_runtime(training: dict[str, Any]) -> Any:
    """Import TensorFlow, configure it from the ``training`` parameters, return ``keras``.

    ``intra_op_threads``: threads per op (0 = TensorFlow's default; the environment
    variable ``BN_COMPARE_TF_THREADS`` wins when set). ``deterministic`` (default true):
    TensorFlow op determinism. Every caller passes the run's parameters, since the
    first call in a process fixes both.
    """
    import tensorflow as tf

    requested = training.get("intra_op_threads", 0)
    requested = requested if isinstance(requested, int) and requested > 0 else 0
    threads = int(os.environ.get(THREADS_ENV) or requested)
    if not threads and multiprocessing.parent_process() is not None:
        threads = 1  # a worker of some runner: one thread each, never oversubscribe
    if threads and tf.config.threading.get_intra_op_parallelism_threads() != threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(
                max(threads, min(_concurrent_nodes, os.cpu_count() or 1)))
        except RuntimeError:  # TensorFlow already ran an op in this process
            logger.warning(
                "TensorFlow was initialised before its thread settings could be applied: "
                "it keeps %d threads per op instead of %d",
                tf.config.threading.get_intra_op_parallelism_threads(), threads,
            )
    if training.get("deterministic", True) is not False:
        tf.config.experimental.enable_op_determinism()

    import keras

    _freeze_imported_objects()
    return keras


_frozen = False


def _freeze_imported_objects() -> None:
    """Exempt the ~450,000 objects of TensorFlow and Keras' modules from garbage
    collection: the collection after every node then takes milliseconds, not 0.27 s."""
    global _frozen  # noqa: PLW0603
    if not _frozen:
        gc.freeze()
        _frozen = True


def seeded_keras(training: dict[str, Any], seed: int, *, fresh_session: bool = False) -> Any:
    """``keras`` configured from the ``training`` parameters, every RNG seeded with
    ``seed`` (one of ``training.seeds``).

    ``fresh_session`` first frees what earlier models in this process left behind
    (graphs, layer-name counters), so each variant starts from the same state.
    """
    keras = keras_runtime(training)
    with KERAS_STATE_LOCK:
        if fresh_session and not process_is_shared():
            keras.backend.clear_session(free_memory=True)
        keras.utils.set_random_seed(int(seed))
    return keras
