# Arbiter: `make run` serves the API (SQLite, embedded); `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run migrate demo test reliability lint format schema schema-check contract-check bench ci clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

migrate: install
	$(BIN)/arbiter migrate

run: migrate
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
	$(BIN)/python bench/ingestion.py
	$(BIN)/python bench/queue_page.py
	$(BIN)/python bench/fanout.py --backend all --repeat 3 --events 50
	$(BIN)/python bench/subscription_latency.py
	$(BIN)/python bench/retrain.py
	$(BIN)/python bench/themes.py
	$(BIN)/python bench/report.py

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
