# The two commands of the README: `make run` and `make test`. Everything else is a step of them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgresql lint install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## Set up and start the service on SQLite (instance/incidents.db) with migrations applied.
run: install
	$(BIN)/flask --app wsgi db upgrade
	@echo
	@echo "Service starting on http://$(HOST):$(PORT)/api/v1/docs"
	@echo "In another terminal, make an admin and a token (docs/getting-started.md):"
	@echo "  $(BIN)/flask --app wsgi users add you@example.org --name 'Your Name' --role admin --role hr"
	@echo "  $(BIN)/flask --app wsgi tokens issue you@example.org"
	@echo
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

## The whole suite on SQLite and on PostgreSQL (TEST_DATABASE_URL, default the local `test` db),
## the two runs side by side on two cores; each run's output is shown when it has finished.
test: install lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgresql

test-sqlite: install
	$(BIN)/python -m pytest --db sqlite -q

test-postgresql: install
	$(BIN)/python -m pytest --db postgresql -q

lint: install
	$(BIN)/ruff check incidents scheduler tests migrations bench wsgi.py
