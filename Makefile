# Huiliu — the two quick-start commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

# Test defaults: the real services on loopback (override by exporting them).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/huiliu
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test install install-dev assets migrate lint format worker beat bench clean messages fuzz

$(VENV)/.stamp-runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.stamp-runtime $@

install: $(VENV)/.stamp-runtime
install-dev: $(VENV)/.stamp-dev

# Browser libraries (htmx, Apache ECharts) from the npm registry, pinned by package-lock.json and served as
# static files from node_modules/ (settings.STATICFILES_DIRS). Reinstalled when the lock changes.
node_modules/.package-lock.json: package-lock.json
	@command -v npm >/dev/null || { echo "npm is required (Debian: apt-get install -y npm)"; exit 1; }
	npm ci --no-audit --no-fund
	touch $@
assets: node_modules/.package-lock.json

## make demo: the demo marketplace on http://127.0.0.1:8000 (SQLite unless DATABASE_URL is set)
demo: $(VENV)/.stamp-runtime assets
	DEBUG=1 $(PY) manage.py migrate --noinput -v0
	DEBUG=1 $(PY) manage.py load_demo
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

## make test: lint (style, format, dependency direction), then the whole suite on PostgreSQL
## and Redis (installed and started if missing, like npm for the browser assets) and, beside
## it, a short schemathesis pass against a live server with a write key (FUZZ_CI_ARGS: 20
## examples per operation, fixed seed; its own throw-away database). Any failure fails the build.
FUZZ_CI_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/huiliu_fuzz_ci
FUZZ_CI_ARGS ?= --examples 20 --seed 1 --timeout 900 --out test-output/fuzz-ci
test: lint
	bash scripts/ensure-services.sh
	$(MAKE) --no-print-directory assets
	@mkdir -p test-output
	@FUZZ_DATABASE_URL=$(FUZZ_CI_DATABASE_URL) $(PY) scripts/fuzz_graphql.py $(FUZZ_CI_ARGS) \
		> test-output/fuzz-ci.log 2>&1 & fuzz=$$!; \
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS); suite=$$?; \
	wait $$fuzz; fuzzed=$$?; \
	echo "--- schemathesis pass (scripts/fuzz_graphql.py $(FUZZ_CI_ARGS))"; tail -n 12 test-output/fuzz-ci.log; \
	test $$suite -eq 0 && test $$fuzzed -eq 0

## make fuzz: schemathesis against /graphql/ with a write key, 50 examples per operation, on a
## throw-away PostgreSQL database and a loopback server (scripts/fuzz_graphql.py, docs/API.md
## "Fuzzing"). Fails on any response >= 500 or internal_error. FUZZ_ARGS="--examples 5 --seed 1" …
fuzz: $(VENV)/.stamp-dev
	$(PY) scripts/fuzz_graphql.py $(FUZZ_ARGS)

migrate: $(VENV)/.stamp-runtime
	$(PY) manage.py migrate

worker: $(VENV)/.stamp-runtime
	$(VENV)/bin/celery -A huiliu worker -l info -Q $$($(PY) -m huiliu.queues)

beat: $(VENV)/.stamp-runtime
	$(VENV)/bin/celery -A huiliu beat -l info

lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

format: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(VENV)/.stamp-runtime
	DEBUG=1 $(PY) manage.py makemessages -l zh_Hans -l en --no-location --ignore=.venv --ignore=node_modules --ignore=tests
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) node_modules db.sqlite3 staticfiles test-output
