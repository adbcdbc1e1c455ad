"""TensorFlow, set up in one place: ``keras()`` sets the process up the first time
anything asks for Keras (a node, a model dataset, the parameter check, a Dask worker),
before TensorFlow runs an op: its C++ chatter off, oneDNN off (as fast for this network,
~340 MB less per process; ``TF_ENABLE_ONEDNN_OPTS=1`` to compare), one thread per op
(runners train side by side, one training per core), and its module objects exempt from
garbage collection (the collection after each node stays cheap). Nodes sharing a process
touch Keras' global state (seeds, layer creation, model files) under
``KERAS_STATE_LOCK``."""

from __future__ import annotations

import gc
import logging
import os
import threading
from typing import Any

logger = logging.getLogger(__name__)

# Held while a node seeds Keras' global random state and builds, loads or saves a model.
KERAS_STATE_LOCK = threading.RLock()
_SET_UP = threading.Event()  # TensorFlow's configuration is per process, and set once
_SETTING_UP = threading.Lock()


def keras() -> Any:
    """``keras``, with this process's TensorFlow set up."""
    if not _SET_UP.is_set():
        with _SETTING_UP:
            if not _SET_UP.is_set():
                _set_up_process()
                _SET_UP.set()
    import keras

    return keras


def _set_up_process() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(os.cpu_count() or 1)
    except RuntimeError:  # TensorFlow already ran an op in this process
        logger.warning("TensorFlow was already running in this process: it keeps %d "
                       "threads per op instead of 1",
                       tf.config.threading.get_intra_op_parallelism_threads())
    import keras  # noqa: F401

    gc.freeze()


def seeded_keras(seed: int, deterministic: bool = True) -> Any:
    """``keras`` with every random generator seeded with ``seed``, and TensorFlow's op
    determinism on when ``deterministic`` (same seed, same numbers)."""
    keras_module = keras()
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    with KERAS_STATE_LOCK:
        keras_module.utils.set_random_seed(int(seed))
    return keras_module
