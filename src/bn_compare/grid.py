"""Grid points: one combination of values of the training keys that change the experiment,
and its name. A point's name depends on its own values only (``learning_rate_0p01__
optimizer_Adam``: ``.`` becomes ``p``, ``-`` becomes ``m``, keys in the order of
``GRIDDABLE_KEYS``), so adding values to a grid keeps the names (and outputs) of the points
already there."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The training settings that change the experiment (the others only change its speed).
GRIDDABLE_KEYS = ("learning_rate", "optimizer", "batch_size", "epochs", "loss")


def value_name(value: Any) -> str:
    """A grid value as a namespace-safe word: 0.001 -> 0p001, 1e-05 -> 1em05."""
    text = str(value).lower() if isinstance(value, bool) else value_label(value)
    return re.sub(r"\W", "_", text.replace(".", "p").replace("-", "m").replace("+", ""))


def value_label(value: Any) -> str:
    """A grid value as people read it: 0.001, 1, Adam."""
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class GridPoint:
    """One combination of grid values: ``(("learning_rate", 0.01), ...)``."""

    settings: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, setting: Mapping[str, Any]) -> GridPoint:
        return cls(tuple(setting.items()))

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


def grid_points(blocks: Iterable[Mapping[str, Sequence[Any] | None]]) -> tuple[GridPoint, ...]:
    """The union, in order and each point once, of each block's cartesian product of its
    gridded keys' values; one empty point for no grid."""
    points: dict[GridPoint, None] = {}
    for block in blocks:
        axes = {key: values for key in GRIDDABLE_KEYS if (values := block.get(key))}
        points.update((GridPoint(tuple(zip(axes, values, strict=True))), None)
                      for values in itertools.product(*axes.values()))
    return tuple(points) or (GridPoint(),)
