"""Project settings. See https://docs.kedro.org/en/stable/configure/configuration_basics/"""

from kedro.config import OmegaConfigLoader

from bn_compare.context import ProjectContext
from bn_compare.hooks import InputCheckHook, MemoryReleaseHook, TensorFlowSetupHook
from bn_compare.tracking import TrackingHook

# Before a run: TensorFlow set up (tryfirst), the input checked, then MLflow (trylast).
HOOKS = (TensorFlowSetupHook(), TrackingHook(), InputCheckHook(), MemoryReleaseHook())

CONTEXT_CLASS = ProjectContext

CONF_SOURCE = "conf"

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Environments and --params override single keys (training.epochs=3) instead of
    # replacing a whole top-level block.
    "merge_strategy": {"parameters": "soft"},
}
