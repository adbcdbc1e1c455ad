import numpy as np
import pytest

from bn_compare.pipelines.training.nodes import (
    HISTORY_COLUMNS,
    account_parameters,
    build_model,
    train_model,
)

DATA = {"image_shape": [28, 28]}


@pytest.fixture
def training():
    return {"epochs": 2, "batch_size": 8, "learning_rate": 1e-3, "seeds": [42],
            "optimizer": "SGD", "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"], "eval_batch_size": 64}


def test_build_compiles_the_notebooks_optimizer(base_parameters, training):
    model = build_model(base_parameters["variants"]["baseline"]["layers"], DATA, training,
                        seed=42, variant="baseline")
    assert model.name == "baseline"
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    assert model.loss == "sparse_categorical_crossentropy"


def test_same_seed_same_initial_weights_other_seed_other_weights(base_parameters, training):
    layers = base_parameters["variants"]["bn_before_activation"]["layers"]
    first = build_model(layers, DATA, training, seed=42).get_weights()
    again = build_model(layers, DATA, training, seed=42).get_weights()
    other = build_model(layers, DATA, training, seed=7).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    kernel = next(i for i, w in enumerate(first) if w.ndim == 2)  # first Dense kernel
    assert not np.array_equal(first[kernel], other[kernel])


def test_parameter_accounting_of_bn_after_activation(base_parameters, training):
    model = build_model(base_parameters["variants"]["bn_after_activation"]["layers"],
                        DATA, training, seed=42)
    table = account_parameters(model)
    bn = table[table["class_name"] == "BatchNormalization"]
    assert bn["features"].tolist() == [784, 300, 100]
    assert bn["total"].tolist() == [3136, 1200, 400]  # 4 x features
    for vector in ("gamma", "beta", "moving_mean", "moving_variance"):
        assert bn[vector].tolist() == [784, 300, 100]
    assert bn["trainable"].sum() == bn["non_trainable"].sum() == 2368  # half trainable
    assert table["total"].sum() == 271_346
    assert table["non_trainable"].sum() == 2_368
    assert table.loc[table["class_name"] == "Dense", "total"].tolist() == [235500, 30100, 1010]


def test_baseline_accounting_has_no_bn_rows(base_parameters, training):
    layers = base_parameters["variants"]["baseline"]["layers"]
    table = account_parameters(build_model(layers, DATA, training, seed=42))
    assert (table["features"] == 0).all()
    assert table["total"].sum() == table["trainable"].sum() == 266_610


def test_training_returns_the_model_and_a_history_table(base_parameters, training):
    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64).astype(np.uint8)
    layers = base_parameters["variants"]["baseline"]["layers"]
    model = build_model(layers, DATA, training, seed=42)
    before = model.get_weights()[0].copy()
    trained, history = train_model(model, x, y, x[:16], y[:16], training, seed=42)
    assert list(history.columns) == HISTORY_COLUMNS
    assert history["epoch"].tolist() == [1, 2]
    assert (history["seconds"] > 0).all()
    assert history[["loss", "val_loss"]].notna().all().all()
    assert not np.array_equal(trained.get_weights()[0], before)
