"""Project CLI: Kedro's commands, with three changes to ``kedro run``.

- The default runner is ``bn_compare.runner.ThreadRunner`` (variants train side by
  side, one thread per core, in one process); ``--runner=SequentialRunner`` gives the
  classic run. Results are the same either way.
- What the user can get wrong before anything runs (parameters, raw data, requested
  versions, the configuration files, the environment) stops the run with one clear
  message and exit code 1 instead of a traceback; ``--verbose`` (or the DEBUG log)
  shows the traceback.
- Ctrl-C stops the run within seconds, says what was interrupted and exits with 130.

It reuses Kedro's own ``run`` command (its callback and options, a Kedro internal that
``tests/test_kedro_internals.py`` watches), so every option of ``kedro run`` works here.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import traceback
from pathlib import Path

import click
import yaml
from kedro.config import MissingConfigException
from kedro.framework.cli.project import run as kedro_run
from kedro.io import DatasetError
from omegaconf.errors import OmegaConfBaseException

from bn_compare.hooks import InvalidRunRequestError
from bn_compare.interruption import RunInterrupted
from bn_compare.parameters import InvalidParametersError
from bn_compare.tracking import TrackingConfigError, TrackingLostError

DEFAULT_RUNNER = "bn_compare.runner.ThreadRunner"
INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, what shells report for Ctrl-C
logger = logging.getLogger(__name__)


def _with_default(option: click.Parameter, name: str, default: str) -> click.Parameter:
    if option.name == name:
        option = copy.copy(option)  # Kedro's own command keeps its default
        option.default = default
        option.help = f"{option.help} Default here: {default}."
    return option


@click.group(name="bn-compare")
def cli() -> None:
    """bn-compare's project commands."""


def environment_problem(env: str | None, conf: Path = Path("conf")) -> str | None:
    """Why ``--env`` (or ``KEDRO_ENV``) names no environment of the project, if it
    does not."""
    if not env or (conf / env).is_dir():
        return None
    found = sorted(p.name for p in conf.iterdir() if p.is_dir()) if conf.is_dir() else []
    return (f"Environment {env!r} does not exist: there is no folder conf/{env}. The "
            f"environments of this project: {', '.join(found)}.")


def runner_problem(runner: str | None) -> str | None:
    """Why ``--runner`` names no runner, if it does not."""
    from kedro.utils import load_obj

    try:
        load_obj(runner or DEFAULT_RUNNER, "kedro.runner")
    except (AttributeError, ImportError, ValueError):
        return (f"--runner={runner}: no such runner. Use bn_compare.runner.ThreadRunner "
                f"(the default), bn_compare.runner.ParallelRunner, "
                f"bn_compare.runner.DaskRunner, or one of Kedro's: SequentialRunner, "
                f"ThreadRunner, ParallelRunner.")
    return None


def configuration_problem(error: BaseException) -> str | None:
    """One line for an error in the configuration files, or None if it is not one."""
    cause = error.__cause__
    if isinstance(error, yaml.YAMLError) and isinstance(cause, yaml.MarkedYAMLError):
        mark = cause.problem_mark
        where = error.args[0].split("Invalid YAML or JSON file ")[-1].split(",")[0]
        with contextlib.suppress(ValueError):
            where = str(Path(where).relative_to(Path.cwd()))
        return (f"Configuration error in {where}, line {mark.line + 1}, column "
                f"{mark.column + 1}: {cause.problem}"
                + (f" ({cause.context})" if cause.context else "")
                + ". Nothing was run.")
    if isinstance(error, (MissingConfigException, OmegaConfBaseException)) or (
            isinstance(error, ValueError) and str(error).startswith("Duplicate keys found")):
        return f"Configuration error: {' '.join(str(error).split())} Nothing was run."
    return None


def _run(verbose: bool = False, **kwargs):
    env = kwargs.get("env") or os.environ.get("KEDRO_ENV")
    problem = environment_problem(env) or runner_problem(kwargs.get("runner"))
    if problem:
        raise click.ClickException(problem)
    try:
        return kedro_run.callback(**kwargs)
    except (InvalidParametersError, InvalidRunRequestError, DatasetError,
            TrackingConfigError, TrackingLostError) as error:
        _refuse(str(error), verbose)
    except (RunInterrupted, KeyboardInterrupt) as error:
        logger.debug("Run interrupted", exc_info=True)
        said = str(error) if isinstance(error, RunInterrupted) else (
            "the run stopped; the node that was running saved nothing, every file written "
            "is complete and versioned. Run the same command again.")
        click.secho(f"Interrupted (Ctrl-C): {said}", err=True, fg="yellow")
        raise click.exceptions.Exit(INTERRUPTED_EXIT_CODE) from None
    except Exception as error:
        message = configuration_problem(error)
        if message is None:
            raise
        _refuse(message, verbose)


def _refuse(message: str, verbose: bool) -> None:
    logger.debug("Run refused", exc_info=True)
    if verbose:
        click.echo(traceback.format_exc(), err=True)
    raise click.ClickException(message) from None


VERBOSE = click.Option(["--verbose", "-v"], is_flag=True, default=False,
                       help="Show the traceback of an error that stops the run.")

run = click.Command(
    name="run",
    callback=_run,
    params=[*(_with_default(p, "runner", DEFAULT_RUNNER) for p in kedro_run.params),
            VERBOSE],
    help=kedro_run.help,
)
cli.add_command(run)
