"""Project CLI: Kedro's commands, with two changes to ``kedro run``.

- The default runner is ``bn_compare.runner.ThreadRunner`` (variants train side by
  side, one thread per core, in one process); ``--runner=SequentialRunner`` gives the
  classic run. Results are the same either way.
- Bad parameters or raw data stop the run with one clear message and exit code 1
  instead of a traceback (the traceback goes to the DEBUG log).

It reuses Kedro's own ``run`` command (its callback and options, a Kedro internal that
``tests/test_kedro_internals.py`` watches), so every option of ``kedro run`` works here.
"""

from __future__ import annotations

import copy
import logging

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.io import DatasetError

from bn_compare.parameters import InvalidParametersError

DEFAULT_RUNNER = "bn_compare.runner.ThreadRunner"
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


def _run(**kwargs):
    try:
        return kedro_run.callback(**kwargs)
    except (InvalidParametersError, DatasetError) as error:
        logger.debug("Run refused", exc_info=True)
        raise click.ClickException(str(error)) from None


run = click.Command(
    name="run",
    callback=_run,
    params=[_with_default(p, "runner", DEFAULT_RUNNER) for p in kedro_run.params],
    help=kedro_run.help,
)
cli.add_command(run)
