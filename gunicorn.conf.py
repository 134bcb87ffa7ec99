"""Gunicorn settings for the container, every knob from the environment (see .env.example).

`gunicorn -c gunicorn.conf.py` serves shopapi.wsgi on 0.0.0.0:$PORT with gthread workers.
Gunicorn's own access log stays off: the app writes one JSON line per request with the
request id and user (shopapi.middleware), so enabling both would log every request twice.
Gunicorn's error log (boot, worker restarts, timeouts) goes to stdout, as JSON lines like the
app's unless LOG_FORMAT=plain.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:  # so the log config below can import shopapi.logging
    sys.path.insert(0, str(_HERE))


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


wsgi_app = "shopapi.wsgi:application"
bind = [f"0.0.0.0:{_int('PORT', 8000)}"]

# Processes x threads. Requests mostly wait on PostgreSQL and the payment provider, so threads pay
# off; each thread holds at most one database connection (CONN_MAX_AGE keeps it between requests).
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"
# A request slower than this kills its worker; payment provider calls time out well before (8 s).
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (a deploy, a scale-in) workers finish in-flight requests for this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak cannot grow without bound (0 turns it off).
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Heartbeat files on tmpfs: a container's overlay /tmp can stall workers under I/O pressure.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - tmpfs, not a temp file

# Long search + cursor URLs fit; gunicorn's ceiling (its default is 4094).
limit_request_line = 8190
# Peers whose X-Forwarded-* headers are trusted (the platform's proxy). "*" is right when only the
# proxy can reach the container, as on Render, Fly or behind a private load balancer. The app reads
# the same variable with the same default (settings.TRUSTED_PROXIES, shopapi/client_ip.py) for the
# client address behind throttles: one list for both.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

if os.environ.get("LOG_FORMAT", "json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "shopapi.logging.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": [], "propagate": False},
        },
    }
