# Quick start: `make run` then `make test`. Both create .venv and install everything first.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
OUT    ?= out

.PHONY: setup run test lint clean golden eval train bench bench-money bench-pipeline

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/chipwire run corpus/sample --out $(OUT)/

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check pipeline extractors chipwire tests
	$(BIN)/mypy pipeline extractors chipwire

# Options classifier: cross-validated and test-split figures (it is refitted from the shipped
# sentences at run time, so there is no model file to write).
train: setup
	$(BIN)/python -m extractors.data.options.train --test

# Development gold set: chipwire vs stock spaCy per language (tests/eval/README.md).
eval: setup
	$(BIN)/python -m tests.eval.evaluate

# Rewrites the golden end-to-end files; review the diff before committing.
golden: setup
	$(BIN)/python -m tests.golden.regenerate

# Benchmarks read ../shared (a developer's checkout); they are not tests.
BENCH_STAMP = $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: bench-money bench-pipeline

bench-money: $(BENCH_STAMP)
	$(BIN)/python bench/bench_money.py

bench-pipeline: setup
	$(BIN)/python bench/bench_pipeline.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
