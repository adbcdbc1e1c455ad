"""A grid's cross confirmation (``confirm.cross``): every variant retrained at the best
variant's best setting with the confirmation's seeds, so that the answers at the best
settings have a comparison at one setting beside the one at each variant's own best."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from bn_compare.pipelines.statistics import at_setting, groups, setting_label


def best_variant_settings(best_settings: pd.DataFrame, grid_keys: Sequence[str],
                          per: Sequence[str] = ()) -> pd.DataFrame:
    """Per ``per`` group, the best variant (on validation, at its own best) and its
    setting: what the cross confirmation trains every variant at."""
    ranked = best_settings.sort_values("final_val_accuracy_mean", ascending=False, kind="stable")
    columns = list(dict.fromkeys(["variant", *per, *grid_keys]))
    return pd.DataFrame([rows.iloc[0][columns] for _, rows in groups(ranked, per)]
                        ).reset_index(drop=True)


def build_cross_table(best_settings: pd.DataFrame, *settings_and_summaries: Any,
                      runs: list[dict[str, Any]], grid_keys: Sequence[str],
                      per: Sequence[str] = ()) -> pd.DataFrame:
    """One row per cross-confirmation run (``runs``: variant, seed, namespace) with the
    setting it trained at and the variant whose best that is (``at_best_of``); refused
    when that is no longer the best variant's best (a grid grown since, the runs reused by
    ``--only-missing-outputs``)."""
    winners = best_variant_settings(best_settings, grid_keys, per)
    rows = []
    for run, setting, summary in zip(runs, settings_and_summaries[::2],
                                     settings_and_summaries[1::2], strict=True):
        winner = winners[at_setting(winners, {k: setting[k] for k in per})].iloc[0]
        now = {key: winner[key] for key in grid_keys}
        if not at_setting(pd.DataFrame([setting]), now).all():
            raise ValueError(
                f"{run['namespace']} was trained at {setting_label(setting)}, but the best "
                f"variant's best setting is now {setting_label(now)}: run again without "
                f"--only-missing-outputs to retrain the cross confirmation")
        rows.append({"variant": run["variant"], **setting, "seed": run["seed"],
                     "at_best_of": winner["variant"], **summary.iloc[0].to_dict()})
    return pd.DataFrame(rows)
