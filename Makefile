# dianmian — two commands set everything up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dianmian-installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install system-deps demo test lint format bench bench-network bench-siting bench-routes bench-day bench-maps bench-api bench-loop bench-city bench-districts clean

help:
	@echo "make demo   - build the Dongcao demo city (if missing) and run the whole pipeline"
	@echo "make test   - run the test suite"
	@echo "make lint   - ruff (+ complexity rules) + mypy (strict on geo/)"
	@echo "make bench  - all benchmarks (writes out/bench/*.json)"
	@echo "make bench-city - scale-5 city end to end (heavy, minutes; out/bench/city.json)"
	@echo "make bench-districts - scale-5 district searches, serial vs parallel (heavy; out/bench/districts.json)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(STAMP)

# System packages the tests need, installed only when missing (Debian/Ubuntu):
# Chromium + a CJK font for the maps' browser tests (Playwright drives the system browser;
# `playwright install` is never run), PostgreSQL server binaries for the API's persistence
# test (started on loopback by the test itself), wrk for bench-api.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium fonts-wqy-microhei"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

demo: $(STAMP)
	$(BIN)/dianmian demo

test: $(STAMP) system-deps
	$(PY) -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --strict -p geo  # geo is the base of everything: checked strictly

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: bench-network bench-siting bench-routes bench-day bench-maps bench-api bench-loop

bench-network: $(STAMP)
	$(PY) benchmarks/bench_network.py

bench-siting: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	$(PY) benchmarks/bench_siting.py

bench-routes: $(STAMP)
	$(PY) benchmarks/bench_routes.py

bench-day: $(STAMP)
	$(PY) benchmarks/bench_day.py

bench-maps: $(STAMP) system-deps
	$(PY) benchmarks/bench_maps.py

bench-api: $(STAMP) system-deps
	$(PY) benchmarks/bench_api.py

bench-loop: $(STAMP)
	$(PY) benchmarks/bench_loop.py

bench-city: $(STAMP)
	$(PY) benchmarks/bench_city.py --scale 5

bench-districts: $(STAMP)
	$(PY) benchmarks/bench_districts.py --scale 5

clean:
	rm -rf out build *.egg-info .pytest_cache .mypy_cache .ruff_cache
