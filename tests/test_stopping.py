"""Stopping a run: SIGINT, SIGTERM and SIGHUP stop it alike, the default runner stops its
trainings at their next chunk of steps and starts no other node (in memory, here)."""

from __future__ import annotations

import logging
import os
import re
import signal
import threading

import pytest

from bn_compare import interruption
from bn_compare.runner import ThreadRunner
from tests.pipelines.test_pipeline_in_memory import run_in_memory

EPOCHS = 400  # far more than the test lets run


@pytest.mark.parametrize("signum", interruption.SIGNALS)
def test_each_stop_signal_raises_run_stopped_with_128_plus_its_number(signum):
    before = signal.getsignal(signum)
    with pytest.raises(interruption.RunStopped) as stopped, \
            interruption.signals_stop_the_run():
        os.kill(os.getpid(), signum)
        threading.Event().wait(5)  # the handler raises in this thread before this ends
    assert stopped.value.exit_code == 128 + signum
    assert str(stopped.value) == signal.Signals(signum).name
    assert signal.getsignal(signum) is before  # put back after the run


class _SignalAtEpoch(logging.Handler):
    """Sends SIGTERM to this process once a training logs its second epoch, and holds
    every training that ends its second epoch until the signal's handler has asked the
    trainings to stop: none gets further than its third epoch, whatever the load."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if f" epoch 2/{EPOCHS} " in record.getMessage():
            if not self.sent.is_set():
                self.sent.set()
                os.kill(os.getpid(), signal.SIGTERM)
            assert interruption.STOP.wait(timeout=60)


def test_a_signal_stops_running_trainings_early_and_starts_nothing_more(base_parameters,
                                                                        caplog):
    trigger = _SignalAtEpoch()
    logging.getLogger("bn_compare").addHandler(trigger)
    caplog.set_level(logging.INFO, logger="bn_compare")
    try:
        with pytest.raises(interruption.RunStopped), interruption.signals_stop_the_run():
            run_in_memory(base_parameters, runner=ThreadRunner(max_workers=2),
                          training={"epochs": EPOCHS, "steps_per_execution": 2,
                                    "seeds": [42]})
    finally:
        logging.getLogger("bn_compare").removeHandler(trigger)
    stopped = [r.getMessage() for r in caplog.records if "stopped at epoch" in r.getMessage()]
    assert stopped, "no training said where it stopped"
    for message in stopped:  # e.g. "baseline seed 42 stopped at epoch 3/400: ..."
        epoch = int(re.search(rf"stopped at epoch (\d+)/{EPOCHS}", message).group(1))
        assert epoch <= 3, message  # at its next chunk of steps
    ran = {r.getMessage() for r in caplog.records if r.getMessage().startswith("Running node")}
    assert not any("evaluate_model" in line for line in ran)  # nothing started after
    assert not interruption.STOP.is_set()  # once every training stopped
    # the next run starts afresh
    catalog = run_in_memory(base_parameters, runner=ThreadRunner(max_workers=2),
                            variants=["baseline"], training={"epochs": 1})
    assert len(catalog.load("comparison_table")) == 1
