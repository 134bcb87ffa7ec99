"""shopapi: a headless commerce API that never charges a customer twice."""

# The Celery app is loaded with Django, so `@shared_task`s bind to it (shopapi/celery.py).
from shopapi.celery import app as celery_app

__all__ = ["celery_app"]
