# The two commands of the README: `make run` and `make test`. Everything else is a step of them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# The browser tests (tests/web): Chromium driven by Playwright, and Node.js for the OpenID Connect
# provider and axe-core (tests/node, pinned by its package-lock.json).
NODE_DIR := tests/node
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test test-sqlite test-postgresql lint install chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# npm ci only when package.json or the lock file changed since the last install. Without npm
# the browser tests skip (and fail under CI=true), so this says so and carries on.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(NODE_DIR) --no-audit --no-fund && touch $@; \
	else \
		echo "npm not found: install Node.js 20 or later, or the browser tests (tests/web) skip"; \
	fi

# Debian's Chromium (Playwright's own browser download needs the internet): installed when missing
# and we are root; otherwise say why the browser tests will skip.
chromium:
	@if [ -x "$(CHROMIUM)" ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "No Chromium at $(CHROMIUM) and not root (or no apt-get) to install it: the"; \
		echo "browser tests (tests/web) skip. Install chromium, or set CHROMIUM to its path."; \
	fi

## Everything `make test` needs. `make run` needs only the Python part, not Node.js or Chromium.
install: $(VENV)/.installed $(NODE_DIR)/node_modules/.installed chromium

## Set up and start the service on SQLite (instance/incidents.db) with migrations applied.
run: $(VENV)/.installed
	$(BIN)/flask --app wsgi db upgrade
	@echo
	@echo "Open http://$(HOST):$(PORT)/ and choose Logga in: in development you pick a user, and"
	@echo "on an empty database a demo organisation with one person per role is offered."
	@echo "Mail that would be sent: http://$(HOST):$(PORT)/dev/mailbox  API: http://$(HOST):$(PORT)/api/v1/docs"
	@echo
	PORT=$(PORT) $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

## The whole suite on SQLite and on PostgreSQL (TEST_DATABASE_URL, default the local `test` db),
## the two runs side by side on two cores; each run's output is shown when it has finished.
## The two runs side by side, a progress line every 30 s, each run's output when it finishes.
test: install lint
	$(BIN)/python -m tests.run

test-sqlite: install
	$(BIN)/python -m pytest --db sqlite -q

test-postgresql: install
	$(BIN)/python -m pytest --db postgresql -q

lint: install
	$(BIN)/ruff check incidents scheduler tests migrations bench wsgi.py gunicorn.conf.py
