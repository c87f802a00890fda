# Arbiter: `make run` serves the API (SQLite, embedded); `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install console run migrate demo test reliability lint format schema schema-check contract-check bench ci clean

install: $(STAMP) console

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

# The reviewer console (console/dist, served at /console): built when missing or older
# than what it is built from (its generated src/gql aside). It needs Node 20.19+ (or
# 22.12+) and npm; without them it is skipped with a warning, and /console answers a 404
# saying to run make install.
CONSOLE := console
CONSOLE_BUILT := $(CONSOLE)/dist/index.html
CONSOLE_MODULES := $(CONSOLE)/node_modules/.package-lock.json
CONSOLE_SOURCES := $(shell find $(CONSOLE)/src $(CONSOLE)/public $(CONSOLE)/scripts -type f \
  -not -path '$(CONSOLE)/src/gql/*' 2>/dev/null) \
  $(wildcard $(CONSOLE)/index.html $(CONSOLE)/package.json $(CONSOLE)/package-lock.json \
  $(CONSOLE)/*.ts) schema.graphql
NODE_OK := const [a, b] = process.versions.node.split(".").map(Number); \
  process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a > 22 ? 0 : 1)

console:
	@missing=""; \
	if ! command -v node >/dev/null 2>&1; then missing="node is not on PATH"; \
	elif ! command -v npm >/dev/null 2>&1; then missing="npm is not on PATH"; \
	elif ! node -e '$(NODE_OK)'; then missing="this is Node $$(node --version)"; fi; \
	if [ -z "$$missing" ]; then exec $(MAKE) --no-print-directory $(CONSOLE_BUILT); fi; \
	echo "warning: the reviewer console was not built: it needs Node 20.19+ (or 22.12+)" \
	  "and npm, and $$missing."; \
	if [ -f $(CONSOLE_BUILT) ]; then echo "  /console serves the previous build."; \
	else echo "  /console answers 404 until make install runs with them."; fi

$(CONSOLE_MODULES): $(CONSOLE)/package-lock.json
	cd $(CONSOLE) && npm ci --no-audit --no-fund
	touch $@

$(CONSOLE_BUILT): $(CONSOLE_MODULES) $(CONSOLE_SOURCES)
	cd $(CONSOLE) && npm run build
	touch $@

migrate: install
	$(BIN)/arbiter migrate

# The key that signs the decision log's checkpoints: `make run` makes one here when
# missing (mode 0600); set ARBITER_LOG_SIGNING_KEY_FILE to keep yours elsewhere.
run: export ARBITER_LOG_SIGNING_KEY_FILE ?= $(CURDIR)/.arbiter/log-signing.key

run: migrate
	mkdir -p $(dir $(ARBITER_LOG_SIGNING_KEY_FILE))
	$(BIN)/arbiter keys create
	$(BIN)/arbiter serve

demo: migrate
	$(BIN)/arbiter demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Load and faults only (they also run in `make test`): PostgreSQL and Redis required.
reliability: install
	ARBITER_REQUIRE_SERVICES=1 $(BIN)/python -m pytest tests/reliability -v $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install
	$(BIN)/arbiter schema > schema.graphql
	$(BIN)/arbiter schema --possible-types > possible-types.json

schema-check: install
	@$(BIN)/arbiter schema | diff -u schema.graphql - \
	  || (echo "schema.graphql is out of date: run 'make schema' and commit it" && exit 1)
	@$(BIN)/arbiter schema --possible-types | diff -u possible-types.json - \
	  || (echo "possible-types.json is out of date: run 'make schema' and commit it" && exit 1)

contract-check: install
	$(BIN)/python ../shared/tools/contract_check.py schema.graphql

# Every benchmark, each against its baseline in the same run (about 40 minutes; wrk from
# Debian's packages is installed when missing); then bench/results.json and the tables
# of BENCHMARKS.md. One at a time: `.venv/bin/python bench/<name>.py --help`.
bench: install
	@command -v wrk >/dev/null || apt-get install -y wrk >/dev/null \
	  || (echo "bench needs wrk: apt-get install wrk" && exit 1)
	$(BIN)/python bench/read_path.py
	$(BIN)/python bench/decision_path.py
	$(BIN)/python bench/decision_path.py --backend postgresql --workflows 4
	$(BIN)/python bench/decision_path.py --backend postgresql --server-workers 2
	$(BIN)/python bench/vote_path.py
	$(BIN)/python bench/ingestion.py
	$(BIN)/python bench/ingestion.py --backend postgresql --auto 1
	$(BIN)/python bench/queue_page.py
	$(BIN)/python bench/fanout.py --backend all --repeat 3 --events 50
	$(BIN)/python bench/subscription_latency.py
	$(BIN)/python bench/retrain.py
	$(BIN)/python bench/themes.py
	$(BIN)/python bench/console_bundle.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/report.py

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info $(CONSOLE)/dist $(CONSOLE)/src/gql
