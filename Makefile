# Mapa Wsparcia — `make run` serves the site (demo snapshot offline, live ingest when online);
# `make test` runs the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
HOST   ?= 127.0.0.1
BIN     = $(VENV)/bin

.PHONY: setup system-deps run test lint bench ingest clean

setup: system-deps $(VENV)/.installed

# Word 97 .doc lists are read with Debian's antiword: installed when we may (root with apt-get), otherwise
# a warning says what to install (those documents are then reported as unreadable, nothing else changes).
system-deps:
	@command -v antiword >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq antiword >/dev/null 2>&1 \
	      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq antiword >/dev/null 2>&1; } \
	      || echo "warning: could not install antiword; Word 97 .doc lists will be reported unreadable" >&2; \
	  else echo "warning: antiword is missing (sudo apt-get install antiword); Word 97 .doc lists will be reported unreadable" >&2; fi; }

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: setup
	$(BIN)/wsparcie start --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

ingest: setup
	$(BIN)/wsparcie ingest

bench: setup
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf var test-artifacts
