"""Which trainings a run holds, computed once from the checked parameters: every variant x
grid point x seed, each with the training settings it uses, and their namespaces
``<variant>.seed_<seed>`` (``baseline.seed_42``), or with a grid of several points
``<variant>.<point>.seed_<seed>`` (``grid.GridPoint.name``); a grid's confirmations are
``confirm.<variant>.seed_<seed>`` (``confirm__<per values>`` with ``confirm.per``), and
with ``confirm.cross`` ``cross.<variant>.seed_<seed>`` at the best variant's best."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bn_compare.grid import GRIDDABLE_KEYS, GridPoint, grid_points
from bn_compare.parameters import ProjectParameters, TrainingParams


@dataclass(frozen=True)
class Run:
    """One training: a variant at a grid point with a seed, and its settings there (a
    confirmation's: outside the grid, with its ``confirm.per`` values; the rest of its
    setting is chosen from the grid's results, ``RunMatrix.settings``)."""

    variant: str
    seed: int
    training: TrainingParams
    point: GridPoint = GridPoint()
    point_name: str = ""  # empty when the matrix has a single point
    confirms: bool = False
    cross: bool = False  # a confirmation at the best variant's best setting, not its own

    @property
    def namespace(self) -> str:
        """A confirmation's group first: it follows the grid's runs (Kedro warns otherwise)."""
        pair = (self.point_name, self.variant) if self.confirms else (self.variant, self.point_name)
        return ".".join(filter(None, (*pair, f"seed_{self.seed}")))

    @property
    def group(self) -> str:
        """Where its tables are stacked with those of the runs beside it (``evaluation``):
        its variant's namespace, or a confirmation's without the seed
        (``confirm.baseline``). Kedro-Viz draws both as groups, the runs nested inside."""
        return self.namespace.rpartition(".")[0] if self.confirms else self.variant

    @property
    def key(self) -> dict[str, Any]:
        """The run's identifying columns in the tables: variant, grid values, seed."""
        return {"variant": self.variant, **self.point.overrides, "seed": self.seed}

    @property
    def description(self) -> str:
        """``baseline (learning_rate=0.1) seed 42`` for logs."""
        where = f" ({self.point.label})" if self.point_name and not self.confirms else ""
        whose = "the best variant's best" if self.cross else "its best"
        best = f"at {whose}{f' for {self.point.label}' if self.point.settings else ''}, "
        return f"{self.variant}{where} {best if self.confirms else ''}seed {self.seed}"


def by_group(runs: Iterable[Run]) -> dict[str, list[Run]]:
    """``runs`` by their ``group``, in order: a group's runs follow one another in the
    matrix, so its groups' tables one under the other keep the runs' order."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.group, []).append(run)
    return groups


@dataclass(frozen=True, eq=False)
class RunMatrix:
    """The checked parameters' trainings: variants (declaration order) x grid points x seeds,
    then a grid's confirmations."""

    parameters: ProjectParameters

    @cached_property
    def runs(self) -> tuple[Run, ...]:  # the grid's
        return tuple(Run(variant, seed, self.settings[point.name], point,
                         point.name if self.is_sweep else "")
                     for variant in self.parameters.variants for point in self.points
                     for seed in self.parameters.training.seeds)

    @cached_property
    def confirmations(self) -> tuple[Run, ...]:
        """A grid's best settings retrained: per variant, ``confirm.per`` group and seed."""
        return self._confirming("confirm")

    @cached_property
    def cross_confirmations(self) -> tuple[Run, ...]:
        """With ``confirm.cross``: every variant at the best variant's best setting (per
        ``confirm.per`` group), with the confirmation's seeds."""
        return self._confirming("cross") if self.parameters.confirm.cross else ()

    def _confirming(self, kind: str) -> tuple[Run, ...]:
        groups = dict.fromkeys(GridPoint.of({key: point.overrides[key] for key in self.confirm_per})
                               for point in self.points)
        return tuple(
            Run(variant, seed, self.parameters.training.model_copy(update=group.overrides),
                group, "__".join(filter(None, (kind, group.name))), confirms=True,
                cross=kind == "cross")
            for variant in self.parameters.variants for group in groups
            for seed in self.parameters.confirm.seeds) if self.is_sweep else ()

    @cached_property
    def points(self) -> tuple[GridPoint, ...]:
        """The grid's points (one empty point for no grid)."""
        return grid_points(block.model_dump() for block in self.parameters.grid)

    @cached_property
    def settings(self) -> dict[str, TrainingParams]:
        """Each grid point's training settings, by the point's name (the grid's values were
        checked with the same types as ``training``'s)."""
        base = self.parameters.training
        return {point.name: base.model_copy(update=point.overrides) for point in self.points}

    @property
    def grid_keys(self) -> tuple[str, ...]:
        return tuple(self.points[0].overrides)

    @property
    def confirm_per(self) -> tuple[str, ...]:
        return tuple(key for key in GRIDDABLE_KEYS if key in self.parameters.confirm.per)

    @property
    def trainings(self) -> tuple[Run, ...]:
        return self.runs + self.confirmations + self.cross_confirmations

    @property
    def is_sweep(self) -> bool:
        """More than one grid point: the sweep tables, plot and report section exist."""
        return len(self.points) > 1

    def logged_settings(self, run: Run) -> dict[str, Any]:
        """What defines a training, flat (its MLflow params): variant, seed, grid values,
        every training setting in force, the layers and the sizes of the data."""
        # a confirmation's setting is logged once chosen (tracking: its ``setting``)
        chosen = set(self.grid_keys) if run.confirms else set()
        training = run.training.model_dump(exclude={"seeds", *chosen})
        return {"variant": run.variant, "seed": run.seed, "namespace": run.namespace,
                **{f"grid.{key}": value for key, value in run.point.overrides.items()},
                **{f"training.{key}": value for key, value in training.items()},
                "layers": json.dumps(self.parameters.variants[run.variant].layers),
                **{f"data.{split}_images": n
                   for split, n in self.parameters.data.split_sizes.items()}}
