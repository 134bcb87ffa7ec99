"""The refund page of an order (`<order_id>/refund/`): a form in major units, `order_refund` behind it.

Guarded by the `checkout.refund_order` permission. The bounds of the amount are the refund
service's (checked under the order's row lock); this page only parses and shows its answers.
"Return the items to stock" puts the order's tracked units back on hand once the refund is
recorded (`order_stock_return`: once per order, however many refunds ask for it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from catalog.models import StockMovement
from catalog.money import currency_decimals, format_money
from checkout.admin.common import status_badge
from checkout.models import Order
from checkout.services.refunds import committed_amount, order_refund
from checkout.services.stock import order_stock_return
from checkout.states import can_refund, refundable_amount
from payments.interface import RefundRefused, gateway
from shopapi.exceptions import ConflictError, DomainError, PaymentProviderError, PaymentProviderUnavailable

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

REFUND_PERMISSION = "checkout.refund_order"


class OrderRefundForm(forms.Form):
    """Amount in MAJOR units of the order's currency (12.50 = twelve fifty), default: all that is left.

    Only the format is checked here; the bounds (1 minor unit … what is left) are checked by
    `order_refund` under the order's row lock, and its error is shown on the `amount` field.
    """

    amount = forms.DecimalField()
    amount_refunded_before = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    return_to_stock = forms.BooleanField(
        label="Return the items to stock",
        required=False,
        help_text=(
            "The goods came back: once the refund is recorded, every item whose stock is tracked "
            "goes back on hand (a “return” row in its ledger). Done once per order."
        ),
    )

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        self.decimals = currency_decimals(order.currency)
        left = refundable_amount(order)
        example = "12" if self.decimals == 0 else "12." + "5".ljust(self.decimals, "0")
        self.fields["amount"] = forms.DecimalField(
            label=f"Amount to refund, in {order.currency.upper()} (major units, e.g. {example})",
            max_digits=18,
            decimal_places=self.decimals,
            min_value=Decimal(0),
            initial=Decimal(left).scaleb(-self.decimals),
            help_text=(
                f"Up to {format_money(left, order.currency)} can be refunded "
                f"(total {format_money(order.total_amount, order.currency)}, already refunded "
                f"{format_money(order.amount_refunded, order.currency)}"
                + (
                    f", pending {format_money(order.amount_refund_pending, order.currency)}"
                    if order.amount_refund_pending
                    else ""
                )
                + "). Leave the full amount for a full refund."
            ),
        )
        self.fields["amount_refunded_before"].initial = committed_amount(order)

    def amount_minor(self) -> int:
        """The cleaned amount in minor units (exact: the field allows no more decimals than the currency)."""
        amount: Decimal = self.cleaned_data["amount"]
        return int(amount.scaleb(self.decimals))


def _refund(request: HttpRequest, order: Order, form: OrderRefundForm) -> Order | HttpResponse | None:
    """Run the refund; the refunded order, a redirect for a stale page, or None (errors shown)."""
    provider = gateway().display_name
    try:
        return order_refund(
            order_id=order.pk,
            amount=form.amount_minor(),
            staff_user=request.user,
            expected_amount_refunded=form.cleaned_data["amount_refunded_before"],
        )
    except RefundRefused as exc:
        messages.error(request, f"{provider} refused the refund: {exc.message} ({exc.code}).")
    except PaymentProviderUnavailable as exc:
        messages.error(
            request,
            f"{provider} did not answer in time, so the outcome is unknown: the refund may have been "
            "made. Submitting this form again is safe: the same refund is replayed, never repeated; "
            f"the order's history shows it once {provider} reports it. ({exc.code})",
        )
    except PaymentProviderError as exc:
        messages.error(request, f"{provider} failed; nothing was refunded. {exc.message} ({exc.code})")
    except ConflictError as exc:
        messages.warning(request, exc.message)
        return HttpResponseRedirect(reverse("admin:checkout_order_change", args=[order.pk]))
    except DomainError as exc:
        form.add_error("amount" if exc.field == "amount" else None, exc.message)
    return None


def _returned_on(order: Order) -> str:
    when = (
        StockMovement.objects.filter(order_id=order.pk, reason=StockMovement.Reason.RETURN)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return f"yes, {date_format(timezone.localtime(when), 'DATETIME_FORMAT')}" if when else "no"


def _return_to_stock(request: HttpRequest, order: Order) -> None:
    """After the refund is recorded (committed): the order's tracked units back on hand, once."""
    moved = order_stock_return(order_id=order.pk, actor=request.user.get_username())
    if moved:
        messages.success(
            request, f"Returned the items of order {order.number} to stock ({moved} variant(s))."
        )
    else:
        messages.info(
            request,
            f"Nothing went back to stock for order {order.number}: its items were returned before, "
            "or their stock is not tracked.",
        )


def refund_view(model_admin: ModelAdmin[Order], request: HttpRequest, object_id: str) -> HttpResponse:
    """Refund all or part of one order through the payment provider (`checkout.refund_order` only)."""
    if not (request.user.has_perm(REFUND_PERMISSION) and model_admin.has_view_permission(request)):
        raise PermissionDenied
    order = model_admin.get_object(request, unquote(object_id))
    if order is None:
        raise Http404("Order not found.")
    change_url = reverse("admin:checkout_order_change", args=[order.pk])

    form = OrderRefundForm(request.POST or None, order=order)
    if request.method == "POST" and form.is_valid():
        refunded = _refund(request, order, form)
        if isinstance(refunded, HttpResponse):
            return refunded
        if refunded is not None:
            amount = committed_amount(refunded) - committed_amount(order)
            if refunded.amount_refund_pending > order.amount_refund_pending:
                messages.warning(
                    request,
                    f"The refund of {format_money(amount, order.currency)} on order {order.number} is "
                    f"pending at {gateway().display_name}; the order changes when it succeeds or fails.",
                )
            else:
                messages.success(
                    request,
                    f"Refunded {format_money(amount, order.currency)} on order {order.number}; "
                    f"it is now {refunded.get_status_display().lower()}.",
                )
            if form.cleaned_data["return_to_stock"]:
                _return_to_stock(request, order)
            return HttpResponseRedirect(change_url)

    opts = model_admin.opts
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Refund order {order.number}",
        "opts": opts,
        "app_label": opts.app_label,
        "original": order,
        "order": order,
        "form": form,
        "change_url": change_url,
        "refundable": can_refund(order),
        "provider": gateway().display_name,
        "summary": [
            ("Customer", order.customer_email or (order.user.get_username() if order.user else "guest")),
            ("Status", status_badge(order.status)),
            ("Total", format_money(order.total_amount, order.currency)),
            ("Already refunded", format_money(order.amount_refunded, order.currency)),
            ("Pending", format_money(order.amount_refund_pending, order.currency)),
            ("Left to refund", format_money(refundable_amount(order), order.currency)),
            ("Payment", order.payment_id or "—"),
            ("Items returned to stock", _returned_on(order)),
        ],
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/checkout/order/refund.html", context)
