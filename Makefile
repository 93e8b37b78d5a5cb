# Alpes Partners — developer commands. `make run` and `make test` are the two that matter.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test test-reloj lint format worker beat bench migrate demo clean setup mensajes

# DEBUG is off unless set (production default). The development commands turn it on, unless
# the environment already says otherwise: the embedded mode's dev-only secrets need it.
run demo migrate worker beat: export DEBUG ?= true

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

setup: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py cargar_demo --url http://127.0.0.1:$(PORT)

## Set everything up (virtualenv, install, migrate, demo data) and serve on 127.0.0.1:$(PORT).
run: demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

## Set up and run the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set),
## in parallel: PARALELO=auto is one pytest-xdist worker per core (PARALELO=0: one process).
## Extra pytest arguments: PYTEST_ARGS="-k reatribuir -x".
PARALELO ?= auto
test: $(STAMP)
	$(PY) -m pytest -n $(PARALELO) $(PYTEST_ARGS)

## The date-sensitive tests (@pytest.mark.reloj), one run per instant (ALPES_RELOJ): the edges of
## a day, a month, a year and 29 February (tests/complemento_pytest.py, BORDES_DEL_RELOJ), or
## RELOJES="2027-06-30T23:59:59Z ...". `pytest --reloj-bordes` does the same in one run.
RELOJES ?= $(shell $(PY) -c 'from tests.complemento_pytest import BORDES_DEL_RELOJ as b; print(*b)')
test-reloj: $(STAMP)
	@fallos=""; resumen=""; \
	for instante in $(RELOJES); do \
	  echo "== ALPES_RELOJ=$$instante"; \
	  salida=$$(ALPES_RELOJ=$$instante $(PY) -m pytest -m reloj -q -p no:cacheprovider $(PYTEST_ARGS) 2>&1); \
	  estado=$$?; echo "$$salida"; \
	  resumen="$$resumen$$instante  $$(echo "$$salida" | tail -n 1)\n"; \
	  [ $$estado = 0 ] || fallos="$$fallos $$instante"; \
	done; \
	echo "== date-sensitive tests per instant"; printf '%b' "$$resumen"; \
	if [ -n "$$fallos" ]; then echo "failed at:$$fallos"; exit 1; fi

## ruff, mypy and the architecture contracts (import-linter, [tool.importlinter] in pyproject).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## The partner portal's Spanish catalogue: collect new strings into the .po, then compile the
## .mo (committed, so a clean clone needs no gettext tools). Needs GNU gettext.
mensajes: $(STAMP)
	cd comision_recompensa && DEBUG=true ../$(PY) ../manage.py makemessages -l es --no-location --no-obsolete -i "tests/*"
	DEBUG=true $(PY) manage.py compilemessages -l es -i .venv -i staticfiles

## A real Celery worker (needs REDIS_URL).
worker: $(STAMP)
	CELERY_DB_REUSE_MAX=1000 $(VENV)/bin/celery -A alpespartners worker -Q atribucion,pagos,webhooks,celery --loglevel=INFO

beat: $(STAMP)
	$(VENV)/bin/celery -A alpespartners beat --loglevel=INFO

## The flash-sale benchmark (needs DATABASE_URL and REDIS_URL); `make bench ARGS=--quick`.
bench: $(STAMP)
	$(PY) -m bench $(ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
