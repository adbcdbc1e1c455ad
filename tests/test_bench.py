"""`make bench` in its smoke mode, so the benchmark cannot rot."""

import csv
import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT, VARIANTS

pytestmark = pytest.mark.pipeline


def test_bench_smoke_mode_measures_both_sides(tmp_path):
    result = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--smoke", "--output", str(tmp_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "speed-up (notebook wall / ours" in result.stdout
    (report,) = tmp_path.glob("*.json")
    data = json.loads(report.read_text())
    assert data["smoke"] is True and data["speedup"] > 0
    for side in ("notebook", "ours"):
        assert data[side]["wall_seconds"] > 0
        assert data[side]["peak_pss_mb"] > 100  # TensorFlow alone is more
        assert set(data[side]["variants"]) == set(VARIANTS)
        for figures in data[side]["variants"].values():
            assert 0.1 < figures["final_val_accuracy"] <= 1
            assert figures["fit_seconds"] > 0
    assert set(data["val_accuracy_diff_pp"]) == set(VARIANTS)
    (table,) = tmp_path.glob("*.csv")
    rows = list(csv.DictReader(table.open()))
    assert len(rows) == 2 * (1 + len(VARIANTS))
