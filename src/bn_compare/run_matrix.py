"""Which trainings a run holds: every variant x grid point x seed, and their namespaces:
``<variant>.seed_<seed>`` (``baseline.seed_42``), or with a grid of several points
``<variant>.<point>.seed_<seed>``, where ``<point>`` names the point's values key by key
in the order of ``GRIDDABLE_KEYS`` (``learning_rate_0p01__optimizer_Adam``: ``.`` becomes
``p``, ``-`` becomes ``m``). A point's name depends on its own values only, so adding
values to a grid keeps the names (and outputs) of the points already there."""

from __future__ import annotations

import itertools
import json
import keyword
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # parameters builds on this module (grid point names), not the reverse
    from bn_compare.parameters import GridParams, ProjectParameters

# The training settings that change the experiment (the others only change its speed).
GRIDDABLE_KEYS = ("learning_rate", "optimizer", "batch_size", "epochs", "loss")


def is_valid_variant_name(name: Any) -> bool:
    """Variant names become Kedro namespaces and Python keywords in node inputs."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def value_name(value: Any) -> str:
    """A grid value as a namespace-safe word: 0.001 -> 0p001, 1e-05 -> 1em05."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    text = text.replace(".", "p").replace("-", "m").replace("+", "")
    return re.sub(r"\W", "_", text)


def value_label(value: Any) -> str:
    """A grid value as people read it: 0.001, 1, Adam."""
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class GridPoint:
    """One combination of grid values: ``(("learning_rate", 0.01), ...)``."""

    settings: tuple[tuple[str, Any], ...] = ()

    @property
    def overrides(self) -> dict[str, Any]:  # the training keys this point sets
        return dict(self.settings)

    @property
    def name(self) -> str:
        return "__".join(f"{key}_{value_name(value)}" for key, value in self.settings)

    @property
    def label(self) -> str:
        """``learning_rate=0.01, optimizer=Adam`` (empty for the point of no grid)."""
        return ", ".join(f"{key}={value_label(value)}" for key, value in self.settings)


def grid_points(grid: GridParams | tuple[GridParams, ...]) -> tuple[GridPoint, ...]:
    """The cartesian product of the gridded keys' values, or for a list of blocks the union
    of theirs in order (each point once); one empty point for no grid."""
    points: dict[GridPoint, None] = {}
    for block in grid if isinstance(grid, tuple) else (grid,):
        axes = {key: values for key in GRIDDABLE_KEYS if (values := getattr(block, key))}
        points.update((GridPoint(tuple(zip(axes, values, strict=True))), None)
                      for values in itertools.product(*axes.values()))
    return tuple(points)


@dataclass(frozen=True)
class Run:
    """One training: a variant at a grid point with a seed."""

    variant: str
    seed: int
    point: GridPoint = GridPoint()
    point_name: str = ""  # empty when the matrix has a single point
    confirms: bool = False  # a confirmation: trained at its variant's best setting (data),
    #                         ``point`` holds only the ``confirm.per`` values

    @property
    def namespace(self) -> str:
        middle = f".{self.point_name}" if self.point_name else ""
        return f"{self.variant}{middle}.seed_{self.seed}"

    @property
    def key(self) -> dict[str, Any]:
        """The run's identifying columns in the tables: variant, grid values, seed."""
        return {"variant": self.variant, **self.point.overrides, "seed": self.seed}

    def settings(self, parameters: ProjectParameters) -> dict[str, Any]:
        """What defines the training, flat (its MLflow params): variant, seed, grid values,
        every training setting in force, the layers and the sizes of the data."""
        # a confirmation's setting is logged once chosen (tracking: its ``setting``)
        chosen = set(grid_points(parameters.grid)[0].overrides) if self.confirms else set()
        training = parameters.training.at(self.point.overrides).model_dump(
            exclude={"seeds", *chosen})
        return {"variant": self.variant, "seed": self.seed, "namespace": self.namespace,
                **{f"grid.{key}": value for key, value in self.point.overrides.items()},
                **{f"training.{key}": value for key, value in training.items()},
                "layers": json.dumps(parameters.variants[self.variant].layers),
                **{f"data.{split}_images": n for split, n in parameters.data.split_sizes.items()}}

    @property
    def description(self) -> str:
        """``baseline (learning_rate=0.1) seed 42`` for logs."""
        where = f" ({self.point.label})" if self.point_name and not self.confirms else ""
        best = f"at its best{f' for {self.point.label}' if self.point.settings else ''}, "
        return f"{self.variant}{where} {best if self.confirms else ''}seed {self.seed}"


@dataclass(frozen=True)
class RunMatrix:
    """Variants (declaration order) x grid points x seeds."""

    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    grid_keys: tuple[str, ...] = ()
    points: tuple[GridPoint, ...] = (GridPoint(),)
    confirm_seeds: tuple[int, ...] = ()
    confirm_per: tuple[str, ...] = ()
    runs: tuple[Run, ...] = field(init=False)  # the grid's
    confirmations: tuple[Run, ...] = field(init=False)  # a grid's best settings retrained

    def __post_init__(self) -> None:
        named = len(self.points) > 1
        runs = tuple(Run(variant, seed, point, point.name if named else "")
                     for variant in self.variants for point in self.points
                     for seed in self.seeds)
        object.__setattr__(self, "runs", runs)
        groups = dict.fromkeys(GridPoint(tuple((key, point.overrides[key])
                                               for key in self.confirm_per))
                               for point in self.points)
        confirmations = tuple(
            Run(variant, seed, group, "__".join(["confirm", *([group.name] if group.name
                                                             else [])]), confirms=True)
            for variant in self.variants for group in groups
            for seed in self.confirm_seeds) if named else ()
        object.__setattr__(self, "confirmations", confirmations)

    @property
    def trainings(self) -> tuple[Run, ...]:
        """The grid's runs, then the confirmations."""
        return self.runs + self.confirmations

    @property
    def is_sweep(self) -> bool:
        """More than one grid point: the sweep tables, plot and report section exist."""
        return len(self.points) > 1

    @classmethod
    def from_parameters(cls, parameters: ProjectParameters) -> RunMatrix:
        """The trainings of checked parameters (``ProjectParameters.checked``)."""
        points = grid_points(parameters.grid)
        return cls(variants=tuple(parameters.variants), seeds=parameters.training.seeds,
                   grid_keys=tuple(key for key, _ in points[0].settings), points=points,
                   confirm_seeds=parameters.confirm.seeds,
                   confirm_per=tuple(k for k in GRIDDABLE_KEYS if k in parameters.confirm.per))
