"""Which trainings the pipelines are built for: every variant (the keys of the
``variants`` parameter) with every seed of ``training.seeds``.

Pipelines are created before any node runs, from the parameters of the run being
started (environment and ``--params`` included). ``hooks.VariantRegistryHook`` hands
those parameters over as soon as Kedro has loaded them; outside a Kedro session (a test,
a script) the project's ``conf/`` is read with ``KEDRO_ENV`` as the environment.
"""

from __future__ import annotations

import keyword
import os
from pathlib import Path
from typing import Any, NamedTuple

_active_parameters: dict[str, Any] | None = None


def remember_parameters(parameters: dict[str, Any]) -> None:
    global _active_parameters  # noqa: PLW0603
    _active_parameters = parameters


def _parameters_from_conf() -> dict[str, Any]:
    from kedro.config import OmegaConfigLoader

    from bn_compare.settings import CONFIG_LOADER_ARGS, CONF_SOURCE

    loader = OmegaConfigLoader(
        conf_source=str(Path.cwd() / CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"),
        **CONFIG_LOADER_ARGS,
    )
    return loader["parameters"]


def active_parameters() -> dict[str, Any]:
    return _active_parameters if _active_parameters is not None else _parameters_from_conf()


def is_valid_variant_name(name: Any) -> bool:
    """Variant names become Kedro namespaces and Python keywords in node inputs."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def variant_names(parameters: dict[str, Any] | None = None) -> list[str]:
    """The variant names, in the order the parameters declare them."""
    variants = (parameters or active_parameters()).get("variants") or {}
    if not isinstance(variants, dict):
        return []
    return [name for name in variants if is_valid_variant_name(name)]


class Run(NamedTuple):
    """One training: a variant with a seed. Its namespace is ``<variant>.seed_<seed>``."""

    variant: str
    seed: int

    @property
    def namespace(self) -> str:
        return f"{self.variant}.seed_{self.seed}"


def seeds(parameters: dict[str, Any] | None = None) -> list[int]:
    """The distinct non-negative integer seeds of ``training.seeds``, in order (others are
    left to the parameter check, which names them)."""
    training = (parameters or active_parameters()).get("training") or {}
    listed = training.get("seeds") if isinstance(training, dict) else None
    if not isinstance(listed, (list, tuple)):
        return []
    valid = [s for s in listed if isinstance(s, int) and not isinstance(s, bool) and s >= 0]
    return list(dict.fromkeys(valid))


def runs(parameters: dict[str, Any] | None = None) -> list[Run]:
    """Every variant x seed, variants in declaration order, then seeds."""
    parameters = parameters or active_parameters()
    return [Run(name, seed) for name in variant_names(parameters) for seed in seeds(parameters)]
