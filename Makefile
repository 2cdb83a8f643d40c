# dianmian — two commands set everything up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dianmian-installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install browser demo test lint format bench bench-network bench-siting bench-routes bench-maps clean

help:
	@echo "make demo   - build the Dongcao demo city (if missing) and run the whole pipeline"
	@echo "make test   - run the test suite"
	@echo "make lint   - ruff + mypy"
	@echo "make bench  - all benchmarks (writes out/bench/*.json)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(STAMP)

# System Chromium (+ a CJK font for screenshots) for the browser tests of the maps.
# Playwright drives it through its executable path; `playwright install` is never run.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
	  $(SUDO) apt-get install -y -q --no-install-recommends chromium fonts-wqy-microhei; }

demo: $(STAMP)
	$(BIN)/dianmian demo

test: $(STAMP) browser
	$(PY) -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: bench-network bench-siting bench-routes bench-maps

bench-network: $(STAMP)
	$(PY) benchmarks/bench_network.py

bench-siting: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	$(PY) benchmarks/bench_siting.py

bench-routes: $(STAMP)
	$(PY) benchmarks/bench_routes.py

bench-maps: $(STAMP) browser
	$(PY) benchmarks/bench_maps.py

clean:
	rm -rf out build *.egg-info .pytest_cache .mypy_cache .ruff_cache
