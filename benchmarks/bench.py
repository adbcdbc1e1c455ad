"""``make bench``: the notebook's code vs ``kedro run --pipeline=compare``, side by side.

Each side runs as its own process tree, alternately, ``--repeats`` times (default 3);
the medians are reported. Measured per run: whole-process wall seconds, peak memory of
the whole process tree (RSS and PSS summed over its processes, sampled every 0.5 s;
PSS counts pages shared between processes once), and per
variant the fit seconds, final validation accuracy and test accuracy. Our side runs in
a temporary copy of the project (outputs there, not in your data/), with the base
settings and the project's default runner.

    python benchmarks/bench.py                 # full comparison (a few minutes)
    python benchmarks/bench.py --smoke         # seconds: smoke env, 2 epochs, 1 repeat

Then the start-up (the command to the first training node), the machine's own floor for
one training step and the project's steps against it, as ratios (``benchmarks/floor.py``),
the ceiling (the most ``compare`` could gain here: its start-up, then its trainings at the
floor on every core, nothing after them), and a fixed subset of ``--env=lr_sweep``
(``benchmarks/sweep.py``; with ``--sweep-against REVISION`` alternated with that
revision). Results are printed and written to benchmarks/results/<timestamp>.json and .csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from floor import describe as describe_floor
from floor import measure as measure_floor
from floor import trainings_at_floor
from sweep import describe as describe_sweep
from sweep import measure as measure_sweep

ROOT = Path(__file__).resolve().parents[1]
KEDRO = str(Path(sys.executable).with_name("kedro"))
VARIANTS = ["baseline", "bn_after_activation", "bn_before_activation"]


def _pss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def tree_memory(root_pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes, summed over a process and all its descendants.

    RSS counts shared pages (TensorFlow's libraries) once per process; PSS splits them
    between the processes that share them, so the PSS sum is what the tree occupies.
    """
    rss = pss = 0
    stack = [root_pid]
    while stack:
        pid = stack.pop()
        try:
            statm = Path(f"/proc/{pid}/statm").read_text().split()
            rss += int(statm[1]) * os.sysconf("SC_PAGE_SIZE")
            pss += _pss_bytes(pid)
            stack.extend(_children(pid))
        except (OSError, ValueError, IndexError):
            continue
    return rss, pss


def measure(command: list[str], cwd: Path, marker: str | None = None) -> dict:
    """Run ``command``; return wall seconds, peak tree RSS and PSS, its stdout, and the
    seconds until its first output line containing ``marker``."""
    # Nothing of this process's environment that changes TensorFlow: the reference
    # runs with TensorFlow's defaults, ours with the package's.
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_ENABLE_ONEDNN_OPTS", "BN_COMPARE_TF_THREADS")}
    env.update({"KEDRO_DISABLE_TELEMETRY": "1", "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2"})
    start = time.perf_counter()
    errors = tempfile.TemporaryFile(mode="w+")  # read back only on a failure
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=errors, text=True)
    peak_rss = peak_pss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_rss, peak_pss
        while not done.is_set():
            rss, pss = tree_memory(process.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines, marked = [], None
    with process.stdout:
        for line in process.stdout:
            lines.append(line)
            if marked is None and marker and marker in line:
                marked = time.perf_counter() - start
    process.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    with errors:
        errors.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{errors.read()[-4000:]}")
    return {"wall_seconds": wall, "peak_rss_mb": peak_rss / 2**20,
            "peak_pss_mb": peak_pss / 2**20, "stdout": "".join(lines),
            "first_training_seconds": marked}


def run_reference(smoke: bool) -> dict:
    extra = ["--epochs", "2", "--validation", "1000", "--train-images", "4000"] if smoke else []
    result = measure([sys.executable, str(ROOT / "benchmarks" / "notebook_reference.py"),
                      *extra], ROOT)
    variants = json.loads(result.pop("stdout").strip().splitlines()[-1])
    return {**result, "variants": variants}


def _latest(folder: Path) -> Path:
    return max(p for p in folder.iterdir() if p.is_dir()) / folder.name


def run_pipeline(smoke: bool, workdir: Path) -> dict:
    project = workdir / f"project-{time.monotonic_ns()}"
    project.mkdir()
    shutil.copy(ROOT / "pyproject.toml", project)
    shutil.copytree(ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    (project / "src").mkdir()
    raw = ROOT / "data" / "01_raw" / "fashion-mnist"
    if raw.is_dir():
        shutil.copytree(raw, project / "data" / "01_raw" / "fashion-mnist")
    env_args = ["--env=smoke"] if smoke else []
    result = measure([KEDRO, "run", "--pipeline=compare", *env_args], project,
                     marker="Running node: train_model")
    result.pop("stdout")
    outputs = project / "data" / ("smoke" if smoke else "")
    table = pd.read_csv(_latest(outputs / "08_reporting" / "comparison_table.csv"))
    variants = {}
    for row in table.itertuples():
        history = pd.read_csv(_latest(outputs / "07_model_output" / row.variant
                                      / f"seed_{row.seed}" / "history.csv"))
        variants[row.variant] = {
            "fit_seconds": float(history["seconds"].sum()),
            "final_val_accuracy": float(row.final_val_accuracy),
            "test_accuracy": float(row.test_accuracy),
        }
    shutil.rmtree(project)
    return {**result, "variants": variants}


def summarise(runs: list[dict]) -> dict:
    """Medians over repeated runs of one side."""
    def median(values):
        return statistics.median(values)

    return {
        "wall_seconds": median([r["wall_seconds"] for r in runs]),
        "peak_rss_mb": median([r["peak_rss_mb"] for r in runs]),
        "peak_pss_mb": median([r["peak_pss_mb"] for r in runs]),
        "first_training_seconds": median([r.get("first_training_seconds") or math.nan
                                          for r in runs]),
        "variants": {
            v: {key: median([r["variants"][v][key] for r in runs])
                for key in ("fit_seconds", "final_val_accuracy", "test_accuracy")}
            for v in VARIANTS
        },
    }


def report(reference: dict, ours: dict) -> list[dict]:
    rows = []
    for side, result in (("notebook", reference), ("kedro compare", ours)):
        rows.append({"side": side, "variant": "(whole process)",
                     "wall_seconds": round(result["wall_seconds"], 1),
                     "peak_rss_mb": round(result["peak_rss_mb"]),
                     "peak_pss_mb": round(result["peak_pss_mb"]), "fit_seconds": "",
                     "final_val_accuracy": "", "test_accuracy": ""})
        for variant, figures in result["variants"].items():
            rows.append({"side": side, "variant": variant, "wall_seconds": "",
                         "peak_rss_mb": "", "peak_pss_mb": "",
                         "fit_seconds": round(figures["fit_seconds"], 1),
                         "final_val_accuracy": round(figures["final_val_accuracy"], 4),
                         "test_accuracy": round(figures["test_accuracy"], 4)})
    return rows


def describe_ceiling(notebook_seconds: float, start_up: float, floor: dict, cores: int) -> str:
    """The most ``compare`` could gain over the notebook here: its start-up as measured,
    its trainings at the floor on ``cores``, and nothing after them."""
    trainings = trainings_at_floor(floor, VARIANTS, cores)
    return (f"ceiling: start-up {start_up:.1f} s + the trainings at the floor on {cores} "
            f"cores {trainings:.1f} s = {start_up + trainings:.1f} s, at most "
            f"{notebook_seconds / (start_up + trainings):.2f}x the notebook")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small and fast, for tests")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs per side (default 3, smoke 1)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--sweep-against", metavar="REVISION",
                        help="also time the lr_sweep subset at this git revision, alternately")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.smoke else 3)

    reference_runs, our_runs = [], []
    with tempfile.TemporaryDirectory(prefix="bn-compare-bench-") as workdir:
        for attempt in range(1, repeats + 1):
            print(f"[{attempt}/{repeats}] notebook reference ...", flush=True)
            reference_runs.append(run_reference(args.smoke))
            print(f"[{attempt}/{repeats}] kedro run --pipeline=compare ...", flush=True)
            our_runs.append(run_pipeline(args.smoke, Path(workdir)))

    print("the machine's floor and the project's steps against it ...", flush=True)
    floor = measure_floor(steps=100 if args.smoke else 800)
    sweep = None if args.smoke else measure_sweep(args.sweep_against)

    reference, ours = summarise(reference_runs), summarise(our_runs)
    speedup = reference["wall_seconds"] / ours["wall_seconds"]
    accuracy_diff_pp = {
        v: 100 * (ours["variants"][v]["final_val_accuracy"]
                  - reference["variants"][v]["final_val_accuracy"])
        for v in VARIANTS
    }
    rows = report(reference, ours)
    print(pd.DataFrame(rows).to_string(index=False))
    pairs = [r["wall_seconds"] / o["wall_seconds"] for r, o in zip(reference_runs, our_runs)]
    print(f"\nspeed-up (notebook wall / ours, medians of {repeats}): {speedup:.2f}x "
          f"(each pair: {', '.join(f'{p:.2f}x' for p in pairs)})")
    each = ", ".join(f"{o['first_training_seconds'] or math.nan:.1f}" for o in our_runs)
    print(f"start-up: {ours['first_training_seconds']:.1f} s from the command to the first "
          f"training node (median; each run: {each})")
    print("final val accuracy, ours - notebook (pp): "
          + ", ".join(f"{v} {d:+.2f}" for v, d in accuracy_diff_pp.items()))
    print(f"peak memory of the process tree, PSS (RSS): ours {ours['peak_pss_mb']:.0f} "
          f"({ours['peak_rss_mb']:.0f}) MB, notebook {reference['peak_pss_mb']:.0f} "
          f"({reference['peak_rss_mb']:.0f}) MB")
    print(describe_floor(floor))
    if not args.smoke:
        print(describe_ceiling(reference["wall_seconds"], ours["first_training_seconds"],
                               floor, os.cpu_count() or 1))
    if sweep:
        print(describe_sweep(sweep))

    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H.%M.%SZ")
    result = {"smoke": args.smoke, "repeats": repeats, "speedup": speedup,
              "val_accuracy_diff_pp": accuracy_diff_pp, "notebook": reference,
              "ours": ours, "runs": {"notebook": reference_runs, "ours": our_runs},
              "floor": floor, "sweep": sweep}
    (args.output / f"{stamp}.json").write_text(json.dumps(result, indent=2))
    with open(args.output / f"{stamp}.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"written: {args.output / stamp}.json and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
