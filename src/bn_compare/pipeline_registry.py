"""Project pipelines, built for one run matrix (variants x grid points x seeds): the
context builds them for its parameters (``context.ProjectContext``); ``kedro registry``,
which creates no context, gets those of a context for ``KEDRO_ENV``."""

from __future__ import annotations

import os

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


def create_pipelines(matrix: RunMatrix) -> dict[str, Pipeline]:
    """``data_processing``, ``training``, ``evaluation``, ``diagnostics``, ``reporting``
    and ``compare`` (the five composed, also the default)."""
    pipelines = {
        "data_processing": data_processing.create_pipeline(matrix),
        "training": training.create_pipeline(matrix),
        "evaluation": evaluation.create_pipeline(matrix),
        "diagnostics": diagnostics.create_pipeline(matrix),
        "reporting": reporting.create_pipeline(matrix),
        "compare": compare.create_pipeline(matrix),
    }
    return {**pipelines, "__default__": pipelines["compare"]}


def register_pipelines() -> dict[str, Pipeline]:
    """Kedro's entry point, for the commands that create no context (``kedro registry``)."""
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession

    with KedroSession.create(env=os.environ.get("KEDRO_ENV")) as session:
        session.load_context()  # which hands the registry its pipelines
    return dict(pipelines)
