# digest: `make build` and `make test` are all a newcomer needs; both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv build test golden clean

help: ## List every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP) ## Create .venv and install digest with its test tools

build: $(STAMP) ## Build the site from content_cache/ into dist/
	$(BIN)/digest build

test: $(STAMP) ## Run the whole test suite
	$(BIN)/python -m pytest

golden: $(STAMP) ## Regenerate the expected site under tests/golden/ after an intended output change
	$(BIN)/python -m tests.golden

clean: ## Remove dist/ and caches (keeps .venv)
	rm -rf dist .digest-cache .pytest_cache
