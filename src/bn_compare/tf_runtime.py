"""TensorFlow set-up done once per process, the first time a node needs Keras.

Threads must be fixed before TensorFlow runs its first op; op determinism and the seed
make a rerun with the same seed give the same numbers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from typing import Any

logger = logging.getLogger(__name__)

# Set by runners that start several workers, so that N workers x threads <= cores.
THREADS_ENV = "BN_COMPARE_TF_THREADS"


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
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already ran an op in this process
            logger.warning(
                "TensorFlow was initialised before its thread settings could be applied: "
                "it keeps %d threads per op instead of %d",
                tf.config.threading.get_intra_op_parallelism_threads(), threads,
            )
    if training.get("deterministic", True) is not False:
        tf.config.experimental.enable_op_determinism()

    import keras

    return keras


def seeded_keras(training: dict[str, Any], seed: int, *, fresh_session: bool = False) -> Any:
    """``keras`` configured from the ``training`` parameters, every RNG seeded with
    ``seed`` (one of ``training.seeds``).

    ``fresh_session`` first frees what earlier models in this process left behind
    (graphs, layer-name counters), so each variant starts from the same state.
    """
    keras = keras_runtime(training)
    if fresh_session:
        keras.backend.clear_session(free_memory=True)
    keras.utils.set_random_seed(int(seed))
    return keras
