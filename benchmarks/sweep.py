"""A fixed subset of ``--env=lr_sweep``, timed: the project's code against another
revision of it, alternately, on the same machine.

The subset: the three variants at two of the sweep's learning rates (0.01, 0.1), seed 42,
its 10 epochs, full data: 6 trainings, no confirmation runs (they came after the sweep;
an older revision has none). Each side runs ``kedro run --env=sweep_subset`` in a
copy of its tree (``git archive``) with the same virtual environment and data; the figure
is the whole process's wall time, and the ratio new / old of the medians.

    python benchmarks/sweep.py                      # this tree alone, once
    python benchmarks/sweep.py --against d5e87a0    # alternated with d5e87a0, 3 pairs
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEDRO = str(Path(sys.executable).with_name("kedro"))
SUBSET = """\
# benchmarks/sweep.py: a fixed subset of conf/lr_sweep
training:
  seeds: [42]
  epochs: {epochs}
grid:
  learning_rate: [0.01, 0.1]
"""
TRAININGS = 3 * 2


def prepare(revision: str | None, workdir: Path, epochs: int) -> Path:
    """A copy of the project at ``revision`` (None: this working tree) with the subset's
    environment, without this tree's local settings or outputs."""
    project = workdir / (revision or "current")
    if revision is None:
        shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(
            ".git", ".venv", "data", "mlruns", "mlartifacts", "mlflow.db", "local", "results",
            "__pycache__", ".pytest_cache"))
    else:
        project.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(project)], input=archive, check=True)
    (project / "conf" / "local").mkdir(exist_ok=True)
    environment = SUBSET.format(epochs=epochs)
    if "class ConfirmParams" in (project / "src/bn_compare/parameters.py").read_text():
        environment += "confirm:\n  seeds: []\n"
    (project / "conf" / "sweep_subset").mkdir()
    (project / "conf" / "sweep_subset" / "parameters.yml").write_text(environment)
    raw = ROOT / "data" / "01_raw" / "fashion-mnist"
    if raw.is_dir():
        shutil.copytree(raw, project / "data" / "01_raw" / "fashion-mnist")
    return project


def run_once(project: Path) -> float:
    """Wall seconds of ``kedro run --env=sweep_subset`` in ``project``; its outputs removed."""
    env = {key: value for key, value in os.environ.items()  # each revision's own defaults
           if key not in ("TF_ENABLE_ONEDNN_OPTS", "CUDA_VISIBLE_DEVICES")}
    env.update({"PYTHONPATH": str(project / "src"), "KEDRO_DISABLE_TELEMETRY": "1",
                "MPLBACKEND": "Agg"})
    start = time.perf_counter()
    done = subprocess.run([KEDRO, "run", "--env=sweep_subset"], cwd=project, env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"kedro run --env=sweep_subset in {project} failed:\n"
                           f"{done.stderr[-3000:]}")
    for output in ("data/05_model_input", "data/06_models", "data/07_model_output",
                   "data/08_reporting", "mlflow.db", "mlartifacts"):
        path = project / output
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    return seconds


def measure(against: str | None = None, pairs: int = 3, epochs: int = 10) -> dict:
    """This tree's subset time (median of ``pairs`` runs), and with ``against``, the
    other revision's, run alternately with it."""
    with tempfile.TemporaryDirectory(prefix="bn-compare-sweep-") as workdir:
        current = prepare(None, Path(workdir), epochs)
        old = prepare(against, Path(workdir), epochs) if against else None
        times: dict[str, list[float]] = {"current": [], against or "": []}
        for attempt in range(1, pairs + 1):
            for name, project in (("current", current), (against, old)):
                if project is None:
                    continue
                print(f"[{attempt}/{pairs}] lr_sweep subset, {name} ...", flush=True)
                times[name].append(run_once(project))
    result = {"trainings": TRAININGS, "epochs": epochs,
              "current_seconds": times["current"],
              "current_median": statistics.median(times["current"])}
    if against:
        result.update({"against": against, "against_seconds": times[against],
                       "against_median": statistics.median(times[against])})
        result["ratio"] = result["current_median"] / result["against_median"]
    return result


def describe(result: dict) -> str:
    line = (f"lr_sweep subset ({result['trainings']} trainings x {result['epochs']} epochs, "
            f"full data): {result['current_median']:.1f} s "
            f"({', '.join(f'{s:.1f}' for s in result['current_seconds'])})")
    if "against" in result:
        line += (f"; {result['against']}: {result['against_median']:.1f} s "
                 f"({', '.join(f'{s:.1f}' for s in result['against_seconds'])}); "
                 f"this tree / {result['against']} = {result['ratio']:.2f}x")
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="a git revision to alternate with, e.g. d5e87a0")
    parser.add_argument("--pairs", type=int, default=None,
                        help="runs per side (default 3 with --against, else 1)")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    pairs = args.pairs or (3 if args.against else 1)
    print(describe(measure(args.against, pairs, args.epochs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
