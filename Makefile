# One target per habit. `make demo` and `make test` set themselves up on a fresh clone.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup demo test test-fast lint bench airflow clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

demo: $(STAMP)
	$(BIN)/tracelake demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/landing.py
	$(BIN)/python bench/trace.py
	$(BIN)/python bench/run.py

airflow: $(STAMP)
	$(BIN)/tracelake airflow

clean:
	rm -rf lake lake-vault .pytest_cache .mypy_cache .ruff_cache
