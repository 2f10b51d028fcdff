# Usage reports: see README.md. Every target sets itself up (virtualenv,
# dbt profile, private PostgreSQL when PGHOST is unset) on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# PGHOST (as a path) when it names a warehouse: empty on the private server, also when PGHOST is
# its socket directory, as `scripts/pgenv.py --print-env` exports it (with or without a final /)
WAREHOUSE_HOST := $(filter-out $(CURDIR)/.pgdata/data,$(abspath $(PGHOST)))
# gunicorn's sync workers: one per core on the private server (PostgreSQL shares the cores, and
# every idle worker wakes for each new connection), 2 x cores + 1 for a warehouse PGHOST names
# (its round trips leave workers waiting); measured in README, "Benchmarks"
CORES := $(shell nproc 2>/dev/null || echo 1)
WORKERS ?= $(if $(WAREHOUSE_HOST),$(shell echo $$(( $(CORES) * 2 + 1 ))),$(CORES))
TEST_DATABASE ?= usage_reports_test
SCALE ?= 5
# The role the served app connects as: the project's read-only API role on the
# private server; on an existing warehouse, whatever API_PGUSER names (else PGUSER).
API_PGUSER ?= $(if $(WAREHOUSE_HOST),,usage_reports_api)

export DBT_PROFILES_DIR := $(CURDIR)/.dbt
export HOST PORT

# Runs a command against the warehouse: the server PGHOST names, or the
# project's private PostgreSQL (started on demand, data in .pgdata/).
WAREHOUSE := $(BIN)/python scripts/pgenv.py --
DBT := $(WAREHOUSE) $(BIN)/dbt

.PHONY: help setup raw replace-raw-ok demo demo-data demo-key build freshness serve api-role test lint test-dbt test-python bench docs db-stop clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

.dbt/profiles.yml: profiles.example.yml
	mkdir -p .dbt
	cp profiles.example.yml $@

setup: $(VENV)/.installed .dbt/profiles.yml ## create .venv with the pinned packages and the dbt profile

raw: setup ## create schema raw and its tables if missing (dbt run-operation, idempotent)
	$(DBT) run-operation create_raw_tables

demo-data: replace-raw-ok raw ## load the deterministic demo dataset into raw (replaces what is there)
	$(WAREHOUSE) $(BIN)/python scripts/generate_demo_data.py --replace --seed 42 --invalid-rows

# On a warehouse PGHOST names, demo-data (and demo) would empty its raw tables: only when asked.
# (PGHOST naming the private server's own socket, as `pgenv.py --print-env` exports it, is no warehouse.)
replace-raw-ok:
	@if [ -n "$(WAREHOUSE_HOST)" ] && [ "$(REPLACE_RAW)" != yes ]; then \
		echo "PGHOST is set: demo-data would replace every row of schema raw in database" \
			"$${PGDATABASE:-usage_reports} on $(PGHOST). To do that, run it again with REPLACE_RAW=yes." >&2; \
		exit 2; \
	fi

build: setup ## the scheduled refresh: dbt build (incremental), one at a time
	$(WAREHOUSE) $(BIN)/python scripts/build.py $(DBT_ARGS)

freshness: setup ## dbt source freshness: WARN when an event table's newest landing is over 6 hours old; fails (exit 2) over 48 or when empty
	$(DBT) source freshness

demo-key: setup ## create demo API keys and print them with curl lines
	$(WAREHOUSE) $(BIN)/python scripts/demo_keys.py

demo: demo-data ## set up everything, load demo data, build, create two keys, serve
	$(WAREHOUSE) $(BIN)/python scripts/build.py --full-refresh
	$(MAKE) --no-print-directory api-role
	$(MAKE) --no-print-directory demo-key
	$(MAKE) --no-print-directory serve

api-role: setup ## create the API's read-only database role and grant it what it serves (idempotent)
	$(WAREHOUSE) $(BIN)/flask --app api db grant-api-role

serve: setup ## serve the API and the page with gunicorn on HOST:PORT
	$(if $(WAREHOUSE_HOST),,$(WAREHOUSE) $(BIN)/flask --app api db grant-api-role)
	API_PGUSER=$(API_PGUSER) $(WAREHOUSE) $(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--access-logfile - --error-logfile - --no-control-socket "api:create_app()"

test: lint test-dbt test-python ## everything the project checks

lint: setup ## sqlfluff (models, tests), ruff and mypy (api, scripts)
	$(BIN)/sqlfluff lint models tests/*.sql
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-dbt: setup ## dbt build with every data and unit test on the fixture data, then the manifest rules
	WAREHOUSE_DATABASE="$${PGDATABASE:-usage_reports}" PGDATABASE=$(TEST_DATABASE) $(WAREHOUSE) \
		$(BIN)/python scripts/fresh_database.py
	PGDATABASE=$(TEST_DATABASE) $(DBT) run-operation create_raw_tables
	PGDATABASE=$(TEST_DATABASE) $(WAREHOUSE) $(BIN)/python scripts/load_fixture.py tests/fixtures/raw_base.sql
	PGDATABASE=$(TEST_DATABASE) $(DBT) build --full-refresh
	PGDATABASE=$(TEST_DATABASE) $(WAREHOUSE) $(BIN)/python scripts/check_manifest.py --columns

test-python: setup ## pytest: pipeline, API and page tests on real databases (installs Debian's chromium when missing)
	bash scripts/ensure_chromium.sh
	$(WAREHOUSE) $(BIN)/pytest

bench: setup ## benchmark on ~10M generated rows (SCALE=5 or default; SCALE=small or 0.2: a few minutes): bench/results.json, BENCHMARKS.md
	$(WAREHOUSE) $(BIN)/python scripts/bench.py --scale "$(SCALE)"

docs: setup ## dbt docs generate (target/index.html)
	$(DBT) docs generate

db-stop: setup ## stop the project's private PostgreSQL
	$(BIN)/python scripts/pgenv.py --stop

clean: ## remove build output (keeps .venv and the database)
	rm -rf target logs .pytest_cache .ruff_cache .mypy_cache .hypothesis
