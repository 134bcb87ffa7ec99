"""The example storefront served at / (shopapi/storefront.py) and the API's index at /api/v1/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from shopapi import storefront

ROOT = Path(__file__).resolve().parents[2]

# This module doubles as the URL conf of the storefront tests: the storefront's routes as
# `SERVE_STOREFRONT` on (as under `make run`) gives them.
with override_settings(SERVE_STOREFRONT=True):
    urlpatterns = storefront.urlpatterns()


@pytest.fixture
def dist(tmp_path: Path, settings: pytest.FixtureRequest) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>shop</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('shop')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    settings.STOREFRONT_DIST = tmp_path  # type: ignore[attr-defined]
    return tmp_path


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "path", ["/", "/cart", "/checkout/success", "/orders/", "/products/cast-iron-skillet", "/reset-password"]
)
def test_every_page_path_answers_the_storefront(client: Client, dist: Path, path: str) -> None:
    # when
    response = client.get(path + ("?session_id=cs_test_1" if "success" in path else ""))

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert b"<title>shop</title>" in response.content


@pytest.mark.urls(__name__)
def test_hashed_assets_are_cached_for_a_year(client: Client, dist: Path) -> None:
    # when
    asset = client.get("/assets/index-abc123.js")
    icon = client.get("/favicon.svg")

    # then
    assert asset.status_code == 200
    assert asset["Cache-Control"] == "public, max-age=31536000, immutable"
    assert icon.status_code == 200
    assert "immutable" not in icon.get("Cache-Control", "")


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "path", ["/assets/missing.js", "/assets/../index.html", "/unknown-page", "/products/a/b"]
)
def test_other_paths_are_not_the_storefront(client: Client, dist: Path, path: str) -> None:
    # when
    response = client.get(path)

    # then
    assert response.status_code == 404


@pytest.mark.urls(__name__)
def test_an_unbuilt_storefront_is_a_404_that_says_how_to_build_it(
    client: Client, tmp_path: Path, settings: pytest.FixtureRequest
) -> None:
    # given
    settings.STOREFRONT_DIST = tmp_path / "nothing"  # type: ignore[attr-defined]

    # when
    response = client.get("/")

    # then
    assert response.status_code == 404


def test_the_storefront_is_not_routed_when_off(settings: pytest.FixtureRequest) -> None:
    # given
    settings.SERVE_STOREFRONT = False  # type: ignore[attr-defined]

    # when / then
    assert storefront.urlpatterns() == []


def test_the_committed_build_is_present_and_references_its_assets() -> None:
    # given: what a fresh clone serves without node
    index = (ROOT / "storefront" / "dist" / "index.html").read_text()

    # then
    assets = sorted(p.name for p in (ROOT / "storefront" / "dist" / "assets").iterdir())
    assert any(name.endswith(".js") for name in assets)
    for name in assets:
        assert f"/assets/{name}" in index


@pytest.mark.django_db
def test_the_api_index_links_the_schema_docs_and_resources(api_client: APIClient) -> None:
    # when
    response = api_client.get("/api/v1/", HTTP_HOST="testserver")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "shopapi"
    links = body["links"]
    assert links["schema"] == "http://testserver/api/v1/schema/"
    assert links["docs"] == "http://testserver/api/v1/docs/"
    assert links["redoc"] == "http://testserver/api/v1/redoc/"
    assert links["products"] == "http://testserver/api/v1/products/"
    assert links["carts"] == "http://testserver/api/v1/carts/"
    assert links["orders"] == "http://testserver/api/v1/orders/"
    for url in links.values():
        assert api_client.get(url).status_code in (200, 401, 405)  # none is a 404 (register: POST only)


@pytest.mark.parametrize("path", ["/api/v1/redoc/", "/api/v1/docs/"])
def test_the_docs_pages_load_nothing_from_other_hosts(client: Client, path: str) -> None:
    # when
    html = client.get(path).content.decode()

    # then: every script, style and icon is served by the API itself (drf-spectacular-sidecar)
    assert "://" not in html.replace("http://testserver", "")
    assert 'rel="icon"' in html or "favicon" in html
    # no badge from validator.swagger.io; ReDoc on the system's fonts instead of Google Fonts
    assert '"validatorUrl": null' in html if path.endswith("docs/") else '"fontFamily": "system-ui' in html


@pytest.mark.urls(__name__)
def test_every_route_of_the_storefront_is_served(client: Client, dist: Path) -> None:
    # given: the client-side routes (storefront/src/main.ts)
    main_ts = (ROOT / "storefront" / "src" / "main.ts").read_text()
    routes = re.findall(r'^route\("([^"]+)"', main_ts, re.MULTILINE)
    assert len(routes) >= 9

    # when / then: a reload or an emailed link on any of them gets the page
    for route in routes:
        assert client.get(route.replace(":slug", "some-product")).status_code == 200, route
