"""Structured logs: one JSON access line per request, the request id, probes, no secrets."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest
from django.test import RequestFactory
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from shopapi.logging import REDACTED, JsonFormatter, request_id_var
from shopapi.middleware import REQUEST_ID_HEADER

HEX32 = re.compile(r"[0-9a-f]{32}")
ReadLog = Callable[[], list[dict]]  # what the log_lines fixture gives: the JSON lines written so far


@pytest.fixture
def log_lines() -> Iterator[ReadLog]:
    """What the configured console handler (settings.LOGGING) writes, parsed line by line."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    assert isinstance(handler, logging.StreamHandler)
    assert isinstance(handler.formatter, JsonFormatter), "LOG_FORMAT defaults to json when DEBUG is off"
    buffer = io.StringIO()
    previous = handler.setStream(buffer)

    def read() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    try:
        yield read
    finally:
        handler.setStream(previous)


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "shopapi.request"]


@pytest.mark.django_db
def test_incoming_request_id_is_echoed_and_logged(api_client: APIClient, log_lines: ReadLog) -> None:
    # given
    incoming = "req-2024.06_ABC"

    # when
    response = api_client.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID=incoming)

    # then
    assert response.status_code == 401
    assert response[REQUEST_ID_HEADER] == incoming
    assert [line["request_id"] for line in access_lines(log_lines())] == [incoming]


@pytest.mark.django_db
def test_request_id_is_generated_when_absent(api_client: APIClient, log_lines: ReadLog) -> None:
    # given / when
    first = api_client.get("/api/v1/auth/me/")
    second = api_client.get("/api/v1/auth/me/")

    # then
    assert HEX32.fullmatch(first[REQUEST_ID_HEADER])
    assert HEX32.fullmatch(second[REQUEST_ID_HEADER])
    assert first[REQUEST_ID_HEADER] != second[REQUEST_ID_HEADER]
    logged = [line["request_id"] for line in access_lines(log_lines())]
    assert logged == [first[REQUEST_ID_HEADER], second[REQUEST_ID_HEADER]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    ["has space", "x" * 65, "semi;colon", "new\nline", "ünïcode", "<script>"],
)
def test_invalid_request_id_is_replaced(api_client: APIClient, log_lines: ReadLog, incoming: str) -> None:
    # given / when
    response = api_client.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID=incoming)

    # then
    assert HEX32.fullmatch(response[REQUEST_ID_HEADER])
    assert [line["request_id"] for line in access_lines(log_lines())] == [response[REQUEST_ID_HEADER]]


@pytest.mark.django_db
def test_longest_valid_request_id_is_kept(api_client: APIClient) -> None:
    # given
    incoming = "a" * 64

    # when
    response = api_client.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID=incoming)

    # then
    assert response[REQUEST_ID_HEADER] == incoming


@pytest.mark.django_db
def test_one_json_line_per_request_with_its_fields(
    auth_client: APIClient, user: User, log_lines: ReadLog
) -> None:
    # given
    assert log_lines() == []

    # when
    response = auth_client.get("/api/v1/auth/me/?verbose=1")

    # then
    assert response.status_code == 200
    lines = log_lines()
    assert len(access_lines(lines)) == 1
    line = access_lines(lines)[0]
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/auth/me/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["request_id"] == response[REQUEST_ID_HEADER]
    assert line["user_id"] == user.pk
    assert "verbose" not in json.dumps(lines)


@pytest.mark.django_db
def test_client_errors_are_logged_once_as_warnings(api_client: APIClient, log_lines: ReadLog) -> None:
    # given / when: a 404 is also what django.request would log as "Not Found"
    response = api_client.get("/api/v1/no-such-thing/")

    # then
    assert response.status_code == 404
    lines = log_lines()
    assert len(lines) == 1
    assert lines[0]["logger"] == "shopapi.request"
    assert lines[0]["level"] == "WARNING"
    assert lines[0]["status"] == 404
    assert lines[0]["user_id"] is None


@pytest.mark.django_db
def test_access_log_adds_no_query_for_anonymous_requests(
    api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given / when / then: the middleware never evaluates the lazy session user
    with django_assert_num_queries(0):
        response = api_client.get("/api/v1/auth/me/")
    assert response.status_code == 401


@pytest.mark.django_db
def test_no_secrets_in_logs(api_client: APIClient, user: User, log_lines: ReadLog) -> None:
    # given
    bearer = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.bm90LWEtcmVhbC1zaWduYXR1cmU"
    password = "Hunter2-Correct-Horse-Battery"

    # when: a bearer header, a password body and a query-string secret
    login = api_client.post(
        "/api/v1/auth/token/?api_key=sk_live_querysecret",
        {"username": user.username, "password": password},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {bearer}",
    )
    me = api_client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {bearer}")

    # then
    assert login.status_code == 401
    assert me.status_code == 401
    lines = log_lines()
    assert [line["path"] for line in access_lines(lines)] == ["/api/v1/auth/token/", "/api/v1/auth/me/"]
    output = json.dumps(lines)
    for secret in (bearer, password, "sk_live_querysecret", "Bearer"):
        assert secret not in output


def test_payment_event_logs_are_json_with_extra_fields_and_request_id(log_lines: ReadLog) -> None:
    # given: inside a request, as the webhook handler is
    token = request_id_var.set("req-payments-1")
    try:
        # when
        logging.getLogger("shopapi.payments").info(
            "payment event applied",
            extra={"event_id": "evt_123", "order_id": 42, "type": "checkout.session.completed"},
        )
    finally:
        request_id_var.reset(token)
    logging.getLogger("shopapi.payments").info("outside a request")

    # then
    inside, outside = log_lines()
    assert inside["logger"] == "shopapi.payments"
    assert inside["message"] == "payment event applied"
    assert inside["event_id"] == "evt_123"
    assert inside["order_id"] == 42
    assert inside["type"] == "checkout.session.completed"
    assert inside["request_id"] == "req-payments-1"
    assert outside["request_id"] is None


def test_formatter_drops_the_django_request_and_masks_secret_named_fields() -> None:
    # given: django.request attaches the request, whose repr carries the query string
    request = RequestFactory().get("/api/v1/orders/?token=abc123secret")
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Server Error: %s", ("/x",), None
    )
    record.request = request
    record.status_code = 500
    record.card_number = "4242424242424242"
    record.stripe_secret = "sk_live_leak"

    # when
    line = json.loads(JsonFormatter().format(record))

    # then
    assert "request" not in line
    assert "abc123secret" not in json.dumps(line)
    assert line["status_code"] == 500
    assert line["card_number"] == REDACTED
    assert line["stripe_secret"] == REDACTED
    assert line["message"] == "Server Error: /x"


def test_formatter_includes_the_traceback() -> None:
    # given
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", None, __import__("sys").exc_info()
        )

    # when
    line = json.loads(JsonFormatter().format(record))

    # then
    assert "ValueError: boom" in line["exc_info"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_any_host_over_plain_http(
    api_client: APIClient, settings: SettingsWrapper, path: str
) -> None:
    # given: production redirects to HTTPS; the platform probes by IP over HTTP
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["api.example.com"]

    # when
    response = api_client.get(path, HTTP_HOST="10.0.3.7:8000")

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert HEX32.fullmatch(response[REQUEST_ID_HEADER])


@pytest.mark.django_db
def test_other_paths_still_validate_host_and_redirect(
    api_client: APIClient, settings: SettingsWrapper
) -> None:
    # given
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["api.example.com"]

    # when
    bad_host = api_client.get("/api/v1/auth/me/", HTTP_HOST="10.0.3.7:8000")
    plain_http = api_client.get("/api/v1/auth/me/", HTTP_HOST="api.example.com")
    behind_proxy = api_client.get(
        "/api/v1/auth/me/", HTTP_HOST="api.example.com", HTTP_X_FORWARDED_PROTO="https"
    )

    # then
    assert bad_host.status_code == 400
    assert plain_http.status_code == 301
    assert plain_http["Location"] == "https://api.example.com/api/v1/auth/me/"
    assert behind_proxy.status_code == 401
    assert behind_proxy["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
