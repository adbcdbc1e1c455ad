"""Runs stacked per group (a variant's runs, a confirmation group's, ``Run.group``) inside
the group's namespace, so that Kedro-Viz draws a group as one node with a few tables out of
it; the tables over every run then read one table per group. Shared by ``evaluation``
(summaries, histories, diagnostics) and ``reporting`` (predictions, confirmations)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from kedro.pipeline import Node

from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import Run, by_group

# The nodes from which the tables over every run are made again from the runs' saved
# outputs (``kedro run --pipelines=tables``, after ``--only-missing-outputs``)
TABLES_TAG = "tables"
# what a group's stacked tables are called: <group>.runs_<name>, made by <group>.stack_<plural>
PLURALS = {"summary": "summaries", "history": "histories", "diagnostics": "diagnostics",
           "predictions": "predictions", "setting": "settings"}


def stack_tables(*tables: pd.DataFrame, keys: list[dict[str, Any]]) -> pd.DataFrame:
    """The tables one under the other, each prefixed with its key columns
    (``keys[i]``, e.g. ``{"variant": "baseline", "seed": 42}``)."""
    if len(tables) != len(keys):
        raise ValueError(f"{len(tables)} tables but {len(keys)} keys")
    parts = [table.assign(**key)[[*key, *(c for c in table.columns if c not in key)]]
             for table, key in zip(tables, keys, strict=True)]
    return pd.concat(parts, ignore_index=True)


def concat_tables(*tables: pd.DataFrame) -> pd.DataFrame:
    """The tables one under the other (groups' tables that already hold their key columns)."""
    return pd.concat(tables, ignore_index=True)


def stack_predictions(*predictions: np.ndarray) -> np.ndarray:
    """Several runs' predicted classes, a row per run."""
    return np.stack(predictions)


def stack_settings(*settings: dict[str, Any]) -> pd.DataFrame:
    """Several confirmations' settings (each the grid point it trained at), a row per run."""
    return pd.DataFrame(list(settings))


def stack_by_group(runs: Iterable[Run], name: str, *, keyed: bool = False) -> list[Node]:
    """Per group of ``runs`` (``Run.group``), a node in its namespace that stacks its
    runs' ``name`` (``summary``, ``history``, ``diagnostics``, ``predictions``,
    ``setting``) into ``<group>.runs_<name>``, a row per run (several for a history or
    diagnostics) in the runs' order; ``keyed``: each table's rows prefixed with its run's
    variant, grid values and seed."""
    def stacker(group_runs: list[Run]):
        if name == "predictions":
            return stack_predictions
        if name == "setting":
            return stack_settings
        return bind(stack_tables, keys=[run.key if keyed else {} for run in group_runs])

    return [Node(stacker(group_runs), [f"{run.namespace}.{name}" for run in group_runs],
                 f"{group}.runs_{name}", name=f"stack_{PLURALS[name]}", namespace=group,
                 tags=[TABLES_TAG])
            for group, group_runs in by_group(runs).items()]
