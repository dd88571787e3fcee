# kefu — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test test-pg lint install system-deps messages config-doc bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Run the product on SQLite with demo data at http://127.0.0.1:8000
demo: install
	$(BIN)/kefu demo

serve: install
	$(BIN)/kefu serve

## Debian's chromium and a CJK font for the browser tests (root only; skipped otherwise)
system-deps:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium and fonts-wqy-microhei for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	else echo "note: /usr/bin/chromium missing and not root: browser tests will be skipped"; fi

## Run the whole test suite (SQLite; set KEFU_TEST_DATABASE_URL for PostgreSQL)
test: install system-deps
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

test-pg:
	KEFU_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/kefu_test $(MAKE) test

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy

messages: install
	$(BIN)/python scripts/update_catalog.py

config-doc: install
	$(BIN)/python scripts/settings_table.py > docs/configuration.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
