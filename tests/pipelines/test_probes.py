"""The diagnostics of a run (training/probes.py) against answers known by hand, on tiny
networks with fixed weights; and probes leave a model as they found it."""

from __future__ import annotations

import numpy as np
import pytest

from bn_compare.pipelines.training.probes import (
    NETWORK,
    STEP_FACTORS,
    UNITS_PER_BLOCK,
    Probe,
    probe_batch,
)

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -2.0], [2.0, 1.0]], dtype=np.float32)
Y = np.array([0, 1, 1, 0])
KERNEL = np.array([[1.0, -1.0], [0.5, -2.0]], dtype=np.float32)
BIAS = np.array([0.0, -10.0], dtype=np.float32)  # unit 2 is <= 0 for every image


def _measures(rows, epoch=0):
    return {(r["layer"], r["measure"]): r["value"] for r in rows if r["epoch"] == epoch}


def _network(layers, loss="sparse_categorical_crossentropy"):
    import keras

    model = keras.Sequential([keras.Input((2,)), *layers])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    return model


def _dense(units, kernel, bias=None, **kwargs):
    import keras

    layer = keras.layers.Dense(units, use_bias=bias is not None, **kwargs)
    layer.build((None, kernel.shape[0]))
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    return layer


def _classifier():
    import keras

    return _network([_dense(2, KERNEL, BIAS), keras.layers.LeakyReLU(0.1),
                     _dense(2, np.zeros((2, 2), np.float32), np.zeros(2, np.float32),
                            activation="softmax")])


def test_pre_activation_percentiles_dead_units_and_outputs_are_those_computed_by_hand():
    measures = _measures(Probe(_classifier(), X, Y, learning_rate=0.1).measure(0))
    pre = X @ KERNEL + BIAS
    for p in (15, 50, 85):
        assert measures["layer 1", f"pre_activation_p{p}"] == pytest.approx(np.percentile(pre, p))
    assert measures["layer 1", "pre_activation_std"] == pytest.approx(pre.std())
    assert measures["layer 1", "dead_fraction"] == 0.5  # unit 2 of 2
    out = np.where(pre > 0, pre, 0.1 * pre)
    assert measures["layer 1", "output_mean"] == pytest.approx(out.mean())


def test_gradient_and_weight_norms_are_those_of_softmax_cross_entropy_by_hand():
    measures = _measures(Probe(_classifier(), X, Y, learning_rate=0.1).measure(0))
    hidden = np.maximum(X @ KERNEL + BIAS, 0.1 * (X @ KERNEL + BIAS))
    probabilities = np.full((4, 2), 0.5)  # zero output weights: a uniform guess
    gradient = hidden.T @ (probabilities - np.eye(2)[Y]) / len(X)
    assert measures[NETWORK, "loss"] == pytest.approx(np.log(2))
    assert measures["output", "gradient_norm"] == pytest.approx(np.linalg.norm(gradient))
    assert measures["layer 1", "weight_norm"] == pytest.approx(np.linalg.norm(KERNEL))
    assert measures["layer 1", "relative_update"] == pytest.approx(
        0.1 * measures["layer 1", "gradient_norm"] / np.linalg.norm(KERNEL))
    assert np.isnan(measures["output", "relative_update"])  # no weight to compare with


def test_the_landscape_of_a_quadratic_has_its_known_smoothness_and_loss_range():
    # loss(w) = mean((x w - y)^2) with x^T x / n = I: Hessian 2I, so beta = 2 exactly, and
    # along -g, loss(w - s g) = loss(w) - s |g|^2 + s^2 |g|^2
    x = np.array([[1.0, 1.0], [1.0, -1.0]], dtype=np.float32)
    y = np.array([[1.0], [3.0]], dtype=np.float32)
    w = np.array([[0.5], [0.0]], dtype=np.float32)
    model = _network([_dense(1, w)], loss="mean_squared_error")
    rate = 0.1
    measures = _measures(Probe(model, x, y, learning_rate=rate, checkpoints=[0]).measure(0))
    residual = x @ w - y
    loss, gradient = float(np.mean(residual**2)), 2 * x.T @ residual / len(x)
    g2 = float(np.sum(gradient**2))
    losses = [loss] + [loss - f * rate * g2 + (f * rate) ** 2 * g2 for f in STEP_FACTORS]
    assert measures[NETWORK, "beta_smoothness"] == pytest.approx(2.0, rel=1e-5)
    assert measures[NETWORK, "loss_range"] == pytest.approx(max(losses) - min(losses), rel=1e-5)
    assert measures[NETWORK, "gradient_change"] == pytest.approx(
        2 * max(STEP_FACTORS) * rate * np.sqrt(g2), rel=1e-5)


def test_internal_covariate_shift_is_the_one_computed_in_closed_form():
    # a linear network x W1 W2 W3 with the mean squared error: every gradient by hand;
    # layer 2's kernel gradient before and after layer 1 (only) takes its SGD step
    w1 = np.array([[1.0, -0.5], [0.5, 1.0]], dtype=np.float32)
    w2 = np.array([[0.5, 1.0], [-1.0, 0.5]], dtype=np.float32)
    w3 = np.array([[1.0], [0.5]], dtype=np.float32)
    y = np.array([[1.0], [-1.0], [2.0], [0.0]], dtype=np.float32)
    rate = 0.05
    model = _network([_dense(2, w1), _dense(2, w2), _dense(1, w3)], loss="mean_squared_error")
    measures = _measures(Probe(model, X, y, learning_rate=rate, checkpoints=[0]).measure(0))
    x = X.astype(np.float64)

    def layer_2_gradient(first):
        upstream = 2 * (x @ first @ w2 @ w3 - y) / len(x)  # dL/d(output)
        return (x @ first).T @ upstream @ w3.T

    upstream = 2 * (x @ w1 @ w2 @ w3 - y) / len(x)
    layer_1_gradient = x.T @ upstream @ w3.T @ w2.T
    before = layer_2_gradient(w1)
    after = layer_2_gradient(w1 - rate * layer_1_gradient)
    shift = np.linalg.norm(after - before)
    assert shift > 0.1 * np.linalg.norm(before)  # a shift no wrong step could hide
    assert measures["layer 2", "ics_l2"] == pytest.approx(shift, rel=1e-4)
    assert measures["layer 2", "ics_l2_relative"] == pytest.approx(
        shift / np.linalg.norm(before), rel=1e-4)
    assert measures["layer 2", "ics_cosine"] == pytest.approx(
        np.sum(before * after) / np.linalg.norm(before) / np.linalg.norm(after), rel=1e-5)
    assert ("layer 1", "ics_l2") not in measures  # no earlier layer


def test_beta_smoothness_is_the_largest_ratio_over_the_steps_not_the_mean_or_the_smallest():
    # softmax regression: its curvature changes along the gradient, so the ratio of the
    # gradient's change to the step's length differs from step to step
    rate, w = 1.0, np.array([[0.5, -0.5], [-1.0, 1.0]], dtype=np.float32)
    model = _network([_dense(2, w, activation="softmax")])
    measures = _measures(Probe(model, X, Y, learning_rate=rate, checkpoints=[0]).measure(0))
    x, onehot = X.astype(np.float64), np.eye(2)[Y]

    def loss_and_gradient(kernel):
        logits = x @ kernel
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return -np.mean(np.log(p[np.arange(len(x)), Y])), x.T @ (p - onehot) / len(x)

    loss, gradient = loss_and_gradient(w)
    norm = np.linalg.norm(gradient)
    steps = [factor * rate for factor in STEP_FACTORS]
    moved = [loss_and_gradient(w - step * gradient) for step in steps]
    changes = np.array([np.linalg.norm(g - gradient) for _, g in moved])
    ratios = changes / (np.array(steps) * norm)
    assert ratios.max() > 1.1 * ratios.mean() > 1.21 * ratios.min()  # the three differ
    assert measures[NETWORK, "beta_smoothness"] == pytest.approx(ratios.max(), rel=1e-4)
    assert measures[NETWORK, "gradient_change"] == pytest.approx(changes.max(), rel=1e-4)
    assert measures[NETWORK, "gradient_change_relative"] == pytest.approx(
        changes.max() / norm, rel=1e-4)
    losses = [loss, *(moved_loss for moved_loss, _ in moved)]
    assert measures[NETWORK, "loss_range"] == pytest.approx(max(losses) - min(losses), rel=1e-4)


def test_units_followed_one_by_one_are_fixed_by_the_seed_and_their_percentiles_are_theirs():
    import keras

    kernel = np.array([[1.0, -1.0, 0.5, 2.0, -0.5], [0.5, -2.0, 1.0, -1.0, 0.0]], np.float32)
    bias = np.array([0.0, 1.0, -1.0, 0.5, 0.2], dtype=np.float32)

    def probe(seed):
        model = _network([_dense(5, kernel, bias), keras.layers.LeakyReLU(0.1),
                          _dense(2, np.zeros((5, 2), np.float32), activation="softmax")])
        return Probe(model, X, Y, learning_rate=0.1, seed=seed)

    first, again = probe(0), probe(0)
    units = first.units["layer 1"]
    assert units == again.units["layer 1"] and len(units) == UNITS_PER_BLOCK
    assert any(probe(seed).units["layer 1"] != units for seed in (1, 2, 3))
    measures = _measures(first.measure(0))
    pre = X @ kernel + bias
    for unit in units:
        for p in (15, 50, 85):
            assert measures["layer 1", f"pre_activation_unit_{unit}_p{p}"] == pytest.approx(
                np.percentile(pre[:, unit], p))
    assert measures["layer 1", "pre_activation_p50"] == pytest.approx(np.percentile(pre, 50))
    followed = {m for (_, m) in measures if "_unit_" in m}
    assert len(followed) == 2 * 3 * UNITS_PER_BLOCK  # pre-activation and Dense output
    narrow = _measures(Probe(_classifier(), X, Y, learning_rate=0.1).measure(0))
    assert {m for (_, m) in narrow if m.startswith("pre_activation_unit_")} == {
        f"pre_activation_unit_{u}_p{p}" for u in (0, 1) for p in (15, 50, 85)}  # 2 units: both


def test_with_bn_before_the_activation_the_dense_output_is_measured_before_bn():
    import keras

    model = _network([_dense(2, KERNEL, BIAS), keras.layers.BatchNormalization(),
                      keras.layers.Activation("relu"),
                      _dense(2, KERNEL, np.zeros(2, np.float32), activation="softmax")])
    measures = _measures(Probe(model, X, Y, learning_rate=0.1).measure(0))
    dense = X @ KERNEL + BIAS
    assert measures["layer 1", "dense_output_std"] == pytest.approx(dense.std())
    assert measures["layer 1", "dense_output_p85"] == pytest.approx(np.percentile(dense, 85))
    assert measures["layer 1", "dense_output_unit_1_p15"] == pytest.approx(
        np.percentile(dense[:, 1], 15))
    normalized = (dense - dense.mean(axis=0)) / np.sqrt(dense.var(axis=0) + 1e-3)
    assert measures["layer 1", "pre_activation_std"] == pytest.approx(normalized.std(), rel=1e-4)
    # where nothing lies between them, the Dense output is the input to the nonlinearity
    plain = _measures(Probe(_classifier(), X, Y, learning_rate=0.1).measure(0))
    assert all(plain["layer 1", f"dense_output{m}"] == plain["layer 1", f"pre_activation{m}"]
               for m in ("_p15", "_p50", "_p85", "_mean", "_std", "_unit_0_p50"))


def test_a_probe_changes_no_weight_and_no_moving_statistic():
    import keras

    model = _network([_dense(2, KERNEL, BIAS), keras.layers.BatchNormalization(),
                      keras.layers.Activation("relu"),
                      _dense(2, KERNEL, np.zeros(2, np.float32), activation="softmax")])
    before = [w.copy() for w in model.get_weights()]
    rows = Probe(model, X, Y, learning_rate=0.1, checkpoints=[3]).measure(3)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    measures = _measures(rows, epoch=3)
    # before the activation, BN on the probe batch's statistics: each unit mean 0, std ~1
    assert measures["layer 1", "pre_activation_mean"] == pytest.approx(0, abs=1e-5)
    assert {"loss_range", "beta_smoothness"} <= {m for (_, m) in measures}


def test_the_probe_batch_is_the_same_images_for_every_run_and_chosen_by_seed():
    x, y = np.arange(100 * 4).reshape(100, 4), np.arange(100)
    first, again, other = probe_batch(x, y, 10, 0), probe_batch(x, y, 10, 0), probe_batch(
        x, y, 10, 1)
    assert np.array_equal(first[0], again[0]) and not np.array_equal(first[0], other[0])
    assert first[0].dtype == np.float32 and len(first[1]) == 10
    assert np.array_equal(first[0][:, 0] // 4, first[1])  # images and labels stay paired
