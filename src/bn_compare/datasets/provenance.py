"""Where a report comes from: the git commit of the installed ``bn_compare`` source, and the
machine, read when a run loads the ``provenance`` dataset (its report content), not when a
pipeline or catalog is built."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any, NoReturn

from kedro.io import AbstractDataset, DatasetError

SOURCE = Path(__file__).resolve().parent


def _git(folder: Path, *args: str) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):  # no git, or not a checkout
        return None


def code_version(folder: Path = SOURCE) -> str:
    """``abc1234``, ``abc1234 with uncommitted changes`` (code or conf), or that it is not
    known: of the checkout holding ``folder``."""
    commit = _git(folder, "rev-parse", "--short=7", "HEAD")
    if commit is None:
        return "not a git checkout"
    changed = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return f"{commit} with uncommitted changes" if changed else commit


def machine(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """``AMD EPYC, 2 cores, AVX2``: the CPU model, the cores this process may use and its
    widest vector instructions (the numbers are bit for bit per kind: README)."""
    try:
        fields = dict(line.split(":", 1) for line in cpuinfo.read_text().splitlines()
                      if ":" in line)
    except OSError:  # not Linux
        fields = {}
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags = set(fields.get("flags", "").split())
    vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return ", ".join(part for part in (fields.get("model name", platform.processor()
                                                  or "unknown CPU"),
                                       f"{cores} cores", vectors) if part)


class ProvenanceDataset(AbstractDataset[dict[str, str], dict[str, str]]):
    """Read-only: ``{"commit": code_version(), "machine": machine()}`` of this process, read
    at each load (so any slice of a pipeline that reads it has it)."""

    def __init__(self, metadata: dict[str, Any] | None = None) -> None:
        self.metadata = metadata  # Kedro-Viz's, as the catalog gives it

    def load(self) -> dict[str, str]:
        return {"commit": code_version(), "machine": machine()}

    def save(self, data: dict[str, str]) -> NoReturn:
        raise DatasetError("provenance is read-only: it is the code's commit and the machine")

    def _describe(self) -> dict[str, Any]:
        return {}
