"""The other shipped studies, run as tests/pipelines/test_study_runs.py runs them (a file of
its own: pytest-xdist runs each file on one worker)."""

import pytest

from tests.pipelines.test_study_runs import run_study


@pytest.mark.long
@pytest.mark.parametrize("study", ["normalizers", "optimizer_sweep"])
def test_a_study_runs_its_grid_and_confirms_each_best_setting(study):
    run_study(study)
