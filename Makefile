# The two commands of the README: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint run simulator bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/eadm-bot demo

run: $(STAMP)
	$(BIN)/eadm-bot run

simulator: $(STAMP)
	$(BIN)/eadm-bot simulator

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.memory

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
