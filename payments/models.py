"""Provider events: every webhook delivery the payment provider made, recorded once.

`ProviderEvent.event_id` is unique, so a replayed webhook hits the constraint and changes nothing.
Rows are never deleted (shopapi/managers.py): they are the audit trail of what the provider said.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models

from shopapi.managers import NonDeletableManager, deletion_refused


class ProviderEvent(models.Model):
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=120)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = NonDeletableManager()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        deletion_refused(type(self), [self])
