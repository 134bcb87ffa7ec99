# shopapi production image: gunicorn serving shopapi.wsgi, WhiteNoise serving static files.
#   build:    docker build -t shopapi .
#   release:  docker run --rm --env-file .env shopapi python manage.py migrate --noinput
#   serve:    docker run --rm --env-file .env -p 8000:8000 shopapi
#   worker:   docker run --rm --env-file .env shopapi celery -A shopapi worker --loglevel=INFO
#   beat:     docker run --rm --env-file .env shopapi celery -A shopapi beat --loglevel=INFO --schedule=/tmp/celerybeat-schedule
#   (worker and beat need REDIS_URL; run exactly one beat, several workers are fine)
# Runtime dependencies only (requirements.txt); fakestripe, tests and dev tools stay out (.dockerignore).

# --- build: a virtualenv with the pinned runtime dependencies ------------------------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# Bytecode is compiled here (workers boot faster); pip itself is not needed at runtime.
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools

# --- runtime --------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Code and static files stay owned by root: the app user can read them, not change them.
COPY . .
# Hashed, compressed static files for WhiteNoise (admin, Swagger UI, ReDoc). collectstatic needs a
# SECRET_KEY to import settings: a throwaway value for this one command, never in the image's ENV.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput --verbosity 0 \
    && python -m compileall -q -j 0 /app

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["/app/bin/docker-entrypoint.sh"]
CMD ["gunicorn", "--config", "/app/gunicorn.conf.py"]
