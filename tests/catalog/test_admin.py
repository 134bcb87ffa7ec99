"""Catalog admin as a staff superuser: changelists, search, filters, list-editing, money display.

Variants, stock and images on the product page are in test_admin_variants.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from catalog.models import Product
from tests.catalog.admin_pages import page_data
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PRODUCT_CHANGELIST = "/admin/catalog/product/"
CATEGORY_CHANGELIST = "/admin/catalog/category/"


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    return client


def test_product_changelist_shows_prices_as_money(admin_client: Client) -> None:
    # given
    ProductFactory.create(name="Skillet", unit_amount=149_900, currency="inr")
    ProductFactory.create(name="Teapot", unit_amount=1_500, currency="jpy")
    # when
    response = admin_client.get(PRODUCT_CHANGELIST)
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "₹1,499.00" in html
    assert "¥1,500" in html


def test_product_changelist_search(admin_client: Client) -> None:
    # given
    ProductFactory.create(name="Cast Iron Skillet")
    ProductFactory.create(name="Headphones")
    exact = ProductFactory.create(name="Kettle", slug="kettle-blue")
    # when
    by_name = admin_client.get(PRODUCT_CHANGELIST, {"q": "iron"})
    by_slug = admin_client.get(PRODUCT_CHANGELIST, {"q": "kettle-blue"})
    # then
    assert list(by_name.context["cl"].result_list.values_list("name", flat=True)) == ["Cast Iron Skillet"]
    assert [p.pk for p in by_slug.context["cl"].result_list] == [exact.pk]


def test_product_changelist_search_finds_a_word_of_the_name_or_of_the_description(
    admin_client: Client,
) -> None:
    # given
    skillet = ProductFactory.create(name="Cast Iron Skillet", description="Pre-seasoned.")
    kettle = ProductFactory.create(name="Kettle", description="Brushed steel, whistles when it boils.")
    ProductFactory.create(name="Headphones", description="Wireless.")
    # when
    by_name = admin_client.get(PRODUCT_CHANGELIST, {"q": "skillet"})
    by_description = admin_client.get(PRODUCT_CHANGELIST, {"q": "whistles"})
    by_both = admin_client.get(PRODUCT_CHANGELIST, {"q": "kettle steel"})
    # then
    assert [p.pk for p in by_name.context["cl"].result_list] == [skillet.pk]
    assert [p.pk for p in by_description.context["cl"].result_list] == [kettle.pk]
    assert [p.pk for p in by_both.context["cl"].result_list] == [kettle.pk]


def _search_plan(admin_client: Client, search: str) -> str:
    """EXPLAIN of the product changelist's query for `search`, on a tiny table.

    Seq scans are off, and so are plain index scans (which could walk any index and filter):
    what is left to the planner is a bitmap scan of an index that serves the search condition,
    and without one the plan is a Seq Scan after all.
    """
    ProductFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    response = admin_client.get(PRODUCT_CHANGELIST, {"q": search})
    return response.context["cl"].queryset.explain()


@pytest.mark.postgres_only
def test_product_changelist_search_can_use_the_document_trigram_index(admin_client: Client) -> None:
    # given / when
    plan = _search_plan(admin_client, "iron skillet")
    # then: both words are conditions of one scan of the search document's index
    assert plan.count("product_search_document_trgm") == 1
    index_condition = plan.split("Index Cond:")[1].split("\n")[0]
    assert "%IRON%" in index_condition
    assert "%SKILLET%" in index_condition
    assert "Seq Scan" not in plan


@pytest.mark.postgres_only
def test_product_changelist_search_by_slug_can_use_the_slug_index(admin_client: Client) -> None:
    # given / when
    plan = _search_plan(admin_client, "kettle-blue")
    # then: the word through the trigram index, or the exact slug through its unique index
    assert "BitmapOr" in plan
    assert "product_search_document_trgm" in plan
    assert "catalog_product_slug" in plan
    assert "Seq Scan" not in plan


def test_product_changelist_filters_by_active_and_category(admin_client: Client) -> None:
    # given
    kitchen = CategoryFactory.create(slug="kitchen")
    hidden = ProductFactory.create(is_active=False, category=kitchen)
    shown = ProductFactory.create(is_active=True, category=kitchen)
    ProductFactory.create(is_active=True)
    # when
    inactive = admin_client.get(PRODUCT_CHANGELIST, {"is_active__exact": "0"})
    in_kitchen = admin_client.get(PRODUCT_CHANGELIST, {"category__id__exact": kitchen.id})
    # then
    assert [p.pk for p in inactive.context["cl"].result_list] == [hidden.pk]
    assert {p.pk for p in in_kitchen.context["cl"].result_list} == {hidden.pk, shown.pk}


def test_product_changelist_is_not_n_plus_one(admin_client: Client) -> None:
    # given
    ProductFactory.create()
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


def test_list_edits_the_active_flag_but_not_the_price(admin_client: Client) -> None:
    # given: the price follows the variants, so the list no longer edits it
    product = ProductFactory.create(unit_amount=10_000, is_active=True)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(product.pk),
        "form-0-unit_amount": "12345",  # ignored: not a list-editable field
        "_save": "Save",
    }  # is_active unchecked -> False
    # when
    response = admin_client.post(PRODUCT_CHANGELIST, data)
    # then
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.unit_amount == 10_000
    assert product.is_active is False


def test_product_change_page_prepopulates_slug_and_shows_price(admin_client: Client) -> None:
    # given
    product = ProductFactory.create(unit_amount=149_900)
    # when
    response = admin_client.get(f"{PRODUCT_CHANGELIST}{product.pk}/change/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "₹1,499.00" in html
    assert "prepopulated_fields" in html or "data-prepopulated-fields" in html


def _add_page_data(admin_client: Client, **variant: str) -> dict[str, Any]:
    """The add page's data with a new product and its first variant filled in."""
    category = CategoryFactory.create()
    data = page_data(admin_client.get(f"{PRODUCT_CHANGELIST}add/"))
    data.update(
        {
            "name": "Brass Diya",
            "slug": "brass-diya",
            "category": str(category.pk),
            "description": "Hand-cast.",
        }
    )
    data.update({f"variants-0-{name}": value for name, value in variant.items()})
    return data


@pytest.mark.parametrize("amount", ["0", "-5", "100000000"])
def test_admin_rejects_out_of_range_prices(admin_client: Client, amount: str) -> None:
    # given
    data = _add_page_data(admin_client, sku="DIYA", unit_amount=amount, currency="inr")
    # when
    response = admin_client.post(f"{PRODUCT_CHANGELIST}add/", data)
    # then
    assert response.status_code == 200
    variants = response.context["inline_admin_formsets"][0].formset
    assert variants.forms[0].errors["unit_amount"]
    assert not Product.objects.filter(slug="brass-diya").exists()


def test_admin_adds_a_product_with_its_first_variant(admin_client: Client) -> None:
    # given
    data = _add_page_data(admin_client, sku="DIYA", unit_amount="34900", currency="inr")
    # when
    response = admin_client.post(f"{PRODUCT_CHANGELIST}add/", data)
    # then
    assert response.status_code == 302
    product = Product.objects.get(slug="brass-diya")
    assert product.unit_amount == 34_900
    assert list(product.variants.values_list("sku", "unit_amount")) == [("DIYA", 34_900)]


def test_product_form_shows_the_price_read_only(admin_client: Client) -> None:
    # given
    product = ProductFactory.create(unit_amount=149_900)
    # when
    response = admin_client.get(f"{PRODUCT_CHANGELIST}{product.pk}/change/")
    # then
    form = response.context["adminform"].form
    assert "unit_amount" not in form.fields
    assert "currency" not in form.fields
    assert "price (lowest variant)" in response.content.decode().lower()


def test_category_changelist_shows_product_counts(admin_client: Client) -> None:
    # given
    busy = CategoryFactory.create(name="Busy")
    CategoryFactory.create(name="Empty")
    ProductFactory.create_batch(3, category=busy)
    # when
    response = admin_client.get(CATEGORY_CHANGELIST)
    # then
    assert response.status_code == 200
    counts = {c.name: c._product_count for c in response.context["cl"].result_list}
    assert counts == {"Busy": 3, "Empty": 0}
    assert 'class="field-product_count">3<' in response.content.decode()


def test_category_change_page_prepopulates_slug(admin_client: Client) -> None:
    # given
    category = CategoryFactory.create()
    # when
    response = admin_client.get(f"{CATEGORY_CHANGELIST}{category.pk}/change/")
    # then
    assert response.status_code == 200
    assert "prepopulated" in response.content.decode()


def test_admin_requires_staff(client: Client, user: User) -> None:
    # given
    client.force_login(user)
    # when
    response = client.get(PRODUCT_CHANGELIST)
    # then
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
