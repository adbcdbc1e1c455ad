"""The operations of one compiled training step, per variant: how many, of which kinds.

The floor (``floor.py``) counts only the matrix products; each other operation of the
step costs the graph executor a dispatch. This lists them, for the question where the
rest of a step goes (``make bench``'s ratios to the floor).

    python benchmarks/step_ops.py
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOKKEEPING = {"Const", "Identity", "NoOp", "Placeholder", "ReadVariableOp"}


def step_operations(layers: list[dict], batch: int = 32) -> collections.Counter:
    """Operation types of Keras' ``train_step`` for one batch, traced as the loop traces it."""
    import tensorflow as tf

    from bn_compare.parameters import DataParams, TrainingParams
    from bn_compare.pipelines.loop import _build_state
    from bn_compare.pipelines.training.nodes import build_model

    model = build_model(layers, data=DataParams(), training=TrainingParams(), seed=42)
    x, y = np.zeros((batch, 28, 28), np.float32), np.zeros(batch, np.uint8)
    _build_state(model, x, y)
    step = tf.function(lambda images, labels: model.train_step((images, labels)))
    graph = step.get_concrete_function(tf.TensorSpec(x.shape, tf.float32),
                                       tf.TensorSpec(y.shape, tf.uint8)).graph
    return collections.Counter(op.type for op in graph.get_operations())


def main() -> int:
    variants = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())["variants"]
    for name, spec in variants.items():
        ops = step_operations(spec["layers"])
        compute = {kind: n for kind, n in ops.items() if kind not in BOOKKEEPING}
        print(f"{name}: {sum(ops.values())} operations, {sum(compute.values())} of them "
              f"compute ({compute.get('MatMul', 0)} MatMul)")
        print("  " + ", ".join(f"{kind} {n}" for kind, n in collections.Counter(compute)
                               .most_common(12)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
