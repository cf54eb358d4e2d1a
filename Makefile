# Vouch. `make run` serves the demo; `make test` runs the test suite. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Where `make run` serves: `make run ADDR=127.0.0.1:9000` (or 0.0.0.0:8000 to be reached from other
# machines; set VOUCH_PUBLIC_URL and ALLOWED_HOSTS to the address they use). Links follow it.
ADDR ?= 127.0.0.1:8000

.PHONY: run test test-integration test-fuzz test-browser lint format bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: export VOUCH_ADDR = $(ADDR)
run: $(BIN)/.installed
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput -v0
	DEBUG=$${DEBUG:-true} $(PY) manage.py createcachetable
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-true} $(PY) manage.py runstack --addr $(ADDR)

# Everything that runs on a fresh laptop: unit, view and API tests, plus the embedded stack
# (SQLite + a real Celery worker on the filesystem broker).
test: $(BIN)/.installed
	$(BIN)/pytest -m "not integration and not browser" -q -p no:cacheprovider

# Needs PostgreSQL and Redis (see README); starts real Celery worker processes.
test-integration: $(BIN)/.installed
	$(BIN)/pytest -m integration -q -p no:cacheprovider

# Schemathesis against a live server (gunicorn on PostgreSQL) with a test key; also part of test-integration.
test-fuzz: $(BIN)/.installed
	$(BIN)/pytest -m fuzz -q -p no:cacheprovider -s

# Needs Debian's chromium (/usr/bin/chromium).
test-browser: $(BIN)/.installed
	$(BIN)/pytest -m browser -q -p no:cacheprovider

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var .pytest_cache
