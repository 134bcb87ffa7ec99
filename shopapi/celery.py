"""The Celery application: `celery -A shopapi worker` and `celery -A shopapi beat`.

Configuration comes from the Django settings (`CELERY_*`, shopapi/settings_jobs.py); tasks are the
`tasks` modules of the installed apps (notifications/tasks.py).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopapi.settings")

app = Celery("shopapi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
