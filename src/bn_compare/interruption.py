"""Ctrl-C: stop a run within seconds, and say what was interrupted.

SIGINT reaches the main process. The project's runners then ask every running training
to stop (``request_stop``): the training loop checks ``check()`` after each chunk of
steps and raises ``TrainingInterrupted``, so a training stops within one chunk (about a
second) and saves nothing. Nodes that are not training finish (seconds); nodes not
started are cancelled. Worker processes ignore SIGINT and share the stop request through
an event the runner gives them when they start. Every dataset writes to a temporary
name and renames it into place, so no half-written file ever becomes a latest version.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

# Signals reach a process, so the stop request is the process's: a threading Event, or
# in a pool's worker process the multiprocessing Event its runner gave it.
_stop: Any = threading.Event()


class TrainingInterrupted(Exception):
    """A training stopped at a chunk boundary because the run was interrupted."""


class RunInterrupted(Exception):
    """The run was interrupted (Ctrl-C); ``str()`` says what was stopped."""


def request_stop() -> None:
    _stop.set()


def stop_requested() -> bool:
    return _stop.is_set()


def check(where: str = "") -> None:
    """Raise ``TrainingInterrupted`` if the run is being stopped."""
    if _stop.is_set():
        raise TrainingInterrupted(where or "stopped")


def reset() -> None:
    """A new run starts (a notebook runs several in one process)."""
    _stop.clear()


def use_event(event: Any) -> None:
    """In a worker process: share the stop request of the process that started it, and
    leave Ctrl-C to that process (it stops the workers cleanly)."""
    global _stop  # noqa: PLW0603
    _stop = event
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet_stopped_nodes()


class _StoppedNodes(logging.Filter):
    """While a run stops, Kedro's "Node ... failed with error" for each training it
    stopped says nothing the one line of the CLI does not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_stop.is_set() and "failed with error" in record.getMessage())


def quiet_stopped_nodes() -> None:
    node_logger = logging.getLogger("kedro.pipeline.node")
    if not any(isinstance(f, _StoppedNodes) for f in node_logger.filters):
        node_logger.addFilter(_StoppedNodes())
