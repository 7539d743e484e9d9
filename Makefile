# One target per habit. `make demo` and `make test` work on a fresh machine: they install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The CPU build of torch lies on this kind of machine's disk; elsewhere pip resolves torch itself.
TORCH_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

.PHONY: install browser redis demo serve test lint typecheck check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH_LINKS) torch==2.13.0 || $(BIN)/pip install --quiet torch
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

browser:  ## Debian's Chromium, for the browser tests
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

redis:  ## a Redis server binary, for the tests of the multi-process path (the app itself needs none)
	@command -v redis-server >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

demo: install  ## seed the demo tenant and serve on http://127.0.0.1:8000
	$(BIN)/atende demo

serve: install
	$(BIN)/atende serve

test: install browser redis  ## the whole test suite
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

check: lint typecheck test

clean:
	rm -rf $(VENV) .atende .pytest_cache .mypy_cache .ruff_cache
