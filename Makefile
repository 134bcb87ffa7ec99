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
STOREFRONT_DEPS := storefront/node_modules/.package-lock.json

.PHONY: run test lint fmt hooks schema schema-check clients contract install install-dev clean bench bench-idempotency bench-outbox stripe-smoke
.PHONY: storefront storefront-build storefront-check storefront-test schema-lint

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
# HOST=0.0.0.0 serves the LAN too (phones, emulators: README "Mobile apps"): the LAN address and
# 10.0.2.2 are allowed hosts, and links handed to browsers (storefront, payment page) use the LAN address.
run: install-dev
	@set -euo pipefail; \
	export DEBUG=$${DEBUG:-1}; \
	public=$(HOST); \
	if [ "$(HOST)" = "0.0.0.0" ]; then \
	  public=$$(hostname -I 2>/dev/null | awk '{print $$1}'); public=$${public:-127.0.0.1}; \
	  export DEV_PUBLIC_HOSTS=$$public,10.0.2.2; \
	fi; \
	export STOREFRONT_URL=$${STOREFRONT_URL:-http://$$public:$(PORT)}; \
	if [ -z "$${STRIPE_SECRET_KEY:-}" ]; then \
	  export STRIPE_SECRET_KEY=sk_test_local_fakestripe STRIPE_WEBHOOK_SECRET=$(DEV_WEBHOOK_SECRET); \
	  export STRIPE_API_BASE=http://127.0.0.1:$(FAKESTRIPE_PORT); \
	  $(PY) -m fakestripe --host $(HOST) --port $(FAKESTRIPE_PORT) \
	    --public-url http://$$public:$(FAKESTRIPE_PORT) \
	    --webhook-url http://127.0.0.1:$(PORT)/api/v1/payments/stripe/webhook/ \
	    --webhook-secret $(DEV_WEBHOOK_SECRET) & \
	  fs_pid=$$!; trap 'kill $$fs_pid 2>/dev/null' EXIT INT TERM; \
	  echo "fakestripe (local Stripe stand-in): http://$$public:$(FAKESTRIPE_PORT)"; \
	else \
	  echo "Using real Stripe (test mode keys from STRIPE_SECRET_KEY)."; \
	fi; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py seed_demo; \
	echo "Shop:    $$STOREFRONT_URL/"; \
	echo "API:     $$STOREFRONT_URL/api/v1/"; \
	echo "Docs:    $$STOREFRONT_URL/api/v1/docs/"; \
	echo "Admin:   $$STOREFRONT_URL/admin/"; \
	echo "Health:  $$STOREFRONT_URL/healthz"; \
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
	$(MAKE) --no-print-directory schema-lint

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

# Redocly's recommended rules on schema.yml (redocly.yaml turns off only the trailing-slash rule).
REDOCLY := @redocly/cli@2.77.0
schema-lint:
	npx --yes $(REDOCLY) lint schema.yml --config redocly.yaml --format=summary

# Benchmarks (docs/benchmarks.md): own database, gunicorn, fakestripe and wrk on loopback; prints a
# table, then the outbox figures (bench/outbox.py). BENCH_ARGS (bench.run only) e.g. "--quick", "--keep-db".
bench: install-dev
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)
	$(PIP) install --quiet -r bench/requirements.txt
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.outbox --rounds 200 --events 1000

# What Idempotency-Key costs a write, in-process: p50 with and without it (bench/idempotency.py; own
# database shopapi_bench_idempotency). BENCH_ARGS e.g. "--rounds 1000".
bench-idempotency: install-dev
	$(PY) -m bench.idempotency $(BENCH_ARGS)

# Outbox throughput (deliveries/s to a local receiver, real Celery workers on Redis DB 14) and what
# the outbox adds to a paid transition (bench/outbox.py; own database shopapi_bench_outbox).
# BENCH_ARGS e.g. "--events 5000 --workers 2".
bench-outbox: install-dev
	$(PY) -m bench.outbox $(BENCH_ARGS)

# Generate clients from schema.yml as integrators do: Python (openapi-python-client) and
# TypeScript types (openapi-typescript, from the npm registry). Output in build/clients/.
OPENAPI_TYPESCRIPT := openapi-typescript@7.13.0
TYPESCRIPT := typescript@5.9.3
clients: install-dev $(STOREFRONT_DEPS)
	rm -rf build/clients && mkdir -p build/clients
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/openapi-python-client generate \
	  --path schema.yml --meta none --output-path build/clients/shopapi_client
	npx --yes $(OPENAPI_TYPESCRIPT) schema.yml --output build/clients/shopapi.d.ts
	npx --yes -p $(TYPESCRIPT) tsc --noEmit --strict build/clients/shopapi.d.ts
	cd storefront && npx --no-install openapi-typescript ../schema.yml --output src/api/schema.d.ts \
	  && npx --no-install tsc --noEmit --strict -p .
	@echo "clients: build/clients/shopapi_client (Python), build/clients/shopapi.d.ts (TypeScript)," \
	  "storefront/src/api/schema.d.ts (the storefront's, committed)"

# The example storefront (storefront/, README "Storefront"). npm ci from the committed lockfile;
# `make storefront` is Vite's dev server on :5173 proxying /api to `make run`'s server.
$(STOREFRONT_DEPS): storefront/package-lock.json
	cd storefront && npm ci --no-audit --no-fund --loglevel=error

storefront: $(STOREFRONT_DEPS)
	cd storefront && SHOPAPI_URL=http://127.0.0.1:$(PORT) HOST=$(HOST) npx --no-install vite

# Rebuild the committed storefront/dist that `make run` serves at / (commit the result).
storefront-build: $(STOREFRONT_DEPS)
	cd storefront && npx --no-install tsc --noEmit --strict -p . && npx --no-install vite build

# CI: the committed client types match schema.yml, the storefront type-checks, and the committed
# build is what its sources build to.
storefront-check: $(STOREFRONT_DEPS)
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; cd storefront; \
	npx --no-install openapi-typescript ../schema.yml --output $$tmp/schema.d.ts >/dev/null; \
	if ! diff -u src/api/schema.d.ts $$tmp/schema.d.ts; then \
	  echo "storefront/src/api/schema.d.ts differs from schema.yml: run 'make clients' and commit it." >&2; exit 1; fi; \
	npx --no-install tsc --noEmit --strict -p .; \
	npx --no-install vite build --outDir $$tmp/dist --emptyOutDir --logLevel warn; \
	if ! diff -r dist $$tmp/dist; then \
	  echo "storefront/dist is stale: run 'make storefront-build' and commit it." >&2; exit 1; fi; \
	echo "storefront: types match schema.yml, strict type-check clean, dist up to date."

# Playwright on Debian's chromium (installed here with apt; never a browser download) against a
# fresh database, fakestripe and gunicorn (scripts/storefront_test.py); screenshots to docs/storefront/.
storefront-test: install-dev storefront-check
	@command -v chromium >/dev/null 2>&1 || apt-get install -y chromium || (apt-get update && apt-get install -y chromium)
	$(PY) scripts/storefront_test.py $(STOREFRONT_TEST_ARGS)

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
