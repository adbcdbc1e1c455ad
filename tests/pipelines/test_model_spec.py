import pytest

from bn_compare.pipelines.training.model_spec import VariantSpecError, build_sequential

EXPECTED_COUNTS = {  # total, non-trainable (the notebook's model.summary())
    "baseline": (266_610, 0),
    "bn_after_activation": (271_346, 2_368),
    "bn_before_activation": (271_346, 2_368),
}


@pytest.mark.parametrize("variant", sorted(EXPECTED_COUNTS))
def test_seed_variants_have_the_notebooks_parameter_counts(base_parameters, variant):
    layers = base_parameters["variants"][variant]["layers"]
    model = build_sequential(layers, [28, 28], name=variant)
    total, non_trainable = EXPECTED_COUNTS[variant]
    assert model.count_params() == total
    assert sum(int(w.numpy().size) for w in model.non_trainable_weights) == non_trainable
    assert model.name == variant


def test_a_fourth_variant_needs_only_data():
    layers = [
        {"class_name": "Flatten"},
        {"class_name": "Dense", "units": 300, "use_bias": False},
        {"class_name": "BatchNormalization"},
        {"class_name": "Activation", "activation": "relu"},
        {"class_name": "Dense", "units": 10, "activation": "softmax"},
    ]
    model = build_sequential(layers, [28, 28])
    assert model.count_params() == 784 * 300 + 4 * 300 + 300 * 10 + 10


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([{"class_name": "Flatten"}, {"class_name": "Dense", "units": 10},
          {"class_name": "Danse", "units": 3}],
         r"variants\.v\.layers\[2\]\.class_name: 'Danse' is not a layer class"),
        ([{"class_name": "Flatten"}, {"class_name": "Dense", "unit": 10}],
         r"variants\.v\.layers\[1\] \(Dense\): .*unit"),
        ([{"class_name": "Flatten"}, {"class_name": "Dense", "units": -5}],
         r"variants\.v\.layers\[1\] \(Dense\): .*units"),
        ([{"class_name": "Flatten"}, {"units": 5}],
         r"variants\.v\.layers\[1\]: expected a mapping with a 'class_name' key"),
        ([], r"variants\.v\.layers: expected a non-empty list"),
        ("Dense", r"variants\.v\.layers: expected a non-empty list"),
        ([{"class_name": "Dense", "units": 10, "activation": "relux"}],
         r"variants\.v\.layers\[0\] \(Dense\): .*relux"),
    ],
)
def test_bad_specs_name_the_variant_position_and_problem(layers, message):
    with pytest.raises(VariantSpecError, match=message):
        build_sequential(layers, [28, 28], where="variants.v.layers")
