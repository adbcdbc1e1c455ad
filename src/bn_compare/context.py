"""The project's Kedro context (``settings.CONTEXT_CLASS``)."""

from __future__ import annotations

from typing import Any

from kedro.framework.context import KedroContext

from bn_compare.parameters import ProjectParameters
from bn_compare.run_matrix import RunMatrix


class ProjectContext(KedroContext):
    """Kedro's context, which reads and validates the run's parameters once (environment
    and ``--params`` included): every problem is reported at once, with its path and
    value, before anything else happens.

    ``project_parameters`` (typed) and ``run_matrix`` (the trainings: variant x grid
    point x seed) are what the pipeline registry and the project's hooks receive
    (``after_context_created``). A context rather than a hook does it, since ``kedro
    viz`` creates the context but runs no project hooks.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from bn_compare import pipeline_registry

        super().__init__(*args, **kwargs)
        self.project_parameters = ProjectParameters.checked(self.config_loader["parameters"])
        self.run_matrix = RunMatrix.from_parameters(self.project_parameters)
        pipeline_registry.build_for(self.run_matrix)
