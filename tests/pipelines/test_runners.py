"""Every runner gives the same numbers: the project's process pool, Kedro's
ParallelRunner and the Dask runner against the project's default runner (threads, the
smoke run); the SequentialRunner is compared in test_recovery."""

import shutil

import pandas as pd
import pytest

from tests.conftest import kedro

pytestmark = pytest.mark.pipeline

TABLE = "data/smoke/08_reporting/comparison_table.csv"


def _tables(project):
    folder = project / TABLE
    return [pd.read_csv(version / "comparison_table.csv").drop(columns="seconds_per_epoch")
            for version in sorted(p for p in folder.iterdir() if p.is_dir())]


@pytest.mark.parametrize("runner", ["bn_compare.runner.ParallelRunner", "ParallelRunner",
                                    "bn_compare.runner.DaskRunner"])
def test_runner_gives_the_same_tables(smoke_project, tmp_path, runner):
    project = shutil.copytree(smoke_project, tmp_path / "project")
    result = kedro(project, "run", "--pipeline=compare", "--env=smoke", f"--runner={runner}")
    assert result.returncode == 0, result.stderr[-4000:]
    first, second = _tables(project)
    pd.testing.assert_frame_equal(first, second, check_exact=True)
