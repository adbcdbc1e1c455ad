"""The environments the project ships (conf/<env>), as Kedro merges them over conf/base:
each is valid, every variant builds with Keras, and it holds the trainings its header
says. (Running them: a grid at smoke size, tests/pipelines/test_grid_run.py.)"""

import pytest

from bn_compare import settings
from bn_compare.parameters import ProjectParameters
from bn_compare.pipelines.training.checks import keras_problems
from bn_compare.run_matrix import RunMatrix
from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize(("env", "variants", "points", "seeds", "confirmations"), [
    ("smoke", 3, 1, 1, 0),
    ("seeds", 3, 1, 5, 0),
    ("lr_sweep", 3, 7, 3, 30),
    ("optimizer_sweep", 3, 10, 3, 30),
    ("batch_sweep", 3, 12, 3, 120),  # a best per batch size
    ("normalizers", 7, 3, 3, 70),
    ("ablation", 12, 2, 5, 0),  # fixed settings: nothing to confirm
])
def test_each_shipped_environment_is_valid_and_as_large_as_it_says(  # noqa: PLR0913
        env, variants, points, seeds, confirmations):
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(PROJECT_ROOT / "conf"), env=env,
                                          **settings.CONFIG_LOADER_ARGS)
    parameters = ProjectParameters.checked(loader["parameters"])
    assert keras_problems(parameters) == []
    matrix = RunMatrix(parameters)
    assert (len(parameters.variants), len(matrix.points), len(parameters.training.seeds)) == (
        variants, points, seeds)
    assert len(matrix.runs) == variants * points * seeds
    assert len(matrix.confirmations) == confirmations


SHIPPED = sorted(path.name for path in (PROJECT_ROOT / "conf").iterdir()
                 if path.is_dir() and path.name not in ("base", "local"))


@pytest.mark.parametrize("env", [*SHIPPED, "local"])
def test_each_study_writes_in_its_own_folder_and_logs_to_its_own_experiment(env):
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(PROJECT_ROOT / "conf"), env=env,
                                          **settings.CONFIG_LOADER_ARGS)
    study = None if env == "local" else env  # local: no study, the project's default
    folder = f"data/{study}" if study else "data"
    catalog = loader["catalog"]
    # make results reads every study's verdict and writes the documents, whatever the env
    results = {"studies.{study}.report_content", "studies.{study}.verdict", "results_page",
               "readme_answer"}
    written = {entry["filepath"].removeprefix(folder + "/").partition("/")[0]
               for name, entry in catalog.items() if "filepath" in entry and name not in results}
    assert written == {"05_model_input", "06_models", "07_model_output", "08_reporting"}
    assert {catalog[name]["filepath"] for name in results} == {
        "data/{study}/08_reporting/report_content.json", "data/{study}/08_reporting/verdict.json",
        "docs/results.md", "README.md"}
    assert catalog["{variant}.{run}.model"]["filepath"] == (
        f"{folder}/06_models/{{variant}}/{{run}}/model.keras")
    parameters = ProjectParameters.checked(loader["parameters"])
    assert (parameters.study, parameters.tracking.experiment) == (study, study or "bn-compare")
