"""Catalog admin as a staff superuser: changelists, search, filters, list-editing, money display."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PRODUCT_CHANGELIST = "/admin/catalog/product/"
CATEGORY_CHANGELIST = "/admin/catalog/category/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_product_changelist_shows_prices_as_money(admin_client):
    # given
    ProductFactory(name="Skillet", unit_amount=149_900, currency="inr")
    ProductFactory(name="Teapot", unit_amount=1_500, currency="jpy")
    # when
    response = admin_client.get(PRODUCT_CHANGELIST)
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "₹1,499.00" in html
    assert "¥1,500" in html


def test_product_changelist_search(admin_client):
    # given
    ProductFactory(name="Cast Iron Skillet")
    ProductFactory(name="Headphones")
    exact = ProductFactory(name="Kettle", slug="kettle-blue")
    # when
    by_name = admin_client.get(PRODUCT_CHANGELIST, {"q": "iron"})
    by_slug = admin_client.get(PRODUCT_CHANGELIST, {"q": "kettle-blue"})
    # then
    assert list(by_name.context["cl"].result_list.values_list("name", flat=True)) == ["Cast Iron Skillet"]
    assert [p.pk for p in by_slug.context["cl"].result_list] == [exact.pk]


def test_product_changelist_filters_by_active_and_category(admin_client):
    # given
    kitchen = CategoryFactory(slug="kitchen")
    hidden = ProductFactory(is_active=False, category=kitchen)
    shown = ProductFactory(is_active=True, category=kitchen)
    ProductFactory(is_active=True)
    # when
    inactive = admin_client.get(PRODUCT_CHANGELIST, {"is_active__exact": "0"})
    in_kitchen = admin_client.get(PRODUCT_CHANGELIST, {"category__id__exact": kitchen.id})
    # then
    assert [p.pk for p in inactive.context["cl"].result_list] == [hidden.pk]
    assert {p.pk for p in in_kitchen.context["cl"].result_list} == {hidden.pk, shown.pk}


def test_product_changelist_is_not_n_plus_one(admin_client):
    # given
    ProductFactory()
    with CaptureQueriesContext(connection) as one:
        admin_client.get(PRODUCT_CHANGELIST)
    ProductFactory.create_batch(49)  # each in its own category
    # when
    with CaptureQueriesContext(connection) as fifty:
        response = admin_client.get(PRODUCT_CHANGELIST)
    # then
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    # The category filter lists every category once (one query), rows add none.
    assert len(fifty) == len(one)


def test_list_editable_price_and_active_flag(admin_client):
    # given
    product = ProductFactory(unit_amount=10_000, is_active=True)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(product.pk),
        "form-0-unit_amount": "12345",
        "_save": "Save",
    }  # is_active unchecked -> False
    # when
    response = admin_client.post(PRODUCT_CHANGELIST, data)
    # then
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.unit_amount == 12_345
    assert product.is_active is False


def test_product_change_page_prepopulates_slug_and_shows_price(admin_client):
    # given
    product = ProductFactory(unit_amount=149_900)
    # when
    response = admin_client.get(f"{PRODUCT_CHANGELIST}{product.pk}/change/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "₹1,499.00" in html
    assert "prepopulated_fields" in html or "data-prepopulated-fields" in html


@pytest.mark.parametrize("amount", ["0", "-5", "100000000"])
def test_admin_rejects_out_of_range_prices(admin_client, amount):
    # given
    category = CategoryFactory()
    data = {
        "name": "Bad price",
        "slug": "bad-price",
        "category": category.pk,
        "description": "",
        "unit_amount": amount,
        "currency": "inr",
        "is_active": "on",
        "image_url": "",
    }
    # when
    response = admin_client.post(f"{PRODUCT_CHANGELIST}add/", data)
    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors or response.context["errors"]
    assert not Product.objects.filter(slug="bad-price").exists()


def test_admin_adds_a_product(admin_client):
    # given
    category = CategoryFactory()
    data = {
        "name": "Brass Diya",
        "slug": "brass-diya",
        "category": category.pk,
        "description": "Hand-cast.",
        "unit_amount": "34900",
        "currency": "inr",
        "is_active": "on",
        "image_url": "",
    }
    # when
    response = admin_client.post(f"{PRODUCT_CHANGELIST}add/", data)
    # then
    assert response.status_code == 302
    assert Product.objects.get(slug="brass-diya").unit_amount == 34_900


def test_category_changelist_shows_product_counts(admin_client):
    # given
    busy = CategoryFactory(name="Busy")
    CategoryFactory(name="Empty")
    ProductFactory.create_batch(3, category=busy)
    # when
    response = admin_client.get(CATEGORY_CHANGELIST)
    # then
    assert response.status_code == 200
    counts = {c.name: c._product_count for c in response.context["cl"].result_list}
    assert counts == {"Busy": 3, "Empty": 0}
    assert 'class="field-product_count">3<' in response.content.decode()


def test_category_change_page_prepopulates_slug(admin_client):
    # given
    category = CategoryFactory()
    # when
    response = admin_client.get(f"{CATEGORY_CHANGELIST}{category.pk}/change/")
    # then
    assert response.status_code == 200
    assert "prepopulated" in response.content.decode()


def test_admin_requires_staff(client, user):
    # given
    client.force_login(user)
    # when
    response = client.get(PRODUCT_CHANGELIST)
    # then
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
