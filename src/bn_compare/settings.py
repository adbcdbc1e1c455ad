"""Project settings. See https://docs.kedro.org/en/stable/configure/configuration_basics/"""

import multiprocessing
import os

from kedro.config import OmegaConfigLoader

from bn_compare.context import ProjectContext
from bn_compare.hooks import AnswerHook, InputCheckHook, MemoryReleaseHook, ProgressHook
from bn_compare.tracking import TrackingHook

# Processes are spawned, never forked from one that may hold TensorFlow's threads. With
# the start method set here, Kedro's ParallelRunner also sets the project up in each worker.
multiprocessing.set_start_method("spawn", force=True)

# No telemetry, as .telemetry says for Kedro's: MLflow reports usage from any process
# that imports it unless told before (MLFLOW_DISABLE_TELEMETRY=false to take part).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

# Before a run: the inputs checked (tryfirst), then MLflow opens its run.
HOOKS = (InputCheckHook(), TrackingHook(), ProgressHook(), MemoryReleaseHook(), AnswerHook())

CONTEXT_CLASS = ProjectContext

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Environments and --params override single keys (training.epochs=3) instead of
    # replacing a whole top-level block.
    "merge_strategy": {"parameters": "soft"},
    # A study's folder and experiment from its name (conf/base/globals.yml)
    "custom_resolvers": {
        "subfolder": lambda root, name: root if name is None else f"{root}/{name}",
        "or_default": lambda value, default: default if value is None else value,
    },
}
