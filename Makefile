# The two commands of the README: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Most tests wait on sockets and processes, not the CPU: four workers halve the suite's time
# on two cores.
TEST_WORKERS ?= 4

.PHONY: demo test test-fast lint run simulator bench clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/eadm-bot demo --web

run: $(STAMP)
	$(BIN)/eadm-bot run

simulator: $(STAMP)
	$(BIN)/eadm-bot simulator

# The browser tests drive Debian's Chromium (never a browser of Playwright's own). Installed
# here only where it is missing, apt-get exists and we are root; elsewhere those tests skip.
# The emoji font draws the cycle view's icons in the screenshots.
chromium:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-noto-color-emoji >/dev/null; } \
		|| echo "could not install chromium: the browser tests will skip"; \
	fi

# The fifteen slowest tests are named at the end of each run, so a test that grew slow shows.
test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n $(TEST_WORKERS) --durations=15

# Everything but tests/e2e (the tests that run eadm-bot or a browser as a process of its own):
# the pure and in-process tests, in seconds, while working.
test-fast: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) -m "not e2e" --durations=15

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.busy_channel
	$(BIN)/python -m bench.storm_channels

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
