import numpy as np
import pytest

from bn_compare.parameters import DataParams, TrainingParams
from bn_compare.pipelines.training.nodes import (
    HISTORY_COLUMNS,
    account_parameters,
    build_model,
    choose_setting,
    train_model,
)

DATA = DataParams()


@pytest.fixture
def training():
    return TrainingParams(epochs=2, batch_size=8, eval_batch_size=64)


def test_build_compiles_the_notebooks_optimizer(base_parameters, training):
    model = build_model(base_parameters["variants"]["baseline"]["layers"], data=DATA, training=training,
                        seed=42, variant="baseline")
    assert model.name == "baseline"
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    assert model.loss == "sparse_categorical_crossentropy"


def test_same_seed_same_initial_weights_other_seed_other_weights(base_parameters, training):
    layers = base_parameters["variants"]["bn_before_activation"]["layers"]
    first = build_model(layers, data=DATA, training=training, seed=42).get_weights()
    again = build_model(layers, data=DATA, training=training, seed=42).get_weights()
    other = build_model(layers, data=DATA, training=training, seed=7).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    kernel = next(i for i, w in enumerate(first) if w.ndim == 2)  # first Dense kernel
    assert not np.array_equal(first[kernel], other[kernel])


def test_parameter_accounting_of_bn_after_activation(base_parameters, training):
    model = build_model(base_parameters["variants"]["bn_after_activation"]["layers"], data=DATA, training=training, seed=42)
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


def test_accounting_knows_renorm_and_layer_normalization(training):
    """BN with renorm: 4 + 3 vectors per feature (moving_stddev, renorm_mean and
    renorm_stddev, none trainable); LayerNormalization: gamma and beta only."""
    layers = [{"class_name": "Flatten"}, {"class_name": "Dense", "units": 30},
              {"class_name": "BatchNormalization", "renorm": True},
              {"class_name": "Dense", "units": 20}, {"class_name": "LayerNormalization"},
              {"class_name": "Dense", "units": 10, "activation": "softmax"}]
    table = account_parameters(build_model(layers, data=DATA, training=training, seed=42)).set_index(
        "class_name")
    renorm, layer_norm = table.loc["BatchNormalization"], table.loc["LayerNormalization"]
    assert (renorm["features"], renorm["total"], renorm["trainable"]) == (30, 7 * 30, 2 * 30)
    assert renorm[["moving_stddev", "renorm_mean", "renorm_stddev"]].tolist() == [30] * 3
    assert (layer_norm["features"], layer_norm["total"], layer_norm["trainable"]) == (20, 40, 40)
    assert layer_norm[["moving_mean", "moving_variance"]].tolist() == [0, 0]


def test_baseline_accounting_has_no_bn_rows(base_parameters, training):
    layers = base_parameters["variants"]["baseline"]["layers"]
    table = account_parameters(build_model(layers, data=DATA, training=training, seed=42))
    assert (table["features"] == 0).all()
    assert table["total"].sum() == table["trainable"].sum() == 266_610


def test_training_returns_the_model_and_a_history_table(base_parameters, training):
    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64).astype(np.uint8)
    layers = base_parameters["variants"]["baseline"]["layers"]
    model = build_model(layers, data=DATA, training=training, seed=42)
    before = model.get_weights()[0].copy()
    trained, history, _ = train_model(model, x, y, x[:16], y[:16], training=training, seed=42)
    assert list(history.columns) == HISTORY_COLUMNS
    assert history["epoch"].tolist() == [1, 2]
    assert history[["loss", "val_loss"]].notna().all().all()
    assert not np.array_equal(trained.get_weights()[0], before)


def test_a_confirmation_trains_with_the_settings_of_the_point_it_was_given(
        base_parameters, training):
    setting = {"learning_rate": 0.1, "optimizer": "Adam"}
    settings = {"learning_rate_0p1__optimizer_Adam": training.model_copy(update=setting),
                "learning_rate_0p1__optimizer_SGD": training}
    model = build_model(base_parameters["variants"]["baseline"]["layers"], setting,
                        data=DATA, training=settings, seed=42)
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.1)


def test_layer_names_do_not_depend_on_what_ran_before(base_parameters, training):
    layers = base_parameters["variants"]["bn_before_activation"]["layers"]
    first = [layer.name for layer in build_model(layers, data=DATA, training=training, seed=1).layers]
    build_model(base_parameters["variants"]["baseline"]["layers"], data=DATA, training=training, seed=1)
    again = [layer.name for layer in build_model(layers, data=DATA, training=training, seed=1).layers]
    assert first == again
    assert first[:3] == ["flatten", "batch_normalization", "dense"]


def _noise(n=256):
    rng = np.random.default_rng(0)
    return rng.random((n, 28, 28), dtype=np.float32), rng.integers(0, 10, n).astype(np.uint8)


def test_a_diverging_training_stops_and_is_recorded(base_parameters, training, caplog):
    x, y = _noise()
    layers = base_parameters["variants"]["baseline"]["layers"]
    absurd = training.model_copy(
        update={"learning_rate": 1e6, "epochs": 5, "steps_per_execution": 2})
    model = build_model(layers, data=DATA, training=absurd, seed=42)
    _, history, _ = train_model(model, x, y, x[:32], y[:32], training=absurd, seed=42,
                             label="baseline (learning_rate=1e+06) seed 42")
    assert history["epoch"].tolist() == [1]  # stopped in the first epoch
    assert history["diverged"].all() and history["diverged_at_epoch"].tolist() == [1]
    assert not np.isfinite(history["loss"].iloc[-1])
    assert int(model.optimizer.iterations.numpy()) < 256 // 8  # not even the whole epoch
    warning = next(r for r in caplog.records if r.levelname == "WARNING")
    assert "baseline (learning_rate=1e+06) seed 42 diverged at epoch 1/5" in warning.message


def test_a_training_stuck_above_a_uniform_guess_after_the_first_epoch_diverged():
    from bn_compare.pipelines.loop import DivergenceGuard

    guard = DivergenceGuard(loss_ceiling=np.log(10))
    assert not guard.after_epoch(0, 2.5)  # the first epoch may start high
    assert not guard.after_epoch(1, 2.2)
    assert guard.after_epoch(2, 2.4) and guard.epoch == 3
    assert DivergenceGuard(None).after_epoch(5, 99.0) is False  # not cross-entropy


def test_a_healthy_training_is_not_marked(base_parameters, training):
    y = np.arange(128, dtype=np.uint8) % 10
    x = np.zeros((128, 28, 28), dtype=np.float32)
    for image, label in zip(x, y, strict=True):
        image[2 * label:2 * label + 2] = 1.0  # the class is the bright band: learnable
    settings = training.model_copy(update={"learning_rate": 0.05, "epochs": 3})
    model = build_model(base_parameters["variants"]["baseline"]["layers"], data=DATA, training=settings,
                        seed=42)
    _, history, _ = train_model(model, x, y, x[:16], y[:16], training=settings, seed=42)
    assert history["epoch"].tolist() == [1, 2, 3]
    assert not history["diverged"].any() and history["diverged_at_epoch"].isna().all()


def test_a_confirmation_takes_its_variants_best_setting_as_data():
    import pandas as pd

    best = pd.DataFrame([
        {"variant": "bn", "learning_rate": 0.1, "batch_size": 32},
        {"variant": "bn", "learning_rate": 0.4, "batch_size": 128},
        {"variant": "plain", "learning_rate": float("nan"), "batch_size": float("nan")}])
    points = [{"learning_rate": lr, "batch_size": batch}
              for lr in (0.1, 0.4) for batch in (32, 128)]
    setting = choose_setting(best, variant="bn", points=points, per={"batch_size": 128})
    assert setting == {"learning_rate": 0.4, "batch_size": 128}
    assert type(setting["batch_size"]) is int  # as the grid declares it, not 128.0
    # confirm.cross: the best of the variant whose best is best (NaN: none)
    best["final_val_accuracy_mean"] = [0.80, 0.85, float("nan")]
    assert choose_setting(best, variant=None, points=points, per={}) == {
        "learning_rate": 0.4, "batch_size": 128}
    with pytest.raises(ValueError, match="plain: no best setting to confirm: every run of "
                                         "the grid there diverged"):
        choose_setting(best, variant="plain", points=points, per={})


@pytest.mark.parametrize("variant", ["baseline", "bn_after_activation"])
def test_diagnostics_leave_training_bit_for_bit_unchanged(base_parameters, training, variant):
    """Every epoch probed, the landscape at each epoch: the same weights (BN's moving
    statistics included) and the same history as with diagnostics off."""
    from bn_compare.parameters import DiagnosticsParams

    rng = np.random.default_rng(0)
    x = rng.random((96, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 96).astype(np.uint8)
    layers = base_parameters["variants"][variant]["layers"]
    results = {}
    for enabled in (False, True):
        model = build_model(layers, data=DATA, training=training, seed=42)
        probed = DiagnosticsParams(enabled=enabled, probe_size=32, checkpoints=(1, 2))
        results[enabled] = train_model(model, x, y, x[:16], y[:16], training=training,
                                       diagnostics=probed, seed=42)
    (off_model, off_history, off_diagnostics), (on_model, on_history, diagnostics) = (
        results[False], results[True])
    assert all(np.array_equal(a, b) for a, b in zip(
        off_model.get_weights(), on_model.get_weights(), strict=True))
    columns = [c for c in HISTORY_COLUMNS if c != "seconds"]
    assert off_history[columns].equals(on_history[columns])
    assert off_diagnostics.empty and list(off_diagnostics.columns) == list(diagnostics.columns)
    assert sorted(diagnostics["epoch"].unique()) == [0, 1, 2]
    assert set(diagnostics.loc[diagnostics["measure"] == "beta_smoothness", "epoch"]) == {1, 2}
