"""Idempotency key writes: claim a key before the view runs, keep or release its answer, purge.

Every statement here runs outside any transaction of the view, in autocommit: the middleware calls
these around the whole view, and ATOMIC_REQUESTS (off in this project) would wrap only the view.
`idempotency_key_claim`'s insert is a transaction of its own, so the row is visible to every other
server process the moment it is inserted, and a lost insert leaves nothing behind.

Who runs is decided by the unique constraint on (scope, key), never by a read first: the loser of
the insert reads the winner's row and answers from it. Every later change of a row is a
conditional UPDATE/DELETE on the lock it was claimed with, so a request whose lock was taken over
(it outlived IDEMPOTENCY_LOCK_TIMEOUT_SECONDS) can no longer write.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from idempotency.models import IdempotencyKey

logger = logging.getLogger(__name__)

# A claim that keeps meeting a row that disappears (released or purged between the insert and the
# read) gives up and answers "in progress" rather than loop.
_CLAIM_ATTEMPTS = 3


class Verdict(enum.Enum):
    RUN = "run"  # the key is ours: run the view, then complete or release
    REPLAY = "replay"  # answered before: send that answer again
    IN_PROGRESS = "in_progress"  # another request with this key is running now
    REUSED = "reused"  # the key was used for another request (method, path or body)


@dataclass(frozen=True)
class Claim:
    verdict: Verdict
    # REPLAY: the row holding the answer; REUSED, IN_PROGRESS: the row found (if still there).
    record: IdempotencyKey | None = None
    # RUN: the lock the row was claimed with, to complete or release it.
    lock: uuid.UUID | None = None


def ttl() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)


def lock_timeout() -> timedelta:
    return timedelta(seconds=settings.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS)


_FIELDS = {field.name: field for field in IdempotencyKey._meta.concrete_fields}


@cache
def _sql(template: str) -> str:
    """`template` with `{table}` and `{<field>}` replaced by the quoted table and column names."""
    quote = transaction.get_connection().ops.quote_name
    columns = {name: quote(field.column) for name, field in _FIELDS.items()}
    return template.format(table=quote(IdempotencyKey._meta.db_table), **columns)


def _params(*values: tuple[str, object]) -> list[Any]:
    """(field, value) pairs adapted for the database, as the ORM would."""
    connection = transaction.get_connection()
    return [_FIELDS[name].get_db_prep_save(value, connection) for name, value in values]


def _execute(sql: str, params: list[Any]) -> int:
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _insert(*, scope: str, key: str, fingerprint: str, lock: uuid.UUID, now: datetime) -> bool:
    """Insert the in-progress row, committed: True, or False when (scope, key) exists (IntegrityError).

    Serving a request, the connection is in autocommit (the middleware runs outside the view's
    transaction), so the INSERT is a transaction of its own, committed when it returns: one round
    trip. Inside a transaction (a test's) it needs a savepoint to survive a lost insert; `durable`
    makes that an error anywhere but in a test, so the row can never silently become part of
    someone else's transaction. One plain statement rather than `objects.create()`: this runs on
    every request with the header, and the ORM's insert machinery costs as much as the round trip.
    """
    sql = _sql(
        "INSERT INTO {table} ({scope}, {key}, {fingerprint}, {lock}, {locked_at}, {response_headers}, "
        "{response_body}, {created_at}, {updated_at}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    params = _params(
        ("scope", scope),
        ("key", key),
        ("fingerprint", fingerprint),
        ("lock", lock),
        ("locked_at", now),
        ("response_headers", []),
        ("response_body", b""),
        ("created_at", now),
        ("updated_at", now),
    )
    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic(durable=True) if in_transaction else contextlib.nullcontext():
            _execute(sql, params)
    except IntegrityError:
        return False
    return True


def _take_over(
    row: IdempotencyKey, *, fingerprint: str, lock: uuid.UUID, now: datetime, restart: bool
) -> bool:
    """Lock `row` for a new run if nobody changed it since it was read; `restart` resets its TTL."""
    changes: dict[str, object] = {
        "fingerprint": fingerprint,
        "lock": lock,
        "locked_at": now,
        "status_code": None,
        "response_headers": [],
        "response_body": b"",
        "updated_at": now,
    }
    if restart:
        changes["created_at"] = now
    return (
        IdempotencyKey.objects.filter(
            pk=row.pk, lock=row.lock, status_code=row.status_code, created_at=row.created_at
        ).update(**changes)
        == 1
    )


def idempotency_key_claim(*, scope: str, key: str, fingerprint: str) -> Claim:
    """Insert the key's row, or say what the existing one means for this request."""
    for _ in range(_CLAIM_ATTEMPTS):
        now = timezone.now()
        lock = uuid.uuid4()
        if _insert(scope=scope, key=key, fingerprint=fingerprint, lock=lock, now=now):
            return Claim(Verdict.RUN, lock=lock)
        row = IdempotencyKey.objects.filter(scope=scope, key=key).order_by().first()
        if row is None:
            continue  # released (a 5xx) or purged since the insert failed: try the insert again
        if row.created_at <= now - ttl():
            # Expired: the key is new again, whatever it was used for.
            if _take_over(row, fingerprint=fingerprint, lock=lock, now=now, restart=True):
                return Claim(Verdict.RUN, lock=lock)
            continue
        if row.fingerprint != fingerprint:
            return Claim(Verdict.REUSED, row)
        if not row.in_progress:
            return Claim(Verdict.REPLAY, row)
        if row.locked_at is not None and row.locked_at <= now - lock_timeout():
            # Its process died (or outlived every timeout) without completing or releasing it.
            if _take_over(row, fingerprint=fingerprint, lock=lock, now=now, restart=False):
                logger.warning("idempotency key of %s taken over after its lock timed out", scope)
                return Claim(Verdict.RUN, lock=lock)
            continue
        return Claim(Verdict.IN_PROGRESS, row)
    return Claim(Verdict.IN_PROGRESS)


def idempotency_key_complete(
    *, scope: str, key: str, lock: uuid.UUID, status_code: int, headers: list[list[str]], body: bytes
) -> bool:
    """Keep the answer; False when the lock was taken over meanwhile (the other run's answer wins).

    One plain UPDATE through the unique index, like the insert: it runs on every claimed request.
    """
    sql = _sql(
        "UPDATE {table} SET {lock} = NULL, {locked_at} = NULL, {status_code} = %s, "
        "{response_headers} = %s, {response_body} = %s, {updated_at} = %s "
        "WHERE {scope} = %s AND {key} = %s AND {lock} = %s"
    )
    params = _params(
        ("status_code", status_code),
        ("response_headers", headers),
        ("response_body", body),
        ("updated_at", timezone.now()),
        ("scope", scope),
        ("key", key),
        ("lock", lock),
    )
    return _execute(sql, params) == 1


def idempotency_key_release(*, scope: str, key: str, lock: uuid.UUID) -> None:
    """Forget the key (no answer worth keeping): the next request with it runs again."""
    IdempotencyKey.objects.filter(scope=scope, key=key, lock=lock).delete()


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete every row older than IDEMPOTENCY_TTL_HOURS; how many were deleted."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
