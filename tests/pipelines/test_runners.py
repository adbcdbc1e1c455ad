"""Every runner gives the same numbers: the project's process pool, Kedro's
ParallelRunner and the Dask runner against the project's default runner (threads, the
smoke run); the SequentialRunner is compared in test_recovery."""

import shutil

import pandas as pd
import pytest

from tests.conftest import kedro, metric_histories, project_store, tracked_runs

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

    # The same MLflow run tree as the default runner's run, the same metric histories.
    store = project_store(project)
    (parent, children), (_, before) = tracked_runs(store)
    assert parent.info.status == "FINISHED" and sorted(children) == sorted(before)
    if runner == "ParallelRunner":
        # Kedro's own runs no project hooks in its workers: the tree, without metrics.
        assert all(not child.data.metrics for child in children.values())
        return
    for namespace, child in children.items():
        assert metric_histories(store, child) == metric_histories(store, before[namespace])
        assert child.data.metrics["test_accuracy"] == before[namespace].data.metrics[
            "test_accuracy"]
