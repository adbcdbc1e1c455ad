"""Which node to start next, and how far a run has got.

A run of a grid holds dozens of trainings of different lengths on a few cores. The
project's runners start, among the nodes that are ready, the one with the longest chain
of estimated work still behind it (its own cost plus the most expensive path through the
nodes that depend on it): the longest trainings first, the short ones and the
evaluations fill the gaps, so no core idles while work is waiting.

A training's cost is estimated from its settings: epochs x steps per epoch x layers
(the layers stand in for the work per step: a BatchNormalization variant takes longer
per step than the plain one). Every other node counts as nearly free.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from kedro.pipeline import Node, Pipeline

from bn_compare.run_matrix import Run, RunMatrix

logger = logging.getLogger(__name__)

TRAINING_NODE = "train_model"
TRAINING_SET_SIZE = 60_000
SMALL_NODE_COST = 1.0


def is_training(node: Node) -> bool:
    return node.name.rsplit(".", 1)[-1] == TRAINING_NODE


def training_cost(run: Run, parameters: Mapping[str, Any]) -> float:
    """Estimated work of one training (arbitrary units, comparable between runs)."""
    training, data = parameters["training"], parameters["data"]
    settings = {"epochs": _get(training, "epochs"), "batch_size": _get(training, "batch_size"),
                **run.point.overrides}
    images = TRAINING_SET_SIZE - _get(data, "validation_size")
    if _get(data, "max_train_images"):
        images = min(images, _get(data, "max_train_images"))
    layers = _get(parameters["variants"][run.variant], "layers")
    steps = math.ceil(images / settings["batch_size"])
    return float(settings["epochs"] * steps * len(layers))


def _get(section: Any, key: str) -> Any:
    return section[key] if isinstance(section, Mapping) else getattr(section, key)


def node_costs(pipeline: Pipeline, parameters: Mapping[str, Any]) -> dict[Node, float]:
    runs = {run.namespace: run for run in RunMatrix.from_parameters(parameters).runs}
    costs = {}
    for node in pipeline.nodes:
        run = runs.get(node.namespace or "")
        costs[node] = (training_cost(run, parameters) if run and is_training(node)
                       else SMALL_NODE_COST)
    return costs


def priorities(pipeline: Pipeline, costs: Mapping[Node, float]) -> dict[Node, float]:
    """Each node's cost plus the costliest path through the nodes that depend on it."""
    children: dict[Node, set[Node]] = {node: set() for node in pipeline.nodes}
    for node, parents in pipeline.node_dependencies.items():
        for parent in parents:
            children[parent].add(node)
    rank: dict[Node, float] = {}
    for node in reversed(pipeline.nodes):  # topologically sorted: children first
        rank[node] = costs.get(node, SMALL_NODE_COST) + max(
            (rank[child] for child in children[node]), default=0.0)
    return rank


class TrainingProgress:
    """Logs ``k/N trainings done - elapsed m:ss - about M min left`` as trainings end;
    the time left is the estimated work left at the pace of the work done so far."""

    def __init__(self, pipeline: Pipeline, costs: Mapping[Node, float]) -> None:
        self._costs = {node: costs[node] for node in pipeline.nodes if is_training(node)}
        self._total = sum(self._costs.values())
        self._done_cost = 0.0
        self._done = 0
        self._start = time.monotonic()

    def node_done(self, node: Node) -> None:
        if node not in self._costs:
            return
        self._done += 1
        self._done_cost += self._costs[node]
        elapsed = time.monotonic() - self._start
        left = (self._total - self._done_cost) * elapsed / self._done_cost
        logger.info("%d/%d trainings done - elapsed %s - %s", self._done, len(self._costs),
                    _clock(elapsed), "all done" if self._done == len(self._costs)
                    else f"about {_minutes(left)} left")


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}:{seconds:02d}"


def _minutes(seconds: float) -> str:
    return "1 min" if seconds < 90 else f"{round(seconds / 60)} min"  # noqa: PLR2004
