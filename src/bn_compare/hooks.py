"""Project hooks: hand the run's parameters to the pipeline factories, check them."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl

from bn_compare.validation import ensure_valid
from bn_compare.variants import remember_parameters

logger = logging.getLogger(__name__)


class VariantRegistryHook:
    """Pipelines are built per variant, so they need the run's parameters first."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        # Not ``context.params``: that builds the pipelines, which need these.
        remember_parameters(context.config_loader["parameters"])


class ParameterCheckHook:
    """Refuse bad parameters before the first node runs."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        parameters = catalog.load("parameters")
        ensure_valid(parameters)
        logger.info("Parameters checked: variants %s", ", ".join(parameters["variants"]))
