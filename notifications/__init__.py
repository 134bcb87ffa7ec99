"""Notifications: the transactional outbox, outbound signed webhooks, buyer emails, Celery jobs."""
