PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run serve test test-postgres lint format screenshots bench

BIND ?= 127.0.0.1:8000
WORKERS ?= 3
# Addresses whose X-Forwarded-* headers gunicorn trusts: the TLS proxy's only.
FORWARDED_ALLOW_IPS ?= 127.0.0.1,::1
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tace_ci
# make bench: assessments to seed, seconds of load per page, more options for bench/run.py.
ROWS ?= 100000
DURATION ?= 20
BENCH_ARGS ?=

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed requirements-bench.txt
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

## make run: install, migrate, create the first administrator, serve on 127.0.0.1:$(PORT) (debug on, SQLite)
# make run PORT=8001 serves another port.
PORT ?= 8000
run: export DJANGO_DEBUG = 1
run: $(VENV)/.installed
	$(PY) manage.py migrate --no-input
	$(PY) manage.py create_first_admin
	@echo "Open http://127.0.0.1:$(PORT)/ and log in as the administrator, admin."
	@echo "A lost password: $(PY) manage.py changepassword admin"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

## make serve: production-like on 127.0.0.1:8000: gunicorn, WhiteNoise, debug off
# No access log (gunicorn's default): it would record query strings, which hold MRNs.
serve: export DJANGO_DEBUG = 0
serve: export DJANGO_HTTPS ?= 0
serve: export DATABASE_URL ?= sqlite:///$(CURDIR)/db.sqlite3
serve: export DJANGO_ALLOWED_HOSTS ?= 127.0.0.1,localhost
serve: $(VENV)/.installed
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve: DJANGO_SECRET_KEY is not set." \
		"Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'" >&2; exit 1; }
	$(PY) manage.py migrate --no-input
	$(PY) manage.py create_first_admin
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@if [ "$$DJANGO_HTTPS" = 0 ]; then \
		echo "Serving http://$(BIND) with DJANGO_HTTPS=0: plain HTTP, for loopback only."; \
	else \
		echo "Serving $(BIND) for a TLS proxy at $(FORWARDED_ALLOW_IPS) (DJANGO_HTTPS=$$DJANGO_HTTPS)."; \
	fi
	exec $(VENV)/bin/gunicorn tace_site.wsgi --bind $(BIND) --workers $(WORKERS) \
		--forwarded-allow-ips "$(FORWARDED_ALLOW_IPS)" --no-control-socket

# The browser tests drive Debian's Chromium (Playwright downloads no browser here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

## make test: install the dev requirements and Chromium, lint, run the whole suite
test: $(VENV)/.installed-dev $(CHROMIUM) lint
	$(PY) -m pytest

## make test-postgres: the suite on PostgreSQL (TEST_DATABASE_URL; pytest-django makes the test database)
test-postgres: $(VENV)/.installed-dev $(CHROMIUM)
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make screenshots: retake the README's screenshots (docs/screenshots/) in headless Chromium
screenshots: $(VENV)/.installed-dev
	SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest tests/browser/test_screenshots.py

## make bench: seed ROWS assessments into a throw-away SQLite database, serve it as make serve does,
## load each page with locust, time recommend --jsonl, print the figures (see docs/benchmarks.md)
bench: $(VENV)/.installed-bench
	$(PY) bench/run.py --rows $(ROWS) --duration $(DURATION) $(BENCH_ARGS)
