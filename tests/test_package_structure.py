"""The package's shape: no import cycle among its modules (imports inside functions and
for type checking included), no pipeline importing another's modules, and starting
Kedro's CLI or building the pipelines imports neither TensorFlow nor Keras."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "src" / "bn_compare"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """The package modules a module imports, anywhere in it."""
    module = _module_name(path)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.rsplit(".", node.level - (path.name == "__init__.py"))[0]
                base = f"{package}.{base}" if base else package
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("bn_compare")}


def test_no_import_cycle_among_the_packages_modules():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: {i for i in _imports(path) if i in modules and i != name}
             for name, path in modules.items()}

    def visit(name, trail):
        assert name not in trail, "import cycle: " + " -> ".join([*trail, name])
        for child in graph[name]:
            visit(child, [*trail, name])

    for name in graph:
        visit(name, [])


def test_a_pipeline_imports_no_module_of_another_pipeline():
    """Shared code lives in neutral modules (``pipelines/statistics.py``, ``loop.py``);
    ``compare`` composes the others through their packages' ``create_pipeline``."""
    pipelines = PACKAGE / "pipelines"
    names = {p.name for p in pipelines.iterdir() if (p / "__init__.py").exists()}
    for name in names:
        for path in (pipelines / name).rglob("*.py"):
            others = {".".join(i.split(".")[:4]) for i in _imports(path)
                      if i.startswith("bn_compare.pipelines.")
                      and i.split(".")[2] in names - {name}}
            allowed = {f"bn_compare.pipelines.{o}" for o in names} if name == "compare" else set()
            assert others <= allowed, f"{path.relative_to(PACKAGE)} imports {others - allowed}"


def test_the_cli_and_the_pipelines_never_load_tensorflow():
    script = (
        "import sys\n"
        "from kedro.framework.startup import bootstrap_project\n"
        f"bootstrap_project({str(PROJECT_ROOT)!r})\n"
        "from kedro.framework.project import pipelines\n"
        "assert 'baseline.seed_42.train_model' in {n.name for n in pipelines['compare'].nodes}\n"
        "import bn_compare.cli, bn_compare.hooks, bn_compare.runner\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'mlflow') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr[-3000:]


def test_tensorflow_comes_from_one_extra_for_the_cpu_and_one_for_a_gpu():
    """An extra cannot remove a base dependency: with tensorflow-cpu in the base, a GPU
    install would get both packages. Neither is one; `make install` picks `cpu`'s lock,
    which holds tensorflow-cpu alone (the GPU lock: tensorflow alone)."""
    tensorflows = sorted(r.replace(" ", "") for r in importlib.metadata.requires("bn_compare")
                         if r.startswith("tensorflow"))
    assert tensorflows == ['tensorflow-cpu<3,>=2.16;extra=="cpu"',
                           'tensorflow[and-cuda]<3,>=2.16;extra=="gpu"']
    assert "LOCK      = requirements/$(TENSORFLOW).txt" in (PROJECT_ROOT / "Makefile").read_text()
    for flavour, only in (("cpu", "tensorflow-cpu"), ("gpu", "tensorflow")):
        lock = (PROJECT_ROOT / "requirements" / f"{flavour}.txt").read_text().splitlines()
        assert [line.split("==")[0] for line in lock
                if line.startswith(("tensorflow==", "tensorflow-cpu=="))] == [only]
