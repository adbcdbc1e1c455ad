"""What Kedro-Viz first shows of a study's pipeline: every modular pipeline (namespace)
collapsed. A dataset made inside a namespace and read outside it, or read by no node at
all, is drawn outside it (made inside a top-level namespace: at the top level);
parameters are hidden until asked for. Kedro-Viz asks before drawing a graph whose
visible nodes + 1.5 x visible edges exceed 1000 ("Whoa, that's a chonky pipeline!").
``top_level_view`` computes that view from the pipeline alone; tests/test_viz.py checks it
against the real ``/api/main`` of a smoke project."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from kedro.pipeline import Pipeline

from bn_compare import settings
from bn_compare.parameters import ProjectParameters
from bn_compare.pipelines.compare import create_pipeline as compare
from bn_compare.run_matrix import RunMatrix, by_group
from tests.conftest import PROJECT_ROOT

SIZE_WARNING = 1000  # kedro_viz/html/assets/index-*.js: nodes + 1.5 x edges > 1e3


@dataclass(frozen=True)
class TopLevelView:
    groups: frozenset[str]  # the top-level namespaces, each drawn as one collapsed node
    tasks: frozenset[str]  # the nodes outside every namespace
    datasets: frozenset[str]
    edges: frozenset[tuple[str, str]]  # (source, target) between the above

    @property
    def size(self) -> float:
        """What Kedro-Viz weighs against its size warning."""
        return len(self.groups) + len(self.tasks) + len(self.datasets) + 1.5 * len(self.edges)


def _drawn(dataset: str) -> str | None:
    """The node Kedro-Viz draws for ``dataset``: one per transcoded family, none for a
    parameter (hidden by default)."""
    hidden = dataset == "parameters" or dataset.startswith("params:")
    return None if hidden else dataset.partition("@")[0]


def top_level_view(pipeline: Pipeline) -> TopLevelView:
    """The first view of ``pipeline`` in Kedro-Viz 12 (``ModularPipelinesRepository``, and
    ``create_modular_pipelines_tree_for_registered_pipeline``, which also drops a group's
    input that depends on the group itself)."""
    members: dict[str, list] = defaultdict(list)
    for node in pipeline.nodes:
        if node.namespace:
            members[node.namespace.partition(".")[0]].append(node)
    consumers = defaultdict(list)
    for node in pipeline.nodes:
        for name in node.inputs:
            consumers[name].append(node)
    links: set[tuple[str, str | None]] = set()
    tasks = [node for node in pipeline.nodes if not node.namespace]
    for node in tasks:
        links |= {(_drawn(name), node.name) for name in node.inputs}
        links |= {(node.name, _drawn(name)) for name in node.outputs}
    for group, nodes in members.items():
        inside = Pipeline(nodes)
        read_outside = {name for node in pipeline.nodes if node.namespace is None
                        or node.namespace.partition(".")[0] != group for name in node.inputs}
        outputs = inside.outputs() | (read_outside & inside.all_outputs())
        downstream = _downstream(nodes, consumers)
        links |= {(_drawn(name), group) for name in inside.inputs() if name not in downstream}
        links |= {(group, _drawn(name)) for name in outputs}
    edges = frozenset(link for link in links if None not in link)
    ends = {end for edge in edges for end in edge}
    names = {node.name for node in tasks} | set(members)
    return TopLevelView(frozenset(members), frozenset(node.name for node in tasks),
                        frozenset(ends - names), edges)


def _downstream(nodes: list, consumers: dict[str, list]) -> set[str]:
    """Every dataset made from the outputs of ``nodes``."""
    seen, queue = set(), [name for node in nodes for name in node.outputs]
    while queue:
        name = queue.pop()
        if name not in seen:
            seen.add(name)
            queue += [out for node in consumers[name] for out in node.outputs]
    return seen


def _parameters(env: str, project: Path = PROJECT_ROOT) -> ProjectParameters:
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(project / "conf"), env=env,
                                          **settings.CONFIG_LOADER_ARGS)
    return ProjectParameters.checked(loader["parameters"])


def study_pipeline(env: str, project: Path = PROJECT_ROOT) -> Pipeline:
    """``compare`` for a study's parameters (building it trains nothing)."""
    return compare(RunMatrix(_parameters(env, project)))


def test_lr_sweep_opens_with_its_variants_as_groups_and_no_size_warning():
    view = top_level_view(study_pipeline("lr_sweep"))
    variants = {"baseline", "bn_after_activation", "bn_before_activation"}
    assert view.groups == {*variants, "confirm", "cross"}  # the grid points and runs inside
    assert {"comparison_table", "confirmation_table", "cross_confirmation_table",
            "test_sampling_differences", "report"} <= view.datasets
    assert {f"{variant}.runs_summary" for variant in variants} <= view.datasets
    assert view.size < SIZE_WARNING  # 2064 before the groups stacked their runs' tables


@pytest.mark.parametrize("study", ["seeds", "lr_sweep", "batch_sweep"])
def test_the_study_reads_a_groups_runs_only_through_the_groups_tables(study):
    """What a run makes reaches the top level only where no node reads it (a confusion
    matrix, a confirmation's diagnostics), or as the parameter counts of each variant's
    first run (``parameter_accounting``)."""
    pipeline = study_pipeline(study)
    view = top_level_view(pipeline)
    matrix = RunMatrix(_parameters(study))
    first_runs = {runs[0].namespace for runs in by_group(matrix.runs).values()}
    read = {name for node in pipeline.nodes for name in node.inputs}
    for run in matrix.trainings:
        crossing = {name for name in view.datasets if name.startswith(f"{run.namespace}.")}
        allowed = {f"{run.namespace}.parameters"} if run.namespace in first_runs else set()
        assert crossing & read <= allowed, run.namespace


def test_a_groups_runs_follow_one_another_so_its_stacked_tables_keep_the_run_order():
    matrix = RunMatrix(_parameters("batch_sweep"))  # a confirmation group per batch size
    for runs in (matrix.runs, matrix.confirmations, matrix.cross_confirmations):
        groups = by_group(runs)
        assert [run for group in groups.values() for run in group] == list(runs)
        assert all(run.namespace.startswith(f"{group}.") for group, group_runs in groups.items()
                   for run in group_runs)
