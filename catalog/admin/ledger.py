"""The stock ledger and the reservations in the back-office: records of what happened, read-only.

Every change of a variant's on-hand is a `StockMovement` (catalog/stock.py writes them; nobody
edits or deletes one), and what pending orders hold is a `StockReservation`. Staff read them here,
per variant from the variant's "ledger" link (`?variant=<id>`), by reason or status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from catalog.admin.common import VariantFilter, admin_change_link
from catalog.models import StockMovement, StockReservation
from shopapi.admin import ReadOnlyPermissionsMixin

if TYPE_CHECKING:
    from checkout.models import Order


def _order_link(order: Order | None) -> SafeString | str:
    return admin_change_link(order, order.number if order is not None else "")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    """Why each variant's stock is what it is: one row per change, newest first."""

    list_display = (
        "created_at",
        "variant_link",
        "change",
        "on_hand_after",
        "reason",
        "order_link",
        "actor",
        "note",
    )
    list_filter = ("reason", VariantFilter, ("created_at", admin.DateFieldListFilter))
    list_select_related = ("variant", "order")
    search_fields = ("variant__sku", "=order__number", "actor", "note")
    search_help_text = "A SKU (or part of one), an exact order number, a staff member or words of the note."
    fields = (
        "variant_link",
        "change",
        "on_hand_after",
        "reason",
        "order_link",
        "actor",
        "note",
        "created_at",
    )
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockMovement]:
        return super().get_queryset(request).select_related("variant", "order")

    @admin.display(description="variant", ordering="variant__sku")
    def variant_link(self, movement: StockMovement) -> SafeString | str:
        return admin_change_link(movement.variant, movement.variant.sku)

    @admin.display(description="change", ordering="delta")
    def change(self, movement: StockMovement) -> str:
        return f"{movement.delta:+d}"

    @admin.display(description="order")
    def order_link(self, movement: StockMovement) -> SafeString | str:
        return _order_link(movement.order)


@admin.register(StockReservation)
class StockReservationAdmin(ReadOnlyPermissionsMixin, admin.ModelAdmin):
    """What pending orders hold, and what became of it (released, sold)."""

    list_display = ("created_at", "variant_link", "quantity", "status", "expires_at", "order_link")
    list_filter = ("status", VariantFilter)
    list_select_related = ("variant", "order")
    search_fields = ("variant__sku", "=order__number")
    fields = ("variant_link", "order_link", "quantity", "status", "expires_at", "created_at", "updated_at")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockReservation]:
        return super().get_queryset(request).select_related("variant", "order")

    @admin.display(description="variant", ordering="variant__sku")
    def variant_link(self, reservation: StockReservation) -> SafeString | str:
        return admin_change_link(reservation.variant, reservation.variant.sku)

    @admin.display(description="order")
    def order_link(self, reservation: StockReservation) -> SafeString | str:
        return _order_link(reservation.order)
