# bn-compare: `make run` runs the full comparison, `make test` the test suite.
# Both create .venv, install the project and fetch the data when needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export KEDRO_DISABLE_TELEMETRY := 1
export MPLBACKEND := Agg
export PYTHONUNBUFFERED := 1

.PHONY: help install data run smoke test bench viz

help:
	@echo "make run     full comparison on the real Fashion-MNIST (kedro run --pipeline=compare)"
	@echo "make smoke   the same, small and fast (--env=smoke)"
	@echo "make test    the test suite"
	@echo "make bench   speed benchmark against the notebook's code"
	@echo "make viz     kedro viz on http://127.0.0.1:4141"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

install: $(STAMP)

data: $(STAMP)
	$(BIN)/python -m bn_compare.ensure_data

run: data
	$(BIN)/kedro run --pipeline=compare

smoke: data
	$(BIN)/kedro run --pipeline=compare --env=smoke

test: data
	$(BIN)/python -m pytest

bench: data
	$(BIN)/python benchmarks/bench.py

viz: $(STAMP)
	$(BIN)/kedro viz run --host 127.0.0.1 --port 4141 --no-browser

