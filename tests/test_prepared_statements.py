"""`shopapi.db.prepared_statements`: what runs inside a block is prepared once per connection and
reused; outside it, and with the setting off, nothing is; a rollback inside one loses nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from shopapi.db import prepared_statements

PROBE = "SELECT %s::int + 1 AS shopapi_prepared_probe"


def _prepared() -> list[str]:
    """This connection's prepared statements that ran the probe (PostgreSQL's own view)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%_probe%"])
        return [row[0] for row in cursor.fetchall()]


def _probe(value: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(PROBE, [value])
        return int(cursor.fetchone()[0])


def _probe_then_fail() -> None:
    with transaction.atomic():
        _probe(1)
        raise RuntimeError("roll back")


pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]  # PostgreSQL's prepared statements


def test_a_statement_run_in_the_block_is_prepared_once_and_reused() -> None:
    # when: the same statement three times in one block, then again in another
    with prepared_statements():
        answers = [_probe(1), _probe(2), _probe(3)]
    with prepared_statements():
        answers.append(_probe(4))

    # then: right answers, one prepared statement (with server-side placeholders)
    assert answers == [2, 3, 4, 5]
    assert _prepared() == ["SELECT $1::int + 1 AS shopapi_prepared_probe"]


def test_outside_a_block_nothing_is_prepared_and_the_connection_is_as_it_was() -> None:
    # given
    connection.ensure_connection()
    raw = connection.connection
    before = raw.cursor_factory, raw.prepare_threshold

    # when: statements before, after and around a block (nested blocks too)
    _probe(1)
    with prepared_statements():
        with prepared_statements():
            pass
        inner_factory = raw.cursor_factory
    _probe(2)
    _probe(3)

    # then: only the block changed the cursors; nothing run outside it was prepared
    assert inner_factory is not before[0]
    assert (raw.cursor_factory, raw.prepare_threshold) == before
    assert _prepared() == []


def test_the_setting_off_prepares_nothing(settings: Any) -> None:
    # given
    settings.DATABASE_PREPARED_STATEMENTS = False

    # when
    with prepared_statements():
        answers = [_probe(1), _probe(1)]

    # then
    assert answers == [2, 2]
    assert _prepared() == []


def test_a_rollback_inside_a_block_leaves_later_statements_working() -> None:
    # given: a statement prepared inside a transaction that is rolled back (psycopg then forgets
    # every prepared statement of the connection)
    with prepared_statements():
        with pytest.raises(RuntimeError, match="roll back"):
            _probe_then_fail()

        # when: the same statement again
        answer = _probe(5)

    # then: it is prepared afresh and answers
    assert answer == 6
    assert _prepared() == ["SELECT $1::int + 1 AS shopapi_prepared_probe"]


def test_connections_not_reused_prepare_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a connection per request (CONN_MAX_AGE=0): preparing would only cost a round trip
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)

    # when
    with prepared_statements():
        answers = [_probe(1), _probe(1)]

    # then
    assert answers == [2, 2]
    assert _prepared() == []
