# celerylab: `make up` brings the platform up; `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: up down images test test-unit test-integration lint venv lock roster bench help

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

up:  ## install Docker if missing, build images, generate secrets, start the stack
	scripts/up.sh

down:  ## stop the stack (labs and volumes are kept)
	docker compose down

images:  ## build the hub and lab images
	scripts/bootstrap-docker.sh
	. scripts/env.sh && docker compose --profile images build --quiet

venv: $(VENV)/.installed  ## the project's Python environment (locked)
$(VENV)/.installed: requirements/dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(PY) -q -r requirements/dev.txt
	touch $@

lock:  ## re-resolve the pinned requirements of the venv and both images
	uv pip compile -q --no-header --python-version 3.11 requirements/dev.in -o requirements/dev.txt
	for d in images/hub images/lab; do \
	  (cd $$d && uv pip compile -q --no-header --python-version 3.11 \
	     --python-platform x86_64-manylinux_2_36 requirements.in -o requirements.txt); done

lint: venv  ## ruff over the whole repository
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: venv images  ## everything: lint, unit, course, live stack, browser
	scripts/test-deps.sh
	$(MAKE) lint
	$(VENV)/bin/pytest

test-unit: venv  ## fast tests only (no Docker)
	$(VENV)/bin/pytest tests

roster:  ## import students: make roster ROSTER=students.csv (prints initial passwords)
	@test -n "$(ROSTER)" || { echo "usage: make roster ROSTER=students.csv" >&2; exit 2; }
	docker compose exec -T hub celerylab roster import - < "$(ROSTER)"

bench:  ## the benchmarks (long; not part of make test)
	$(PY) benchmarks/spawn.py
