"""How stable the choice of best setting is, on constructed grids with known answers: a
point that wins on every seed is always chosen, two points that swap with the seed share the
resamples as an exact enumeration of all 27 resamples of three seeds says, a point whose
runs diverged is chosen only where ``select_best_settings`` would choose it (checked
resample by resample), the same seed gives the same table, ``per`` keys choose per value."""

import itertools
import time

import numpy as np
import pandas as pd
import pytest

from bn_compare.parameters import StatisticsParams
from bn_compare.pipelines.reporting.nodes import (
    build_sweep_table,
    compute_variant_statistics,
    select_best_settings,
)
from bn_compare.pipelines.reporting.stability import (
    compute_selection_stability,
    point_stability,
    stability_sentence,
)

STATISTICS = StatisticsParams()
KEYS = ["learning_rate"]
SEEDS = [1, 2, 3]
EVERY_RESAMPLE = np.array(list(itertools.product(range(3), repeat=3)))  # 27, equally likely


def _runs(variant, val, diverged=(False, False, False), seeds=SEEDS, **setting):
    return [{"variant": variant, **setting, "seed": seed, "final_val_accuracy": v,
             "best_val_accuracy": v, "test_accuracy": v, "test_loss": 1 - v, "diverged": d}
            for seed, v, d in zip(seeds, val, diverged, strict=True)]


def _table(*runs):
    return pd.DataFrame([row for rows in runs for row in rows])


def _stability(table, **options):
    return compute_selection_stability(table, statistics=STATISTICS, grid_keys=KEYS,
                                       **options).set_index(["variant", "learning_rate"])


def _exact(table, variant):
    """Each point's share over all 27 resamples of the three seeds."""
    group = table[table["variant"] == variant]
    rows = point_stability(group, KEYS, EVERY_RESAMPLE, np.array(SEEDS), STATISTICS)
    return {row["learning_rate"]: row["chosen_share"] * 27 for row in rows}


# B better on seeds 1 and 2, A on seed 3: A - B = -286, -6, +295 (in 1e-4), no resample ties
SWAP = _table(_runs("v", [0.8514, 0.8694, 0.8895], learning_rate=0.1),   # A
              _runs("v", [0.8800, 0.8700, 0.8600], learning_rate=1.0))   # B


def test_a_point_best_on_every_seed_is_always_chosen():
    table = _table(_runs("v", [0.80, 0.82, 0.81], learning_rate=0.01),
                   _runs("v", [0.86, 0.87, 0.88], learning_rate=0.1),
                   _runs("v", [0.80, 0.83, 0.83], learning_rate=1.0))
    rows = _stability(table).loc["v"]
    assert rows["chosen_share"].to_dict() == {0.01: 0.0, 0.1: 1.0, 1.0: 0.0}
    assert rows["is_best"].to_dict() == {0.01: False, 0.1: True, 1.0: False}
    # 0.1 leads by 6, 5, 7 and 6, 4, 5 pp: intervals clear of zero
    assert rows["within_noise"].to_dict() == {0.01: False, 0.1: True, 1.0: False}
    assert set(rows["resamples"]) == {1000} and set(rows["seeds"]) == {3}


def test_two_points_that_swap_with_the_seed_share_the_resamples_as_enumerated():
    # known answer, in whole units: A is chosen where the drawn differences sum above 0
    differences = [-286, -6, 295]
    wins = sum(sum(differences[i] for i in draw) > 0 for draw in EVERY_RESAMPLE)
    assert wins == 16
    assert _exact(SWAP, "v") == pytest.approx({0.1: 16, 1.0: 11})
    shares = _stability(SWAP, resamples=20_000).loc["v", "chosen_share"]
    assert shares[0.1] == pytest.approx(16 / 27, abs=0.015)  # 4 sd of 20,000 draws
    assert shares[1.0] == pytest.approx(11 / 27, abs=0.015)
    rows = _stability(SWAP).loc["v"]
    assert rows["is_best"].to_dict() == {0.1: True, 1.0: False}  # +1e-4 on the mean
    assert rows["within_noise"].all()


def test_each_resample_chooses_what_select_best_settings_chooses():
    table = _table(
        # v: 0.01 and 0.1 tie wherever the same seeds are drawn for both (first wins);
        # 0.3 is best where its diverged seed 3 is not drawn; 1.0 never trained
        _runs("v", [0.85, 0.86, 0.87], learning_rate=0.01),
        _runs("v", [0.86, 0.85, 0.87], learning_rate=0.1),
        _runs("v", [0.90, 0.91, 0.10], (False, False, True), learning_rate=0.3),
        _runs("v", [0.99, 0.99, 0.99], (True, True, True), learning_rate=1.0),
        # w: every point lost seed 1: where it is drawn, the best of those that trained
        _runs("w", [0.10, 0.86, 0.87], (True, False, False), learning_rate=0.01),
        _runs("w", [0.10, 0.88, 0.85], (True, False, False), learning_rate=0.1),
        _runs("w", [0.10, 0.10, 0.10], (True, True, True), learning_rate=0.3))
    expected = {("v", lr): 0 for lr in (0.01, 0.1, 0.3, 1.0)} | {
        ("w", lr): 0 for lr in (0.01, 0.1, 0.3)}
    # every resample's runs as the pipeline would tabulate them, a variant per resample
    runs = pd.concat([table[table["seed"] == SEEDS[i]].assign(
        variant=lambda t, k=k: t["variant"] + f"/{k}", seed=position)
        for k, draw in enumerate(EVERY_RESAMPLE) for position, i in enumerate(draw)])
    runs = runs.sort_values(["variant", "learning_rate"], kind="stable")
    statistics = compute_variant_statistics(
        runs, runs.assign(epoch=1, val_accuracy=runs["final_val_accuracy"]),
        statistics=STATISTICS, grid_keys=KEYS)
    best = select_best_settings(build_sweep_table(statistics, KEYS), KEYS)
    for resample, learning_rate in best[["variant", "learning_rate"]].dropna().values:
        expected[resample.split("/")[0], learning_rate] += 1
    assert {("v", lr): n for lr, n in _exact(table, "v").items()} | {
        ("w", lr): n for lr, n in _exact(table, "w").items()} == pytest.approx(expected)
    assert expected["v", 0.3] == 8  # 2**3 resamples without seed 3
    assert expected["v", 1.0] == expected["w", 0.3] == 0  # every run diverged: never
    assert sum(n for (v, _), n in expected.items() if v == "w") == 26  # (1, 1, 1): none


def test_a_point_whose_runs_all_diverged_is_never_chosen_nor_within_the_noise():
    table = _table(_runs("v", [0.85, 0.86, 0.87], learning_rate=0.1),
                   _runs("v", [0.95, 0.96, 0.97], (True, True, True), learning_rate=1.0),
                   _runs("v", [0.95, 0.85, 0.86], (False, True, True), learning_rate=0.3))
    # 0.3 trained on seed 1 alone: chosen in the one resample that draws only seed 1
    assert _exact(table, "v") == pytest.approx({0.1: 26, 1.0: 0, 0.3: 1})
    rows = _stability(table).loc["v"]
    assert rows.loc[1.0, "chosen_share"] == 0.0
    assert rows["is_best"].to_dict() == {0.1: True, 1.0: False, 0.3: False}
    # 1.0: no seed trained beside the best; 0.3: one, no interval
    assert rows["within_noise"].to_dict() == {0.1: True, 1.0: False, 0.3: False}


def test_a_point_with_a_diverged_run_wins_only_the_resamples_without_it():
    table = _table(_runs("v", [0.85, 0.86, 0.87], learning_rate=0.1),
                   _runs("v", [0.95, 0.96, 0.10], (False, False, True), learning_rate=1.0))
    assert _exact(table, "v") == pytest.approx({0.1: 19, 1.0: 8})
    rows = _stability(table).loc["v"]
    assert rows["is_best"].to_dict() == {0.1: True, 1.0: False}  # where none diverged


def test_the_same_seed_gives_the_same_table():
    first, again = _stability(SWAP, seed=7), _stability(SWAP, seed=7)
    pd.testing.assert_frame_equal(first, again)
    assert not first["chosen_share"].equals(_stability(SWAP, seed=8)["chosen_share"])


def test_per_keys_choose_at_each_value():
    table = _table(
        _runs("v", [0.85, 0.86, 0.87], learning_rate=0.01, batch_size=8),
        _runs("v", [0.80, 0.81, 0.82], learning_rate=0.1, batch_size=8),
        _runs("v", [0.80, 0.81, 0.82], learning_rate=0.01, batch_size=32),
        _runs("v", [0.85, 0.86, 0.87], learning_rate=0.1, batch_size=32))
    rows = compute_selection_stability(table, statistics=STATISTICS,
                                       grid_keys=["learning_rate", "batch_size"],
                                       per=["batch_size"], resamples=50)
    assert list(rows.columns) == ["variant", "batch_size", "learning_rate", "chosen_share",
                                  "within_noise", "is_best", "resamples", "seeds"]
    best = rows[rows["is_best"]]
    assert list(zip(best["batch_size"], best["learning_rate"], best["chosen_share"],
                    strict=True)) == [(8, 0.01, 1.0), (32, 0.1, 1.0)]
    assert rows.groupby("batch_size")["chosen_share"].sum().tolist() == [1.0, 1.0]


def test_one_thousand_resamples_of_the_largest_shipped_grid_take_well_under_a_second():
    rng = np.random.default_rng(0)  # batch_sweep: 3 variants x 12 points x 3 seeds
    table = _table(*(_runs(variant, (8800 + rng.integers(0, 150, 3)) / 1e4,
                           rng.random(3) < 0.1, learning_rate=lr * batch / 32,
                           batch_size=batch)
                     for variant in ("a", "b", "c") for batch in (8, 32, 128, 512)
                     for lr in (0.001, 0.01, 0.1)))
    start = time.perf_counter()
    rows = compute_selection_stability(table, statistics=STATISTICS,
                                       grid_keys=["learning_rate", "batch_size"],
                                       per=["batch_size"])
    assert time.perf_counter() - start < 1.0
    assert len(rows) == 36


def test_the_sentence_names_the_best_its_share_and_the_points_within_the_noise():
    rows = pd.DataFrame({"variant": "v", "learning_rate": [0.01, 0.1, 1.0],
                         "chosen_share": [0.06, 0.64, 0.30], "within_noise": [False, True, True],
                         "is_best": [False, True, False], "resamples": 1000, "seeds": 3})
    assert stability_sentence(rows) == (
        "learning_rate=0.1: chosen in 64% of resamples; 0.1 and 1 within the noise")
    rows["chosen_share"] = [0.06, 0.30, 0.64]  # another chosen more often than the best
    rows["within_noise"] = [False, True, False]
    assert stability_sentence(rows) == (
        "learning_rate=0.1: chosen in 30% of resamples (learning_rate=1 in 64%); "
        "no other setting within the noise")
    rows["is_best"] = False
    assert stability_sentence(rows) == "no setting chosen: every run diverged"


def test_the_sentence_of_several_keys_labels_whole_settings():
    rows = pd.DataFrame({"variant": "v", "batch_size": 32, "optimizer": ["SGD", "Adam"],
                         "learning_rate": [0.1, 0.001], "chosen_share": [0.55, 0.45],
                         "within_noise": True, "is_best": [True, False],
                         "resamples": 1000, "seeds": 3})
    assert stability_sentence(rows) == (
        "optimizer=SGD, learning_rate=0.1: chosen in 55% of resamples; "
        "(optimizer=SGD, learning_rate=0.1) and (optimizer=Adam, learning_rate=0.001) "
        "within the noise")
    with pytest.raises(ValueError, match="one variant"):
        stability_sentence(pd.concat([rows, rows]))
