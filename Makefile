# Two commands (README.md):
#   make run    the dashboard on the sample fund complex (http://localhost:8501)
#   make test   the services the tests need, ruff, then the whole test suite
# Everything else here is the plumbing they share.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run
.PHONY: run test

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Touched after each successful install: the install runs again when
# pyproject.toml is newer than this (or the virtualenv is new).
INSTALLED := $(VENV)/.installed-pyproject

SAMPLE := data/sample/medium
SAMPLE_DONE := data/sample/.medium-complete
# Prints yes when the store (DATABASE_URL, default a SQLite file under data/)
# holds a calculation run.
HAS_RUN := import calc.store as s; from calc.access import Principal as P; print("yes" if s.latest_run_id(s.get_engine(), P.operator()) is not None else "no")

PYTEST_ARGS ?=

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "make: Python 3.11 or newer is needed; $(PYTHON) is $$($(PYTHON) --version 2>&1)." \
	       "Try: make $(MAKECMDGOALS) PYTHON=python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "make: '$(PYTHON) -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"; exit 1; }

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -e '.[test]'
	@touch $@

run: $(INSTALLED)
	@state=$$($(PY) -c '$(HAS_RUN)' 2>/dev/null || echo unreadable); \
	if [ "$$state" = yes ]; then \
	  echo "make run: the store already holds a calculation run"; \
	else \
	  [ "$$state" = no ] || echo "make run: could not read the store (a new database?)"; \
	  echo "make run: no calculation run in the store yet; loading the medium sample feed"; \
	  if [ ! -f $(SAMPLE_DONE) ]; then \
	    rm -rf $(SAMPLE); \
	    $(PY) -m calc sample --out $(SAMPLE) --size medium; \
	    touch $(SAMPLE_DONE); \
	  fi; \
	  $(PY) -m calc load $(SAMPLE); \
	fi
	@$(PY) -m calc user first-admin
	$(PY) -m streamlit run dashboard/serve.py

test: $(INSTALLED)
	@services=$$(bash scripts/ensure-services.sh); eval "$$services"; \
	rc=0; \
	echo "== ruff check calc dashboard tests"; \
	$(PY) -m ruff check calc dashboard tests || { rc=$$?; echo "make test: ruff found problems"; }; \
	echo "== pytest -n 2 (all but the browser tests)"; \
	$(PY) -m pytest -n 2 -m "not browser" $(PYTEST_ARGS) || rc=$$?; \
	echo "== pytest -n 2 (the browser tests, on an otherwise idle machine: their servers keep to time)"; \
	$(PY) -m pytest -n 2 -m browser $(PYTEST_ARGS) || { s=$$?; [ "$$s" -eq 5 ] || rc=$$s; }; \
	exit $$rc
