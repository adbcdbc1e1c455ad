"""Where a report comes from: the commit of the checkout its code comes from, the machine."""

import os
import subprocess

import pytest
from kedro.io import DatasetError

from bn_compare.datasets.provenance import ProvenanceDataset, code_version, machine


def _git(folder, *args):
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c",
                           "user.email=t@t", *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_the_commit_and_whether_the_checkout_differs_from_it(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "conf.yml").write_text("epochs: 10\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "one")
    commit = _git(tmp_path, "rev-parse", "--short=7", "HEAD")
    assert code_version(tmp_path) == commit
    (tmp_path / "conf.yml").write_text("epochs: 3\n")
    assert code_version(tmp_path) == f"{commit} with uncommitted changes"


def test_outside_a_checkout_it_says_so(tmp_path):
    assert code_version(tmp_path) == "not a git checkout"


@pytest.mark.parametrize(("flags", "vectors"), [
    ("fpu sse2 avx avx2 avx512f avx512dq", ", AVX-512"), ("fpu sse2 avx avx2 fma", ", AVX2"),
    ("fpu sse2", "")])
def test_the_machine_is_its_cpu_its_cores_and_its_widest_vectors(tmp_path, flags, vectors):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("".join(f"processor\t: {n}\nmodel name\t: AMD EPYC\nflags\t\t: {flags}\n\n"
                               for n in range(2)))
    cores = len(os.sched_getaffinity(0))
    assert machine(cpuinfo) == f"AMD EPYC, {cores} cores{vectors}"


def test_commit_and_machine_are_read_at_each_load_of_the_dataset_which_saves_nothing(
        monkeypatch):
    from bn_compare.datasets import provenance

    monkeypatch.setattr(provenance, "code_version", lambda: "abc1234")
    monkeypatch.setattr(provenance, "machine", lambda: "AMD EPYC, 2 cores, AVX2")
    dataset = ProvenanceDataset(metadata={"kedro-viz": {"layer": "reporting"}})  # catalog's
    assert dataset.load() == {"commit": "abc1234", "machine": "AMD EPYC, 2 cores, AVX2"}
    monkeypatch.setattr(provenance, "code_version", lambda: "abc1234 with uncommitted changes")
    assert dataset.load()["commit"] == "abc1234 with uncommitted changes"
    with pytest.raises(DatasetError, match="provenance is read-only"):
        dataset.save({"commit": "abc1234"})
