"""The project's Kedro context (``settings.CONTEXT_CLASS``): where a run's parameters are
validated, once, and become the run matrix and its pipelines."""

from __future__ import annotations

from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines

from bn_compare.parameters import ProjectParameters
from bn_compare.pipeline_registry import create_pipelines
from bn_compare.run_matrix import RunMatrix


class ProjectContext(KedroContext):
    """Kedro's context, which validates the run's parameters once (environment and
    ``--params`` included, every problem at once) before anything else happens. Its
    ``run_matrix`` is what the pipelines are built from and what the project's hooks receive
    (``after_context_created``). Kedro builds its pipeline registry without arguments, so
    the context hands it the pipelines of its own matrix (every entry point creates a
    context before it reads the pipelines: ``kedro run``, ``kedro viz``, a notebook)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_matrix = RunMatrix(ProjectParameters.checked(self.config_loader["parameters"]))
        pipelines.configure(None)  # the registry's content comes from this context
        pipelines.update(create_pipelines(self.run_matrix))
