# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
# Each creates .venv (if missing) and installs the package with what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-unit bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## Run the daemon's main job end to end against the built-in emulators (SQLite ledger).
demo: $(STAMP)
	$(BIN)/hubsync demo

## Run every test. PostgreSQL tests run when HUBSYNC_TEST_POSTGRES_URL is set (CI sets it).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

## Static checks: ruff (pyflakes, bugbear, imports) and mypy with the pydantic plugin.
lint: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,lint]'
	$(BIN)/ruff check daemon tests bench migrations
	$(BIN)/mypy -p hubsync

## Measure catch-up cost and crash safety against the emulators (see bench/README.md).
bench: $(STAMP)
	$(BIN)/python -m bench.catchup --tickets 2000
	$(BIN)/python -m bench.crash --tickets 200 --kills 30 --drop-rate 0.3 --seed 7 --arrivals

clean:
	rm -rf $(VENV) build *.egg-info daemon/*.egg-info
