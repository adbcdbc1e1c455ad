"""The lock files in requirements/ (docs/install.md) agree with pyproject.toml: each pins
every requirement of the extras it is for, within its range, exactly and with hashes; the
locks share the versions of the measured environment (cpu-dev); the run locks carry no
development tool; and the environment running the tests has the locked versions."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "requirements"
EXTRAS = {  # each lock file and the extras of pyproject.toml it is resolved for
    "cpu.txt": ["cpu"],
    "cpu-dev.txt": ["cpu", "dev"],
    "gpu.txt": ["gpu"],
    "gpu-dev.txt": ["gpu", "dev"],
}
MEASURED = "cpu-dev.txt"  # the environment the figures were measured in
DEVELOPMENT_TOOLS = ["pytest", "pytest-xdist", "ruff", "playwright", "dask", "statsmodels"]


def _locked(lock: Path) -> list[tuple[Requirement, list[str]]]:
    """Each entry of a lock file: its requirement (name==version ; marker) and its hashes."""
    entries = []
    for raw_line in lock.read_text().replace("\\\n", " ").splitlines():
        line = raw_line.strip()
        if line and not line.startswith("#"):  # comments: the header and each "# via"
            requirement, *hashes = re.split(r"\s+--hash=", line)
            entries.append((Requirement(requirement), hashes))
    return entries


def _versions(lock: Path) -> dict[str, set[Version]]:
    versions: dict[str, set[Version]] = {}
    for requirement, _ in _locked(lock):
        (specifier,) = requirement.specifier
        versions.setdefault(canonicalize_name(requirement.name), set()).add(
            Version(specifier.version))
    return versions


def _requirements(extras: list[str]) -> list[Requirement]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    return [Requirement(text) for text in
            project["dependencies"] + [text for extra in extras for text in optional[extra]]]


@pytest.mark.parametrize("lock", EXTRAS)
def test_every_locked_package_is_pinned_exactly_with_its_hashes(lock):
    entries = _locked(REQUIREMENTS / lock)
    assert len(entries) > 100
    for requirement, hashes in entries:
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", requirement
        assert hashes and all(h.startswith("sha256:") for h in hashes), (
            f"{lock}: {requirement} has no hash (pip --require-hashes needs one)")


@pytest.mark.parametrize("lock", EXTRAS)
def test_each_lock_pins_every_requirement_of_pyproject_within_its_range(lock):
    versions = _versions(REQUIREMENTS / lock)
    for requirement in _requirements(EXTRAS[lock]):
        locked = versions.get(canonicalize_name(requirement.name))
        assert locked, f"{lock} lacks {requirement.name} (make lock after editing pyproject.toml)"
        for version in locked:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock}: {requirement.name}=={version} is outside {requirement.specifier}")


def test_the_locks_take_the_measured_environments_versions():
    measured = _versions(REQUIREMENTS / MEASURED)
    for lock in EXTRAS:
        for name, locked in _versions(REQUIREMENTS / lock).items():
            if name in measured:
                assert locked == measured[name], f"{lock}: {name} {locked} vs {measured[name]}"
    gpu = _versions(REQUIREMENTS / "gpu.txt")
    assert gpu["tensorflow"] == measured["tensorflow-cpu"]


@pytest.mark.parametrize("lock", ["cpu.txt", "gpu.txt"])
def test_the_run_locks_have_no_development_tool(lock):
    tools = set(_versions(REQUIREMENTS / lock)) & set(DEVELOPMENT_TOOLS)
    assert not tools, f"{lock}, what make run installs, has development tools: {tools}"
    assert set(_versions(REQUIREMENTS / f"{Path(lock).stem}-dev.txt")) >= set(DEVELOPMENT_TOOLS)


def test_the_environment_running_the_tests_has_the_locked_versions():
    """make test installs the dev lock of its TensorFlow flavour: this environment has each
    of its packages (those for this platform) at the locked version."""
    flavour = "gpu" if _installed("tensorflow") else "cpu"
    drifted = {
        requirement.name: (requirement.specifier, _installed(requirement.name))
        for requirement, _ in _locked(REQUIREMENTS / f"{flavour}-dev.txt")
        if (requirement.marker is None or requirement.marker.evaluate())
        and not requirement.specifier.contains(_installed(requirement.name) or "0")
    }
    assert not drifted, (f"installed apart from requirements/{flavour}-dev.txt (locked, "
                         f"installed): {drifted}; rm .venv/.installed-* and make test "
                         f"installs the lock again")


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
