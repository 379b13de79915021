# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ORDERS ?= 10000
export PATH := $(CURDIR)/$(BIN):$(PATH)
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
# Installs come with compiled bytecode (uv, and the uv that `meltano install` runs, do not compile by
# default): where PYTHONDONTWRITEBYTECODE is set, as on this project's machines, every meltano, tap,
# target-postgres and dbt start would otherwise compile all it imports again (two thirds of each start,
# bench/README.md). The project's own packages are editable installs, compiled in place.
export UV_COMPILE_BYTECODE := 1
SOURCES := bloom_suite sandbox/bloom_sandbox tap-shopify-bloom/tap_shopify_bloom tap-adplatforms/tap_adplatforms \
	tap-shipping/tap_shipping

PACKAGES := -e . -e ./sandbox -e ./tap-shopify-bloom -e ./tap-adplatforms -e ./tap-shipping
TEST_DEPS := --group test

.PHONY: demo test soak install clean bench

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==0.13.8

$(VENV)/.installed: $(BIN)/python pyproject.toml sandbox/pyproject.toml tap-shopify-bloom/pyproject.toml tap-adplatforms/pyproject.toml tap-shipping/pyproject.toml
	$(BIN)/uv pip install --quiet --python $(BIN)/python $(PACKAGES) $(TEST_DEPS)
	$(BIN)/python -m compileall -q $(SOURCES)
	touch $@

.meltano/.installed: $(VENV)/.installed meltano.yml
	$(BIN)/meltano install
	touch $@

install: .meltano/.installed

demo: install
	$(BIN)/bloom-demo --orders $(ORDERS)

# Each part is its own package with its own tests/: one pytest run each, from its folder, with two
# pytest-xdist workers where the tests share nothing. The sandbox's and the taps' tests use free ports,
# no Meltano and no warehouse. The end-to-end tests (.) run meltano, dbt and bloom-sync in a private
# copy of the project per worker (tests/_helpers.py: project()), whole modules per worker, since a
# module's pipeline is a module-scoped fixture. transform's tests build in transform/target: one worker.
TEST_PARTS := sandbox tap-shopify-bloom tap-adplatforms tap-shipping transform .

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	set -e; for part in $(TEST_PARTS); do echo "== tests of $$part"; \
	  case $$part in transform) workers="";; .) workers="-n 2 --dist loadfile";; *) workers="-n 2";; esac; \
	  (cd $$part && $(CURDIR)/$(BIN)/pytest -q -p no:cacheprovider $$workers); done

# The full fault matrix (every fault kind the sandbox injects, 21 SIGKILL points over the first
# sync, the backfill and an incremental run, at least 20 of which must hit a live run) with its
# table; `make test` runs a light version.
# BLOOM_SOAK_KILL_SEED=<n> repeats the kill points of an earlier soak (its table prints the seed).
soak: install
	cd tests && BLOOM_SOAK=1 PYTHONUNBUFFERED=1 $(CURDIR)/$(BIN)/pytest -q -s -p no:cacheprovider test_faults.py test_bad_data.py test_bad_data_ads.py test_bad_data_shipping.py

# Benchmarks (bench/README.md): the pipeline as the demo runs it, then the target's load rate next to COPY.
RUNS ?= 3
bench: install
	$(BIN)/python bench/pipeline.py --orders $(ORDERS) --runs $(RUNS)
	$(BIN)/python bench/load.py --orders $(ORDERS) --runs $(RUNS)

clean:
	rm -rf .bloom .meltano $(VENV)
