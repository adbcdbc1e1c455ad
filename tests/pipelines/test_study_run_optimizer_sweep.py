"""conf/optimizer_sweep at smoke size end to end, as tests/pipelines/test_study_runs.py runs the other
studies (a file of its own: pytest-xdist runs each file on one worker)."""

import pytest

from tests.pipelines.test_study_runs import run_study

pytestmark = pytest.mark.pipeline


def test_optimizer_sweep_runs_its_grid_and_confirms_each_best_setting(tmp_path):
    run_study(tmp_path, "optimizer_sweep")
