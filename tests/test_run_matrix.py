"""The run matrix: variants x grid points x seeds, and the names of their namespaces."""

import pytest

from bn_compare.grid import GridPoint, value_name
from bn_compare.parameters import ProjectParameters
from bn_compare.run_matrix import RunMatrix

SEED_VARIANTS = ["baseline", "bn_after_activation", "bn_before_activation"]


def _matrix(base_parameters, seeds=None, **grid):
    training = {**base_parameters["training"], **({"seeds": seeds} if seeds else {})}
    return RunMatrix(ProjectParameters.checked(
        {**base_parameters, "training": training, "grid": grid}))


def test_the_base_parameters_give_one_run_per_variant_named_as_before(params):
    matrix = RunMatrix(params)
    assert [run.variant for run in matrix.runs] == SEED_VARIANTS
    assert [run.namespace for run in matrix.runs] == [f"{v}.seed_42" for v in SEED_VARIANTS]
    assert not matrix.is_sweep and matrix.grid_keys == ()


def test_variants_then_points_then_seeds_in_declaration_order(base_parameters):
    matrix = _matrix(base_parameters, seeds=[7, 3], learning_rate=[0.1, 0.01])
    assert [run.seed for run in matrix.runs][:2] == [7, 3]
    assert [run.namespace for run in matrix.runs][:4] == [
        "baseline.learning_rate_0p1.seed_7", "baseline.learning_rate_0p1.seed_3",
        "baseline.learning_rate_0p01.seed_7", "baseline.learning_rate_0p01.seed_3"]
    assert len(matrix.runs) == 3 * 2 * 2


def test_several_keys_give_their_cartesian_product(base_parameters):
    matrix = _matrix(base_parameters, learning_rate=[0.001, 0.01, 0.1], optimizer=["SGD", "Adam"])
    assert matrix.grid_keys == ("learning_rate", "optimizer")
    assert len(matrix.points) == 6 and len(matrix.runs) == 18
    assert matrix.points[1].overrides == {"learning_rate": 0.001, "optimizer": "Adam"}
    assert matrix.runs[1].namespace == "baseline.learning_rate_0p001__optimizer_Adam.seed_42"
    assert matrix.runs[1].key == {"variant": "baseline", "learning_rate": 0.001,
                                  "optimizer": "Adam", "seed": 42}
    assert matrix.runs[1].description == "baseline (learning_rate=0.001, optimizer=Adam) seed 42"


def test_each_run_carries_the_training_settings_of_its_point(base_parameters):
    matrix = _matrix(base_parameters, learning_rate=[0.1, 0.01], epochs=[3])
    trained = {(run.training.learning_rate, run.training.epochs, run.training.batch_size)
               for run in matrix.runs}
    assert trained == {(0.1, 3, 32), (0.01, 3, 32)}
    assert matrix.parameters.training.learning_rate == 0.001  # the base is unchanged
    assert matrix.settings["learning_rate_0p1__epochs_3"].learning_rate == 0.1


def test_point_names_follow_the_griddable_keys_not_the_order_written(base_parameters):
    matrix = _matrix(base_parameters, optimizer=["SGD", "Adam"], learning_rate=[0.1, 0.01])
    assert matrix.grid_keys == ("learning_rate", "optimizer")
    assert matrix.points[0].name == "learning_rate_0p1__optimizer_SGD"


def test_a_one_point_grid_keeps_todays_names_and_overrides_the_setting(base_parameters):
    matrix = _matrix(base_parameters, learning_rate=[0.05])
    assert [run.namespace for run in matrix.runs] == [f"{v}.seed_42" for v in SEED_VARIANTS]
    assert matrix.runs[0].point.overrides == {"learning_rate": 0.05}
    assert not matrix.is_sweep


def test_names_stay_when_the_grid_grows(base_parameters):
    small = _matrix(base_parameters, learning_rate=[0.1, 1.0])
    grown = _matrix(base_parameters, learning_rate=[0.001, 0.1, 0.3, 1.0])
    assert {r.namespace for r in small.runs} <= {r.namespace for r in grown.runs}


def test_a_list_of_blocks_is_the_union_of_their_products(base_parameters):
    """A learning-rate range per optimizer: not one cartesian product."""
    matrix = RunMatrix(ProjectParameters.checked({**base_parameters, "grid": [
        {"optimizer": ["SGD"], "learning_rate": [0.01, 0.1]},
        {"optimizer": ["Adam"], "learning_rate": [0.0001, 0.001, 0.01]},
        {"optimizer": ["SGD"], "learning_rate": [0.1]},  # a point already there: once
    ]}))
    assert matrix.grid_keys == ("learning_rate", "optimizer")
    assert [point.name for point in matrix.points] == [
        "learning_rate_0p01__optimizer_SGD", "learning_rate_0p1__optimizer_SGD",
        "learning_rate_0p0001__optimizer_Adam", "learning_rate_0p001__optimizer_Adam",
        "learning_rate_0p01__optimizer_Adam"]
    assert len(matrix.runs) == 3 * 5 and matrix.is_sweep
    # the names are those the same points have in a single product
    product = _matrix(base_parameters, learning_rate=[0.01], optimizer=["SGD", "Adam"])
    assert {p.name for p in product.points} <= {p.name for p in matrix.points}


def test_a_grid_is_confirmed_per_variant_with_fresh_seeds(base_parameters):
    grid = {"learning_rate": [0.1, 0.01], "batch_size": [32, 128]}
    matrix = RunMatrix(ProjectParameters.checked({
        **base_parameters, "grid": grid, "confirm": {"seeds": [1000, 1001]}}))
    assert [run.namespace for run in matrix.confirmations][:2] == [
        "confirm.baseline.seed_1000", "confirm.baseline.seed_1001"]
    assert len(matrix.confirmations) == 3 * 2 and matrix.trainings[-1].confirms
    assert matrix.confirmations[0].description == "baseline at its best, seed 1000"
    per = RunMatrix(ProjectParameters.checked({
        **base_parameters, "grid": grid, "confirm": {"seeds": [1000], "per": ["batch_size"]}}))
    assert [run.namespace for run in per.confirmations][:2] == [
        "confirm__batch_size_32.baseline.seed_1000", "confirm__batch_size_128.baseline.seed_1000"]
    assert per.confirmations[1].point.overrides == {"batch_size": 128}
    # confirm.cross (the default): every variant again at the best variant's best
    assert [run.namespace for run in matrix.cross_confirmations][:2] == [
        "cross.baseline.seed_1000", "cross.baseline.seed_1001"]
    assert len(matrix.cross_confirmations) == len(matrix.confirmations)
    assert matrix.cross_confirmations[0].description == (
        "baseline at the best variant's best, seed 1000")
    assert [run.namespace for run in per.cross_confirmations][1] == (
        "cross__batch_size_128.baseline.seed_1000")
    assert RunMatrix(ProjectParameters.checked({
        **base_parameters, "grid": grid,
        "confirm": {"seeds": [1000], "cross": False}})).cross_confirmations == ()
    # none without a grid of several points, nor with confirm.seeds: []
    assert _matrix(base_parameters, learning_rate=[0.1]).confirmations == ()
    assert RunMatrix(ProjectParameters.checked({
        **base_parameters, "grid": grid, "confirm": {"seeds": []}})).confirmations == ()


@pytest.mark.parametrize(("value", "name"), [
    (0.001, "0p001"), (1.0, "1"), (1e-05, "1em05"), (32, "32"), ("Adam", "Adam"),
    (True, "true"), ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy"),
])
def test_values_become_namespace_safe_words(value, name):
    assert value_name(value) == name
    assert GridPoint((("key", value),)).name.isidentifier()
