"""Helpers for the product API tests: the list URL, page walking, ids, hand-made cursors."""

from __future__ import annotations

import base64
import json
from typing import Any

from rest_framework.test import APIClient

PRODUCTS = "/api/v1/products/"


def detail_url(product_id: int | str) -> str:
    return f"{PRODUCTS}{product_id}/"


def walk_next(client: APIClient, url: str, *, limit: int = 100) -> list[list[dict[str, Any]]]:
    """Follow `next` links from `url`; returns every page's results."""
    pages: list[list[dict[str, Any]]] = []
    while url and len(pages) < limit:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body["results"])
        url = body["next"]
    return pages


def ids(results: list[dict[str, Any]]) -> list[int]:
    return [row["id"] for row in results]


def cursor_for(payload: object) -> str:
    """A cursor as the paginator encodes one (`{"o": ordering, "r": reverse, "p": position}`)."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def search_ids(client: APIClient, **params: str | int) -> list[int]:
    """The ids of the first page of the product list for `params` (a 200 is required)."""
    response = client.get(PRODUCTS, params)
    assert response.status_code == 200, response.content
    return ids(response.json()["results"])
