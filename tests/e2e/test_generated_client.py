"""An integrator's view: a client generated from the committed schema.yml completes a purchase.

openapi-python-client generates a Python package from `schema.yml`; the test drives the whole
purchase through it against a real gunicorn process and fakestripe, with webhooks delivered
over HTTP and signed: register → token → cart → add lines → checkout → pay → webhook →
confirm → order paid → order list. If the schema lies about a path, a body or a status, the
generated client breaks here.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from uuid import UUID

import pytest
from django.db import connection

from catalog.models import Product
from checkout.models import Order, OrderEvent
from tests.factories import ProductFactory
from tests.live import ROOT, LiveServer, server_env, start_gunicorn
from tests.stripe_fixtures import FakeStripeServer, fakestripe, fakestripe_server  # noqa: F401

WEBHOOK_SECRET = "whsec_e2e_generated_client"
PACKAGE = "shopapi_client"

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Generate the client from the committed schema.yml, exactly as an integrator would."""
    out = tmp_path_factory.mktemp("generated")
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(venv_bin / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "schema.yml"),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def live_api(fakestripe: FakeStripeServer) -> Iterator[LiveServer]:  # noqa: F811
    """gunicorn on the test database, its Stripe SDK pointed at fakestripe, webhooks wired back."""
    env = server_env(
        database_url=_database_url(),
        extra={
            "STRIPE_API_BASE": fakestripe.base_url,
            "STRIPE_SECRET_KEY": "sk_test_e2e",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "CONN_MAX_AGE": "0",
        },
    )
    server = start_gunicorn(env=env, workers=2, threads=2)
    fakestripe.config(
        webhook_url=server.url + "/api/v1/payments/stripe/webhook/",
        webhook_secret=WEBHOOK_SECRET,
        auto_deliver=True,
    )
    try:
        yield server
    finally:
        server.stop()


def _api(package: ModuleType, module: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.api.{module}")


def _models(package: ModuleType) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.models")


def _wait_for_delivery(fakestripe: FakeStripeServer, event_type: str, timeout: float = 20.0) -> dict:  # noqa: F811
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in fakestripe.events(type=event_type):
            if entry.get("last_status") == 200:
                return entry
        time.sleep(0.1)
    raise AssertionError(f"{event_type} was not delivered: {fakestripe.events(type=event_type)}")


def test_generated_client_completes_a_purchase(
    client_package: ModuleType,
    live_api: LiveServer,
    fakestripe: FakeStripeServer,  # noqa: F811
) -> None:
    # given: a catalog, and a client generated from schema.yml talking to a live gunicorn
    kettle = ProductFactory.create(name="Copper kettle", unit_amount=249_900)
    chai = ProductFactory.create(name="Masala chai tin", unit_amount=34_900)
    ProductFactory.create(name="Retired mug", unit_amount=9_900, is_active=False)
    models = _models(client_package)
    client = client_package.Client(base_url=live_api.url, raise_on_unexpected_status=True, timeout=30)

    # when: register and log in
    register = _api(client_package, "auth.auth_register")
    user = register.sync(
        client=client,
        body=models.RegisterRequest(
            username="integrator", email="int@example.com", password="pass-phrase-2026"
        ),
    )
    assert isinstance(user, models.Registered), user  # the account and its first tokens
    assert user.username == "integrator"
    assert user.access
    token = _api(client_package, "auth.auth_token_obtain").sync(
        client=client,
        body=models.TokenObtainPairRequest(username="integrator", password="pass-phrase-2026"),
    )
    assert isinstance(token, models.TokenPair), token
    authed = client_package.AuthenticatedClient(
        base_url=live_api.url, token=token.access, raise_on_unexpected_status=True, timeout=30
    )
    me = _api(client_package, "auth.auth_me").sync(client=authed)
    assert me.username == "integrator"

    # and browse the catalog: only active products are listed
    page = _api(client_package, "catalog.products_list").sync(client=client)
    assert {p.name for p in page.results} == {"Copper kettle", "Masala chai tin"}

    # and fill a cart
    cart = _api(client_package, "carts.carts_create").sync(client=authed)
    assert isinstance(cart, models.Cart), cart
    add = _api(client_package, "carts.carts_items_add")
    add.sync(cart.id, client=authed, body=models.CartItemAddRequest(product_id=kettle.pk, quantity=1))
    add.sync(cart.id, client=authed, body=models.CartItemAddRequest(product_id=chai.pk, quantity=3))
    add.sync(cart.id, client=authed, body=models.CartItemAddRequest(product_id=chai.pk, quantity=1))
    cart = _api(client_package, "carts.carts_retrieve").sync(cart.id, client=authed)
    assert cart.total_amount == 249_900 + 4 * 34_900
    assert cart.item_count == 5

    # and check out twice (a double click): one session
    checkout_op = _api(client_package, "checkout.carts_checkout")
    first = checkout_op.sync_detailed(cart.id, client=authed)
    second = checkout_op.sync_detailed(cart.id, client=authed)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.parsed.checkout_url == second.parsed.checkout_url
    session_id = first.parsed.session_id

    # and pay on Stripe's side; fakestripe delivers the signed webhook to gunicorn
    assert fakestripe.pay(session_id, "4242424242424242").status_code == 200
    _wait_for_delivery(fakestripe, "checkout.session.completed")

    # and come back to the success page, refreshing it
    confirm = _api(client_package, "orders.orders_confirm")
    body = models.OrderConfirmRequest(session_id=session_id)
    confirmed = [confirm.sync(client=authed, body=body) for _ in range(3)]

    # then: the order is paid, once, and listed
    assert {o.status.value if hasattr(o.status, "value") else o.status for o in confirmed} == {"paid"}
    order_id = confirmed[0].id
    assert isinstance(order_id, UUID)
    listing = _api(client_package, "orders.orders_list").sync(client=authed)
    assert [o.id for o in listing.results] == [order_id]
    detail = _api(client_package, "orders.orders_retrieve").sync(order_id, client=authed)
    assert detail.total_amount == 249_900 + 4 * 34_900
    lines = sorted((i.name, i.quantity) for i in detail.items)
    assert lines == [("Copper kettle", 1), ("Masala chai tin", 4)]
    order = Order.objects.get(pk=order_id)
    assert order.status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert Product.objects.count() == 3
