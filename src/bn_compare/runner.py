"""Runners that train variants side by side, in processes of their own.

``ParallelRunner`` is Kedro's, with what TensorFlow needs: workers are spawned (never
forked from a process that may hold TensorFlow's thread pools), each imports TensorFlow
once when it starts, and each gets ``cores // workers`` threads so the cores are not
oversubscribed. It is this project's default runner (see ``cli.py``).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor

from kedro.runner import ParallelRunner as KedroParallelRunner

from bn_compare.tf_runtime import THREADS_ENV


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    return max(1, (cores or os.cpu_count() or 1) // max(workers, 1))


def _start_worker(threads: int) -> None:
    os.environ[THREADS_ENV] = str(threads)
    # Paid once per worker, while the other workers start and the first nodes run.
    import tensorflow  # noqa: F401


class ParallelRunner(KedroParallelRunner):
    """Kedro's ``ParallelRunner`` with spawned, TensorFlow-ready workers."""

    def _get_executor(self, max_workers: int) -> Executor:
        return ProcessPoolExecutor(
            max_workers=max_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(threads_per_worker(max_workers),),
        )
