"""The outbox and what it delivers: endpoints, events, webhook deliveries and emails.

- `OutboxEvent` is the outbox row: written in the transaction of the change it reports (by the
  order hooks in `notifications.hooks`), so it commits or rolls back with it. Dispatching it makes
  one `WebhookDelivery` per subscribed endpoint and the buyer's `OutboundEmail`, each unique per
  event, so a dispatch that runs twice creates nothing twice.
- `OutboundEmail` rows are also written directly (account emails) in the request's transaction.
- Deliveries and emails are claimed by a worker with `SELECT … FOR UPDATE SKIP LOCKED` and kept
  locked while they are sent: two workers never send the same row at once, and a row that is
  `delivered`/`sent` is never sent again.
Nothing here is ever deleted by the application except by the retention purge of old deliveries.
"""

from __future__ import annotations

import uuid

from django.db import models


class WebhookEndpoint(models.Model):
    """An integrator's URL subscribed to some event types (empty list = every type)."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, blank=True, help_text="Empty: every event type.")
    active = models.BooleanField(default=True)
    # HMAC keys (`whsec_…`): kept readable, the signature needs them; shown to staff once.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set at the first failure after a success; the endpoint is disabled 24 h later.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=500, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class OutboxEvent(models.Model):
    """One event to tell the world about (`order.paid` …), written with the change it reports."""

    public_id = models.CharField(max_length=40, unique=True, editable=False)
    type = models.CharField(max_length=40)
    order = models.ForeignKey("checkout.Order", on_delete=models.PROTECT, related_name="outbox_events")
    # What the event is about beyond the order (a shipment's id for order.shipped).
    object_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set once the deliveries and emails exist; the sweep re-dispatches rows left without it.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # The exact bytes every endpoint receives (built once, at dispatch), so retries and resends
    # send the same body and signature input.
    body = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_undispatched_idx", condition=models.Q(dispatched_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"

    @staticmethod
    def new_public_id() -> str:
        return f"evt_{uuid.uuid4().hex}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event to one endpoint: attempted until a 2xx, or for 24 h, then `failed`."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True, default="")
    last_error = models.CharField(max_length=500, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_once_per_endpoint")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event.public_id} → {self.endpoint.url}"


class OutboundEmail(models.Model):
    """One email, rendered when the row is written; sent once by a job."""

    # An order email's event (unique with `kind`: one receipt per event); null for account emails.
    event = models.ForeignKey(
        OutboxEvent, on_delete=models.PROTECT, related_name="emails", null=True, blank=True
    )
    kind = models.CharField(max_length=40)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "kind"], name="email_once_per_event", condition=models.Q(event__isnull=False)
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="email_due_idx", condition=models.Q(status="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to}"
