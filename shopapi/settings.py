"""Django settings for shopapi, read from the environment (django-environ).

Every variable is documented in `.env.example`. With no environment at all the
project refuses to start unless `DEBUG` is on (then it uses a development key
and a SQLite file), so a production process can never run on a default secret.
"""

from datetime import timedelta

from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

from shopapi.media import media_storage
from shopapi.settings_env import BASE_DIR, DEBUG, env

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# A browser client may send Idempotency-Key and the guest tokens, and read whether an answer was a replay.
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "x-cart-token", "x-order-token")
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed"]

# HTTPS behind a TLS-terminating proxy (Render, Fly, a load balancer): the proxy sets
# X-Forwarded-Proto and must overwrite any value the client sent. Defaults are production's;
# `check --deploy` is clean with DEBUG off. Set SECURE_SSL_REDIRECT=0 only where there is no TLS
# in front at all (tests, a local compose stack).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    # django.contrib.admin, with shopapi's admin site (two-factor login) as admin.site.
    "shopapi.apps.ShopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Staff two-factor authentication (shopapi/two_factor.py): authenticator apps and static codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "catalog",
    "payments",
    "checkout",
    "idempotency",
    "notifications",
]

MIDDLEWARE = [
    # Outermost: request id + one access-log line per request, then the probes answered before
    # host validation and SSL redirect (load balancers call them by IP over plain HTTP).
    "shopapi.middleware.RequestIdMiddleware",
    "shopapi.middleware.ProbeMiddleware",
    # Then a disallowed Host as a JSON 400, body limits (413), `/api/…` without its slash served.
    "shopapi.middleware.JsonHostMiddleware",
    "shopapi.limits.BodyLimitMiddleware",
    "shopapi.middleware.ApiSlashMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # API answers private/no-store unless they say otherwise; public JSON gzipped (settings_cache.py).
    "shopapi.http_caching.ApiCachingMiddleware",
    # ETag on every GET answer; a matching If-None-Match gets a 304 with no body.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.otp_device: the device this session verified a token with (admin 2FA).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost: Idempotency-Key on API writes (idempotency/middleware.py), around the view alone, so
    # a replay passes back out through everything above like the first answer did.
    "idempotency.middleware.IdempotencyMiddleware",
]

ROOT_URLCONF = "shopapi.urls"
WSGI_APPLICATION = "shopapi.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The admin login with its OTP token field (shopapi is not an app).
        "DIRS": [BASE_DIR / "shopapi" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL, default a SQLite file in the project.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Hot fixed-shape statements prepared once per connection (shopapi/db.py); 0 behind a pooler that can't.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache (throttles, readiness): Redis when REDIS_URL is set, else local memory.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis backend, one client per pool instead of one per call (redis_cache.py).
            "BACKEND": "shopapi.redis_cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded media (product images): local files under MEDIA_ROOT, or S3-compatible storage with
# MEDIA_STORAGE=s3 (shopapi/media.py reads its AWS_* variables).
MEDIA_URL = env("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_STORAGE = env("MEDIA_STORAGE", default="local")
# Django itself serves MEDIA_ROOT at MEDIA_URL (development; default on when DEBUG is).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
STORAGES = {
    "default": media_storage(env, MEDIA_STORAGE),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Request body limits (shopapi/limits.py): any API call, and the payment webhook. Stripe publishes
# no maximum event size; 1 MiB is far above the events it sends. Django's own limit is raised to
# match so it never answers first (its RequestDataTooBig would be a 500 inside a DRF view).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, API_MAX_BODY_BYTES, WEBHOOK_MAX_BODY_BYTES)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["shopapi.parsers.BoundedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shopapi.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth_login": env.str("THROTTLE_LOGIN", default="10/min"),
        "auth_register": env.str("THROTTLE_REGISTER", default="5/min"),
        # For everyone together: register answers saying an email or username is taken.
        "auth_register_taken": env.str("THROTTLE_REGISTER_TAKEN", default="60/hour"),
        # Password reset requests per client address, and per email address asked about.
        "auth_password_reset": env.str("THROTTLE_PASSWORD_RESET", default="5/hour"),
        "auth_password_reset_email": env.str("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour"),
        # Verification emails a signed-in user may ask to be sent again.
        "auth_email_verify_resend": env.str("THROTTLE_EMAIL_VERIFY_RESEND", default="3/hour"),
        "checkout": env.str("THROTTLE_CHECKOUT", default="20/min"),
        "checkout_address": env.str("THROTTLE_CHECKOUT_ADDRESS", default="60/min"),
        "guest_cart": env.str("THROTTLE_GUEST_CART", default="20/hour"),  # new guest carts per address
        "admin_login": env.str("THROTTLE_ADMIN_LOGIN", default="10/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# The client's address (shopapi/client_ip.py): X-Forwarded-For is believed only from these peers,
# the same variable and default gunicorn reads (gunicorn.conf.py).
TRUSTED_PROXIES = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])
# Login lock-out per username (shopapi/throttling.py): after this many failures each attempt waits
# LOGIN_LOCKOUT_SECONDS, doubling per further failure up to the max; a success resets it.
LOGIN_LOCKOUT_FAILURES = env.int("LOGIN_LOCKOUT_FAILURES", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=30)
LOGIN_LOCKOUT_MAX_SECONDS = env.int("LOGIN_LOCKOUT_MAX_SECONDS", default=3600)
# Account emails (accounts/emails.py): the frontend pages their links open, with `uid` and `token`
# (password reset) or `token` (email verification) added to the query string.
PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default="http://localhost:3000/reset-password")
EMAIL_VERIFICATION_URL = env.str("EMAIL_VERIFICATION_URL", default="http://localhost:3000/verify-email")
# How long a reset link works (Django's token generator reads seconds); it stops working at once
# when the password changes, so a link works once.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_MINUTES", default=60) * 60
EMAIL_VERIFICATION_MAX_AGE_DAYS = env.int("EMAIL_VERIFICATION_MAX_AGE_DAYS", default=3)
if PASSWORD_RESET_TIMEOUT < 60 or EMAIL_VERIFICATION_MAX_AGE_DAYS < 1:
    raise ImproperlyConfigured(
        "PASSWORD_RESET_TIMEOUT_MINUTES and EMAIL_VERIFICATION_MAX_AGE_DAYS must be at least 1."
    )

# Email: EMAIL_URL in django-environ's syntax (consolemail:// prints each email on stdout, which is
# what `make run` shows; smtp+tls://USER:PASSWORD@HOST:587 for a real relay). Emails are sent once
# the transaction commits, inside the request, so EMAIL_TIMEOUT_SECONDS bounds a slow relay.
# Console only with DEBUG: in production a reset link must never land in the logs.
_EMAIL = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _EMAIL.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_EMAIL.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_EMAIL.get("EMAIL_USE_SSL"))
EMAIL_FILE_PATH = _EMAIL.get("EMAIL_FILE_PATH") or None
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shopapi <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Staff two-factor authentication (shopapi/two_factor.py): on, whoever holds checkout.refund_order
# (every superuser) must verify an authenticator token to use the admin.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)
# Who must use it: the permission that moves money (checkout/admin/refunds.py REFUND_PERMISSION).
ADMIN_2FA_PERMISSION = "checkout.refund_order"
# The name authenticator apps show next to the username.
OTP_TOTP_ISSUER = "shopapi"
# Retry-After (seconds) on a 503 for a database outage.
OUTAGE_RETRY_AFTER_SECONDS = env.int("OUTAGE_RETRY_AFTER_SECONDS", default=5)
# Idempotency-Key on API writes (idempotency/): how long a key's first answer is replayed, and how
# long a key stays "in progress" before another request may take it over (its process died). Keep
# the lock timeout above the longest request (GUNICORN_TIMEOUT).
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = env.int("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", default=60)
if IDEMPOTENCY_TTL_HOURS < 1 or IDEMPOTENCY_LOCK_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured("IDEMPOTENCY_TTL_HOURS and IDEMPOTENCY_LOCK_TIMEOUT_SECONDS must be >= 1.")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "shopapi",
    "DESCRIPTION": (
        "Headless commerce API: catalog, carts, Stripe Checkout that never charges twice, "
        "orders. Money is integer minor units plus a lowercase ISO currency."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Fully offline docs: no validator badge, system fonts (shopapi/templates/drf_spectacular/redoc.html).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_UI_SETTINGS": {"theme": {"typography": {"fontFamily": "system-ui, sans-serif"}}},
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies share the request component: their fields are required as documented.
    "COMPONENT_SPLIT_PATCH": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The error body's `code`: one published enum of every code (shopapi/errors.py).
    "ENUM_NAME_OVERRIDES": {
        "ErrorCodeEnum": "shopapi.errors.ERROR_CODES",
        "CartStatusEnum": "checkout.models.Cart.Status",  # the cart and the claim answer share it
        "CapReasonEnum": "checkout.services.claims.CAP_REASONS",
    },
    # The Idempotency-Key header and its answers on every write it covers (idempotency/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "idempotency.schema.document_idempotency_key",
        "shopapi.schema_polish.polish",  # servers, summaries, links … (its docstring)
    ],
}

# Commerce
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="inr").lower()
CART_MAX_QUANTITY = env.int("CART_MAX_QUANTITY", default=99)
# Stripe's largest charge is 8 digits of minor units (999,999.99 in INR).
MAX_ORDER_AMOUNT = env.int("MAX_ORDER_AMOUNT", default=99_999_999)
# The smallest order total in any currency (minor units); the provider's own minimum, converted from
# the settlement currency below, is usually higher and is checked too (checkout/pricing.py).
MIN_ORDER_AMOUNT = env.int("MIN_ORDER_AMOUNT", default=50)
CART_MAX_LINES = env.int("CART_MAX_LINES", default=100)
# Guest carts without orders, untouched this long, are deleted by `manage.py purge_guest_carts`.
GUEST_CART_TTL_DAYS = env.int("GUEST_CART_TTL_DAYS", default=30)
LOW_STOCK_THRESHOLD = env.int("LOW_STOCK_THRESHOLD", default=5)  # admin: "low stock" at ≤ this many available
# The currency your Stripe account pays out in. Stripe refuses a charge worth less than its minimum
# in that currency (0.50 USD, 0.30 GBP …), whatever currency the charge is in.
PAYMENT_SETTLEMENT_CURRENCY = env.str("PAYMENT_SETTLEMENT_CURRENCY", default="usd").lower()
# Value of one major unit of each currency in US dollars, to convert that minimum into the order's
# currency; "inr=0.012,eur=1.08" style. The defaults are approximate: the margin absorbs drift.
_FX_RATES_USD_DEFAULT = {
    "usd": 1.0, "eur": 1.08, "gbp": 1.27, "inr": 0.012, "jpy": 0.0067, "cad": 0.73, "aud": 0.66,
    "nzd": 0.60, "chf": 1.13, "sgd": 0.74, "hkd": 0.128, "sek": 0.095, "nok": 0.093, "dkk": 0.145,
    "mxn": 0.058, "brl": 0.18, "aed": 0.272, "pln": 0.25, "czk": 0.043, "huf": 0.0027, "thb": 0.028,
    "myr": 0.21, "ron": 0.22, "bgn": 0.55,
}  # fmt: skip
PAYMENT_FX_RATES_USD = {
    **_FX_RATES_USD_DEFAULT,
    **{key.lower(): float(value) for key, value in env.dict("PAYMENT_FX_RATES_USD", default={}).items()},
}
# How far above the converted minimum an order must be, in percent, so a rate that moved since the
# table was written never lets through an order the provider would refuse.
PAYMENT_FX_MARGIN_PERCENT = env.int("PAYMENT_FX_MARGIN_PERCENT", default=10)
# PostgreSQL: the longest the trigram-index step of a product search may run before the search is
# a 400 `search_too_broad` (catalog/search.py `fetch_bounded`); the ordered walk before it is
# bounded by its row count. Ordinary searches take a few to a few tens of ms.
SEARCH_TIMEOUT_MS = env.int("SEARCH_TIMEOUT_MS", default=1000)
if SEARCH_TIMEOUT_MS < 1:
    raise ImproperlyConfigured("SEARCH_TIMEOUT_MS must be at least 1 (milliseconds).")

# The payment provider: the gateway class (payments/interface.py `PaymentGateway`) and its settings.
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="payments.stripe.gateway.StripeGateway")
# Stripe. STRIPE_API_BASE only points the SDK at the local stand-in (fakestripe).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=8.0)
# Network-level retries by the SDK (same idempotency key, so a retry never charges twice).
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
CHECKOUT_SESSION_TTL_MINUTES = env.int("CHECKOUT_SESSION_TTL_MINUTES", default=30)
# A pending session that expires sooner than this is not handed out again.
CHECKOUT_SESSION_MIN_REMAINING_SECONDS = env.int("CHECKOUT_SESSION_MIN_REMAINING_SECONDS", default=300)
CHECKOUT_SUCCESS_URL = env.str(
    "CHECKOUT_SUCCESS_URL",
    default="http://localhost:3000/checkout/success?session_id={CHECKOUT_SESSION_ID}",
)
CHECKOUT_CANCEL_URL = env.str("CHECKOUT_CANCEL_URL", default="http://localhost:3000/cart")

# Logging: JSON lines on stdout unless DEBUG (LOG_FORMAT=json|plain). Every record carries the
# request id (shopapi.logging.RequestIdFilter); shopapi.request writes one line per request, so
# django.request is kept for 5xx tracebacks only (its 4xx warnings would log each one twice).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "shopapi.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "shopapi.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # The SDK logs every API call at INFO; the gateway logs Stripe errors itself.
        "stripe": {"level": "WARNING"},
    },
}

# Areas with many settings of their own, each reading the same environment (shopapi/settings_env.py).
# One line per area; each module's docstring says what it configures.
from shopapi.settings_cache import *  # noqa: E402, F403
from shopapi.settings_dev import *  # noqa: E402, F403
from shopapi.settings_jobs import *  # noqa: E402, F403
from shopapi.settings_shipping import *  # noqa: E402, F403
