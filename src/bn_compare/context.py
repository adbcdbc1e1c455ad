"""The project's Kedro context (``settings.CONTEXT_CLASS``): where a run's parameters are
validated, once, and become the run matrix and its pipelines, and where a run claims its
save version."""

from __future__ import annotations

from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines

from bn_compare.datasets.versions import claim_version
from bn_compare.parameters import ProjectParameters
from bn_compare.pipeline_registry import create_pipelines
from bn_compare.run_matrix import RunMatrix


class ProjectContext(KedroContext):
    """Validates the run's parameters once (environment and ``--params`` included, every
    problem at once); its ``run_matrix`` builds the pipelines and goes to the hooks. Kedro
    builds its registry without arguments, so the context hands it its pipelines (every
    entry point creates a context first: ``kedro run``, ``kedro viz``, a notebook)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_matrix = RunMatrix(ProjectParameters.checked(self.config_loader["parameters"]))
        pipelines.configure(None)  # the registry's content comes from this context
        pipelines.update(create_pipelines(self.run_matrix))

    def _get_catalog(self, *args: Any, save_version: str | None = None, **kwargs: Any) -> Any:
        # A run's save version is Kedro's session id, the time in milliseconds: runs started
        # in the same one would write the same version folders
        if save_version:
            save_version = claim_version(self.project_path / "sessions", save_version)
        return super()._get_catalog(*args, save_version=save_version, **kwargs)
