# S&OP planner — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-faults install lint audit serve seed pipeline bench-ingest bench-forecast bench-forecast-sets bench-reconcile bench-pages screenshots clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## make run: set up, load the demo company once, run the nightly pipeline, serve the app.
run: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py run_pipeline
	bin/serve

## make test: lint (ruff, then the import contracts of .importlinter), then the whole test
## suite over every CPU (TEST_WORKERS=1: one process; service and browser tests stay on one
## worker; service tests skip without DATABASE_URL/REDIS_URL).
test: install lint
	$(PY) -m pytest -n $(or $(TEST_WORKERS),auto) --dist loadgroup

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

## make audit: pip-audit of the pinned requirements (skips, saying so, when the advisory
## database cannot be reached) and bandit's high-severity checks. `manage.py check --deploy`
## runs in the test suite (tests/core/test_deploy_check.py).
audit: install
	$(PY) bin/audit

seed: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo --scale $(or $(SCALE),small)

bench-ingest: install
	$(PY) bench/ingest.py

bench-forecast: install
	$(PY) bench/forecast_m3.py

bench-forecast-sets: install
	$(PY) bench/forecast_sets.py

## make screenshots: every role's home in English, German and Italian (docs/screenshots/);
## LANGUAGES=de,it to redo some. Needs the demo loaded (make run once) and Chromium.
LANGUAGES ?= en,de,it
screenshots: install
	$(PY) manage.py screenshots --languages $(LANGUAGES)

## make bench-pages: each role's home and the busiest pages under 8 concurrent clients (bench/README.md).
bench-pages: install
	$(PY) bench/pages.py

bench-reconcile: install
	$(PY) bench/reconcile.py

clean:
	rm -rf var .pytest_cache .ruff_cache

## make test-faults: kill workers, restart Redis, cut PostgreSQL mid-run (needs DATABASE_URL/REDIS_URL).
test-faults: install
	SOP_FAULT_TESTS=1 $(PY) -m pytest tests/faults
