# shopapi — the two commands: `make run` and `make test`. Everything installs into .venv.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
FAKESTRIPE_PORT ?= 12111
DEV_WEBHOOK_SECRET := whsec_local_development_only

.PHONY: run test lint fmt hooks schema schema-check clients contract install install-dev clean bench bench-idempotency stripe-smoke

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Local development: SQLite, DEBUG on, fakestripe unless STRIPE_SECRET_KEY is set.
run: install-dev
	@set -euo pipefail; \
	export DEBUG=$${DEBUG:-1}; \
	if [ -z "$${STRIPE_SECRET_KEY:-}" ]; then \
	  export STRIPE_SECRET_KEY=sk_test_local_fakestripe STRIPE_WEBHOOK_SECRET=$(DEV_WEBHOOK_SECRET); \
	  export STRIPE_API_BASE=http://127.0.0.1:$(FAKESTRIPE_PORT); \
	  $(PY) -m fakestripe --host 127.0.0.1 --port $(FAKESTRIPE_PORT) \
	    --webhook-url http://$(HOST):$(PORT)/api/v1/payments/stripe/webhook/ \
	    --webhook-secret $(DEV_WEBHOOK_SECRET) & \
	  fs_pid=$$!; trap 'kill $$fs_pid 2>/dev/null' EXIT INT TERM; \
	  echo "fakestripe (local Stripe stand-in): http://127.0.0.1:$(FAKESTRIPE_PORT)"; \
	else \
	  echo "Using real Stripe (test mode keys from STRIPE_SECRET_KEY)."; \
	fi; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py seed_demo; \
	echo "API:     http://$(HOST):$(PORT)/api/v1/"; \
	echo "Docs:    http://$(HOST):$(PORT)/api/v1/docs/"; \
	echo "Admin:   http://$(HOST):$(PORT)/admin/"; \
	echo "Health:  http://$(HOST):$(PORT)/healthz"; \
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload

# Branch coverage of the project (pyproject.toml [tool.coverage]), then each of checkout/, payments/
# and catalog/ must reach 90 % on its own (scripts/coverage_gate.py).
test: install-dev
	$(PY) -m pytest --cov --cov-report=term-missing:skip-covered $(PYTEST_ARGS)
	$(PY) scripts/coverage_gate.py

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	SECRET_KEY=lint $(VENV)/bin/mypy .
	SECRET_KEY=lint $(PY) manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory schema-check

# Run ruff and ruff format on every commit (.pre-commit-config.yaml).
hooks: install-dev
	$(VENV)/bin/pre-commit install

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate the committed OpenAPI schema.
schema: install-dev
	SECRET_KEY=schema $(PY) manage.py spectacular --file schema.yml --validate --fail-on-warn

schema-check: install-dev
	@tmp=$$(mktemp); \
	SECRET_KEY=schema $(PY) manage.py spectacular --file $$tmp --validate --fail-on-warn || exit 1; \
	if ! diff -u schema.yml $$tmp; then echo "schema.yml is stale: run 'make schema' and commit it." >&2; rm -f $$tmp; exit 1; fi; \
	rm -f $$tmp; echo "schema.yml is up to date."

# Benchmarks (docs/benchmarks.md): own database, gunicorn, fakestripe and wrk on loopback; prints a
# table. BENCH_ARGS e.g. "--quick", "--products 200000", "--workers 4", "--keep-db".
bench: install-dev
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)
	$(PIP) install --quiet -r bench/requirements.txt
	$(PY) -m bench.run $(BENCH_ARGS)

# What Idempotency-Key costs a write, in-process: p50 with and without it (bench/idempotency.py; own
# database shopapi_bench_idempotency). BENCH_ARGS e.g. "--rounds 1000".
bench-idempotency: install-dev
	$(PY) -m bench.idempotency $(BENCH_ARGS)

# Generate clients from schema.yml as integrators do: Python (openapi-python-client) and
# TypeScript types (openapi-typescript, from the npm registry). Output in build/clients/.
OPENAPI_TYPESCRIPT := openapi-typescript@7.13.0
TYPESCRIPT := typescript@5.9.3
clients: install-dev
	rm -rf build/clients && mkdir -p build/clients
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/openapi-python-client generate \
	  --path schema.yml --meta none --output-path build/clients/shopapi_client
	npx --yes $(OPENAPI_TYPESCRIPT) schema.yml --output build/clients/shopapi.d.ts
	npx --yes -p $(TYPESCRIPT) tsc --noEmit --strict build/clients/shopapi.d.ts
	@echo "clients: build/clients/shopapi_client (Python), build/clients/shopapi.d.ts (TypeScript)"

# Schemathesis over every operation against a live gunicorn + fakestripe (uses DATABASE_URL).
contract: install-dev
	$(PY) scripts/contract_test.py $(CONTRACT_ARGS)

# Real Stripe (test mode) vs fakestripe, one table of what each answered (README "Stripe smoke
# test"). Skips (exit 0) without an sk_test_ key or without api.stripe.com; exit 1 on any drift.
# STRIPE_SMOKE_ARGS e.g. "--fakestripe-only", "--currency usd".
stripe-smoke: install-dev
	$(PY) scripts/stripe_smoke.py $(STRIPE_SMOKE_ARGS)

clean:
	rm -rf $(VENV) build staticfiles .pytest_cache .mypy_cache .ruff_cache
