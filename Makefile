# make run   — set up, prepare the demo database, print demo tokens, serve http://127.0.0.1:8000/graphql
# make test  — set up, then lint, type-check and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := gateway/transport/static/node_modules/.installed
FEDERATION := gateway/schema/federation/node_modules/.installed

.PHONY: setup run test lint typecheck schema federation bench bench-compare clean

setup: $(INSTALLED) $(ASSETS) $(FEDERATION)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# GraphiQL and React, pinned in package-lock.json, served by the gateway itself (no CDN).
$(ASSETS): gateway/transport/static/package.json gateway/transport/static/package-lock.json
	npm ci --prefix gateway/transport/static --no-audit --no-fund --loglevel=error
	touch $@

# The composer (@theguild/federation-composition) and the router (Hive Gateway) of the federated
# gateway, pinned in package-lock.json: `gateway schema supergraph` and tests/e2e/test_federation.py.
$(FEDERATION): gateway/schema/federation/package.json gateway/schema/federation/package-lock.json
	npm ci --prefix gateway/schema/federation --no-audit --no-fund --loglevel=error
	touch $@

federation: $(FEDERATION)

run: setup
	$(BIN)/gateway db upgrade
	$(BIN)/gateway seed
	$(BIN)/gateway token demo
	GATEWAY_DEMO=true $(BIN)/gateway serve

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: $(INSTALLED)
	$(BIN)/mypy gateway resolvers tests bench

# Two test processes (pytest-xdist): much of a test's time is spent waiting on PostgreSQL, on a
# server it started or on a command it ran. A file's tests stay together, in their order, in one
# process (its module fixtures made once). TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 2

test: setup lint typecheck
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

schema: $(INSTALLED) $(FEDERATION)
	$(BIN)/gateway schema export
	$(BIN)/gateway schema supergraph

bench: setup
	$(BIN)/python bench/nested_page.py

# The gateway, PostGraphile 5 and a one-statement floor side by side on one PostgreSQL
# (GATEWAY_BENCH_POSTGRES_URL, default the local server as postgres): bench/compare/.
BENCH_POSTGRAPHILE := bench/postgraphile/node_modules/.installed
# e.g. make bench-compare BENCH_ARGS="--seconds 2" for a quick check (python -m bench.compare --help).
BENCH_ARGS ?=

$(BENCH_POSTGRAPHILE): bench/postgraphile/package.json bench/postgraphile/package-lock.json
	@command -v npm >/dev/null || { echo "bench-compare: npm is needed to install PostGraphile 5"; exit 1; }
	npm ci --prefix bench/postgraphile --no-audit --no-fund --loglevel=error
	touch $@

bench-compare: setup $(BENCH_POSTGRAPHILE)
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
		|| { echo "bench-compare: wrk is needed (apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench.compare $(BENCH_ARGS)

clean:
	rm -rf $(VENV) gateway/transport/static/node_modules gateway/schema/federation/node_modules var .mypy_cache .ruff_cache .pytest_cache
