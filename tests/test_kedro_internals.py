"""The parts of Kedro (and TensorFlow) this project relies on that are not public API.

pyproject pins Kedro to the minor version these were read from (>=1.7,<1.8). When an
upgrade changes one of them, this file fails first, naming what moved; the places that
use them are listed with each test.
"""

import importlib
import inspect

from kedro.runner import AbstractRunner
from kedro.runner.task import Task


def _parameters(function):
    return list(inspect.signature(function).parameters)


def test_the_runner_loop_helpers_used_by_runner_LongestFirst():
    # bn_compare/runner.py, class _LongestFirst: Kedro's scheduling loop, reordered.
    assert _parameters(Task.__init__) == ["self", "node", "catalog", "is_async",
                                          "hook_manager", "run_id", "parallel"]
    assert callable(Task.execute)
    assert _parameters(AbstractRunner._release_datasets) == [
        "node", "catalog", "load_counts", "pipeline"]
    assert _parameters(AbstractRunner._suggest_resume_scenario) == [
        "self", "pipeline", "done_nodes", "catalog"]
    assert _parameters(AbstractRunner._raise_runtime_error) == [
        "todo_nodes", "done_nodes", "ready", "done"]
    for name in ("_validate_catalog", "_validate_nodes", "_set_manager_datasets",
                 "_get_required_workers_count", "_get_executor"):
        assert callable(getattr(AbstractRunner, name)), name
    # The loop it reorders: submit every ready node, wait for the first to finish.
    source = inspect.getsource(AbstractRunner._run)
    assert "ready = {n for n in todo_nodes if node_dependencies[n] <= done_nodes}" in source


def test_the_hook_manager_helpers_used_in_worker_processes():
    # bn_compare/runner.py, _project_hook_manager (ParallelRunner and Dask workers).
    from kedro.framework.hooks import manager

    assert _parameters(manager._register_hooks) == ["hook_manager", "hooks"]
    assert _parameters(manager._register_hooks_entry_points) == ["hook_manager",
                                                                 "disabled_plugins"]
    assert _parameters(manager._create_hook_manager) == []


def test_the_missing_outputs_rule_used_by_the_tracking_hook():
    # bn_compare/tracking.py, trained_namespaces(): which trainings --only-missing-outputs
    # keeps, decided as the runner decides it.
    from kedro.runner import runner

    assert _parameters(runner._build_node_children_map) == ["pipeline"]
    assert _parameters(runner._determine_nodes_to_run) == [
        "sorted_nodes", "catalog", "node_children", "logger"]
    source = inspect.getsource(AbstractRunner._filter_pipeline_for_missing_outputs)
    assert "_determine_nodes_to_run(" in source and "sorted_nodes.reverse()" in source


def test_the_run_command_reused_by_the_project_cli():
    # bn_compare/cli.py: Kedro's `kedro run` with another default runner.
    from kedro.framework.cli.project import run

    names = {param.name for param in run.params}
    assert {"runner", "env", "params", "pipeline", "pipelines", "load_versions",
            "namespaces", "only_missing_outputs"} <= names
    assert callable(run.callback)


def test_the_pipelines_registry_can_be_reset():
    # bn_compare/pipeline_registry.py, use_parameters(): Kedro's pipelines cache.
    from kedro.framework.project import pipelines

    assert _parameters(pipelines.configure) == ["pipelines_module"]


def test_the_context_parameters_the_project_context_extends():
    # bn_compare/context.py, ProjectContext.params.
    from kedro.framework.context import KedroContext

    assert isinstance(KedroContext.params, property)
    assert "config_loader" in KedroContext.__init__.__code__.co_varnames


def test_the_warning_the_evaluation_pipeline_silences():
    # bn_compare/pipelines/evaluation/pipeline.py: the collecting nodes read namespaced
    # datasets on purpose; the filter matches this message.
    node_module = importlib.import_module("kedro.pipeline.node")
    assert "One or more dataset names contain" in inspect.getsource(node_module)


def test_tensorflow_can_switch_op_determinism_off():
    # bn_compare/tf_runtime.py, _apply(): the public API only switches it on.
    from tensorflow.python.framework import config

    assert callable(config.disable_op_determinism)
