"""Development defaults (`make run`, DEBUG on): the example storefront, local CORS origins, LAN hosts.

Every value here is only a default: a variable set in the environment or `.env` wins. With DEBUG
off nothing changes except `SERVE_STOREFRONT`, which stays off unless set.

- `STOREFRONT_URL` (set by `make run` to the address browsers use, e.g. http://192.168.1.20:8000):
  the payment success and cancel pages and the account email links default to the storefront's
  pages there (`/checkout/success`, `/cart?cancelled=1`, `/reset-password`, `/verify-email`).
- `DEV_PUBLIC_HOSTS` (set by `make run HOST=0.0.0.0` to the machine's LAN address and 10.0.2.2,
  the Android emulator's name for the host): added to ALLOWED_HOSTS and, on the dev ports, to CORS.
- CORS allows localhost and 127.0.0.1 on the usual dev-server ports (3000, 5173, 8080).
"""

from shopapi.settings_env import BASE_DIR, DEBUG, env

# The built example storefront (storefront/dist, committed) served at / (shopapi/storefront.py).
SERVE_STOREFRONT = env.bool("SERVE_STOREFRONT", default=DEBUG)
STOREFRONT_DIST = BASE_DIR / "storefront" / "dist"

if DEBUG:
    _DEV_PORTS = (3000, 5173, 8080)
    DEV_PUBLIC_HOSTS = env.list("DEV_PUBLIC_HOSTS", default=[])
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", *DEV_PUBLIC_HOSTS])
    CORS_ALLOWED_ORIGINS = env.list(
        "CORS_ALLOWED_ORIGINS",
        default=[
            f"http://{host}:{port}"
            for host in ("localhost", "127.0.0.1", *DEV_PUBLIC_HOSTS)
            for port in _DEV_PORTS
        ],
    )
    _STOREFRONT_URL = env.str("STOREFRONT_URL", default="").rstrip("/")
    if _STOREFRONT_URL:
        CHECKOUT_SUCCESS_URL = env.str(
            "CHECKOUT_SUCCESS_URL",
            default=f"{_STOREFRONT_URL}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}",
        )
        CHECKOUT_CANCEL_URL = env.str("CHECKOUT_CANCEL_URL", default=f"{_STOREFRONT_URL}/cart?cancelled=1")
        PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default=f"{_STOREFRONT_URL}/reset-password")
        EMAIL_VERIFICATION_URL = env.str("EMAIL_VERIFICATION_URL", default=f"{_STOREFRONT_URL}/verify-email")
