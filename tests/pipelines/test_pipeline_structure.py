import pytest

from bn_compare.parameters import ProjectParameters
from bn_compare.pipelines.compare import create_pipeline as compare
from bn_compare.run_matrix import RunMatrix

SEED_VARIANTS = ["baseline", "bn_after_activation", "bn_before_activation"]
PER_RUN_STEPS = ("build_model", "account_parameters", "train_model", "evaluate_model",
                 "plot_confusion_matrix", "summarise_run")


@pytest.fixture
def matrix(base_parameters):
    def make(variants, seeds=(42,)):
        layers = base_parameters["variants"]["baseline"]
        return RunMatrix(ProjectParameters.checked({
            **base_parameters, "training": {**base_parameters["training"], "seeds": seeds},
            "variants": {v: base_parameters["variants"].get(v, layers) for v in variants}}))
    return make


def test_one_namespace_per_variant_and_seed_with_build_and_train_nodes(matrix):
    pipeline = compare(matrix(SEED_VARIANTS, seeds=(42, 43)))
    names = {node.name for node in pipeline.nodes}
    for variant in SEED_VARIANTS:
        for seed in (42, 43):
            for step in PER_RUN_STEPS:
                assert f"{variant}.seed_{seed}.{step}" in names
    assert {n.namespace for n in pipeline.nodes if n.namespace} == {
        f"{v}.seed_{s}" for v in SEED_VARIANTS for s in (42, 43)} | set(SEED_VARIANTS)
    # the sections Kedro would validate again are bound to the nodes, checked once
    assert {"params:data", "params:training", "params:statistics",
            "params:diagnostics"}.isdisjoint(pipeline.inputs())
    assert {"fashion_mnist_raw", *(f"params:variants.{v}.layers" for v in SEED_VARIANTS)
            } <= pipeline.inputs()
    assert {"comparison_table", "variant_statistics", "pairwise_differences",
            "learning_curves@figure", "test_accuracy_intervals@figure", "verdict",
            "diagnostics_table", "why", "activation_percentiles@figure",
            "landscape_smoothness@figure", "report"} <= pipeline.all_outputs()


def test_the_model_travels_through_the_catalog_between_build_and_train(matrix):
    pipeline = compare(matrix(["baseline"]))
    train = next(n for n in pipeline.nodes if n.name == "baseline.seed_42.train_model")
    assert "baseline.seed_42.initial_model" in train.inputs
    assert train.outputs == ["baseline.seed_42.model", "baseline.seed_42.history",
                             "baseline.seed_42.diagnostics"]


def test_each_seed_is_bound_into_its_own_training_node(matrix):
    pipeline = compare(matrix(["baseline"], seeds=(42, 43)))
    for seed in (42, 43):
        train = next(n for n in pipeline.nodes if n.name == f"baseline.seed_{seed}.train_model")
        assert train.func.keywords["seed"] == seed


def test_adding_a_variant_adds_a_namespace_per_seed(matrix):
    pipeline = compare(matrix([*SEED_VARIANTS, "bn_no_bias"]))
    nodes = {n.name: n for n in pipeline.nodes}
    assert "bn_no_bias.seed_42.train_model" in nodes
    # its runs' summaries stacked inside its namespace, then with the other variants'
    stack = nodes["bn_no_bias.stack_summaries"]
    assert (stack.inputs, stack.outputs) == (["bn_no_bias.seed_42.summary"],
                                             ["bn_no_bias.runs_summary"])
    assert nodes["build_comparison_table"].inputs == [
        f"{v}.runs_summary" for v in [*SEED_VARIANTS, "bn_no_bias"]]


def test_a_grid_without_confirmation_seeds_has_no_confirmation_tables(base_parameters):
    matrix = RunMatrix(ProjectParameters.checked({
        **base_parameters, "grid": {"learning_rate": [0.1, 0.01]},
        "confirm": {"seeds": [], "cross": True}}))
    outputs = compare(matrix).all_outputs()
    assert "best_settings" in outputs
    assert not {"confirmation_table", "cross_confirmation_table",
                "test_sampling_differences"} & outputs


def test_the_tables_pipeline_makes_everything_over_every_run_from_the_runs_saved_outputs(
        base_parameters):
    """After ``--only-missing-outputs`` (which keeps the tables it finds), ``kedro run
    --pipelines=tables`` reads only what each run saved and trains no run of the grid (its
    confirmations, which train at the best settings those tables choose, come after)."""
    from bn_compare.pipeline_registry import create_pipelines

    raw = {**base_parameters, "grid": {"learning_rate": [0.01, 0.1]},
           "confirm": {"seeds": [1000]}}
    tables = create_pipelines(RunMatrix(ProjectParameters.checked(raw)))["tables"]
    trained = {node.namespace.partition(".")[0] for node in tables.nodes
               if node.name.endswith((".train_model", ".split_dataset"))}
    assert trained == {"confirm", "cross"}
    assert {"comparison_table", "confirmation_table", "cross_confirmation_table",
            "test_sampling_differences", "verdict", "report"} <= tables.all_outputs()
    saved = ("summary", "history", "diagnostics", "predictions", "setting", "parameters")
    read = {name for name in tables.inputs() if not name.startswith("params:")}
    model_input = {"x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test"}
    assert {name.rpartition(".")[2] for name in read} <= {*saved, *model_input, "provenance"}
