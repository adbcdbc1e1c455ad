"""Helpers for the per-run template pipelines (one run = a variant at a grid point with
a seed, see ``bn_compare.run_matrix``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Pipeline

from bn_compare.run_matrix import Run, RunMatrix


class Bound(partial):
    """A partial that looks like its function (name, annotations) for Kedro's logs,
    type checks and viz, also after the trip to a runner's worker process."""


def bind(func: Callable[..., Any], **fixed: Any) -> Callable[..., Any]:
    """``func`` with some keyword arguments fixed, keeping its name for logs and viz."""
    return update_wrapper(Bound(func, **fixed), func)


def per_run(template: Callable[[Run], Pipeline], matrix: RunMatrix) -> Pipeline:
    """The template instantiated once per run of the matrix."""
    return Pipeline([template(run) for run in matrix.runs])
