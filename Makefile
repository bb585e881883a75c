# The two commands of the README: `make demo` and `make test`.
# Both install what is missing (system packages when run as root, a virtual
# environment in .venv), then run.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_DIR ?= demo-output

.PHONY: demo test test-all install system-deps lint bench clean

demo: install
	$(BIN)/papermode demo --out $(DEMO_DIR)

test: install
	$(BIN)/python -m pytest -q

test-all: install
	$(BIN)/python -m pytest -q -m ''

lint: install
	$(BIN)/ruff check papermode tests bench tools scans
	$(BIN)/ruff format --check papermode tests bench tools scans
	$(BIN)/mypy papermode
	$(BIN)/lint-imports --no-cache

bench: install
	$(BIN)/papermode bench --pages 200 --out bench/out

install: system-deps $(VENV)/.installed

system-deps:
	@PYTHON=$(PYTHON) sh tools/install-system-deps.sh

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "papermode needs Python 3.11 or newer"' \
	  || { echo "papermode needs Python 3.11 or newer: install python3.11 and run again"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench/out .pytest_cache .mypy_cache .ruff_cache
