"""A grid's cross confirmation (``confirm.cross``): every variant retrained at the best
variant's best setting with the confirmation's seeds, so that the answers at the best
settings have a comparison at one setting beside the one at each variant's own best."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from bn_compare.pipelines.statistics import groups

from .nodes import build_confirmation_table


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
    setting it trained at and the variant whose best that is (``at_best_of``): a
    confirmation table whose best setting, for every variant, is the best variant's (and
    refused in the same way when that is no longer so)."""
    winners = best_variant_settings(best_settings, grid_keys, per)
    as_best = pd.concat([winners.assign(variant=variant, at_best_of=winners["variant"])
                         for variant in dict.fromkeys(run["variant"] for run in runs)])
    table = build_confirmation_table(as_best, *settings_and_summaries, runs=runs,
                                     grid_keys=grid_keys, per=per)
    return table.merge(as_best[["variant", *per, "at_best_of"]], on=["variant", *per],
                       how="left")
