from bn_compare.pipelines.compare import create_pipeline as compare
from bn_compare.variants import variant_names

SEED_VARIANTS = ["baseline", "bn_after_activation", "bn_before_activation"]


def test_variants_come_from_the_parameters_in_order(base_parameters):
    assert variant_names(base_parameters) == SEED_VARIANTS


def test_one_namespace_per_variant_with_build_and_train_nodes():
    pipeline = compare(SEED_VARIANTS)
    names = {node.name for node in pipeline.nodes}
    for variant in SEED_VARIANTS:
        for step in ("build_model", "account_parameters", "train_model", "evaluate_model",
                     "plot_confusion_matrix", "summarise_variant"):
            assert f"{variant}.{step}" in names
    assert {n.namespace for n in pipeline.nodes if n.namespace} == set(SEED_VARIANTS)
    assert pipeline.inputs() == {
        "fashion_mnist_raw", "params:data", "params:training",
        *(f"params:variants.{v}.layers" for v in SEED_VARIANTS),
    }
    assert {"comparison_table", "learning_curves"} <= pipeline.outputs()


def test_the_model_travels_through_the_catalog_between_build_and_train():
    pipeline = compare(["baseline"])
    train = next(n for n in pipeline.nodes if n.name == "baseline.train_model")
    assert "baseline.initial_model" in train.inputs
    assert train.outputs == ["baseline.model", "baseline.history"]


def test_adding_a_variant_adds_a_namespace():
    pipeline = compare([*SEED_VARIANTS, "bn_no_bias"])
    assert "bn_no_bias.train_model" in {n.name for n in pipeline.nodes}
    table = next(n for n in pipeline.nodes if n.name == "build_comparison_table")
    assert "bn_no_bias.summary" in table.inputs
