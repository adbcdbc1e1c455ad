"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """``data_processing``, ``training``, ``evaluation``, ``reporting`` and ``compare``
    (all four composed, also the default)."""
    pipelines = find_pipelines(raise_errors=True)
    if "compare" in pipelines:
        pipelines["__default__"] = pipelines["compare"]
    return pipelines
