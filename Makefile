# Every target bootstraps .venv itself, so `make generate` and `make test` work on a fresh clone.
PYTHON ?= python3
# pytest-xdist workers for make test (each starts its own embedded PostgreSQL); JOBS=0 runs in one process.
# One process on a server given by PGSPEC_TEST_DSN: roles are cluster-wide, so workers sharing it would collide.
JOBS   ?= $(if $(PGSPEC_TEST_DSN),0,auto)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
EXAMPLES := $(wildcard examples/*/spec)

.PHONY: generate check test test-live lint docs bench bench-smoke bench-rls bench-rls-design bench-tools bench-scale bench-peers mutation mutation-smoke clean help migration

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

generate: $(STAMP)  ## validate spec/ (PostgreSQL judging, see README), write output/ and docs/schema/ (and each example's output/)
	$(PY) -m generator generate
	$(PY) -m generator schema --write generator/spec.schema.json
	$(PY) -m generator docs --out docs/schema
	@for d in $(EXAMPLES); do $(PY) -m generator generate --spec $$d --out $${d%/spec}/output || exit $$?; done

check: $(STAMP)  ## validate spec/, verify the SQL, have PostgreSQL judge it (embedded, started on demand), fail if output/ or docs/schema/ is stale
	$(PY) -m generator check --docs docs/schema
	@for d in $(EXAMPLES); do $(PY) -m generator check --spec $$d --out $${d%/spec}/output || exit $$?; done

# The tests keep bytecode between runs, outside the tree (.venv/pycache), even where the environment sets
# PYTHONDONTWRITEBYTECODE (some CI images do): else each of the suite's `python -m generator` processes and each
# worker compiles the package and the tests again.
TEST_ENV := PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache

test: $(STAMP)  ## all tests, against an embedded PostgreSQL 18 the suite starts (or $$PGSPEC_TEST_DSN)
	$(TEST_ENV) $(PY) -m pytest -n $(JOBS) --dist loadgroup

test-live: $(STAMP)  ## only the tests that need a database
	$(TEST_ENV) $(PY) -m pytest -m live -n $(JOBS) --dist loadgroup

lint: $(STAMP)  ## ruff and mypy over the code
	$(PY) -m ruff check generator tests bench
	$(PY) -m mypy

migration: $(STAMP)  ## write migrations/NNNN_$$NAME.sql and .down.sql from the YAML changes since $$FROM (default HEAD)
	@test -n "$(NAME)" || { echo "usage: make migration NAME=what_it_does [FROM=git-rev-or-dir] [ALLOW=data-loss]" >&2; exit 2; }
	$(PY) -m generator migration $(NAME) --from $(or $(FROM),HEAD) $(if $(ALLOW),--allow-hazard $(ALLOW))

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants

docs: $(STAMP)  ## refresh the README's generated sections (YAML key reference, access matrix) and docs/cli.md
	$(PY) -m generator docs --readme README.md --cli docs/cli.md

bench: $(STAMP)  ## SPEC-131 under load, 1,000,000 tickets, beside the seed's SQL (long: ~15 min); bench/RESULTS.md, bench/plans/
	$(PY) bench/load.py

bench-smoke: $(STAMP)  ## the same at a small scale (under a minute): prints its ratios, writes nothing, fails only on errors
	$(PY) bench/load.py --smoke

bench-rls: $(STAMP)  ## RLS overhead on 50,000 tickets, with the unwrapped auth.uid() variant; bench/RESULTS.md
	$(PY) bench/rls_overhead.py

bench-rls-design: $(STAMP)  ## staff as support_staff vs the shared authenticated role, same data, 200,000 tickets (~3 min); bench/RESULTS.md
	$(PY) bench/rls_design.py --scale 0.2

mutation: $(STAMP)  ## mutmut over the pure modules (long: run it on a quiet machine); bench/mutation/, bench/RESULTS.md
	$(PY) -m pip install --quiet --disable-pip-version-check 'mutmut==3.8.1'
	$(PY) bench/mutation.py

mutation-smoke: $(STAMP)  ## a small mutmut sample (access.resolve_path's mutants); writes nothing
	$(PY) -m pip install --quiet --disable-pip-version-check 'mutmut==3.8.1'
	$(PY) bench/mutation.py --smoke 'generator.access.x_resolve_path*'

bench-scale: $(STAMP)  ## generate/check/lint/plan on synthetic specs of 10-3,000 tables (minutes); bench/RESULTS.md, bench/scale.png
	$(PY) bench/scale.py

bench-peers: $(STAMP)  ## our plan beside pg-delta and migra (installed into bench/.peers/ on first use) on SPEC-131 and 1,000 tables; bench/RESULTS.md, bench/peers.json
	$(PY) bench/plan_peers.py

bench-tools: $(STAMP)  ## the tool's time budgets (lint, introspection), formerly asserted in tests; bench/TIMINGS.md
	$(PY) bench/tool_timings.py
