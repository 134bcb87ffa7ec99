"""Shipping, promotion codes and tax at checkout (issue 18).

- `SHIPPING_COUNTRIES`: the ISO 3166-1 alpha-2 codes the payment page accepts a shipping address
  from, when the cart needs shipping and active shipping methods exist (comma-separated).
- `ALLOW_PROMOTION_CODES`: the payment page takes the provider's promotion codes.
- `STRIPE_AUTOMATIC_TAX`: the provider computes tax (Stripe Tax) from the shipping address.
"""

from shopapi.settings_env import env

SHIPPING_COUNTRIES = [code.strip().upper() for code in env.list("SHIPPING_COUNTRIES", default=["IN"]) if code]
ALLOW_PROMOTION_CODES = env.bool("ALLOW_PROMOTION_CODES", default=False)
# Provider-neutral name for checkout code (which never names the provider).
AUTOMATIC_TAX = env.bool("STRIPE_AUTOMATIC_TAX", default=False)
