"""The cross confirmation (`confirm.cross`): every variant at the best variant's best."""

import pandas as pd
import pytest

from bn_compare.pipelines.reporting.cross import best_variant_settings, build_cross_table

BEST = pd.DataFrame([  # per batch size, each variant's best learning rate (on validation)
    {"variant": "plain", "batch_size": 32, "learning_rate": 0.1, "final_val_accuracy_mean": 0.86},
    {"variant": "bn", "batch_size": 32, "learning_rate": 1.0, "final_val_accuracy_mean": 0.89},
    {"variant": "plain", "batch_size": 128, "learning_rate": 0.4,
     "final_val_accuracy_mean": 0.85},
    {"variant": "bn", "batch_size": 128, "learning_rate": float("nan"),
     "final_val_accuracy_mean": float("nan")},  # every run diverged
])


def _summary(accuracy):
    return pd.DataFrame([{"test_accuracy": accuracy, "diverged": False}])


def test_the_setting_is_the_best_variants_best_in_each_group():
    winners = best_variant_settings(BEST, ["batch_size", "learning_rate"], per=["batch_size"])
    assert winners[["variant", "batch_size", "learning_rate"]].values.tolist() == [
        ["bn", 32, 1.0], ["plain", 128, 0.4]]


def test_each_run_is_a_row_at_that_setting_and_a_stale_one_is_refused():
    runs = [{"variant": v, "seed": 1000, "namespace": f"cross__batch_size_32.{v}.seed_1000"}
            for v in ("plain", "bn")]
    settings = pd.DataFrame([{"learning_rate": 1.0, "batch_size": 32}] * 2)  # the group's
    summaries = pd.concat([_summary(0.87), _summary(0.88)], ignore_index=True)
    table = build_cross_table(BEST, settings, summaries, runs=runs,
                              grid_keys=["learning_rate", "batch_size"], per=["batch_size"])
    assert table[["variant", "learning_rate", "seed", "at_best_of", "test_accuracy"]
                 ].values.tolist() == [["plain", 1.0, 1000, "bn", 0.87],
                                       ["bn", 1.0, 1000, "bn", 0.88]]
    stale = pd.DataFrame([{"learning_rate": 0.1, "batch_size": 32}])
    with pytest.raises(ValueError, match=r"cross__batch_size_32.plain.seed_1000 was trained at "
                                         r"learning_rate=0.1, batch_size=32, but the best "
                                         r"setting is now learning_rate=1, batch_size=32"):
        build_cross_table(BEST, stale, _summary(0.87), runs=runs[:1],
                          grid_keys=["learning_rate", "batch_size"], per=["batch_size"])
