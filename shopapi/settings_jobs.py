"""Background jobs (Celery), the outbox and outbound webhooks.

With `REDIS_URL` set, jobs go to Celery on Redis and run in `celery -A shopapi worker`; periodic
jobs are scheduled by `celery -A shopapi beat`. Without it (`make run`, tests), every job runs in
the web process right after the commit that enqueued it (Celery's eager mode), so the key-less
local stack still sends its console emails and webhooks.
"""

from datetime import timedelta

from shopapi.settings_env import env

_REDIS_URL = env.str("REDIS_URL", default="")

CELERY_BROKER_URL = _REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not _REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A job is acknowledged when it has run, so a worker killed mid-job leaves it to another worker
# (every job is idempotent by row id); one job at a time per process.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request must not hang on a broker that is down: publishing gives up fast, the row stays in
# the outbox and the sweep enqueues it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# Redis redelivers a job not acknowledged within this time: longer than any job takes.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

OUTBOX_SWEEP_SECONDS = env.int("OUTBOX_SWEEP_SECONDS", default=30)
RECONCILE_EVERY_MINUTES = env.int("RECONCILE_EVERY_MINUTES", default=5)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "notifications.outbox_sweep",
        "schedule": timedelta(seconds=OUTBOX_SWEEP_SECONDS),
    },
    "reconcile-payments": {
        "task": "notifications.reconcile_payments",
        "schedule": timedelta(minutes=RECONCILE_EVERY_MINUTES),
    },
    "purge": {"task": "notifications.purge", "schedule": timedelta(hours=1)},
}

# Outbound webhooks: refuse private, loopback and link-local targets unless allowed (tests, a
# receiver on the same network on purpose); never follow redirects.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Retries: exponential backoff from this base, with jitter, for WEBHOOK_RETRY_HOURS, then failed.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_HOURS = env.float("WEBHOOK_RETRY_HOURS", default=24.0)
# Deliveries (and sent emails) older than this are purged.
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=30)
# The shop's name in buyer emails.
SHOP_NAME = env.str("SHOP_NAME", default="shopapi")
