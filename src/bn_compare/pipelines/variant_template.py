"""Helpers for the per-run template pipelines (one run = a variant with a seed)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Pipeline

from bn_compare.variants import Run
from bn_compare.variants import runs as configured_runs


class Bound(partial):
    """A partial that looks like its function (name, annotations) for Kedro's logs,
    type checks and viz, also after the trip to a runner's worker process."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt through bind(): a plain partial's copied attributes are lost on the way.
        return _rebind, (self.func, dict(self.keywords))


def bind(func: Callable[..., Any], **fixed: Any) -> Callable[..., Any]:
    """``func`` with some keyword arguments fixed, keeping its name for logs and viz."""
    return update_wrapper(Bound(func, **fixed), func)


def _rebind(func: Callable[..., Any], fixed: dict[str, Any]) -> Callable[..., Any]:
    return bind(func, **fixed)


def per_run(template: Callable[[Run], Pipeline], runs: list[Run] | None = None) -> Pipeline:
    """The template instantiated once per run (default: the configured variants x seeds)."""
    return Pipeline([template(run) for run in (configured_runs() if runs is None else runs)])
