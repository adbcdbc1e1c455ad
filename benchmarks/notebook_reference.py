"""The seed notebook's training code as written, as a plain script: the reference
``make bench`` compares the pipeline with.

Kept faithful on purpose: float64 input from ``/ 255.0``, default ``model.fit``
(steps_per_execution 1, no XLA, TensorFlow's default threads and oneDNN, no op
determinism), the three variants one after the other in one process. It imports
nothing from this project (whose package sets TensorFlow options). Only two things
differ from the notebook: the data is read from the official IDX files with NumPy
(``keras.datasets`` would download them), and ``Input`` replaces the deprecated
``input_shape=`` argument.

Prints one JSON object: per variant the fit seconds, final validation accuracy and test
accuracy. ``--epochs``, ``--validation`` and ``--train-images`` exist only for the
benchmark's quick smoke mode; their defaults are the notebook's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np

FOLDERS = [Path("data/01_raw/fashion-mnist"), Path("/usr/share/datasets/fashion-mnist")]


def read_idx(name: str, header: int) -> np.ndarray:
    path = next(folder / name for folder in FOLDERS if (folder / name).is_file())
    with gzip.open(path) as stream:
        return np.frombuffer(stream.read(), np.uint8, offset=header)


parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--validation", type=int, default=5000)
parser.add_argument("--train-images", type=int, default=None)
args = parser.parse_args()

import tensorflow as tf  # noqa: E402

X_train_full = read_idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28) / 255.0
y_train_full = read_idx("train-labels-idx1-ubyte.gz", 8)
X_test = read_idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28) / 255.0
y_test = read_idx("t10k-labels-idx1-ubyte.gz", 8)
X_valid, X_train = X_train_full[:args.validation], X_train_full[args.validation:]
y_valid, y_train = y_train_full[:args.validation], y_train_full[args.validation:]
if args.train_images:
    X_train, y_train = X_train[:args.train_images], y_train[:args.train_images]

tf.random.set_seed(42)
L = tf.keras.layers
VARIANTS = {
    "baseline": [
        L.Flatten(), L.Dense(300, kernel_initializer="he_normal"), L.LeakyReLU(),
        L.Dense(100, kernel_initializer="he_normal"), L.LeakyReLU(),
        L.Dense(10, activation="softmax"),
    ],
    "bn_after_activation": [
        L.Flatten(), L.BatchNormalization(),
        L.Dense(300, activation="relu", kernel_initializer="he_normal"),
        L.BatchNormalization(),
        L.Dense(100, activation="relu", kernel_initializer="he_normal"),
        L.BatchNormalization(), L.Dense(10, activation="softmax"),
    ],
    "bn_before_activation": [
        L.Flatten(), L.BatchNormalization(),
        L.Dense(300, kernel_initializer="he_normal"), L.BatchNormalization(),
        L.Activation("relu"),
        L.Dense(100, kernel_initializer="he_normal"), L.BatchNormalization(),
        L.Activation("relu"), L.Dense(10, activation="softmax"),
    ],
}

results = {}
for name, layers in VARIANTS.items():
    model = tf.keras.models.Sequential([tf.keras.Input(shape=[28, 28]), *layers])
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=tf.keras.optimizers.SGD(learning_rate=1e-3),
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(X_train, y_train, epochs=args.epochs,
                        validation_data=(X_valid, y_valid), verbose=2)
    fit_seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(X_test, y_test, verbose=0)
    results[name] = {
        "fit_seconds": fit_seconds,
        "final_val_accuracy": history.history["val_accuracy"][-1],
        "test_accuracy": test_accuracy,
    }
print(json.dumps(results))
