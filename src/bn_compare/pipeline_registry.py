"""Project pipelines, built for one run matrix (variants x grid points x seeds).

Kedro calls ``register_pipelines()`` without arguments, so ``context.ProjectContext``
hands the matrix over (``build_for``) when it is created, which every entry point does
before it reads the pipelines (``kedro run``, ``kedro viz``, a notebook, a session).
``kedro registry`` creates no context: it reads the configuration (``KEDRO_ENV``)."""

from __future__ import annotations

import os
from pathlib import Path

from kedro.framework.project import pipelines as project_pipelines
from kedro.framework.project import settings
from kedro.pipeline import Pipeline

from bn_compare.pipelines import (
    compare,
    data_processing,
    diagnostics,
    evaluation,
    reporting,
    training,
)
from bn_compare.run_matrix import RunMatrix

PIPELINE_NAMES = ("data_processing", "training", "evaluation", "diagnostics", "reporting",
                  "compare", "__default__")

_matrix: RunMatrix | None = None  # forced by Kedro's no-argument register_pipelines()


def build_for(matrix: RunMatrix) -> None:
    """Build the pipelines for this matrix from now on; Kedro's cached pipelines are
    dropped when it changes (a notebook reloaded with another ``--env``)."""
    global _matrix  # noqa: PLW0603
    if matrix != _matrix:
        _matrix = matrix
        project_pipelines.configure(__name__)


def _matrix_without_a_context() -> RunMatrix:
    from bn_compare.parameters import ProjectParameters

    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(Path.cwd() / settings.CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"), **settings.CONFIG_LOADER_ARGS)
    return RunMatrix.from_parameters(ProjectParameters.checked(loader["parameters"]))


def register_pipelines() -> dict[str, Pipeline]:
    """``data_processing``, ``training``, ``evaluation``, ``diagnostics``, ``reporting``
    and ``compare`` (the five composed, also the default)."""
    matrix = _matrix if _matrix is not None else _matrix_without_a_context()
    pipelines = {
        "data_processing": data_processing.create_pipeline(),
        "training": training.create_pipeline(matrix),
        "evaluation": evaluation.create_pipeline(matrix),
        "diagnostics": diagnostics.create_pipeline(matrix),
        "reporting": reporting.create_pipeline(matrix),
        "compare": compare.create_pipeline(matrix),
    }
    return {**pipelines, "__default__": pipelines["compare"]}
