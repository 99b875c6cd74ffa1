# celerylab. The README's two commands are scripts/up.sh and scripts/test.sh (no make needed
# on a fresh host); these targets are shortcuts to them and to everyday tasks.
SHELL := /bin/bash

.PHONY: help up down backup images test test-unit test-course test-deploy course-build course-check lint venv lock roster courses bench docs

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

up:  ## install Docker if missing, build images, generate secrets, start the stack
	scripts/up.sh

down:  ## stop the stack (labs and volumes are kept)
	docker compose down

backup:  ## snapshot every volume and .env into ./backups (scripts/backup.sh; restore: README)
	scripts/backup.sh run

images:  ## build the hub and lab images
	scripts/bootstrap-docker.sh
	scripts/images.sh

venv:  ## the project's Python environment (locked)
	scripts/venv.sh

test:  ## everything: lint, unit, course content, live stack, browser
	scripts/test.sh

test-unit: venv  ## fast tests only (no Docker)
	.venv/bin/pytest tests

test-course: venv  ## the course content's tests (real Redis and workers; no Docker)
	.venv/bin/pytest tests/course -m "not slow"

course-build: venv  ## regenerate source/ and release/ from course/ (commit all three)
	.venv/bin/celerylab-course build

course-check: venv  ## conformance report; fails on drift of release/ or leaked answers
	bash .ci/course-checks.sh

docs: venv  ## the course site (docs/): warnings are errors, internal links checked
	scripts/docs.sh

test-deploy:  ## the Ansible deployment's tests alone (root; 6-10 min; scripts/test.sh runs them last)
	deploy/tests/run.sh

lint: venv  ## ruff over the whole repository
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

lock:  ## re-resolve the pinned requirements of the venv and both images
	uv pip compile -q --no-header --python-version 3.11 requirements/dev.in -o requirements/dev.txt
	for d in images/hub images/lab; do \
	  (cd $$d && uv pip compile -q --no-header --python-version 3.11 \
	     --python-platform x86_64-manylinux_2_36 requirements.in -o requirements.txt); done

roster:  ## import students: make roster ROSTER=students.csv (new passwords: credentials/)
	@test -n "$(ROSTER)" || { echo "usage: make roster ROSTER=students.csv" >&2; exit 2; }
	scripts/roster-import.sh "$(ROSTER)"

courses:  ## sync course/courses/ with the hub (restarts it for a new course); passwords: credentials/
	scripts/courses-sync.sh

bench:  ## the benchmarks (long; not part of the tests)
	scripts/venv.sh
	.venv/bin/python benchmarks/spawn.py
