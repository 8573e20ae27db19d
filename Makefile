# catalog-sync: `make test` and `make demo` work on a fresh clone (they bootstrap .venv themselves).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime is python3.12: tests run on that same version. pyenv's `python3.12` shim fails
# unless 3.12 is the active version, so fall back to pyenv's own 3.12 install.
PYTHON312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12; do \
	  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The product's code that bandit gates (tests and bench are not shipped).
PRODUCT_CODE := layers/catalog_sync/catalog_sync functions local/catalog_sync_local

.PHONY: help venv test test-fast contract lint fmt demo bench chaos dashboard clean

help:
	@echo "make demo   - run the whole pipeline locally (moto + store simulators) and show what synced"
	@echo "make test   - create .venv if needed and run the whole test suite"
	@echo "make contract - contract tests against real systems (starts a real Medusa: about 4 min cold, 1.5 min warm)"
	@echo "make lint   - ruff, mypy, bandit, cfn-lint, sam validate --lint and checkov"
	@echo "make dashboard - draw template.yaml's dashboard from a local run's metrics (docs/dashboard.png)"
	@echo "make build  - sam build (no Docker needed)"
	@echo "make bench  - benchmark table; writes bench/results.json"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON312)" || { echo "error: Python 3.12 not found (the Lambda runtime version); install it or set PYTHON312=/path/to/python3.12" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON312) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

test: venv
	$(BIN)/python -m pytest

# Contract tests against real systems (tests/contract, all of it): a real Medusa from npm with PostgreSQL
# is started around them by integrations/medusa-contract/with-medusa.sh and stopped afterwards.
contract: venv
	integrations/medusa-contract/with-medusa.sh $(BIN)/python -m pytest tests/contract

# Security gates: bandit fails on any medium or high finding without a justified `# nosec`; checkov
# (tools.mk `security`) on any failed template check outside its justified skips.
lint: venv lint-template security
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/catalog_sync/catalog_sync local/catalog_sync_local functions bench
	$(BIN)/bandit --quiet --recursive --severity-level medium $(PRODUCT_CODE)

fmt: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: venv
	$(BIN)/catalog-sync demo

bench: venv
	$(BIN)/python -m bench

# One-way chaos (bench/chaos.json), then the two-way run (bench/chaos_two_way.json). One-way: seeds x
# changes per seed, CHAOS_JOBS seeds at once (each mostly waits: three fit two cores); 20 x 1000 takes
# about an hour on the 2-core machine. A stopped run resumes from CHAOS_PROGRESS (delete it to start over).
CHAOS_SEEDS ?= 20
CHAOS_CHANGES ?= 1000
CHAOS_JOBS ?= 3
CHAOS_PROGRESS ?= bench/.chaos-progress.jsonl
chaos: venv
	$(BIN)/python -m bench.chaos $(CHAOS_SEEDS) $(CHAOS_CHANGES) --jobs $(CHAOS_JOBS) --progress $(CHAOS_PROGRESS)
	$(BIN)/python -m bench.chaos_two_way --jobs 2

# Runs the demo with metrics on (docs/dashboard-metrics.jsonl), then draws template.yaml's dashboard
# from them (docs/dashboard.png, shown in the README).
dashboard: venv
	$(BIN)/python -m catalog_sync_local.dashboard.render --run

clean:
	rm -rf $(VENV) .venv-tools .aws-sam .mypy_cache .ruff_cache

include tools.mk
