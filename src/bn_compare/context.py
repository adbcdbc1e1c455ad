"""The project's Kedro context (``settings.CONTEXT_CLASS``)."""

from __future__ import annotations

from typing import Any

from kedro.framework.context import KedroContext


class ProjectContext(KedroContext):
    """Kedro's context; creating it builds the project's pipelines for its parameters
    (environment and runtime ``--params`` included), since the pipelines hold one
    namespace per training of the run matrix.

    A context rather than a hook: ``kedro viz`` creates the context but runs no project
    hooks unless told to (``--include-hooks``).
    """

    @property
    def params(self) -> dict[str, Any]:
        """The parameters, after every problem in them was reported at once with its path
        and value (Kedro's own validation of typed node inputs stops at the first
        model that fails, with pydantic's wording)."""
        from bn_compare.parameters import InvalidParametersError, parameter_problems

        problems = parameter_problems(self.config_loader["parameters"])
        if problems:
            raise InvalidParametersError(problems)
        return super().params

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from bn_compare import pipeline_registry  # the pipelines' modules, only when used

        super().__init__(*args, **kwargs)
        pipeline_registry.use_parameters(self.config_loader["parameters"])
