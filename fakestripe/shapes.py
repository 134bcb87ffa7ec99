"""The fields Stripe always sends that fakestripe does not model, with the values Stripe sends.

Each object fakestripe builds is ``{**<defaults>(), **its modelled fields}``, so every field the
``stripe`` SDK types as non-optional (``stripe.checkout.Session``, ``stripe.Refund``,
``stripe.Charge``, ``stripe.PaymentIntent``, ``stripe.Price``) is present, and nothing the SDK
does not know is added.
"""

from __future__ import annotations

from fakestripe.store import Obj


def session_defaults() -> Obj:
    """A hosted, payment-mode Checkout Session with no tax, shipping, custom fields or customer."""
    return {
        "adaptive_pricing": None,
        "after_expiration": None,
        "allow_promotion_codes": None,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "client_secret": None,
        "consent": None,
        "consent_collection": None,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer_creation": "if_required",
        "customer_details": None,
        "discounts": [],
        "invoice": None,
        "invoice_creation": None,
        "locale": None,
        "origin_context": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "redirect_on_completion": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "submit_type": None,
        "subscription": None,
        "tax_id_collection": {"enabled": False, "required": "never"},
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
    }


def price_defaults() -> Obj:
    """A one-time, per-unit price created inline by ``price_data``."""
    return {
        "billing_scheme": "per_unit",
        "custom_unit_amount": None,
        "lookup_key": None,
        "nickname": None,
        "recurring": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
    }


def payment_intent_defaults() -> Obj:
    """A card PaymentIntent confirmed by Checkout for a guest customer."""
    return {
        "application": None,
        "cancellation_reason": None,
        "confirmation_method": "automatic",
        "customer": None,
        "on_behalf_of": None,
        "payment_record": None,
        "review": None,
        "setup_future_usage": None,
        "source": None,
    }


def charge_defaults() -> Obj:
    """A card charge with no Connect transfer, customer, review or dispute."""
    return {
        "application": None,
        "application_fee": None,
        "balance_transaction": None,
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "customer": None,
        "description": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "on_behalf_of": None,
        "review": None,
        "source": None,
        "source_transfer": None,
        "transfer": None,
    }


def refund_defaults() -> Obj:
    """A card refund with no Connect reversal or balance transaction."""
    return {
        "balance_transaction": None,
        "customer": None,
        "description": None,
        "failure_balance_transaction": None,
        "payment_method": None,
        "pending_reason": None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "transfer_reversal": None,
    }
