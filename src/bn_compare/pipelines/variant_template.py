"""Helpers for the per-run template pipelines (one run = a variant at a grid point with
a seed, see ``bn_compare.run_matrix``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any


class Bound(partial):
    """A partial that looks like its function (name, annotations) for Kedro's logs,
    type checks and viz, also after the trip to a runner's worker process."""


def bind(func: Callable[..., Any], **fixed: Any) -> Callable[..., Any]:
    """``func`` with some keyword arguments fixed, keeping its name for logs and viz."""
    return update_wrapper(Bound(func, **fixed), func)
