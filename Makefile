# Two commands do everything on a fresh machine (Python 3.11, pip, make):
#   make preview   set up .venv and preview specs/sophia.yaml offline (program + policy pack)
#   make test      set up .venv, lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SPEC   ?= specs/sophia.yaml

.PHONY: install preview test lint schema bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

preview: $(STAMP)
	$(BIN)/sophia validate $(SPEC) specs/examples/*.yaml
	$(BIN)/sophia preview $(SPEC)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sophia schema --check specs/sophia.schema.json

test: lint
	$(BIN)/pytest -n auto

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python bench/run.py

schema: $(STAMP)
	$(BIN)/sophia schema --write specs/sophia.schema.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
