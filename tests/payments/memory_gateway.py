"""An in-memory payment provider for tests: a second `PaymentGateway`, with no network and no SDK.

It proves the boundary: checkout, settlement, reconciliation and webhook intake run unchanged on a
provider that is not Stripe. Tests set a session's state directly (`MemoryGateway.set_state`), and
its webhook is a JSON body `{"id", "type", "session_id"}` with the header `X-Memory-Signature: ok`.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from payments.interface import (
    CheckoutOptions,
    EventReferences,
    LineItem,
    Notification,
    PaymentSession,
    Refund,
    RefundStatus,
    SessionNotOpen,
    SessionState,
    WebhookSignatureInvalid,
)

PATH = "tests.payments.memory_gateway.MemoryGateway"


class MemoryGateway:
    slug = "memory"
    display_name = "Memory"
    signature_header = "X-Memory-Signature"
    session_id_name = "memory_session_id"
    payment_id_name = "memory_payment_id"

    sessions: ClassVar[dict[str, PaymentSession]] = {}
    created: ClassVar[list[str]] = []
    _lock = threading.Lock()

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.sessions.clear()
            cls.created.clear()

    @classmethod
    def set_state(cls, session_id: str, state: SessionState, **changes: Any) -> PaymentSession:
        with cls._lock:
            payment_id = f"pay_{session_id}" if state is SessionState.PAID else None
            session = dataclasses.replace(
                cls.sessions[session_id], state=state, payment_id=payment_id, **changes
            )
            cls.sessions[session_id] = session
            return session

    def session_lifetime(self, requested: timedelta) -> timedelta:
        return requested

    def minimum_charge(self, settlement_currency: str) -> int | None:
        return 50

    def session_create(
        self,
        *,
        order_ref: str,
        order_number: str,
        line_items: Sequence[LineItem],
        currency: str,
        customer_email: str | None,
        expires_at: datetime,
        idempotency_key: str,
        options: CheckoutOptions | None = None,
    ) -> PaymentSession:
        with self._lock:
            session_id = f"ms_{idempotency_key}"
            if session_id not in self.sessions:
                self.sessions[session_id] = PaymentSession(
                    id=session_id,
                    state=SessionState.OPEN,
                    amount_total=sum(line.unit_amount * line.quantity for line in line_items),
                    currency=currency,
                    order_ref=order_ref,
                    url=f"https://pay.example.com/{session_id}",
                    expires_at=expires_at,
                )
                self.created.append(session_id)
            return self.sessions[session_id]

    def session_retrieve(self, *, session_id: str) -> PaymentSession:
        return self.sessions[session_id]

    def session_expire(self, *, session_id: str) -> PaymentSession:
        with self._lock:
            session = self.sessions[session_id]
            if session.state is not SessionState.OPEN:
                raise SessionNotOpen(session_id)
            self.sessions[session_id] = dataclasses.replace(session, state=SessionState.EXPIRED)
            return self.sessions[session_id]

    def refund_create(
        self, *, payment_id: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> Refund:
        return Refund(
            id=f"re_{idempotency_key}",
            status=RefundStatus.SUCCEEDED,
            amount=amount,
            currency="",
            payment_id=payment_id,
        )

    def refunds_list(self, *, payment_id: str) -> list[Refund]:
        return []

    def webhook_parse(self, *, payload: bytes, headers: Mapping[str, str]) -> Notification:
        if headers.get(self.signature_header) != "ok":
            raise WebhookSignatureInvalid("Missing or wrong X-Memory-Signature.")
        event = json.loads(payload)
        return Notification(
            event_id=event["id"],
            type=event["type"],
            payload=event,
            session=self.sessions[event["session_id"]],
        )

    def event_references(self, payload: Mapping[str, Any]) -> EventReferences:
        session = self.sessions.get(str(payload.get("session_id")))
        return EventReferences(
            session.order_ref if session else None, session.payment_id if session else None
        )
