"""The diagnostics of a run (training/probes.py) against answers known by hand, on tiny
networks with fixed weights; and probes leave a model as they found it."""

from __future__ import annotations

import numpy as np
import pytest

from bn_compare.pipelines.training.probes import NETWORK, STEP_FACTORS, Probe, probe_batch

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


def test_internal_covariate_shift_is_zero_when_earlier_layers_do_not_move():
    import keras

    # zero gradient for the first layer: its units are dead under ReLU, so its step is
    # nothing and the second layer's gradient does not change
    model = _network([_dense(2, KERNEL, np.array([-10.0, -10.0], np.float32)),
                      keras.layers.ReLU(),
                      _dense(2, KERNEL, np.zeros(2, np.float32)), keras.layers.ReLU(),
                      _dense(2, KERNEL, np.zeros(2, np.float32), activation="softmax")])
    measures = _measures(Probe(model, X, Y, learning_rate=0.5, checkpoints=[0]).measure(0))
    assert measures["layer 2", "ics_l2"] == 0.0
    assert ("layer 1", "ics_l2") not in measures  # no earlier layer


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
