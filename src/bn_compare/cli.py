"""Project CLI: Kedro's ``kedro run`` (every option), with the project's default runner;
what a user can get wrong stops the run before any node with one line naming what exists
(exit code 1, ``--verbose`` for the traceback); a stop signal ends it with one line and
exit code 128 + the signal's number (``interruption``)."""

from __future__ import annotations

import contextlib
import copy
import os
import threading
import traceback
from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import click
import yaml
from kedro.config import MissingConfigException
from kedro.framework.cli.project import run as kedro_run
from kedro.io import DatasetError
from omegaconf.errors import OmegaConfBaseException

from bn_compare import interruption, tf_runtime
from bn_compare.hooks import InvalidRunRequestError
from bn_compare.parameters import InvalidParametersError
from bn_compare.pipeline_registry import PIPELINE_NAMES
from bn_compare.tf_runtime import TensorFlowMissingError
from bn_compare.tracking import TrackingConfigError, TrackingLostError

DEFAULT_RUNNER = "bn_compare.runner.ThreadRunner"
RUNNERS = (f"{DEFAULT_RUNNER} (the default), bn_compare.runner.DaskRunner, or one of "
           f"Kedro's: SequentialRunner, ThreadRunner, ParallelRunner")
REFUSED = (InvalidParametersError, InvalidRunRequestError, DatasetError,
           TrackingConfigError, TrackingLostError, TensorFlowMissingError)
CONF = Path("conf")


def _words(names: Any) -> str:
    return ", ".join(sorted(names)) or "none"


def environment_problem(env: str | None, conf: Path = CONF) -> str | None:
    """Why ``--env`` (or ``KEDRO_ENV``) names no environment, if it does not."""
    if not env or (conf / env).is_dir():
        return None
    found = [p.name for p in conf.iterdir() if p.is_dir()] if conf.is_dir() else []
    return (f"--env={env}: no such environment (no folder conf/{env}); the environments: "
            f"{_words(found)}.")


def runner_problem(runner: str | None) -> str | None:
    """Why ``--runner`` names no runner, if it does not."""
    from kedro.utils import load_obj

    try:
        load_obj(runner or DEFAULT_RUNNER, "kedro.runner")
    except (AttributeError, ImportError, ValueError):
        return f"--runner={runner}: no such runner; use {RUNNERS}."
    return None


def pipeline_problems(names: Any) -> list[str]:
    return [f"--pipelines={name}: no such pipeline; the pipelines: {_words(PIPELINE_NAMES)}."
            for name in names or () if name not in PIPELINE_NAMES]


def selection_problems(request: Mapping[str, Any], pipeline: Any) -> list[str]:
    """Every namespace, node and tag of the request that ``pipeline`` does not have."""
    namespaces = {".".join(n.namespace.split(".")[:depth]) for n in pipeline.nodes
                  if n.namespace for depth in range(1, n.namespace.count(".") + 2)}
    nodes = {n.name for n in pipeline.nodes}
    tags = set().union(*(n.tags for n in pipeline.nodes))
    nested = sorted((n for n in namespaces if "." in n), key=len)[:1]
    problems = [f"--namespaces={name}: no such namespace; the top-level ones: "
                f"{_words({n.split('.')[0] for n in namespaces})}"
                + (f" (and nested ones such as {nested[0]})" if nested else "")
                for name in request.get("namespaces") or () if name not in namespaces]
    for option in ("node_names", "from_nodes", "to_nodes"):
        flag = {"node_names": "--nodes"}.get(option, f"--{option.replace('_', '-')}")
        for name in request.get(option) or ():
            if name not in nodes:
                close = sorted(n for n in nodes if name in n)[:3] or get_close_matches(
                    name, nodes, n=3)
                problems.append(f"{flag}={name}: no such node; "
                                + (f"did you mean {', '.join(close)}? " if close else "")
                                + "kedro registry describe <pipeline> lists them.")
    problems += [f"--tags={tag}: no node has this tag; the tags: {_words(tags)}."
                 for tag in request.get("tags") or () if tag not in tags]
    return problems


def configuration_problem(env: str | None, conf: Path = CONF) -> str | None:
    """The first configuration file YAML cannot read (file, line, column, why), or a key
    that two files of one environment define."""
    for folder in (conf / "base", conf / (env or "local")):
        defined: dict[tuple[str, str], Path] = {}
        for file in sorted(folder.rglob("*.yml")):
            try:
                content = yaml.safe_load(file.read_text())
            except yaml.MarkedYAMLError as error:
                mark = error.problem_mark
                return (f"Configuration error in {file}, line {mark.line + 1}, column "
                        f"{mark.column + 1}: {error.problem}"
                        + (f" ({error.context})" if error.context else "") + ". Nothing was run.")
            for key in content if isinstance(content, dict) else ():
                kind = (file.stem.split("_")[0], key)  # parameters_x.yml: parameters
                if kind in defined:
                    return (f"Configuration error: {key!r} is defined in {defined[kind]} and "
                            f"in {file}; keep one. Nothing was run.")
                defined[kind] = file
    return None


def _pipeline_names(request: Mapping[str, Any]) -> list[str]:
    """``--pipelines`` or the deprecated ``--pipeline``."""
    return [request["pipeline"]] if request.get("pipeline") else list(
        request.get("pipelines") or [])


def _selected(request: Mapping[str, Any]) -> Any:
    from kedro.framework.project import pipelines
    from kedro.pipeline import Pipeline

    names = _pipeline_names(request) or ["__default__"]
    return sum((pipelines[name] for name in names), Pipeline([]))


def _run(verbose: bool = False, **kwargs: Any) -> Any:
    env = kwargs.get("env") or os.environ.get("KEDRO_ENV")
    conf = Path(kwargs.get("conf_source") or CONF)
    problems = [p for p in (environment_problem(env, conf), runner_problem(kwargs.get("runner")))
                if p] + pipeline_problems(_pipeline_names(kwargs))
    if problems:
        raise click.ClickException("\n".join(problems))
    # The slow imports (seconds) overlap Kedro's start: configuration, catalog, hooks
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
    except REFUSED as error:
        _refuse(str(error), verbose)
    except (yaml.YAMLError, MissingConfigException, OmegaConfBaseException) as error:
        _refuse(configuration_problem(env, conf) or f"Configuration error: {' '.join(str(error).split())} "
                                     f"Nothing was run.", verbose)
    except ValueError:
        problem = configuration_problem(env, conf)
        problems = [problem] if problem else selection_problems(kwargs, _selected(kwargs))
        if not problems:
            raise
        _refuse("\n".join(problems), verbose)


def _import_slow_modules() -> None:
    with contextlib.suppress(ImportError):  # the input check says what to install
        tf_runtime.keras()
    import scipy.stats  # noqa: F401 (the statistics nodes import it when they run)


def _refuse(message: str, verbose: bool) -> None:
    if verbose:
        click.echo(traceback.format_exc(), err=True)
    raise click.ClickException(message) from None


def _with_default(option: click.Parameter, name: str, default: str) -> click.Parameter:
    if option.name == name:
        option = copy.copy(option)  # Kedro's own command keeps its default
        option.default = default
        option.help = f"{option.help} Default here: {default}."
    return option


@click.group(name="bn-compare")
def cli() -> None:
    """bn-compare's project commands."""


VERBOSE = click.Option(["--verbose", "-v"], is_flag=True, default=False,
                       help="Show the traceback of an error that stops the run.")

run = click.Command(
    name="run", callback=_run, help=kedro_run.help,
    params=[*(_with_default(p, "runner", DEFAULT_RUNNER) for p in kedro_run.params), VERBOSE],
)
cli.add_command(run)
