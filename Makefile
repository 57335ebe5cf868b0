PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run serve test test-postgres lint format screenshots bench bench-scale-out messages

BIND ?= 127.0.0.1:8000
WORKERS ?= 3
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tace_ci
# make bench: assessments to seed, seconds of load per page, more options for bench/run.py.
ROWS ?= 100000
DURATION ?= 20
BENCH_ARGS ?=
# make bench and bench-scale-out: a PostgreSQL server where each run makes (and drops) its
# own database; or BENCH_DATABASE_URL, an empty PostgreSQL database to fill, for bench-scale-out.
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432/
BENCH_DATABASE_URL ?=
SCALE_OUT_ROWS ?= 10000

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

# The Chinese catalogue is compiled from its .po file with GNU gettext's msgfmt, every
# time (it takes a moment): a clone or a copy sets the files' times as it goes, so an
# older .mo may look newer. The app refuses to start on a stale one (assessments/checks.py).
MSGFMT := /usr/bin/msgfmt
CATALOGUES := locale/zh_Hans/LC_MESSAGES/django.mo
$(MSGFMT):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y gettext
%.mo: %.po FORCE | $(MSGFMT)
	$(MSGFMT) --check -o $@ $<
FORCE:

## make messages: add the strings marked in the code to the Chinese catalogue, to translate
messages: $(VENV)/.installed | $(MSGFMT)
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --no-location --no-obsolete

## make run: install, migrate, create the first administrator, serve on 127.0.0.1:$(PORT) (debug on, SQLite)
# make run PORT=8001 serves another port.
PORT ?= 8000
run: export DJANGO_DEBUG = 1
run: $(VENV)/.installed $(CATALOGUES)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py create_first_admin
	@echo "Open http://127.0.0.1:$(PORT)/ and log in as the administrator, admin."
	@echo "A lost password: $(PY) manage.py changepassword admin"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

## make serve: production-like on 127.0.0.1:8000: gunicorn, WhiteNoise, debug off
# Several workers need a shared cache (DJANGO_CACHE_URL, Redis): it warns without one.
# No access log (gunicorn's default): it would record query strings, which hold MRNs.
serve: export DJANGO_DEBUG = 0
serve: export DJANGO_HTTPS ?= 0
serve: export DATABASE_URL ?= sqlite:///$(CURDIR)/db.sqlite3
serve: export DJANGO_ALLOWED_HOSTS ?= 127.0.0.1,localhost
# The TLS proxy's addresses, none by default: gunicorn trusts X-Forwarded-* headers and
# the app X-Forwarded-For only on a connection from one of them.
serve: export DJANGO_TRUSTED_PROXIES ?=
serve: $(VENV)/.installed $(CATALOGUES)
	@if [ "$(WORKERS)" -gt 1 ] && [ -z "$$DJANGO_CACHE_URL" ]; then \
		echo "make serve: WARNING: $(WORKERS) workers and no DJANGO_CACHE_URL: each worker has a cache" \
			"of its own, so the API's throttles allow $(WORKERS) times their rate and a role revoked" \
			"in one worker is still honoured by the others for up to 10 seconds." \
			"Set DJANGO_CACHE_URL=redis://127.0.0.1:6379/0 (docs/deploy.md), or WORKERS=1." >&2; \
	fi
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve: DJANGO_SECRET_KEY is not set." \
		"Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'" >&2; exit 1; }
	@test -n "$$DJANGO_AUDIT_KEY" || { echo "make serve: DJANGO_AUDIT_KEY is not set." \
		"Make another one the same way (it must differ from the secret key)." >&2; exit 1; }
	$(PY) manage.py migrate --no-input
	$(PY) manage.py create_first_admin
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@if [ "$$DJANGO_HTTPS" = 0 ]; then \
		echo "Serving http://$(BIND) with DJANGO_HTTPS=0: plain HTTP, for loopback only."; \
	else \
		echo "Serving $(BIND) for a TLS proxy at $${DJANGO_TRUSTED_PROXIES:-(none set)} (DJANGO_HTTPS=$$DJANGO_HTTPS)."; \
	fi
	exec $(VENV)/bin/gunicorn tace_site.wsgi --bind $(BIND) --workers $(WORKERS) \
		--forwarded-allow-ips "$$DJANGO_TRUSTED_PROXIES" --no-control-socket

# The browser tests drive Debian's Chromium (Playwright downloads no browser here),
# with a Chinese font so that pages, screenshots and printouts in Chinese show their text.
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
$(CHROMIUM) $(CJK_FONT):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei

## make test: install the dev requirements and Chromium, lint, run the whole suite
test: $(VENV)/.installed-dev $(CHROMIUM) $(CJK_FONT) $(CATALOGUES) lint
	$(PY) -m pytest

## make test-postgres: the suite on PostgreSQL (TEST_DATABASE_URL; pytest-django makes the test database)
test-postgres: $(VENV)/.installed-dev $(CHROMIUM) $(CJK_FONT) $(CATALOGUES)
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make screenshots: retake the README's screenshots (docs/screenshots/) in headless Chromium
screenshots: $(VENV)/.installed-dev $(CHROMIUM) $(CJK_FONT) $(CATALOGUES)
	SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest tests/browser/test_screenshots.py

## make bench: seed ROWS assessments into a throw-away SQLite database, serve it as make serve does,
## load each page with locust; the same on a throw-away PostgreSQL database (BENCH_POSTGRES, empty
## to skip); time recommend --jsonl, print the figures; then bench-scale-out (see docs/benchmarks.md)
bench: $(VENV)/.installed-bench $(CATALOGUES)
	$(PY) bench/run.py --rows $(ROWS) --duration $(DURATION) \
		$(if $(BENCH_POSTGRES),--postgres $(BENCH_POSTGRES)) $(BENCH_ARGS)
	@if [ -n "$(BENCH_DATABASE_URL)$(BENCH_POSTGRES)" ]; then $(MAKE) --no-print-directory bench-scale-out; \
	else echo "bench-scale-out skipped: no BENCH_POSTGRES nor BENCH_DATABASE_URL."; fi

## make bench-scale-out: three app servers of 3 workers on one PostgreSQL database (BENCH_DATABASE_URL,
## empty, or one made on BENCH_POSTGRES for the run), 24 users on audited pages and unaudited ones
bench-scale-out: $(VENV)/.installed-bench $(CATALOGUES)
	@test -n "$(BENCH_DATABASE_URL)$(BENCH_POSTGRES)" || { echo "Set BENCH_POSTGRES or BENCH_DATABASE_URL." >&2; exit 1; }
	$(PY) bench/run.py --rows $(SCALE_OUT_ROWS) --duration $(DURATION) --servers 3 --workers 3 \
		--users 24 --pages "no match,list,detail,history,patient" --lines 0 \
		$(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),--postgres $(BENCH_POSTGRES))
