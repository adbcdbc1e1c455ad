"""Project CLI: Kedro's ``kedro run`` (every option), with the project's default runner.
Before the run: the environment, the runner and the pipelines named must exist. An error
that refuses the run is its message, exit code 1 (``--verbose`` adds the traceback); a
stop signal ends the run with one line and exit code 128 + its number (``interruption``)."""

from __future__ import annotations

import contextlib
import copy
import os
import threading
import traceback
from pathlib import Path
from typing import Any

import click
import yaml
from kedro.config import MissingConfigException
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import KedroCliError
from kedro.io import DatasetError
from kedro.utils import load_obj
from omegaconf.errors import OmegaConfBaseException

from bn_compare import hooks, interruption, parameters, tf_runtime, tracking
from bn_compare.pipeline_registry import PIPELINE_NAMES

DEFAULT_RUNNER = "bn_compare.runner.ThreadRunner"
RUNNERS = (f"{DEFAULT_RUNNER} (the default), bn_compare.runner.DaskRunner, or one of "
           f"Kedro's: SequentialRunner, ThreadRunner, ParallelRunner")
WORDED = (parameters.InvalidParametersError, hooks.InvalidRunRequestError, DatasetError,  # for
          tracking.TrackingConfigError, tracking.TrackingLostError,  # users: as they are
          tf_runtime.TensorFlowMissingError, KedroCliError)
CONFIGURATION = (yaml.YAMLError, MissingConfigException, OmegaConfBaseException)
# Kedro's ValueErrors that name what is wrong, by the module that raises them: a key two
# files define; a --nodes, --namespaces, --tags, --from-inputs... that selects no node
KEDRO = {"kedro.config.omegaconf_config": "Configuration error: ", "kedro.pipeline.pipeline": ""}


def problems(request: dict[str, Any]) -> list[str]:
    """What is wrong with the environment, the runner and the pipelines named."""
    env, runner = request.get("env") or os.environ.get("KEDRO_ENV"), request.get("runner")
    conf, found = Path(request.get("conf_source") or "conf"), []
    if env and conf.is_dir() and not (conf / env).is_dir():
        found.append(f"--env={env}: no such environment (no folder {conf / env}); the "
                     f"environments: {', '.join(sorted(p.name for p in conf.glob('*/')))}.")
    try:
        load_obj(runner or DEFAULT_RUNNER, "kedro.runner")
    except (AttributeError, ImportError, ValueError):
        found.append(f"--runner={runner}: no such runner; use {RUNNERS}.")
    names, known = [request.get("pipeline"), *(request.get("pipelines") or [])], PIPELINE_NAMES
    return found + [f"--pipelines={name}: no such pipeline; the pipelines: "
                    f"{', '.join(sorted(known))}." for name in names if name and name not in known]


def refusal(error: Exception) -> str | None:
    """What to say for an error that refuses the run; ``None`` for a bug (a traceback)."""
    if isinstance(error, WORDED):
        return str(error)
    where = [frame.f_globals.get("__name__") for frame, _ in traceback.walk_tb(error.__traceback__)]
    prefix = "Configuration error: " if isinstance(error, CONFIGURATION) else (
        KEDRO.get(where[-1]) if where and isinstance(error, ValueError) else None)
    return None if prefix is None else f"{prefix}{' '.join(str(error).split())} Nothing was run."


def _run(verbose: bool = False, **kwargs: Any) -> Any:
    if found := problems(kwargs):
        raise click.ClickException("\n".join(found))
    # The slow imports (seconds) overlap Kedro's start: configuration, catalog, hooks;
    # the studies' page (make results) needs none of them
    if {kwargs.get("pipeline"), *(kwargs.get("pipelines") or [])} - {None} != {"results"}:
        threading.Thread(target=_import_slow_modules, name="imports", daemon=True).start()
    try:
        with interruption.signals_stop_the_run():
            return kedro_run.callback(**kwargs)
    except interruption.RunStopped as stop:
        click.secho(f"Interrupted ({stop}): the run stopped; the trainings that were running "
                    f"saved nothing, every file written is complete and versioned. Run the "
                    f"same command again (add --only-missing-outputs to keep what completed).",
                    err=True, fg="yellow")
        raise click.exceptions.Exit(stop.exit_code) from None
    except (*WORDED, *CONFIGURATION, ValueError) as error:
        if (message := refusal(error)) is None:
            raise
        if verbose:
            click.echo(traceback.format_exc(), err=True)
        raise click.ClickException(message) from None


def _import_slow_modules() -> None:
    with contextlib.suppress(ImportError):  # the input check says what to install
        tf_runtime.keras()
    import scipy.stats  # noqa: F401 (the statistics nodes import it when they run)


RUNNER = copy.copy(next(p for p in kedro_run.params if p.name == "runner"))  # Kedro's own
RUNNER.default, RUNNER.help = DEFAULT_RUNNER, f"{RUNNER.help} Default here: {DEFAULT_RUNNER}."
VERBOSE = click.Option(["--verbose", "-v"], is_flag=True, default=False,
                       help="Show the traceback of an error that stops the run.")
run = click.Command(name="run", callback=_run, help=kedro_run.help, params=[
    *(RUNNER if p.name == "runner" else p for p in kedro_run.params), VERBOSE])
cli = click.Group(name="bn-compare", help="bn-compare's project commands.", commands=[run])
