"""The catalog back-office for variants, images and stock, as a staff superuser.

The product page's inlines (variants with stock that goes through the ledger, images with a
preview, at least one variant), the variant list (columns, low-stock filter, bulk adjustment,
query count) and the read-only ledger. Stock is always set through catalog/stock.py here, so
`ledger_mismatches()` must stay empty after every admin write.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import SettingsWrapper

from accounts.models import User
from catalog.models import Product, ProductImage, ProductVariant, StockMovement, StockReservation
from catalog.stock import ledger_mismatches, stock_adjust, stock_set
from tests.catalog.admin_pages import add_row, page_data
from tests.checkout.backoffice import make_order
from tests.factories import ProductFactory, ProductVariantFactory, UserFactory, default_variant_of

pytestmark = pytest.mark.django_db

VARIANTS = reverse("admin:catalog_productvariant_changelist")
LEDGER = reverse("admin:catalog_stockmovement_changelist")
Reason = StockMovement.Reason


@pytest.fixture
def staff() -> User:
    return UserFactory.create(username="asha", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


@pytest.fixture(autouse=True)
def _threshold(settings: SettingsWrapper) -> None:
    settings.LOW_STOCK_THRESHOLD = 5


def product_url(product: Product) -> str:
    return reverse("admin:catalog_product_change", args=[product.pk])


def tracked(on_hand: int, **fields: Any) -> ProductVariant:
    """A variant whose stock was set through the ledger (as staff would)."""
    variant = ProductVariantFactory.create(**fields)
    stock_set(variant_id=variant.pk, on_hand=on_hand, actor="setup", reason=Reason.IMPORT)
    variant.refresh_from_db()
    return variant


def hold(variant: ProductVariant, quantity: int) -> None:
    """A live reservation of a pending order on `variant`."""
    order = make_order(status="pending")
    StockReservation.objects.create(
        variant=variant, order=order, quantity=quantity, expires_at=timezone.now() + timedelta(minutes=30)
    )


def messages_of(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def compact(html: str) -> str:
    """The page without whitespace, to find a table cell whatever the template's indentation."""
    return re.sub(r"\s+", "", html)


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- the product page's variants


def test_inline_save_creates_variants_and_the_product_takes_the_lowest_active_price(
    admin_client: Client,
) -> None:
    # given: a product sold through its default variant at ₹1,499.00
    product = ProductFactory.create(unit_amount=149_900)
    data = page_data(admin_client.get(product_url(product)))
    add_row(data, "variants", sku="TEE-S", unit_amount="99900", currency="inr", is_active=True, position="1")
    add_row(
        data, "variants", sku="TEE-XS", unit_amount="50000", currency="inr", is_active=False, position="2"
    )

    # when
    response = admin_client.post(product_url(product), data)

    # then: the cheapest ACTIVE variant sets the product's price
    assert response.status_code == 302, response.context and response.context["errors"]
    assert set(product.variants.values_list("sku", flat=True)) == {product.slug, "TEE-S", "TEE-XS"}
    product.refresh_from_db()
    assert (product.unit_amount, product.currency) == (99_900, "inr")
    assert StockMovement.objects.count() == 0  # no stock typed, nothing in the ledger


def test_a_stock_count_typed_in_the_inline_is_a_ledger_row(admin_client: Client, staff: User) -> None:
    # given: an untracked default variant
    product = ProductFactory.create()
    variant = default_variant_of(product)
    data = page_data(admin_client.get(product_url(product)))
    data["variants-0-stock_on_hand"] = "12"
    new = add_row(
        data, "variants", sku="NEW-1", unit_amount="1000", currency="inr", is_active=True, position="1"
    )
    data[f"variants-{new}-stock_on_hand"] = "4"

    # when: counted 12, and a new variant arrives with 4
    first = admin_client.post(product_url(product), data)
    data = page_data(admin_client.get(product_url(product)))
    data["variants-0-stock_on_hand"] = "9"  # a recount
    second = admin_client.post(product_url(product), data)

    # then: on-hand moved only through the ledger, which sums to it
    assert (first.status_code, second.status_code) == (302, 302)
    variant.refresh_from_db()
    added = ProductVariant.objects.get(sku="NEW-1")
    assert (variant.stock_on_hand, added.stock_on_hand) == (9, 4)
    rows = list(
        StockMovement.objects.order_by("id").values_list(
            "variant__sku", "delta", "on_hand_after", "reason", "actor", "note"
        )
    )
    assert rows == [
        (variant.sku, 12, 12, Reason.ADJUSTMENT, staff.username, "edited in the admin"),
        ("NEW-1", 4, 4, Reason.IMPORT, staff.username, "edited in the admin"),
        (variant.sku, -3, 9, Reason.ADJUSTMENT, staff.username, "edited in the admin"),
    ]
    assert ledger_mismatches() == []


def test_a_stock_number_left_alone_does_not_undo_a_sale_made_while_the_page_was_open(
    admin_client: Client,
) -> None:
    # given: the page shows 10 on hand; then 2 are sold before staff save a new title
    product = ProductFactory.create()
    variant = default_variant_of(product)
    stock_set(variant_id=variant.pk, on_hand=10, actor="setup")
    data = page_data(admin_client.get(product_url(product)))
    stock_adjust(variant_id=variant.pk, delta=-2, actor="", note="a sale meanwhile")
    data["variants-0-title"] = "Blue"

    # when
    response = admin_client.post(product_url(product), data)

    # then: the title is saved, the stock is the one the sale left, no admin ledger row
    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.title, variant.stock_on_hand) == ("Blue", 8)
    assert not StockMovement.objects.filter(note="edited in the admin").exists()
    assert ledger_mismatches() == []


def test_a_product_must_keep_at_least_one_variant(admin_client: Client) -> None:
    # given
    product = ProductFactory.create()
    data = page_data(admin_client.get(product_url(product)))
    data["variants-0-DELETE"] = "on"

    # when
    response = admin_client.post(product_url(product), data)

    # then
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert any("at least one" in error for error in errors)
    assert product.variants.count() == 1


def test_deleting_variants_in_the_inline_keeps_the_ledger_and_resyncs_the_price(admin_client: Client) -> None:
    # given: a tracked variant (it has a ledger) and a cheaper one with no history
    kept = tracked(2, unit_amount=50_000)
    cheap = ProductVariantFactory.create(product=kept.product, unit_amount=10_000, position=1)
    product_sync_of(kept.product)
    data = page_data(admin_client.get(product_url(kept.product)))

    # when: deleting the one with a ledger, then the one without history
    with_ledger = admin_client.post(product_url(kept.product), {**data, "variants-0-DELETE": "on"})
    without = admin_client.post(product_url(kept.product), {**data, "variants-1-DELETE": "on"})

    # then: the ledger protects its variant; the product's price follows what is left
    assert with_ledger.status_code == 200
    assert "protected" in str(with_ledger.context["inline_admin_formsets"][0].formset.non_form_errors())
    assert without.status_code == 302
    assert list(ProductVariant.objects.filter(product=kept.product)) == [kept]
    assert not ProductVariant.objects.filter(pk=cheap.pk).exists()
    assert Product.objects.get(pk=kept.product_id).unit_amount == 50_000


def test_a_new_product_without_a_variant_is_refused(admin_client: Client) -> None:
    # given: the add page's first variant row left empty
    data = page_data(admin_client.get(reverse("admin:catalog_product_add")))
    data.update({"name": "Diya", "slug": "diya"})

    # when
    response = admin_client.post(reverse("admin:catalog_product_add"), data)

    # then
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.forms[0].errors["sku"]
    assert not Product.objects.filter(slug="diya").exists()


def test_a_negative_count_typed_in_the_inline_is_a_field_error(admin_client: Client) -> None:
    # given
    product = ProductFactory.create()
    data = page_data(admin_client.get(product_url(product)))
    data["variants-0-stock_on_hand"] = "-1"

    # when
    response = admin_client.post(product_url(product), data)

    # then
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.forms[0].errors["stock_on_hand"]
    assert StockMovement.objects.count() == 0


def test_the_inline_shows_held_and_available_per_variant(admin_client: Client) -> None:
    # given: 10 on hand, 3 held by a pending order
    variant = tracked(10)
    hold(variant, 3)

    # when
    response = admin_client.get(product_url(variant.product))

    # then
    (row,) = response.context["inline_admin_formsets"][0].formset.forms
    assert (row.instance._held, row.instance._available) == (3, 7)
    html = compact(response.content.decode())
    assert '<tdclass="field-held"><p>3</p></td>' in html
    assert '<tdclass="field-available"><p>7</p></td>' in html
    assert f"{LEDGER}?variant={variant.pk}" in html


# --------------------------------------------------------------------------- images


def test_an_image_uploaded_in_the_inline_is_stored_and_previewed(
    admin_client: Client, settings: SettingsWrapper, tmp_path: Path
) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_URL = "/media/"
    product = ProductFactory.create()
    data = page_data(admin_client.get(product_url(product)))
    index = add_row(data, "images", alt="Front view", position="0")
    data[f"images-{index}-image"] = SimpleUploadedFile("front.png", tiny_png(), content_type="image/png")

    # when
    response = admin_client.post(product_url(product), data)
    page = admin_client.get(product_url(product))

    # then
    assert response.status_code == 302, response.context and response.context["errors"]
    image = ProductImage.objects.get(product=product)
    assert (tmp_path / image.image.name).is_file()
    assert f'<img src="/media/{image.image.name}" alt="Front view" class="product-image-preview"' in (
        page.content.decode()
    )


# --------------------------------------------------------------------------- lists


def test_product_list_shows_price_variant_count_stock_and_low_stock(admin_client: Client) -> None:
    # given: a product with two tracked variants (3 left of one of them) and an untracked one
    low = tracked(5, unit_amount=20_000)
    hold(low, 2)
    tracked(10, product=low.product, unit_amount=30_000)
    product_sync_of(low.product)
    plain = ProductFactory.create(unit_amount=9_900)

    # when
    response = admin_client.get(reverse("admin:catalog_product_changelist"))

    # then
    rows = {product.pk: product for product in response.context["cl"].result_list}
    assert (rows[low.product_id]._variant_count, rows[low.product_id]._available_total) == (2, 13)
    assert rows[low.product_id]._low_stock is True
    assert (rows[plain.pk]._available_total, rows[plain.pk]._untracked, rows[plain.pk]._low_stock) == (
        None,
        True,
        False,
    )
    html = response.content.decode()
    assert "₹200.00" in html
    assert '<td class="field-stock">not tracked</td>' in html


def product_sync_of(product: Product) -> None:
    from catalog.variants import product_sync

    product_sync([product.pk])


def test_variant_list_shows_on_hand_held_available_and_the_low_stock_flag(admin_client: Client) -> None:
    # given
    variant = tracked(10, sku="MUG-RED", unit_amount=34_900)
    hold(variant, 6)

    # when
    response = admin_client.get(VARIANTS, {"q": "MUG-RED"})

    # then
    (row,) = response.context["cl"].result_list
    assert (row.stock_on_hand, row._held, row._available) == (10, 6, 4)
    html = compact(response.content.decode())
    assert "MUG-RED" in html
    assert "₹349.00" in html
    assert '<tdclass="field-held">6</td><tdclass="field-available">4</td>' in html
    assert '<tdclass="field-low_stock"><imgsrc="/static/admin/img/icon-yes.svg"alt="True">' in html
    assert f"{LEDGER}?variant={variant.pk}" in html


def test_variant_list_search_by_sku_and_product_name(admin_client: Client) -> None:
    # given
    mug = ProductVariantFactory.create(sku="MUG-RED", product__name="Enamel mug")
    ProductVariantFactory.create(sku="TEE-S", product__name="T-shirt")

    # when
    by_sku = admin_client.get(VARIANTS, {"q": "mug-r"})
    by_name = admin_client.get(VARIANTS, {"q": "enamel"})

    # then
    assert [v.pk for v in by_sku.context["cl"].result_list] == [mug.pk]
    assert [v.pk for v in by_name.context["cl"].result_list] == [mug.pk]


def test_low_stock_out_of_stock_and_not_tracked_filters(admin_client: Client) -> None:
    # given: low = at most 5 available (LOW_STOCK_THRESHOLD)
    three = tracked(3, sku="THREE")
    zero = tracked(0, sku="ZERO")
    tracked(20, sku="TWENTY")
    held_down = tracked(8, sku="EIGHT-HELD-5")
    hold(held_down, 5)  # 3 available
    untracked = ProductVariantFactory.create(sku="UNTRACKED")
    mine = {three.sku, zero.sku, "TWENTY", held_down.sku, untracked.sku}  # not the pending orders' own

    # when
    def listed(stock: str) -> set[str]:
        return mine & {v.sku for v in admin_client.get(VARIANTS, {"stock": stock}).context["cl"].result_list}

    # then
    assert listed("low") == {three.sku, zero.sku, held_down.sku}
    assert listed("out") == {zero.sku}
    assert listed("untracked") == {untracked.sku}


@pytest.mark.parametrize("rows", [1, 50])
def test_variant_list_query_count_does_not_grow_with_rows(
    admin_client: Client, rows: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    for n in range(rows):
        variant = tracked(n, product=ProductFactory.create(default_variant=False))
        if n % 2:
            hold(variant, 1)

    # when: the session, the user, the count, the page (held and available are subqueries of it)
    with django_assert_max_num_queries(4):
        response = admin_client.get(VARIANTS, {"stock": "low"} if rows == 1 else {})

    # then
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows


@pytest.mark.parametrize("rows", [1, 50])
def test_ledger_query_count_does_not_grow_with_rows(
    admin_client: Client, rows: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    variant = tracked(1)
    for _ in range(rows - 1):
        stock_adjust(variant_id=variant.pk, delta=1, actor="asha", note="delivery")

    # when: the session, the user, the variant filter's label, the count, the page
    with django_assert_max_num_queries(5):
        response = admin_client.get(LEDGER, {"variant": str(variant.pk)})

    # then
    assert len(response.context["cl"].result_list) == rows


@pytest.mark.parametrize("rows", [1, 20])
def test_product_page_query_count_does_not_grow_with_variants_and_images(
    admin_client: Client, rows: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    product = ProductFactory.create(default_variant=False)
    for n in range(rows):
        hold(tracked(n + 1, product=product), 1)
        ProductImage.objects.create(product=product, image=f"products/{n}.png", alt=f"view {n}")

    # when
    with django_assert_max_num_queries(9):
        response = admin_client.get(product_url(product))

    # then
    assert response.status_code == 200
    variants, _options, images = response.context["inline_admin_formsets"]
    assert (len(variants.formset.forms), len(images.formset.forms)) == (rows, rows)


# --------------------------------------------------------------------------- bulk adjustment


def test_adjust_stock_asks_for_units_and_a_reason_first(admin_client: Client) -> None:
    # given
    variant = tracked(10)
    selection = {"action": "adjust_stock", "_selected_action": [str(variant.pk)], "index": "0"}

    # when: the action, then applying it without a reason
    page = admin_client.post(VARIANTS, selection)
    no_reason = admin_client.post(VARIANTS, {**selection, "apply": "1", "delta": "5", "note": ""})

    # then
    assert page.status_code == 200
    assert 'id="adjust_stock_form"' in page.content.decode()
    assert no_reason.status_code == 200
    assert no_reason.context["form"].errors["note"]
    variant.refresh_from_db()
    assert variant.stock_on_hand == 10
    assert StockMovement.objects.filter(reason=Reason.ADJUSTMENT).count() == 0


def test_adjust_stock_adjusts_each_variant_and_reports_refusals(admin_client: Client, staff: User) -> None:
    # given: removing 5 from 10, from 3 (refused) and from an untracked variant (refused: 0 - 5)
    plenty = tracked(10, sku="PLENTY")
    few = tracked(3, sku="FEW")
    untracked = ProductVariantFactory.create(sku="UNTRACKED")
    selected = [str(v.pk) for v in (plenty, few, untracked)]

    # when
    response = admin_client.post(
        VARIANTS,
        {
            "action": "adjust_stock",
            "_selected_action": selected,
            "index": "0",
            "apply": "1",
            "delta": "-5",
            "note": "breakage",
        },
    )

    # then
    assert response.status_code == 302
    for variant in (plenty, few, untracked):
        variant.refresh_from_db()
    assert (plenty.stock_on_hand, few.stock_on_hand, untracked.stock_on_hand) == (5, 3, None)
    movement = StockMovement.objects.get(reason=Reason.ADJUSTMENT)
    assert (movement.variant_id, movement.delta, movement.actor, movement.note) == (
        plenty.pk,
        -5,
        staff.username,
        "breakage",
    )
    levels = messages_of(response)
    assert [level for level, _ in levels].count("error") == 2
    assert any(level == "error" and "FEW" in text for level, text in levels)
    assert any(level == "error" and "UNTRACKED" in text for level, text in levels)
    assert any(level == "success" and "PLENTY" in text for level, text in levels)
    assert ledger_mismatches() == []


def test_adjust_stock_on_an_untracked_variant_starts_tracking_it(admin_client: Client) -> None:
    # given
    variant = ProductVariantFactory.create()

    # when
    admin_client.post(
        VARIANTS,
        {
            "action": "adjust_stock",
            "_selected_action": [str(variant.pk)],
            "index": "0",
            "apply": "1",
            "delta": "4",
            "note": "delivery",
        },
    )

    # then
    variant.refresh_from_db()
    assert variant.stock_on_hand == 4
    assert ledger_mismatches() == []


# --------------------------------------------------------------------------- the variant's own page


def test_the_variant_page_never_writes_stock_and_syncs_the_product_price(admin_client: Client) -> None:
    # given: the page loaded with 10 on hand, then 1 sold
    variant = tracked(10, unit_amount=50_000)
    product_sync_of(variant.product)
    url = reverse("admin:catalog_productvariant_change", args=[variant.pk])
    data = page_data(admin_client.get(url))
    stock_adjust(variant_id=variant.pk, delta=-1, actor="", note="a sale meanwhile")
    data["unit_amount"] = "45000"

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302, response.context and response.context["errors"]
    variant.refresh_from_db()
    assert (variant.unit_amount, variant.stock_on_hand) == (45_000, 9)
    assert Product.objects.get(pk=variant.product_id).unit_amount == 45_000
    assert ledger_mismatches() == []


# --------------------------------------------------------------------------- the ledger


def test_the_ledger_lists_one_variants_movements_and_filters_by_reason(admin_client: Client) -> None:
    # given
    mine = tracked(10, sku="MINE")
    stock_adjust(variant_id=mine.pk, delta=-2, actor="asha", note="breakage")
    other = tracked(4, sku="OTHER")

    # when
    of_mine = admin_client.get(LEDGER, {"variant": str(mine.pk)})
    adjustments = admin_client.get(LEDGER, {"variant": str(mine.pk), "reason__exact": "adjustment"})
    bad = admin_client.get(LEDGER, {"variant": "x"})
    unknown = admin_client.get(LEDGER, {"variant": "999999"})

    # then
    assert [(m.delta, m.reason) for m in of_mine.context["cl"].result_list] == [
        (-2, Reason.ADJUSTMENT),
        (10, Reason.IMPORT),
    ]
    assert [m.note for m in adjustments.context["cl"].result_list] == ["breakage"]
    assert "OTHER" not in of_mine.content.decode().split('id="result_list"')[1]
    assert other.pk not in {m.variant_id for m in of_mine.context["cl"].result_list}
    assert bad.status_code == 302  # the admin's "invalid lookup" redirect (?e=1)
    assert list(unknown.context["cl"].result_list) == []


def test_the_ledger_and_the_reservations_are_read_only(admin_client: Client) -> None:
    # given
    variant = tracked(3)
    hold(variant, 1)
    movement = StockMovement.objects.get()
    reservation = StockReservation.objects.get()

    # when
    pages = {
        "ledger_add": admin_client.get(reverse("admin:catalog_stockmovement_add")),
        "ledger_change": admin_client.post(
            reverse("admin:catalog_stockmovement_change", args=[movement.pk]), {"delta": "99"}
        ),
        "ledger_delete": admin_client.post(
            reverse("admin:catalog_stockmovement_delete", args=[movement.pk]), {"post": "yes"}
        ),
        "reservation_delete": admin_client.post(
            reverse("admin:catalog_stockreservation_delete", args=[reservation.pk]), {"post": "yes"}
        ),
    }
    view = admin_client.get(reverse("admin:catalog_stockmovement_change", args=[movement.pk]))

    # then
    assert {name: response.status_code for name, response in pages.items()} == dict.fromkeys(pages, 403)
    assert view.status_code == 200
    movement.refresh_from_db()
    assert movement.delta == 3
    assert StockReservation.objects.filter(pk=reservation.pk).exists()
