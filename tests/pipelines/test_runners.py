"""The runners that use processes give the numbers of the default runner and the same
MLflow tree: the Dask runner's LocalCluster and Kedro's ParallelRunner, started by the
project's `kedro run --runner=...` (in this process; their workers are processes of their
own); the default runner's node count. (Threads against one node at a time:
test_pipeline_in_memory.py.)"""

import shutil
import threading

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline

from bn_compare.runner import DaskRunner, ThreadRunner
from tests.conftest import metric_histories, project_store, run_in_process, tracked_runs

pytestmark = pytest.mark.pipeline

TABLE = "data/smoke/08_reporting/comparison_table.csv"


def _tables(project):
    folder = project / TABLE
    return [pd.read_csv(version / "comparison_table.csv").drop(columns="seconds_per_epoch")
            for version in sorted(p for p in folder.iterdir() if p.is_dir())]


@pytest.mark.parametrize("runner", ["bn_compare.runner.DaskRunner", "ParallelRunner"])
def test_a_process_runner_gives_the_same_tables_and_tree(smoke_project, tmp_path, runner):
    project = shutil.copytree(smoke_project, tmp_path / "project")
    result = run_in_process(project, "--env=smoke", f"--runner={runner}")
    assert result.exit_code == 0, result.output[-4000:]
    first, second = _tables(project)
    pd.testing.assert_frame_equal(first, second, check_exact=True)

    # The nodes ran in the workers; the tree and its metrics come from the saved files.
    store = project_store(project)
    (parent, children), (_, before) = tracked_runs(store)
    assert parent.info.status == "FINISHED" and sorted(children) == sorted(before)
    for namespace, child in children.items():
        assert metric_histories(store, child) == metric_histories(store, before[namespace])
        assert child.data.metrics["test_accuracy"] == before[namespace].data.metrics[
            "test_accuracy"]
        assert child.data.params == before[namespace].data.params


class _Unpicklable(Exception):
    def __init__(self):
        import threading

        super().__init__("holds a lock")
        self.lock = threading.Lock()


def _fails():
    raise _Unpicklable


def test_a_dask_task_whose_error_cannot_travel_back_says_so_instead_of_hanging():
    node = Node(_fails, None, "out", name="fails")
    with pytest.raises(RuntimeError, match="fails: _Unpicklable: holds a lock"):
        DaskRunner._run_node(node, DataCatalog({"out": MemoryDataset()}), False, None)


def test_the_default_runner_runs_one_node_more_than_there_are_cores(monkeypatch):
    """On 2 cores, three trainings at once: no core idles beside the last one."""
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    barrier = threading.Barrier(3, timeout=30)  # broken unless three nodes run at once

    def meet(value):
        barrier.wait()
        return value

    nodes = [Node(meet, f"in_{i}", f"out_{i}", name=f"meet_{i}") for i in range(3)]
    catalog = DataCatalog({f"in_{i}": MemoryDataset(i) for i in range(3)})
    outputs = ThreadRunner().run(Pipeline(nodes), catalog)
    assert {name: outputs[name].load() for name in outputs} == {"out_0": 0, "out_1": 1, "out_2": 2}
