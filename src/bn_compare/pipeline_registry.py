"""Project pipelines, built for one run matrix (variants x grid points x seeds): the
context builds them for its parameters (``context.ProjectContext``); ``kedro registry``,
which creates no context, gets those of a context for ``KEDRO_ENV``."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from bn_compare.pipelines import (
    compare,
    data_processing,
    diagnostics,
    evaluation,
    reporting,
    results,
    training,
)
from bn_compare.pipelines.stacking import TABLES_TAG
from bn_compare.run_matrix import RunMatrix

PIPELINE_NAMES = ("data_processing", "training", "evaluation", "diagnostics", "reporting",
                  "compare", "tables", "results", "__default__")


def create_pipelines(matrix: RunMatrix) -> dict[str, Pipeline]:
    """Each pipeline by its module's name; ``compare`` (the five composed) is the default;
    ``tables``: everything over every run, made again from the runs' saved outputs (after
    ``--only-missing-outputs``, which keeps the tables it finds); ``results``: the shipped
    studies' answers from their saved verdicts (``make results``)."""
    modules = (data_processing, training, evaluation, diagnostics, reporting, compare)
    pipelines = {m.__name__.rpartition(".")[2]: m.create_pipeline(matrix) for m in modules}
    stacking = pipelines["compare"].only_nodes_with_tags(TABLES_TAG).nodes
    tables = pipelines["compare"].from_nodes(*(node.name for node in stacking))
    return {**pipelines, "tables": tables,
            "results": results.create_pipeline(matrix.parameters.results.studies),
            "__default__": pipelines["compare"]}


def register_pipelines() -> dict[str, Pipeline]:
    """Kedro's entry point, for the commands that create no context (``kedro registry``)."""
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession

    with KedroSession.create() as session:  # for KEDRO_ENV, as Kedro reads it
        session.load_context()  # which hands the registry its pipelines
    return dict(pipelines)
