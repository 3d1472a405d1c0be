# dl_platform — every command a user needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DL_DATA_DIR ?= $(CURDIR)/data
PERSONS ?= 2000
SEED ?= 42

.DEFAULT_GOAL := help
.PHONY: help setup demo synth materialize dev test bench docs lint clean

help: ## List the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo "  Variables: DL_DATA_DIR=$(DL_DATA_DIR) PERSONS=$(PERSONS) SEED=$(SEED)"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install pinned dependencies (idempotent)
	@$(BIN)/dl-platform --version

demo: setup ## Set up, generate the synthetic population, materialise every asset, say where to look
	$(BIN)/dl-platform demo --persons $(PERSONS) --seed $(SEED)

synth: setup ## Generate only the synthetic landing deliveries (PERSONS, SEED)
	$(BIN)/dl-platform synth --persons $(PERSONS) --seed $(SEED) --out $(DL_DATA_DIR)

materialize: setup ## Materialise every asset from the CLI (after `make synth`)
	$(BIN)/dl-platform materialize

dev: setup ## Open the Dagster UI (http://127.0.0.1:3000) on the demo data
	$(BIN)/dl-platform dev

test: setup ## Run the test suite (unit, dbt, integration, browser)
	$(BIN)/python -m pytest -q

bench: setup ## Print benchmarks: generation, raw load, linkage per error profile vs bare Splink, end-to-end (takes long)
	$(BIN)/python -m pytest -q -m bench -s tests/benchmarks -p no:cacheprovider

docs: setup ## Build the dbt docs site (data dictionary and lineage)
	$(BIN)/dl-platform docs

lint: setup ## ruff
	$(BIN)/ruff check dl_platform tests

clean: ## Remove generated data (keeps .venv)
	rm -rf $(DL_DATA_DIR) dbt_project/target dbt_project/logs test-artifacts
