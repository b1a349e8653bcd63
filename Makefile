# OCOP shop — build and run. GNU make; every target can be run again and reuses what exists.
#   make run     set up, migrate, load the demo data, index, serve http://127.0.0.1:$(PORT)
#   make test    set up and run the whole test suite (TEST_DATABASE_URL=postgresql+psycopg://… for PostgreSQL)
#   make bench   run the benchmarks in bench/ (BENCH_ARGS="--products 2000" for a quick run)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask
PORT ?= 5000
BENCH_ARGS ?=
BENCH_SCRIPTS := $(wildcard bench/catalog.py bench/search.py bench/inventory.py bench/checkout.py bench/trace.py \
                            bench/audit.py bench/report.py)
CHROMIUM := /usr/bin/chromium

# Payment sandbox: localstripe (a fake Stripe API and Stripe.js) started in the background beside the server;
# `make run` points the app at it and registers the app's webhook there. `make run PAYMENT_SANDBOX=` starts
# nothing (then give STRIPE_API_BASE / real keys in the environment).
PAYMENT_SANDBOX_PORT ?= 8420
PAYMENT_SANDBOX ?= $(BIN)/localstripe --port $(PAYMENT_SANDBOX_PORT)
SERVE = $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The .mo files are built from whichever catalogues exist; none yet is not an error.
PO_FILES := $(wildcard shop/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
STAMP := $(VENV)/.installed

.PHONY: help venv install translations run test check-browser bench clean distclean

help:
	@echo "make run        serve the shop with demo data on http://127.0.0.1:$(PORT)"
	@echo "make test       run the whole test suite (SQLite; TEST_DATABASE_URL=… for PostgreSQL)"
	@echo "make bench      run the benchmarks (BENCH_ARGS=\"--products 2000\" for a quick run)"
	@echo "make clean      remove caches and compiled catalogues; make distclean also removes .venv"

venv install: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version)'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $@

translations: $(MO_FILES)

shop/translations/%/LC_MESSAGES/messages.mo: shop/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d shop/translations -l $* --statistics
	@# pybabel skips a catalogue marked fuzzy with exit code 0: make that loud.
	@test -f $@ || { echo "error: $@ was not compiled (is $< marked '#, fuzzy'?)" >&2; exit 1; }
	@touch $@

# With the sandbox, the app talks to localstripe and the pay page loads localstripe's Stripe.js (the
# environment wins when it sets them).
ifneq ($(strip $(PAYMENT_SANDBOX)),)
run: export STRIPE_API_BASE ?= http://127.0.0.1:$(PAYMENT_SANDBOX_PORT)
run: export STRIPE_JS_URL ?= http://127.0.0.1:$(PAYMENT_SANDBOX_PORT)/js.stripe.com/v3/
endif
run: $(STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) seed demo
	$(FLASK) search reindex
	$(FLASK) audit run
	@echo "Serving http://127.0.0.1:$(PORT) (demo accounts above, password ocop-demo). Ctrl+C stops."
ifneq ($(strip $(PAYMENT_SANDBOX)),)
	@# Payment sandbox: started beside the server and stopped with it; its webhook points at this server.
	$(PAYMENT_SANDBOX) & trap 'kill $$! 2>/dev/null' EXIT; \
	  $(FLASK) payments sandbox-webhook --url http://127.0.0.1:$(PORT)/payments/stripe/webhook; $(SERVE)
else
	$(SERVE)
endif

# The browser tests need Debian's Chromium; nothing downloads a browser. In CI a missing one is a failure,
# elsewhere the browser tests skip and say why.
check-browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$${CI:-}" = "true" ]; then echo "error: $(CHROMIUM) is missing (apt-get install chromium)" >&2; exit 1; \
	  else echo "note: $(CHROMIUM) is missing: the browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

# TEST_DATABASE_URL passes through from the environment (or `make test TEST_DATABASE_URL=…`). ruff checks the code
# first (pyproject.toml [tool.ruff]); the suite runs on
# TEST_WORKERS processes (pytest-xdist; one PostgreSQL database per worker) and prints the line coverage of
# shop/ (pytest-cov). `make test TEST_WORKERS=0 PYTEST_ARGS="tests/orders -x"` runs a part in one process.
# TEST_COVERAGE= (empty) leaves coverage out: it costs about 45 % more time on Python 3.11, so CI measures it on
# the SQLite run only.
TEST_WORKERS ?= auto
TEST_COVERAGE ?= --cov=shop --cov-report=term:skip-covered --cov-fail-under=90
PYTEST_ARGS ?=
test: $(STAMP) translations check-browser
	$(BIN)/ruff check shop tests bench seed migrations
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(TEST_COVERAGE) $(PYTEST_ARGS)

bench: $(STAMP) translations
	@for script in $(BENCH_SCRIPTS); do \
	  echo "=== $$script $(BENCH_ARGS)"; \
	  $(BIN)/python $$script $(BENCH_ARGS); \
	done

# The instance/ folder (database, uploads, secret key) is data, not a build product: never removed here.
clean:
	rm -f $(MO_FILES)
	rm -rf .pytest_cache .ruff_cache bench/results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
