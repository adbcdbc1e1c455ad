"""Diagnostics from inside the network, on a fixed probe batch: what the two explanations
of BatchNormalization's benefit predict, measured for one run.

- Ioffe & Szegedy (2015): the distribution of each layer's inputs to the nonlinearity
  (15th/50th/85th percentiles, mean, std), pooled over its units and for a few units
  chosen by a seed (their Figure 1 follows single units); the same for the Dense layer's
  own output (before a normalization between it and the nonlinearity, as in
  ``bn_before_activation``, where the nonlinearity's input is the normalization's output);
  the distribution of the block's outputs, and the dead units.
- Santurkar et al. (2018): along the gradient direction, how much the loss changes (loss
  range), how much the gradient changes (gradient predictiveness) and the effective
  beta-smoothness; and their internal covariate shift: how much a layer's gradient changes
  when the earlier layers take an SGD step. Gradient changes also relative to the
  gradient's size (BatchNormalization rescales gradients).

The network is seen as training sees it (BatchNormalization on the probe batch's
statistics) through Keras' ``StatelessScope``: a probe reads the weights and changes
nothing, no weight, no moving statistic, no random state. A hidden block is a hidden Dense
layer with the layers that follow it up to the next Dense; its pre-activation is the
input to its nonlinearity (the Dense layer's affine output where the activation is inside
the Dense layer); its Dense output is the Dense layer's affine output (the same as the
pre-activation unless a layer lies between them); its output is what the next Dense layer
receives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

PERCENTILES = (15, 50, 85)
STEP_FACTORS = (0.5, 1.0, 2.0, 4.0)  # x the learning rate, along the negative gradient
NONLINEAR_LAYERS = ("Activation", "LeakyReLU", "ReLU", "ELU", "PReLU", "Softmax")
NETWORK = "network"  # the layer of the measures of the whole network
UNITS_PER_BLOCK = 3  # units followed one by one in each hidden block (all, if fewer)


def probe_batch(x: np.ndarray, y: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, ...]:
    """The same ``size`` training images (and labels) for every run: chosen by ``seed``."""
    rows = np.sort(np.random.default_rng(seed).choice(len(x), min(size, len(x)), replace=False))
    return np.asarray(x[rows], dtype=np.float32), np.asarray(y[rows])


@dataclass
class Block:
    """A hidden Dense layer and the layers after it, up to the next Dense layer."""

    name: str
    first: int  # index in model.layers of the Dense layer
    last: int  # index of the block's last layer
    nonlinearity: int | None  # index of the layer that applies it, if any


def hidden_blocks(model: Any) -> tuple[list[Block], list[int]]:
    """The hidden blocks, and the index of every Dense layer (the last one is the output)."""
    layers = model.layers
    dense = [i for i, layer in enumerate(layers) if type(layer).__name__ == "Dense"]
    blocks = []
    for number, (first, end) in enumerate(zip(dense[:-1], dense[1:], strict=True), 1):
        nonlinear = [i for i in range(first, end) if _applies_nonlinearity(layers[i])]
        blocks.append(Block(f"layer {number}", first, end - 1, nonlinear[0] if nonlinear else None))
    return blocks, dense


def _applies_nonlinearity(layer: Any) -> bool:
    if type(layer).__name__ == "Dense":
        return getattr(layer.activation, "__name__", "linear") != "linear"
    return type(layer).__name__ in NONLINEAR_LAYERS


def tracked_units(blocks: list[Block], model: Any, seed: int) -> dict[str, list[int]]:
    """Per hidden block, the ``UNITS_PER_BLOCK`` units (indices of its Dense layer's
    outputs, ascending) followed one by one: drawn by ``seed``, block after block, so the
    same units in every run of the same layer widths."""
    rng = np.random.default_rng(seed)
    chosen = {}
    for block in blocks:
        width = int(model.layers[block.first].units)
        chosen[block.name] = sorted(int(u) for u in rng.choice(
            width, min(UNITS_PER_BLOCK, width), replace=False))
    return chosen


def _distribution(prefix: str, values: np.ndarray, units: list[int]) -> dict[str, float]:
    """Percentiles, mean and std pooled over every unit and image, and the percentiles of
    each of ``units`` over the images (``<prefix>_unit_<i>_p<q>``)."""
    flat = values.ravel()
    per_unit = np.percentile(values[:, units], PERCENTILES, axis=0) if units else np.empty((len(PERCENTILES), 0))
    return {**{f"{prefix}_p{p}": float(v) for p, v in zip(
        PERCENTILES, np.percentile(flat, PERCENTILES), strict=True)},
        f"{prefix}_mean": float(flat.mean()), f"{prefix}_std": float(flat.std()),
        **{f"{prefix}_unit_{unit}_p{p}": float(per_unit[row, column])
           for column, unit in enumerate(units) for row, p in enumerate(PERCENTILES)}}


def _norm(value: Any) -> float:
    return float(np.linalg.norm(np.asarray(value, dtype=np.float64)))


class Probe:
    """Measures one model on one probe batch; ``measure(epoch)`` returns tidy rows. The
    units followed one by one are drawn by ``seed`` (``diagnostics.seed``)."""

    def __init__(  # noqa: PLR0913 (the model and its probe batch, then the run's settings)
        self, model: Any, x: np.ndarray, y: np.ndarray, *, learning_rate: float,
        checkpoints: Iterable[int] = (), seed: int = 0,
    ) -> None:
        import keras
        import tensorflow as tf

        self.tf, self.keras, self.model = tf, keras, model
        self.x, self.y = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y)
        self.learning_rate, self.checkpoints = float(learning_rate), set(checkpoints)
        self.loss = keras.losses.get(model.loss)
        self.blocks, self.dense = hidden_blocks(model)
        self.nonlinear = {b.nonlinearity for b in self.blocks if b.nonlinearity is not None}
        self.ends = {block.last: block for block in self.blocks}  # by its last layer
        self.firsts = {block.first for block in self.blocks}
        self.units = tracked_units(self.blocks, model, seed)
        position = {id(v): i for i, v in enumerate(model.trainable_variables)}
        self.kernels = [position[id(model.layers[i].kernel)] for i in self.dense]
        self.dense_names = [block.name for block in self.blocks] + ["output"]

    def measure(self, epoch: int) -> list[dict[str, Any]]:
        values = [self.tf.convert_to_tensor(v.value) for v in self.model.trainable_variables]
        loss, gradients, trace = self._gradients(values, record=True)
        rows = {name: {} for name in [*self.dense_names, NETWORK]}
        rows[NETWORK]["loss"] = float(loss)
        for block, (dense, pre, out) in zip(self.blocks, trace, strict=True):
            units = self.units[block.name]
            if pre is not None:
                rows[block.name].update(_distribution("pre_activation", pre, units))
                rows[block.name]["dead_fraction"] = float(np.mean(np.all(pre <= 0, axis=0)))
            rows[block.name].update(_distribution("dense_output", dense, units))
            rows[block.name].update(_distribution("output", out, []))
        for name, index in zip(self.dense_names, self.kernels, strict=True):
            gradient, weight = _norm(gradients[index]), _norm(values[index])
            rows[name].update({"gradient_norm": gradient, "weight_norm": weight,
                               "relative_update": self.learning_rate * gradient / weight
                               if weight > 0 else float("nan")})
        if epoch in self.checkpoints:
            rows[NETWORK].update(self._landscape(values, float(loss), gradients))
            for block, index in zip(self.blocks[1:], self.kernels[1:], strict=False):
                rows[block.name].update(self._covariate_shift(values, gradients, block, index))
        return [{"epoch": epoch, "layer": layer, "measure": measure, "value": value}
                for layer, measures in rows.items() for measure, value in measures.items()]

    def _landscape(self, values: list[Any], loss: float,
                   gradients: list[Any]) -> dict[str, float]:
        """Santurkar et al.'s loss range, gradient predictiveness (the largest l2 change
        of the gradient; also over the gradient's own norm) and effective beta-smoothness
        (the largest change over the step's length) along the negative gradient, for
        steps of ``STEP_FACTORS`` x the learning rate."""
        losses, changes, smoothness = [loss], [], []
        norm = np.sqrt(sum(_norm(g) ** 2 for g in gradients))
        for factor in STEP_FACTORS:
            step = factor * self.learning_rate
            moved = [v - step * g for v, g in zip(values, gradients, strict=True)]
            moved_loss, moved_gradients, _ = self._gradients(moved)
            change = np.sqrt(sum(_norm(a - b) ** 2 for a, b in zip(
                moved_gradients, gradients, strict=True)))
            losses.append(float(moved_loss))
            changes.append(change)
            smoothness.append(change / (step * norm) if norm > 0 else 0.0)
        change = float(max(changes))
        return {"loss_range": max(losses) - min(losses), "gradient_change": change,
                "gradient_change_relative": change / norm if norm > 0 else float("nan"),
                "beta_smoothness": float(max(smoothness))}

    def _covariate_shift(self, values: list[Any], gradients: list[Any], block: Block,
                         index: int) -> dict[str, float]:
        """Santurkar et al.'s internal covariate shift of a layer: its kernel's gradient
        before and after an SGD step (at the run's learning rate) of the earlier layers,
        the l2 distance also over the gradient's norm before the step."""
        earlier = {id(v) for layer in self.model.layers[:block.first]
                   for v in layer.trainable_variables}
        moved = [v - self.learning_rate * g if id(variable) in earlier else v
                 for variable, v, g in zip(self.model.trainable_variables, values, gradients,
                                           strict=True)]
        after = np.asarray(self._gradients(moved)[1][index], dtype=np.float64).ravel()
        before = np.asarray(gradients[index], dtype=np.float64).ravel()
        size, distance = np.linalg.norm(before), np.linalg.norm(after - before)
        denominator = size * np.linalg.norm(after)
        return {"ics_l2": float(distance),
                "ics_l2_relative": float(distance / size) if size > 0 else float("nan"),
                "ics_cosine": float(before @ after / denominator) if denominator else 1.0}

    def _gradients(self, values: list[Any], *, record: bool = False) -> tuple[Any, ...]:
        """The loss on the probe batch at ``values`` (one per trainable variable), its
        gradients, and per hidden block (if ``record``) its Dense output, pre-activation
        and output."""
        tf, model = self.tf, self.model
        mapping = [*zip(model.trainable_variables, values, strict=True),
                   *((v, v.value) for v in model.non_trainable_variables)]
        trace = []
        with tf.GradientTape() as tape:
            tape.watch(values)
            with self.keras.StatelessScope(state_mapping=mapping):
                h, pre, dense = self.x, {}, None
                for i, layer in enumerate(model.layers):
                    if record and i in self.firsts and i in self.nonlinear:
                        dense = pre[i] = self._affine(layer, h)  # activation inside Dense
                    elif record and i in self.nonlinear:
                        pre[i] = h
                    h = layer(h, training=True)
                    if record and i in self.firsts and i not in self.nonlinear:
                        dense = h  # a linear Dense layer: its output is its affine output
                    if record and i in self.ends:
                        block = self.ends[i]
                        trace.append((np.asarray(dense), None if block.nonlinearity is None
                                      else np.asarray(pre[block.nonlinearity]), np.asarray(h)))
                loss = tf.reduce_mean(self.loss(self.y, h))
        return loss, tape.gradient(loss, values), trace

    def _affine(self, layer: Any, h: Any) -> Any:
        ops = self.keras.ops
        affine = ops.matmul(h, layer.kernel)
        return ops.add(affine, layer.bias) if layer.use_bias else affine
