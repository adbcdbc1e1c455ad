"""Helpers for the per-variant template pipelines."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Pipeline

from bn_compare.variants import variant_names


def bind_variant(func: Callable[..., Any], variant: str) -> Callable[..., Any]:
    """``func`` with its ``variant`` argument fixed, keeping its name for logs and viz."""
    return update_wrapper(partial(func, variant=variant), func)


def per_variant(
    template: Callable[[str], Pipeline], variants: list[str] | None = None
) -> Pipeline:
    """The template instantiated once per variant (default: the configured variants)."""
    names = variant_names() if variants is None else variants
    return Pipeline([template(name) for name in names])
