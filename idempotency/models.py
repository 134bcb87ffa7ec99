"""Idempotency keys: one row per (caller scope, key), the first answer kept for a day.

A row is inserted before the view runs (`lock` set, `status_code` empty: in progress); the unique
constraint on (scope, key) decides which of two simultaneous requests runs. When the view answers,
the row keeps the answer (status, the headers that matter, body) and drops its lock; a 5xx answer
deletes the row instead, so a retry runs again. Rows older than IDEMPOTENCY_TTL_HOURS are ignored
and purged (`manage.py purge_idempotency_keys`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class IdempotencyKey(models.Model):
    # `user:<id>`, `cart:<sha256 of the guest cart token>` or `address:<ip>` (idempotency/keys.py).
    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    # sha256 of method, path with query string, and body.
    fingerprint = models.CharField(max_length=64)
    # Set while a request runs under the key: whoever holds it may complete or release the row.
    lock = models.UUIDField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    # The first completed answer: empty while in progress.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # [[name, value], ...] of the headers kept (idempotency/middleware.py KEPT_HEADERS).
    response_headers = models.JSONField(default=list, blank=True)
    response_body = models.BinaryField(default=b"", blank=True)
    # When the key was first used; the TTL counts from here. Set by us: an expired key taken over
    # starts again.
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique_per_scope"),
            models.CheckConstraint(
                condition=(
                    Q(lock__isnull=False, locked_at__isnull=False, status_code__isnull=True)
                    | Q(lock__isnull=True, status_code__gte=100, status_code__lt=600)
                ),
                name="idempotency_key_in_progress_or_answered",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"

    @property
    def in_progress(self) -> bool:
        return self.status_code is None
