"""Hostile requests answer in the one JSON error shape: deep JSON, big bodies, bad hosts, no slash,
and signed webhook events the database could not record."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from checkout.models import Cart
from payments.models import ProviderEvent
from payments.views import WebhookView
from shopapi.limits import BodyLimitMiddleware, RequestTooLarge
from tests.checkout.conftest import WEBHOOK_PATH, WEBHOOK_SECRET, post_event

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def signed(settings: SettingsWrapper) -> None:
    """Webhooks verified with the secret `post_event` signs with."""
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


# -- item 4: nesting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(deep(1000), id="1000-lists"),
        pytest.param(deep(65), id="65-lists"),
        pytest.param(b'{"a":' * 500 + b"1" + b"}" * 500, id="500-objects"),
    ],
)
def test_deeply_nested_json_is_400_parse_error_logged_at_info(
    api_client: APIClient, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    # when
    with caplog.at_level(logging.INFO):
        response = api_client.generic("POST", TOKEN, body, content_type="application/json")  # type: ignore[arg-type]
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(r.name == "shopapi.parsers" and r.levelno == logging.INFO for r in caplog.records)


def test_nesting_at_the_limit_still_parses(api_client: APIClient) -> None:
    response = api_client.generic("POST", TOKEN, deep(64), content_type="application/json")  # type: ignore[arg-type]
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"  # parsed; a list is not credentials


def test_nan_is_a_parse_error(api_client: APIClient) -> None:
    response = api_client.generic("POST", TOKEN, b'{"email": NaN}', content_type="application/json")  # type: ignore[arg-type]
    assert response.json()["code"] == "parse_error"


# -- item 5: body limits ----------------------------------------------------------------------


def test_api_body_over_the_limit_is_413_before_reading(
    api_client: APIClient, settings: SettingsWrapper
) -> None:
    # given
    settings.API_MAX_BODY_BYTES = 1024
    body = b'{"email": "' + b"a" * 2000 + b'"}'
    # when
    response = api_client.generic("POST", TOKEN, body, content_type="application/json")  # type: ignore[arg-type]
    # then
    assert response.status_code == 413
    assert response.json() == {
        "code": "request_too_large",
        "message": "The request body is over this endpoint's limit of 1024 bytes.",
        "fields": {},
    }


def test_default_api_limit_refuses_50_mb_from_its_header(api_client: APIClient) -> None:
    # The header alone decides: the 50 MB are never sent, let alone read.
    response = api_client.generic(
        "POST",
        TOKEN,
        b"{}",  # type: ignore[arg-type]
        content_type="application/json",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_webhook_over_djangos_upload_limit_is_413(api_client: APIClient) -> None:
    # 3 MB is over Django's default DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): a 500 before.
    body = b'{"id": "evt_big", "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = api_client.generic("POST", WEBHOOK_PATH, body, content_type="application/json")  # type: ignore[arg-type]
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert not ProviderEvent.objects.exists()


def test_webhook_limit_is_its_own(api_client: APIClient, settings: SettingsWrapper) -> None:
    # given: an API limit the webhook body is over, a webhook limit it is under
    settings.API_MAX_BODY_BYTES = 10
    body = b'{"id": "evt_x"}' + b" " * 100
    # when
    response = api_client.generic("POST", WEBHOOK_PATH, body, content_type="application/json")  # type: ignore[arg-type]
    # then: judged by its signature, not by size
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"


def _unsized_post(path: str, body: bytes) -> HttpRequest:
    """A POST whose body has no Content-Length (as a chunked one reaches the app)."""
    request = RequestFactory().post(path, b"", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request._stream = io.BytesIO(body)
    return request


def test_unsized_webhook_body_is_cut_at_the_limit_while_reading(settings: SettingsWrapper) -> None:
    # given
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    request = _unsized_post(WEBHOOK_PATH, b"{" + b" " * 500 + b"}")
    # when
    response = BodyLimitMiddleware(WebhookView.as_view())(request)
    # then
    assert response.status_code == 413
    assert not ProviderEvent.objects.exists()


def test_unsized_body_under_the_limit_reads_whole() -> None:
    read: list[bytes] = []

    def view(request: HttpRequest) -> HttpResponse:
        read.append(request.body)
        return HttpResponse()

    response = BodyLimitMiddleware(view)(_unsized_post(TOKEN, b'{"a": 1}'))
    assert response.status_code == 200
    assert read == [b'{"a": 1}']


def test_unsized_body_over_the_limit_in_a_plain_view_is_413(settings: SettingsWrapper) -> None:
    # given: a plain Django view reading past the limit (Django hands its error to process_exception)
    settings.API_MAX_BODY_BYTES = 4
    request = _unsized_post(TOKEN, b"123456789")
    middleware = BodyLimitMiddleware(lambda request: HttpResponse())
    middleware(request)
    # when
    with pytest.raises(RequestTooLarge) as raised:
        request.read()
    response = middleware.process_exception(request, raised.value)
    # then
    assert response is not None
    assert response.status_code == 413


def test_probes_have_no_body_limit(api_client: APIClient) -> None:
    response = api_client.get("/healthz", CONTENT_LENGTH=str(50 * 1024 * 1024))
    assert response.status_code == 200


# -- item 11: hosts, slashes, webhook events ------------------------------------------------------


def test_disallowed_host_is_json_400(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/products/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid_host"


def test_post_without_trailing_slash_is_served_as_post(auth_client: APIClient) -> None:
    # given
    assert not Cart.objects.exists()
    # when
    response = auth_client.post("/api/v1/carts", {}, format="json")
    # then: the cart is created, no redirect turned the POST into a list
    assert response.status_code == 201, response.content
    assert Cart.objects.count() == 1


def test_get_without_trailing_slash_answers_directly(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/products")
    assert response.status_code == 200
    assert "results" in response.json()


def test_unknown_api_path_without_slash_is_json_404(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/nothing-here", {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


BAD_EVENTS: list[dict[str, Any]] = [
    {"id": "evt_" + "x" * 260, "type": "checkout.session.completed", "data": {"object": {"id": "cs_1"}}},
    {"id": "evt_\x00nul", "type": "customer.created", "data": {"object": {"id": "cus_1"}}},
    {"id": "evt_nul_inside", "type": "customer.created", "data": {"object": {"id": "cus_1", "n": "a\x00"}}},
    {"id": "evt_long_type", "type": "t" * 121, "data": {"object": {"id": "cus_1"}}},
    {"id": "evt_no_object", "type": "customer.created", "data": {}},
    {"id": "evt_no_object_id", "type": "checkout.session.completed", "data": {"object": {"object": "x"}}},
    {"id": "evt_no_refund_id", "type": "refund.updated", "data": {"object": {"status": "succeeded"}}},
    {"id": "evt_no_charge_id", "type": "charge.refunded", "data": {"object": {"amount": 1}}},
    {"id": 12, "type": "customer.created", "data": {"object": {"id": "cus_1"}}},
]


@pytest.mark.parametrize("event", BAD_EVENTS)
def test_signed_unrecordable_event_is_400_and_records_nothing(
    signed: None, api_client: APIClient, event: dict[str, Any]
) -> None:
    # when
    response = post_event(api_client, event)
    # then
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()


def test_signed_deeply_nested_event_is_400(signed: None, api_client: APIClient) -> None:
    nested: Any = {}
    for _ in range(200):
        nested = {"a": nested}
    event = {"id": "evt_deep", "type": "customer.created", "data": {"object": {"id": "cus_1", "n": nested}}}
    response = post_event(api_client, event)
    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_djangos_own_refusals_answer_json() -> None:
    # given: more form fields than Django parses (DATA_UPLOAD_MAX_NUMBER_FIELDS, a SuspiciousOperation)
    body = "&".join(f"f{n}=x" for n in range(1_100))

    # when
    response = Client().post("/admin/login/", body, content_type="application/x-www-form-urlencoded")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The request could not be processed.",
        "fields": {},
    }
