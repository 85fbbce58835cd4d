# Captionist: `make run` starts the desktop app, `make test` runs every check headless.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARED ?= ../shared

.PHONY: venv run test lint unit e2e bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

run: venv
	$(VENV)/bin/captionist

lint: venv
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/ruff format --check app tests bench
	$(VENV)/bin/mypy

# Unit and integration tests, then the end-to-end ones (real model, real servers, node).
test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not e2e" -q
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m e2e -q

bench: venv
	$(PY) bench/streaming.py

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .pytest_cache .ruff_cache
