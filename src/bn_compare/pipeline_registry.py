"""Project pipelines, built for one run matrix (variants x grid points x seeds).

Which matrix: the one of the parameters of the Kedro context created last in this
process. ``context.ProjectContext`` hands them over when it is created, which every
entry point does before it reads the pipelines: ``kedro run`` (with its ``--env`` and
``--params``), ``kedro viz``, a notebook (``%load_ext kedro.ipython``,
``%reload_kedro``) and a ``KedroSession`` in a script or test. ``kedro registry``
creates no context: it gets the matrix of the configuration a session would load
without ``--env`` or ``--params`` (``KEDRO_ENV`` for the environment).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.framework.project import pipelines as project_pipelines
from kedro.framework.project import settings
from kedro.pipeline import Pipeline

from bn_compare.pipelines import compare, data_processing, evaluation, reporting, training
from bn_compare.run_matrix import RunMatrix

FACTORIES = {
    "data_processing": data_processing.create_pipeline,
    "training": training.create_pipeline,
    "evaluation": evaluation.create_pipeline,
    "reporting": reporting.create_pipeline,
    "compare": compare.create_pipeline,
}

_matrix: RunMatrix | None = None  # set through use_parameters() by ProjectContext


def use_parameters(parameters: dict[str, Any]) -> RunMatrix:
    """Build the pipelines for these parameters from now on; Kedro's cached pipelines
    are dropped when the matrix changes (a notebook reloaded with another ``--env``)."""
    global _matrix  # noqa: PLW0603
    matrix = RunMatrix.from_parameters(parameters)
    if matrix != _matrix:
        _matrix = matrix
        project_pipelines.configure(__name__)
    return matrix


def current_matrix() -> RunMatrix:
    """The matrix the pipelines are built for (see the module's docstring)."""
    return _matrix if _matrix is not None else RunMatrix.from_parameters(_session_parameters())


def _session_parameters() -> dict[str, Any]:
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(Path.cwd() / settings.CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )
    return loader["parameters"]


def register_pipelines() -> dict[str, Pipeline]:
    """``data_processing``, ``training``, ``evaluation``, ``reporting`` and ``compare``
    (the four composed, also the default)."""
    matrix = current_matrix()
    pipelines = {name: create(matrix) for name, create in FACTORIES.items()}
    pipelines["__default__"] = pipelines["compare"]
    return pipelines
