"""HTTP caching of catalog reads (catalog/http.py) and the API's private default and compression
(shopapi/http_caching.py): validators, 304s, Cache-Control, Vary, gzip only where safe."""

from __future__ import annotations

import gzip
from unittest import mock

import pytest
from django.test import RequestFactory
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from catalog.http import cached_hit
from tests.catalog.products import PRODUCTS, detail_url
from tests.factories import CartFactory, CartItemFactory, ProductFactory

pytestmark = pytest.mark.django_db

CARTS = "/api/v1/carts/"
ORDERS = "/api/v1/orders/"


def _directives(response: object) -> set[str]:
    return {part.strip() for part in response.headers["Cache-Control"].split(",")}  # type: ignore[attr-defined]


def _vary(response: object) -> set[str]:
    return {part.strip() for part in response.headers["Vary"].split(",")}  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", [PRODUCTS, "detail", "/api/v1/categories/", PRODUCTS + "?utm=1"])
def test_anonymous_catalog_reads_are_public_with_validators_and_vary(
    api_client: APIClient, settings: SettingsWrapper, path: str
) -> None:
    # given
    settings.CATALOG_HTTP_MAX_AGE = 7
    settings.CATALOG_HTTP_STALE_WHILE_REVALIDATE = 45
    product = ProductFactory.create()
    # when
    response = api_client.get(detail_url(product.pk) if path == "detail" else path)
    # then
    assert response.status_code == 200
    assert _directives(response) == {"public", "max-age=7", "stale-while-revalidate=45"}
    assert {"Accept", "Accept-Encoding", "Origin"} <= _vary(response)
    assert response.headers["ETag"]


def test_the_etag_carries_the_catalog_version_and_last_modified_when_the_rows_were_read(
    api_client: APIClient,
) -> None:
    # given
    from catalog.cache import versions

    ProductFactory.create()
    # when
    response = api_client.get(PRODUCTS)
    # then
    assert response.headers["ETag"].startswith(f'"{versions()[0]}-')
    assert response.headers["Last-Modified"].endswith(" GMT")


def test_if_none_match_is_a_304_without_a_query(
    api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    ProductFactory.create()
    first = api_client.get(PRODUCTS)
    # when
    with django_assert_num_queries(0):
        again = api_client.get(PRODUCTS, HTTP_IF_NONE_MATCH=first.headers["ETag"])
    # then
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert "public" in _directives(again)


def test_if_modified_since_is_a_304_and_an_older_date_is_not(api_client: APIClient) -> None:
    # given
    ProductFactory.create()
    first = api_client.get(PRODUCTS)
    # when
    same = api_client.get(PRODUCTS, HTTP_IF_MODIFIED_SINCE=first.headers["Last-Modified"])
    older = api_client.get(PRODUCTS, HTTP_IF_MODIFIED_SINCE="Mon, 01 Jan 2001 00:00:00 GMT")
    # then
    assert same.status_code == 304
    assert older.status_code == 200


def test_a_request_with_credentials_is_private_but_the_same_bytes(api_client: APIClient) -> None:
    # given
    ProductFactory.create()
    anonymous = api_client.get(PRODUCTS)
    # when
    authenticated = api_client.get(PRODUCTS, HTTP_AUTHORIZATION="Bearer anything")
    # then
    assert authenticated.content == anonymous.content
    assert "public" not in _directives(authenticated)
    assert {"private", "no-cache"} <= _directives(authenticated)


def test_user_and_token_answers_are_private_no_store(auth_client: APIClient, api_client: APIClient) -> None:
    # when
    cart = auth_client.post(CARTS)
    orders = auth_client.get(ORDERS)
    anonymous_orders = api_client.get(ORDERS)
    missing = api_client.get(detail_url("no-such-product"))
    # then
    for response in (cart, orders, anonymous_orders, missing):
        assert _directives(response) == {"private", "no-store"}, response.status_code


def test_cors_answers_vary_by_origin(api_client: APIClient, settings: SettingsWrapper) -> None:
    # given
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example"]
    ProductFactory.create()
    # when
    response = api_client.get(PRODUCTS, HTTP_ORIGIN="https://shop.example")
    # then
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Origin" in _vary(response)


# --------------------------------------------------------------------------- compression


@pytest.mark.parametrize("path", [PRODUCTS, PRODUCTS + "?utm=1"])  # cached, and answered uncached
def test_a_large_public_page_is_gzipped_for_a_client_that_accepts_it(
    api_client: APIClient, path: str
) -> None:
    # given: 20 products are well over 1 KB of JSON
    ProductFactory.create_batch(20)
    plain = api_client.get(path)
    # when
    zipped = api_client.get(path, HTTP_ACCEPT_ENCODING="br, gzip")
    # then
    assert len(plain.content) > 1024
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content) / 2
    assert zipped.headers["ETag"] == "W/" + plain.headers["ETag"]
    assert "Accept-Encoding" in _vary(zipped)


def test_a_gzipped_page_revalidates_with_its_weak_etag(api_client: APIClient) -> None:
    # given
    ProductFactory.create_batch(20)
    zipped = api_client.get(PRODUCTS, HTTP_ACCEPT_ENCODING="gzip")
    # when
    again = api_client.get(PRODUCTS, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped.headers["ETag"])
    # then
    assert again.status_code == 304


def test_small_answers_and_a_threshold_of_zero_are_not_compressed(
    api_client: APIClient, settings: SettingsWrapper
) -> None:
    # given
    product = ProductFactory.create()
    small = api_client.get(detail_url(product.pk) + "?x=1", HTTP_ACCEPT_ENCODING="gzip")
    ProductFactory.create_batch(20)
    settings.COMPRESS_MIN_BYTES = 0
    # when
    off = api_client.get(PRODUCTS + "?utm=2", HTTP_ACCEPT_ENCODING="gzip")
    # then
    assert small.status_code == off.status_code == 200
    assert "Content-Encoding" not in small.headers
    assert "Content-Encoding" not in off.headers


def test_private_answers_are_never_compressed(auth_client: APIClient, user: User) -> None:
    # given: a cart of 20 lines, well over 1 KB; a private answer could be a BREACH oracle
    cart = CartFactory.create(user=user)
    CartItemFactory.create_batch(20, cart=cart)
    # when
    response = auth_client.get(f"{CARTS}{cart.pk}/", HTTP_ACCEPT_ENCODING="gzip")
    # then
    assert response.status_code == 200
    assert len(response.content) > 1024
    assert "Content-Encoding" not in response.headers
    assert _directives(response) == {"private", "no-store"}


# --------------------------------------------------------------------------- hits before the view stack


def test_a_hit_is_answered_before_the_view_with_the_same_bytes_and_headers(api_client: APIClient) -> None:
    # given: the page stored by the view
    ProductFactory.create_batch(3)
    stored = api_client.get(PRODUCTS)
    # when: the view would fail if it ran
    with mock.patch("catalog.views.ProductViewSet.list", side_effect=AssertionError("view ran")) as view:
        hit = api_client.get(PRODUCTS)
        revalidated = api_client.get(PRODUCTS, HTTP_IF_NONE_MATCH=stored.headers["ETag"])
        since = api_client.get(PRODUCTS, HTTP_IF_MODIFIED_SINCE=stored.headers["Last-Modified"])
    # then
    assert not view.called
    assert hit.status_code == 200
    assert hit.content == stored.content
    for header in ("ETag", "Last-Modified", "Cache-Control", "Vary", "Content-Type", "Allow"):
        assert hit.headers[header] == stored.headers[header], header
    assert hit.headers["X-Cache"] == "hit"
    assert (revalidated.status_code, since.status_code) == (304, 304)


@pytest.mark.parametrize(
    ("method", "accept"), [("head", ""), ("get", "text/html"), ("get", "application/json; indent=4")]
)
def test_what_the_early_answer_is_not_sure_of_goes_to_the_view(
    api_client: APIClient, rf: RequestFactory, method: str, accept: str
) -> None:
    # given: the page is cached, and a plain GET is answered early
    ProductFactory.create()
    api_client.get(PRODUCTS)
    assert cached_hit(rf.get(PRODUCTS, HTTP_HOST="testserver")) is not None
    # when
    request = getattr(rf, method)(PRODUCTS, HTTP_ACCEPT=accept, HTTP_HOST="testserver")
    # then
    assert cached_hit(request) is None


def test_an_indented_answer_is_never_cached_for_others(api_client: APIClient) -> None:
    # given: a client asking for indented JSON first
    ProductFactory.create()
    indented = api_client.get(PRODUCTS, HTTP_ACCEPT="application/json; indent=4")
    # when
    plain = api_client.get(PRODUCTS)
    again = api_client.get(PRODUCTS, HTTP_ACCEPT="application/json; indent=4")
    # then
    assert b"\n    " in indented.content
    assert b"\n" not in plain.content
    assert plain.headers["X-Cache"] == "miss"
    assert again.content == indented.content


def test_other_api_paths_are_not_looked_up(auth_client: APIClient) -> None:
    # when
    with mock.patch("catalog.cache.versions", side_effect=AssertionError("looked up")):
        response = auth_client.get(ORDERS)
    # then
    assert response.status_code == 200


def test_with_the_cache_down_the_early_answer_steps_aside(rf: RequestFactory) -> None:
    # when
    with mock.patch("catalog.cache.cache.get_many", side_effect=ConnectionError("down")):
        early = cached_hit(rf.get(PRODUCTS, HTTP_HOST="testserver"))
    # then
    assert early is None
