#!/bin/sh
# Container entrypoint: optionally apply migrations, then exec the command (gunicorn by default).
# Migrations are a release step, run once per deploy (`python manage.py migrate --noinput` as the
# platform's release/pre-deploy command). RUN_MIGRATIONS=1 runs them here instead, for a single
# instance or a local stack; with several instances starting at once, keep it off.
set -eu

if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
    echo "docker-entrypoint: RUN_MIGRATIONS=1, applying migrations" >&2
    python manage.py migrate --noinput
fi

exec "$@"
