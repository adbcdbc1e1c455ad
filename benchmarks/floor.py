"""The machine's own floor for one training step, and the project's steps against it.

The floor: the matrix products of one SGD step of the 784-300-100-10 network at batch 32
(forward, the weight gradients and the gradients back-propagated into layers 2 and 3,
about 36 MFLOP) on one core with the BLAS that NumPy ships, the median of many. The
project: its own training loop (``pipelines/loop.py``, the variants of ``conf/base``) on
the real training images, seconds per step of a second epoch (the first includes the
tracing), each variant alone and two side by side in threads as the default runner
trains them. Machines here differ 2-3x from day to day, so the figures that compare are
the ratios to the floor measured in the same run.

    python benchmarks/floor.py            # about a minute
    python benchmarks/floor.py --steps 200
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
LAYERS = (784, 300, 100, 10)
RAW_FOLDERS = (ROOT / "data" / "01_raw" / "fashion-mnist", Path("/usr/share/datasets/fashion-mnist"))


def step_flops(batch: int = 32, layers: tuple[int, ...] = LAYERS,
               into_first: bool = False) -> int:
    """Multiply-adds x 2 of one step: forward, weight gradients, and the gradients
    back-propagated into every layer but the first (``into_first``: into the first too, as
    in the BN variants, whose first BN layer before the first Dense has weights)."""
    products = [batch * fan_in * fan_out for fan_in, fan_out in zip(layers, layers[1:])]
    return 2 * (2 * sum(products) + sum(products if into_first else products[1:]))


def floor_seconds(batch: int = 32, layers: tuple[int, ...] = LAYERS, repeats: int = 300,
                  seed: int = 0, into_first: bool = False) -> float:
    """Median seconds of one step's matrix products, one thread, NumPy's BLAS."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((a, b), dtype=np.float32) for a, b in zip(layers, layers[1:])]
    x = rng.standard_normal((batch, layers[0]), dtype=np.float32)
    times = []
    with threadpool_limits(limits=1):
        for _ in range(repeats):
            start = time.perf_counter()
            activations = [x]
            for w in weights:
                activations.append(activations[-1] @ w)
            delta = activations[-1]
            for index in range(len(weights) - 1, -1, -1):
                _ = activations[index].T @ delta  # the weight gradient
                if index or into_first:
                    delta = delta @ weights[index].T  # back-propagated
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def _images(count: int) -> tuple[np.ndarray, np.ndarray]:
    from bn_compare.datasets.idx import read_idx_gz

    folder = next(f for f in RAW_FOLDERS if (f / "train-images-idx3-ubyte.gz").exists())  # as make data
    images = read_idx_gz(folder / "train-images-idx3-ubyte.gz", ndim=3)[:count]
    labels = read_idx_gz(folder / "train-labels-idx1-ubyte.gz", ndim=1)[:count]
    return images.astype(np.float32) / 255.0, labels


def project_seconds_per_step(variants: list[str], steps: int = 800) -> dict[str, float]:
    """Seconds per step of the project's loop in the middle of three epochs of ``steps``
    steps (the first traces; side by side, the last may run alone), each variant in a
    thread of its own, all at once (one variant: alone)."""
    from bn_compare.parameters import DataParams, TrainingParams
    from bn_compare.pipelines.loop import train_epochs
    from bn_compare.pipelines.training.nodes import build_model

    training = TrainingParams()
    x, y = _images(steps * training.batch_size)
    specs = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())["variants"]
    models = {v: build_model(specs[v]["layers"], data=DataParams(), training=training,
                                seed=42) for v in variants}
    seconds: dict[str, float] = {}

    def train(variant: str) -> None:
        epochs: list[float] = []
        train_epochs(models[variant], x, y, x[:32], y[:32], epochs=3,
                     batch_size=training.batch_size,
                     steps_per_execution=training.steps_per_execution,
                     eval_batch_size=training.eval_batch_size, seed=42,
                     on_epoch_end=lambda epoch, logs, s: epochs.append(s))
        seconds[variant] = epochs[1] / steps

    threads = [threading.Thread(target=train, args=(v,)) for v in variants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seconds


def measure(steps: int = 800) -> dict:
    """The floors, each variant alone, and the two BN variants side by side."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # each model traces its own steps
    floor = floor_seconds()
    bn_floor = floor_seconds(into_first=True)
    alone = {}
    for variant in ("baseline", "bn_after_activation", "bn_before_activation"):
        alone.update(project_seconds_per_step([variant], steps))
    pair = project_seconds_per_step(["bn_after_activation", "bn_before_activation"], steps)
    return {"floor_ms": 1e3 * floor, "floor_gflops": step_flops() / floor / 1e9,
            "bn_floor_ms": 1e3 * bn_floor,
            "alone_ms": {v: 1e3 * s for v, s in alone.items()},
            "side_by_side_ms": {v: 1e3 * s for v, s in pair.items()},
            "alone_ratio": {v: s / floor for v, s in alone.items()},
            "side_by_side_ratio": {v: s / floor for v, s in pair.items()}}


def trainings_at_floor(result: dict, variants: list[str], cores: int) -> float:
    """Seconds the default run's trainings (``conf/base``: every variant, one seed, full
    data) would take if every step ran at the floor of its products and the cores shared
    the trainings perfectly: a lower bound no tuning of the step can beat."""
    from bn_compare.parameters import DataParams, TrainingParams

    training = TrainingParams()
    steps = training.epochs * math.ceil(DataParams().split_sizes["train"] / training.batch_size)
    per_step = [result["bn_floor_ms"] if v.startswith("bn_") else result["floor_ms"]
                for v in variants]
    return steps * max(sum(per_step) / cores, *per_step) / 1e3


def describe(result: dict) -> str:
    """The floor, then each variant's step as a ratio to it; a BN variant's also to the
    floor of its own products (one more: back-propagated into its first BN layer)."""
    lines = [f"floor: {result['floor_ms']:.2f} ms per step ({step_flops() / 1e6:.0f} MFLOP, "
             f"{result['floor_gflops']:.0f} GFLOP/s, one core, NumPy's BLAS); with the BN "
             f"variants' extra product ({step_flops(into_first=True) / 1e6:.0f} MFLOP) "
             f"{result['bn_floor_ms']:.2f} ms"]
    for kind in ("alone", "side_by_side"):
        for variant, ms in result[f"{kind}_ms"].items():
            own = (f" ({ms / result['bn_floor_ms']:.2f}x its own products' floor)"
                   if variant.startswith("bn_") else "")
            lines.append(f"{variant} {kind.replace('_', ' ')}: {ms:.2f} ms per step = "
                         f"{result[f'{kind}_ratio'][variant]:.2f}x the floor{own}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800, help="steps per timed epoch")
    args = parser.parse_args(argv)
    print(describe(measure(args.steps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
