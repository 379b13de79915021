# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ORDERS ?= 10000
export PATH := $(CURDIR)/$(BIN):$(PATH)
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false

PACKAGES := -e . -e ./sandbox -e ./tap-shopify-bloom -e ./tap-adplatforms -e ./tap-shipping
TEST_DEPS := --group test

.PHONY: demo test install venv lint soak clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==0.13.8

$(VENV)/.installed: $(BIN)/python pyproject.toml sandbox/pyproject.toml tap-shopify-bloom/pyproject.toml tap-adplatforms/pyproject.toml tap-shipping/pyproject.toml
	$(BIN)/uv pip install --quiet --python $(BIN)/python $(PACKAGES) $(TEST_DEPS)
	touch $@

.meltano/.installed: $(VENV)/.installed meltano.yml
	$(BIN)/meltano install
	touch $@

install: .meltano/.installed

demo: install
	$(BIN)/bloom-demo --orders $(ORDERS)

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -x -q sandbox/tests tap-shopify-bloom/tests tap-adplatforms/tests tap-shipping/tests transform/tests tests

clean:
	rm -rf .bloom .meltano $(VENV)
