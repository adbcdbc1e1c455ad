"""The chunked training loop: Keras' training step over NumPy batches."""

import numpy as np
import pytest

from bn_compare.parameters import DataParams, TrainingParams
from bn_compare.pipelines.loop import evaluate, predict, train_epochs
from bn_compare.pipelines.training.nodes import HISTORY_COLUMNS, build_model, train_model

DATA = DataParams()
TRAINING = TrainingParams(epochs=2, learning_rate=1e-2, seeds=[1], eval_batch_size=64,
                          steps_per_execution=2)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.random((70, 28, 28), dtype=np.float32)
    y = (x.mean(axis=(1, 2)) * 20 % 10).astype(np.uint8)
    return x, y, x[:20], y[:20]


@pytest.fixture(scope="module")
def layers(base_parameters):
    return base_parameters["variants"]["bn_after_activation"]["layers"]


def _train(layers, data, seed=1, **options):
    model = build_model(layers, data=DATA, training=TRAINING, seed=1)
    options = {"epochs": 2, "batch_size": 32, "steps_per_execution": 2,
               "eval_batch_size": 64, "seed": seed, **options}
    history = train_epochs(model, *data, **options)
    return model, history


def test_history_has_fit_style_logs_per_epoch(layers, data):
    _, history = _train(layers, data)
    assert len(history) == 2
    assert set(history[0]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(0 <= epoch["val_accuracy"] <= 1 for epoch in history)


def test_every_sample_is_seen_once_per_epoch_partial_batch_included(layers, data):
    model, _ = _train(layers, data)
    assert int(model.optimizer.iterations.numpy()) == 2 * 3  # 70 samples: 32 + 32 + 6


def test_same_seed_same_weights_chunk_size_is_speed_only(layers, data):
    first, _ = _train(layers, data, steps_per_execution=2)
    again, _ = _train(layers, data, steps_per_execution=1)
    other, _ = _train(layers, data, seed=2)
    for a, b in zip(first.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.get_weights()[2], other.get_weights()[2])


def test_train_model_returns_the_history_table(layers, data):
    model = build_model(layers, data=DATA, training=TRAINING, seed=1)
    _, history, _ = train_model(model, *data, training=TRAINING, seed=1)
    assert list(history.columns) == HISTORY_COLUMNS
    assert history["epoch"].tolist() == [1, 2]
    assert history["val_accuracy"].between(0, 1).all()


def test_evaluate_and_predict_agree_with_keras(layers, data):
    model, _ = _train(layers, data)
    x, y = data[0], data[1]
    ours = evaluate(model, x, y, batch_size=64)
    keras_loss, keras_accuracy = model.evaluate(x, y, batch_size=64, verbose=0)
    assert ours["loss"] == pytest.approx(keras_loss, rel=1e-6)
    assert ours["accuracy"] == pytest.approx(keras_accuracy, rel=1e-6)
    np.testing.assert_allclose(predict(model, x, batch_size=64),
                               model.predict(x, batch_size=64, verbose=0), rtol=1e-6)


def test_two_trainings_in_threads_give_the_numbers_of_one(layers, data):
    """What the default ThreadRunner does: trainings side by side in one process."""
    from concurrent.futures import ThreadPoolExecutor

    alone = _train(layers, data)[1]
    with ThreadPoolExecutor(2) as pool:
        side_by_side = [f.result()[1] for f in [pool.submit(_train, layers, data)
                                                for _ in range(2)]]
    assert side_by_side == [alone, alone]


def test_a_stopped_run_stops_the_training_before_its_next_chunk(layers, data):
    from bn_compare import interruption

    model = build_model(layers, data=DATA, training=TRAINING, seed=1)
    interruption.STOP.set()
    try:
        with pytest.raises(interruption.TrainingInterrupted, match="epoch 1/2"):
            train_epochs(model, *data, epochs=2, batch_size=32, steps_per_execution=2,
                         eval_batch_size=64, seed=1)
    finally:
        interruption.STOP.clear()
    assert int(model.optimizer.iterations.numpy()) == 0
