"""benchmarks/: the floor's arithmetic, that each measure runs, the step's matrix
products counted, the start-up marker and the sweep subset (no time is asserted: speed
is shown by `make bench`, as ratios measured side by side)."""

from __future__ import annotations

import math
import sys

import yaml

from tests.conftest import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
import bench  # noqa: E402 (scripts' modules, beside bench.py)
import floor  # noqa: E402
import step_ops  # noqa: E402
import sweep  # noqa: E402


def test_one_step_is_36_mflop_forward_weight_gradients_and_back_propagation():
    forward = 2 * 32 * (784 * 300 + 300 * 100 + 100 * 10)
    back_propagated = 2 * 32 * (300 * 100 + 100 * 10)  # not into the first layer
    assert floor.step_flops() == 2 * forward + back_propagated == 36_057_600
    # a BN variant's first BN layer has weights: one more product, into the first Dense
    assert floor.step_flops(into_first=True) == 36_057_600 + 2 * 32 * 784 * 300


def test_the_ceiling_is_the_start_up_then_the_trainings_at_the_floor_on_every_core():
    """10 epochs of 1,719 steps (55,000 images at 32); each BN step at its own floor."""
    result = {"floor_ms": 0.4, "bn_floor_ms": 0.7}
    variants = ["baseline", "bn_after_activation", "bn_before_activation"]
    assert math.isclose(floor.trainings_at_floor(result, variants, cores=2),
                        17_190 * (0.4 + 0.7 + 0.7) / 2 / 1e3)
    # one training cannot be split: with more cores than work, the longest one bounds it
    assert math.isclose(floor.trainings_at_floor(result, variants, cores=16), 17_190 * 0.7 / 1e3)
    assert bench.describe_ceiling(140.0, 8.0, result, cores=2) == (
        "ceiling: start-up 8.0 s + the trainings at the floor on 2 cores 15.5 s = 23.5 s, "
        "at most 5.96x the notebook")


def test_the_floor_and_the_projects_steps_are_measured_and_described():
    """What is measured runs (its speed: make bench); the description is exact."""
    assert isinstance(floor.floor_seconds(repeats=5), float)
    steps = floor.project_seconds_per_step(["baseline", "bn_before_activation"], steps=8)
    assert set(steps) == {"baseline", "bn_before_activation"}
    result = {"floor_ms": 0.5, "floor_gflops": 72.0, "bn_floor_ms": 0.75,
              "alone_ms": {"baseline": 1.0, "bn_after_activation": 1.5},
              "side_by_side_ms": {"baseline": 1.5}, "side_by_side_ratio": {"baseline": 3.0},
              "alone_ratio": {"baseline": 2.0, "bn_after_activation": 3.0}}
    assert floor.describe(result).splitlines() == [
        "floor: 0.50 ms per step (36 MFLOP, 72 GFLOP/s, one core, NumPy's BLAS); with the BN "
        "variants' extra product (51 MFLOP) 0.75 ms",
        "baseline alone: 1.00 ms per step = 2.00x the floor",
        "bn_after_activation alone: 1.50 ms per step = 3.00x the floor (2.00x its own "
        "products' floor)",
        "baseline side by side: 1.50 ms per step = 3.00x the floor"]


def test_a_step_has_the_matrix_products_of_its_floor(base_parameters):
    """The baseline: three forward, three weight gradients, two back-propagated (the
    floor's); a BN variant one more, into the first BN layer. Everything else in the step
    is what the floor leaves out."""
    variants = base_parameters["variants"]
    operations = step_ops.step_operations(variants["baseline"]["layers"])
    assert operations["MatMul"] == 8
    assert sum(n for kind, n in operations.items() if kind not in step_ops.BOOKKEEPING) > 8
    assert step_ops.step_operations(variants["bn_after_activation"]["layers"])["MatMul"] == 9


def test_bench_times_a_command_to_the_line_that_marks_its_first_training(tmp_path):
    script = "print('start'); print('Running node: train_model')"
    result = bench.measure([sys.executable, "-c", script], tmp_path, marker="Running node: train_model")
    assert result["stdout"].splitlines() == ["start", "Running node: train_model"]
    assert 0 < result["first_training_seconds"] <= result["wall_seconds"]


def test_the_sweep_subset_is_six_trainings_without_confirmation_in_a_copy(tmp_path):
    project = sweep.prepare("HEAD", tmp_path, epochs=10)
    environment = yaml.safe_load((project / "conf/sweep_subset/parameters.yml").read_text())
    assert environment == {"training": {"seeds": [42], "epochs": 10},
                           "grid": {"learning_rate": [0.01, 0.1]}, "confirm": {"seeds": []}}
    assert sweep.TRAININGS == 3 * len(environment["grid"]["learning_rate"])
    assert (project / "src/bn_compare/pipelines/compare/__init__.py").is_file()
    assert sweep.describe({"trainings": 6, "epochs": 10, "current_seconds": [50.0, 52.0],
                           "current_median": 51.0, "against": "d5e87a0",
                           "against_seconds": [80.0], "against_median": 80.0,
                           "ratio": 51 / 80}) == (
        "lr_sweep subset (6 trainings x 10 epochs, full data): 51.0 s (50.0, 52.0); "
        "d5e87a0: 80.0 s (80.0); this tree / d5e87a0 = 0.64x")
