"""The order back-office: list, search, filters, counts by status, CSV export, read-only detail, no delete."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import TYPE_CHECKING, cast

import pytest
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from accounts.models import User
from checkout.admin import order_status_counts
from checkout.models import Order, OrderEvent, OrderItem, Refund, Shipment
from checkout.services.fulfilment import shipment_create
from payments.models import ProviderEvent
from tests.checkout.backoffice import admin_client_for, make_order, staff_user
from tests.factories import UserFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:checkout_order_changelist")
EXPORT = reverse("admin:checkout_order_export")
S = Order.Status


@pytest.fixture
def staff() -> User:
    return staff_user("checkout.view_order")


@pytest.fixture
def client(staff: User) -> Client:
    return admin_client_for(staff)


def listed_numbers(response: _MonkeyPatchedWSGIResponse) -> set[str]:
    return {order.number for order in response.context["cl"].result_list}


def csv_rows(response: _MonkeyPatchedWSGIResponse) -> list[dict[str, str]]:
    # the export is a StreamingHttpResponse; the test client's response stub only knows HttpResponseBase
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(body)))


# --------------------------------------------------------------------------- list


def test_changelist_shows_number_customer_status_money_and_times(client: Client) -> None:
    # given
    customer = UserFactory.create(email="asha@example.com")
    order = make_order(
        customer, unit_amount=149_900, quantity=2, status=S.PARTIALLY_REFUNDED, amount_refunded=50_000
    )

    # when
    response = client.get(CHANGELIST)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html
    assert reverse("admin:accounts_user_change", args=[customer.pk]) in html
    assert "asha@example.com" in html
    assert "order-status-partially_refunded" in html
    assert "₹2,998.00" in html
    assert "₹500.00" in html
    assert listed_numbers(response) == {order.number}


def test_changelist_is_refused_to_staff_without_view_permission() -> None:
    # given
    client = admin_client_for(staff_user())
    make_order()

    # when
    response = client.get(CHANGELIST)

    # then
    assert response.status_code == 403


@pytest.mark.parametrize("rows", [1, 50])
def test_changelist_query_count_does_not_grow_with_rows(
    client: Client, rows: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    for _ in range(rows):
        make_order()

    # when
    with django_assert_max_num_queries(11):
        response = client.get(CHANGELIST)

    # then
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("number", "target"),
        ("email", "target"),
        ("username", "target"),
        ("session", "target"),
        ("intent", "target"),
    ],
)
def test_search_finds_by_number_email_username_session_and_payment_intent(
    client: Client, term: str, expected: str
) -> None:
    # given
    target = make_order(UserFactory.create(username="meera", email="meera.k@example.com"))
    other = make_order(UserFactory.create(username="ravi", email="ravi@example.com"))
    query = {
        "number": target.number,
        "email": "meera.k@example",
        "username": "meera",
        "session": cast(str, target.provider_session_id),
        "intent": target.payment_id,
    }[term]

    # when
    response = client.get(CHANGELIST, {"q": query})

    # then
    assert response.status_code == 200
    assert listed_numbers(response) == {target.number}
    assert other.number not in listed_numbers(response)


def test_filters_by_status_and_created_date(client: Client) -> None:
    # given
    old_paid = make_order(status=S.PAID, created_at=timezone.now() - timedelta(days=40))
    new_paid = make_order(status=S.PAID)
    new_pending = make_order(status=S.PENDING)

    # when
    by_status = client.get(CHANGELIST, {"status__exact": "paid"})
    since = str((timezone.now() - timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0))
    by_date = client.get(CHANGELIST, {"created_at__gte": since})
    both = client.get(CHANGELIST, {"status__exact": "paid", "created_at__gte": since})

    # then
    assert listed_numbers(by_status) == {old_paid.number, new_paid.number}
    assert listed_numbers(by_date) == {new_paid.number, new_pending.number}
    assert listed_numbers(both) == {new_paid.number}


def test_orders_of_one_user_are_reachable_by_the_user_filter_link(client: Client) -> None:
    # given
    customer = UserFactory.create()
    mine = make_order(customer)
    make_order()

    # when
    response = client.get(CHANGELIST, {"user__id__exact": customer.pk})

    # then
    assert response.status_code == 200
    assert listed_numbers(response) == {mine.number}


# --------------------------------------------------------------------------- counts by status


def test_counts_by_status_follow_the_current_filters(client: Client) -> None:
    # given
    meera = UserFactory.create(email="meera@example.com")
    for status in (S.PAID, S.PAID, S.PENDING, S.REFUNDED):
        make_order(meera, status=status)
    make_order(status=S.PAID)
    make_order(status=S.FAILED)

    # when
    everything = client.get(CHANGELIST)
    meeras = client.get(CHANGELIST, {"q": "meera@example.com"})

    # then
    def counts(response: _MonkeyPatchedWSGIResponse) -> dict[str, int]:
        return {row["status"]: row["count"] for row in response.context["status_counts"]}

    assert counts(everything) == {
        "pending": 1,
        "paid": 3,
        "failed": 1,
        "expired": 0,
        "cancelled": 0,
        "partially_refunded": 0,
        "refunded": 1,
    }
    assert counts(meeras)["paid"] == 2
    assert counts(meeras)["failed"] == 0
    assert sum(counts(meeras).values()) == 4
    assert 'id="order-status-counts"' in meeras.content.decode()


def test_counts_by_status_take_one_query(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    # given
    for status in (S.PAID, S.PENDING, S.PENDING, S.EXPIRED):
        make_order(status=status)

    # when
    with django_assert_num_queries(1):
        rows = order_status_counts(Order.objects.select_related("user").order_by("-created_at"))

    # then
    assert {row["status"]: row["count"] for row in rows if row["count"]} == {
        "paid": 1,
        "pending": 2,
        "expired": 1,
    }


# --------------------------------------------------------------------------- CSV export


def test_export_streams_the_filtered_orders_as_csv(client: Client) -> None:
    # given
    customer = UserFactory.create(username="=cmd", email="csv@example.com")
    paid = make_order(
        customer, status=S.PARTIALLY_REFUNDED, unit_amount=149_900, quantity=1, amount_refunded=9_900
    )
    make_order(status=S.PENDING)
    changelist = client.get(CHANGELIST, {"status__exact": "partially_refunded"})
    export_url = changelist.context["export_url"]

    # when
    response = client.get(export_url)

    # then
    assert export_url.startswith(EXPORT)
    assert "status__exact=partially_refunded" in export_url
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows == [
        {
            "number": paid.number,
            "created_at": timezone.localtime(paid.created_at).isoformat(),
            "paid_at": timezone.localtime(paid.paid_at).isoformat(),
            "customer": "'=cmd",  # formula injection defused
            "email": "csv@example.com",
            "status": "partially_refunded",
            "currency": "INR",
            "total": "1499.00",
            "refunded": "99.00",
            "stripe_session_id": paid.provider_session_id,
            "stripe_payment_intent_id": paid.payment_id,
        }
    ]


def test_export_without_filters_covers_every_page(client: Client) -> None:
    # given
    orders = [make_order() for _ in range(55)]  # more than one changelist page (50)

    # when
    response = client.get(EXPORT)

    # then
    assert response.status_code == 200
    assert {row["number"] for row in csv_rows(response)} == {o.number for o in orders}


def test_export_action_exports_the_selected_orders(client: Client) -> None:
    # given
    chosen, other = make_order(), make_order()

    # when
    response = client.post(
        CHANGELIST, {"action": "export_selected_csv", "_selected_action": [str(chosen.pk)], "index": 0}
    )

    # then
    assert response.status_code == 200
    numbers = [row["number"] for row in csv_rows(response)]
    assert numbers == [chosen.number]
    assert other.number not in numbers


def test_export_is_refused_without_view_permission() -> None:
    # given
    client = admin_client_for(staff_user())
    make_order()

    # when
    response = client.get(EXPORT)

    # then
    assert response.status_code == 403


# --------------------------------------------------------------------------- detail


def test_detail_shows_items_and_history_read_only(client: Client) -> None:
    # given
    order = make_order(unit_amount=25_000, quantity=3)
    OrderEvent.objects.create(
        order=order,
        from_status="paid",
        to_status="paid",
        source="webhook",
        message="a note",
        provider_event_id="evt_1",
    )
    url = reverse("admin:checkout_order_change", args=[order.pk])

    # when
    response = client.get(url)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    item = order.items.get()
    assert item.name in html
    assert "₹250.00" in html
    assert "₹750.00" in html
    assert "History (every status change, oldest first)" in html
    assert html.count("order-status-paid") >= 2  # header badge + history
    assert "a note" in html
    assert "evt_1" in html
    assert cast(str, order.provider_session_id) in html
    assert order.payment_id in html
    assert 'name="_save"' not in html  # nothing to save: the order is read-only
    assert not response.context["adminform"].form.fields  # every field is read-only
    inline_formsets = response.context["inline_admin_formsets"]
    assert {f.opts.model for f in inline_formsets} == {OrderItem, Shipment, Refund, OrderEvent}
    assert all(not f.has_add_permission and not f.has_delete_permission for f in inline_formsets)


@pytest.mark.parametrize("rows", [1, 50])
def test_detail_query_count_does_not_grow_with_items_or_events(
    client: Client, rows: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    order = make_order()
    for n in range(rows - 1):
        OrderItem.objects.create(
            order=order,
            product=cast(OrderItem, order.items.first()).product,
            variant=cast(OrderItem, order.items.first()).variant,
            name=f"extra {n}",
            unit_amount=1,
            quantity=1,
            line_total=1,
        )
        OrderEvent.objects.create(
            order=order, from_status="paid", to_status="paid", source="admin", message=f"n{n}"
        )
    for item in order.items.all():  # one shipment per item
        shipment_create(order_id=order.pk, lines={item.pk: 1})

    # when: one query per inline (items, shipments with their items, refunds, history) and the
    # "Mark shipped" button's check
    with django_assert_max_num_queries(13):
        response = client.get(reverse("admin:checkout_order_change", args=[order.pk]))

    # then
    assert response.status_code == 200
    items, shipments, refunds, events = response.context["inline_admin_formsets"]
    assert len(items.formset.forms) == rows
    assert len(shipments.formset.forms) == rows
    assert len(refunds.formset.forms) == 0
    assert len(events.formset.forms) == 2 * rows + 1  # make_order's two, rows - 1 notes, rows shipped


def test_posting_to_the_detail_page_changes_nothing(client: Client) -> None:
    # given
    order = make_order(status=S.PAID)
    url = reverse("admin:checkout_order_change", args=[order.pk])

    # when
    response = client.post(url, {"status": "refunded", "amount_refunded": order.total_amount})

    # then
    assert response.status_code == 403
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (S.PAID, 0)


# --------------------------------------------------------------------------- no add, no delete


def test_no_add_page_and_no_delete_page_even_for_a_superuser() -> None:
    # given
    client = admin_client_for(staff_user(superuser=True))
    order = make_order()

    # when
    add = client.get(reverse("admin:checkout_order_add"))
    delete = client.post(reverse("admin:checkout_order_delete", args=[order.pk]), {"post": "yes"})
    changelist = client.get(CHANGELIST)

    # then
    assert add.status_code == 403
    assert delete.status_code == 403
    actions = [name for name, _ in changelist.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert "export_selected_csv" in actions
    assert Order.objects.filter(pk=order.pk).exists()


def test_delete_selected_action_is_not_available(client: Client) -> None:
    # given
    order = make_order()

    # when
    response = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [str(order.pk)], "post": "yes"}
    )

    # then
    assert response.status_code in (200, 302)
    assert Order.objects.filter(pk=order.pk).exists()


def test_orders_items_events_and_stripe_events_refuse_deletion_at_model_level() -> None:
    # given
    order = make_order()
    item = order.items.get()
    event = cast(OrderEvent, order.events.first())
    stripe_event = ProviderEvent.objects.create(event_id="evt_keep", type="charge.refunded", payload={})

    # when / then
    for delete in (
        order.delete,
        item.delete,
        event.delete,
        stripe_event.delete,
        Order.objects.all().delete,
        Order.objects.filter(pk=order.pk).delete,
        OrderItem.objects.all().delete,
        order.items.all().delete,
        OrderEvent.objects.all().delete,
        order.events.all().delete,
        ProviderEvent.objects.all().delete,
    ):
        with pytest.raises(ProtectedError):
            delete()

    assert Order.objects.count() == 1
    assert OrderItem.objects.count() == 1
    assert OrderEvent.objects.filter(order=order).count() == 2
    assert ProviderEvent.objects.count() == 1


def test_deleting_a_user_with_orders_is_refused_and_keeps_the_orders() -> None:
    # given
    customer = UserFactory.create()
    orders = [make_order(customer), make_order(customer, status=S.PENDING)]

    # when
    with pytest.raises(ProtectedError):
        customer.delete()

    # then
    assert customer.__class__.objects.filter(pk=customer.pk).exists()
    assert set(Order.objects.filter(user=customer).values_list("pk", flat=True)) == {o.pk for o in orders}


def test_admin_refuses_to_delete_a_user_with_orders() -> None:
    # given
    client = admin_client_for(staff_user(superuser=True))
    customer = UserFactory.create()
    order = make_order(customer)

    # when
    response = client.post(reverse("admin:accounts_user_delete", args=[customer.pk]), {"post": "yes"})

    # then
    assert response.status_code == 200  # Django's "cannot delete: protected objects" page
    assert response.context["title"] == "Cannot delete user"
    assert any(order.number in str(line) for line in response.context["protected"]), response.context[
        "protected"
    ]
    assert Order.objects.filter(pk=order.pk).exists()
    assert customer.__class__.objects.filter(pk=customer.pk).exists()


# --------------------------------------------------------------------------- users, carts, Stripe events


def test_user_page_lists_the_users_orders_and_links_to_them() -> None:
    # given
    client = admin_client_for(staff_user(superuser=True))
    customer = UserFactory.create()
    mine = [make_order(customer), make_order(customer, status=S.REFUNDED)]
    theirs = make_order()

    # when
    response = client.get(reverse("admin:accounts_user_change", args=[customer.pk]))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    for order in mine:
        assert order.number in html
        assert reverse("admin:checkout_order_change", args=[order.pk]) in html
    assert theirs.number not in html
    assert f"{CHANGELIST}?user__id__exact={customer.pk}" in html
    assert "2 orders in the order list" in html


def test_cart_and_stripe_event_pages_are_read_only() -> None:
    # given
    client = admin_client_for(staff_user(superuser=True))
    order = make_order()
    event = ProviderEvent.objects.create(
        event_id="evt_admin_1",
        type="checkout.session.completed",
        payload={"data": {"object": {"object": "checkout.session", "client_reference_id": str(order.pk)}}},
    )

    # when
    cart_page = client.get(reverse("admin:checkout_cart_change", args=[order.cart_id]))
    event_page = client.get(reverse("admin:payments_providerevent_change", args=[event.pk]))
    event_list = client.get(reverse("admin:payments_providerevent_changelist"), {"q": "evt_admin_1"})
    event_delete = client.post(
        reverse("admin:payments_providerevent_delete", args=[event.pk]), {"post": "yes"}
    )

    # then
    assert cart_page.status_code == 200
    assert order.number in cart_page.content.decode()
    assert event_page.status_code == 200
    assert reverse("admin:checkout_order_change", args=[order.pk]) in event_page.content.decode()
    assert "checkout.session.completed" in event_page.content.decode()
    assert event_list.status_code == 200
    assert "evt_admin_1" in event_list.content.decode()
    assert event_delete.status_code == 403
    assert ProviderEvent.objects.filter(pk=event.pk).exists()


def test_a_guest_order_shows_searches_and_exports_by_its_email(client: Client) -> None:
    # given: a guest's order (no user; the email it was placed with), and a user's order
    guest = make_order(status=S.PAID)
    Order.objects.filter(pk=guest.pk).update(user=None, email="guest.buyer@example.com", token_hash="0" * 64)
    users = make_order(UserFactory.create(email="someone@example.com"))

    # when
    listed = client.get(CHANGELIST)
    searched = client.get(CHANGELIST, {"q": "guest.buyer@"})
    detail = client.get(reverse("admin:checkout_order_change", args=[guest.pk]))
    exported = client.get(EXPORT)

    # then
    assert "guest.buyer@example.com <em>(guest)</em>" in listed.content.decode()
    assert listed_numbers(searched) == {guest.number}
    assert detail.status_code == 200
    rows = {row["number"]: row for row in csv_rows(exported)}
    assert (rows[guest.number]["customer"], rows[guest.number]["email"]) == ("", "guest.buyer@example.com")
    assert rows[users.number]["email"] == "someone@example.com"
