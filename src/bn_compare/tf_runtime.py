"""TensorFlow, set up in one place: ``keras()`` sets the process up the first time anything
asks for Keras, before TensorFlow runs an op: its C++ chatter off, oneDNN on (a BN step ~20%
faster on one core, docs/measurements.md), one thread per op (runners train side by side),
its module objects exempt from garbage collection. Nodes sharing a process touch Keras'
global state (seeds, layers, model files) under ``KERAS_STATE_LOCK``."""

from __future__ import annotations

import gc
import importlib.metadata
import logging
import os
import threading
from typing import Any

logger = logging.getLogger(__name__)

# Held while a node seeds Keras' global random state and builds, loads or saves a model.
KERAS_STATE_LOCK = threading.RLock()
_SET_UP = threading.Event()  # TensorFlow's configuration is per process, and set once
_SETTING_UP = threading.Lock()
INSTALL = ("install the project with the extra that brings TensorFlow, in a fresh "
           "environment: make install (pip install -e \".[cpu]\"), or on a machine with an "
           "NVIDIA GPU make install TENSORFLOW=gpu (pip install -e \".[gpu]\")")


class TensorFlowMissingError(ImportError):
    """This environment has no TensorFlow (neither extra was installed)."""


def keras() -> Any:
    """``keras``, with this process's TensorFlow set up."""
    with _SETTING_UP:
        if not _SET_UP.is_set():
            _set_up_process()
            _SET_UP.set()
    import keras

    return keras


def _set_up_process() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # numbers differ without it
    try:
        import tensorflow as tf
    except ModuleNotFoundError as missing:
        if missing.name != "tensorflow":
            raise
        raise TensorFlowMissingError(f"TensorFlow is not installed: {INSTALL}. Nothing "
                                     f"was run.") from None

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(os.cpu_count() or 1)
    except RuntimeError:  # TensorFlow already ran an op in this process
        logger.warning("TensorFlow was already running in this process: it keeps %d "
                       "threads per op instead of 1",
                       tf.config.threading.get_intra_op_parallelism_threads())
    import keras  # noqa: F401

    gc.freeze()


def select_device(device: str) -> list[str]:
    """Train on ``device`` (``training.device``) in this process and the worker processes
    it starts: ``cpu`` hides every GPU; ``gpu`` needs one that TensorFlow sees; ``auto``
    uses one if TensorFlow sees it. Called before TensorFlow initialises its devices (the
    input check); returns the problem, if any, for the check to report."""
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # inherited by worker processes
    keras()
    import tensorflow as tf

    if device == "cpu":
        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:  # devices initialised earlier in this process
            logger.warning("TensorFlow already uses this process's devices: "
                           "training.device: cpu hides GPUs from new processes only")
    gpus = tf.config.get_visible_devices("GPU")
    if device == "gpu" and not gpus:
        try:
            importlib.metadata.distribution("tensorflow-cpu")
            why = f"this environment has tensorflow-cpu, built without CUDA: {INSTALL}"
        except importlib.metadata.PackageNotFoundError:
            why = "check that nvidia-smi lists one and that CUDA_VISIBLE_DEVICES does not hide it"
        return [f"training.device: 'gpu', but TensorFlow sees no GPU ({why}); "
                f"use training.device: auto or cpu to train on the CPU"]
    logger.info("Training on %s (training.device: %s)",
                ", ".join(g.name for g in gpus) if gpus else "the CPU", device)
    return []


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
