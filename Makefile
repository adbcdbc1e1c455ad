# bn-compare: `make run` runs the full comparison, `make test` the test suite.
# Both create .venv, install the project and fetch the data when needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# cpu: tensorflow-cpu; gpu: TensorFlow with CUDA (make install TENSORFLOW=gpu, docs/gpu.md)
TENSORFLOW ?= cpu
$(if $(filter cpu gpu,$(TENSORFLOW)),,$(error TENSORFLOW is cpu or gpu, not '$(TENSORFLOW)'))
# The lock files (docs/install.md): what running needs, and that with the development tools
LOCK      = requirements/$(TENSORFLOW).txt
DEV_LOCK  = requirements/$(TENSORFLOW)-dev.txt
# A stamp per TensorFlow flavour: make install TENSORFLOW=gpu in a clone with cpu installs
STAMP     = $(VENV)/.installed-$(TENSORFLOW)
DEV_STAMP = $(VENV)/.installed-$(TENSORFLOW)-dev
OTHER_TENSORFLOW = $(if $(filter gpu,$(TENSORFLOW)),tensorflow-cpu,tensorflow)

export KEDRO_DISABLE_TELEMETRY := 1
# MLflow's telemetry off, also in make mlflow's server (settings.py does it for runs)
export MLFLOW_DISABLE_TELEMETRY ?= true
export MPLBACKEND := Agg
export PYTHONUNBUFFERED := 1

.PHONY: help install lock data browser run smoke test lint bench viz mlflow report results

help:
	@echo "make install  .venv with the project and TensorFlow (TENSORFLOW=cpu|gpu), locked versions"
	@echo "make lock     refresh the lock files, requirements/*.txt, from pyproject.toml (UPGRADE=1)"
	@echo "make data     the real Fashion-MNIST (Debian's dataset-fashion-mnist when root)"
	@echo "make run      full comparison on the real Fashion-MNIST (kedro run --pipelines=compare)"
	@echo "make smoke    the same, small and fast (--env=smoke)"
	@echo "make results  docs/results.md and the README's answer from the studies' latest verdicts"
	@echo "make report   the path of an environment's latest report (ENV=lr_sweep; default local)"
	@echo "make test     the test suite with the dev tools (and Debian's chromium for browser tests)"
	@echo "make browser  Debian's chromium, for the browser tests"
	@echo "make lint     ruff (the Kedro starters' rules, pyproject.toml)"
	@echo "make bench    speed benchmark against the notebook's code"
	@echo "make viz      kedro viz on http://127.0.0.1:4141"
	@echo "make mlflow   the MLflow UI of the project's runs on http://127.0.0.1:5000"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The locked versions, checked against their hashes, then the project itself (every
# dependency of it is in the lock). The other flavour's TensorFlow would shadow this one.
$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	@$(BIN)/python -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' || { \
	  echo "$(VENV) has $$($(BIN)/python -V), the lock files are for Python 3.11-3.13:" \
	    "rm -rf $(VENV), then make again with PYTHON=python3.11 (or 3.12, 3.13)"; exit 1; }
	@if $(BIN)/python -m pip show -q $(OTHER_TENSORFLOW) 2>/dev/null; then \
	  echo "$(VENV) has $(OTHER_TENSORFLOW), the other TensorFlow flavour:" \
	    "rm -rf $(VENV), then make again"; exit 1; fi
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

# The development tools (pytest, ruff, playwright, Dask, ...): make test, lint and bench.
$(DEV_STAMP): $(DEV_LOCK) $(STAMP)
	$(BIN)/python -m pip install -q --require-hashes -r $(DEV_LOCK)
	touch $@

install: $(STAMP)

# The lock files from pyproject.toml, keeping each locked version its range still allows
# (UPGRADE=1: the newest each allows), for Python 3.11-3.13 on every platform (uv's
# universal resolution). cpu-dev, the environment the figures were measured in, comes first;
# the others take its versions.
UV_VERSION := 0.13.9
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
  --generate-hashes --annotation-style line --custom-compile-command "make lock" \
  $(if $(UPGRADE),--upgrade)
lock: | $(BIN)/python
	$(BIN)/python -m pip install -q uv==$(UV_VERSION)
	$(UV_COMPILE) --extra cpu --extra dev -o requirements/cpu-dev.txt
	$(UV_COMPILE) --extra cpu -c requirements/cpu-dev.txt -o requirements/cpu.txt
	$(UV_COMPILE) --extra gpu -c requirements/cpu-dev.txt -o requirements/gpu.txt
	$(UV_COMPILE) --extra gpu --extra dev -c requirements/cpu-dev.txt -c requirements/gpu.txt \
	  -o requirements/gpu-dev.txt

# The real Fashion-MNIST: the project's folder, else Debian's dataset-fashion-mnist
# (apt-get when root), else the run downloads it. A run checks every file (counts, MD5).
RAW_FILES := train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz \
             t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz
data: $(STAMP)
	@for folder in data/01_raw/fashion-mnist /usr/share/datasets/fashion-mnist; do \
	  ( cd $$folder 2>/dev/null && ls $(RAW_FILES) >/dev/null 2>&1 ) && exit 0; done; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	else echo "Fashion-MNIST is not here yet: the run will try to download it (README, The data)"; fi

# Debian's chromium for the browser test (apt-get when root); never a downloaded browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: install Debian's chromium package (the browser test needs it)"; fi; }

run: data
	$(BIN)/kedro run --pipelines=compare

smoke: data
	$(BIN)/kedro run --pipelines=compare --env=smoke

# Two test files at a time (one per core): the kedro runs they start are mostly start-up
# (TensorFlow's import) and small trainings, which leave a core idle alone.
test: data browser $(DEV_STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder --durations=10

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: data $(DEV_STAMP)
	$(BIN)/python benchmarks/bench.py

# The latest report of an environment, as the catalog of that environment finds it.
ENV ?= local
report: $(STAMP)
	@$(BIN)/python -c "import sys; from pathlib import Path; \
	from kedro.framework.session import KedroSession; \
	from kedro.framework.startup import bootstrap_project; \
	bootstrap_project(Path.cwd()); session = KedroSession.create(env='$(ENV)'); \
	report = session.load_context().catalog.get('report'); \
	versions = sorted(report.list_versions(full_path=True)) if report.exists() else []; \
	print(versions[-1] if versions else 'No report yet in $(ENV): kedro run --env=$(ENV)')" \
	| tail -n 1  # Kedro's start-up lines before it

# docs/results.md and the README's answer table, from each study's latest verdict and
# report content (the studies: conf/base/parameters_results.yml).
results: $(STAMP)
	$(BIN)/kedro run --pipelines=results

viz: $(STAMP)
	$(BIN)/kedro viz run --host 127.0.0.1 --port 4141 --no-browser

# The MLflow UI of the project's tracking store (mlflow.db, artifacts in mlartifacts/).
MLFLOW_PORT ?= 5000
mlflow: $(STAMP)
	$(BIN)/mlflow server --backend-store-uri sqlite:///$(CURDIR)/mlflow.db \
	  --default-artifact-root $(CURDIR)/mlartifacts --host 127.0.0.1 --port $(MLFLOW_PORT)
