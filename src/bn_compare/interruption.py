"""Stopping a run: SIGINT (Ctrl-C), SIGTERM (``timeout``, ``docker stop``, Slurm,
Kubernetes) and SIGHUP raise ``RunStopped`` in the main thread, a ``KeyboardInterrupt``
(no ``except Exception`` on the way swallows it), and set ``STOP``: running trainings stop
at their next chunk of steps and save nothing. The CLI exits with 128 + the signal's number."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

# The one stop request of this process. Module state because signals are per process.
STOP = threading.Event()

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class RunStopped(KeyboardInterrupt):
    """The run was stopped by a signal (``signum``)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class TrainingInterrupted(Exception):
    """A training stopped at a chunk boundary because the run is being stopped."""


def check(where: str) -> None:  # called by a training between chunks of steps
    if STOP.is_set():
        raise TrainingInterrupted(where)


def _raise(signum: int, frame: object) -> None:
    STOP.set()
    raise RunStopped(signum)


@contextlib.contextmanager
def signals_stop_the_run() -> Iterator[None]:
    """Inside: SIGINT, SIGTERM and SIGHUP raise ``RunStopped`` in the main thread and ask
    running trainings to stop; on leaving (every training has stopped: the runner waited
    for them) the next run may start."""
    previous = {signum: signal.signal(signum, _raise) for signum in SIGNALS}
    try:
        yield
    finally:
        STOP.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
