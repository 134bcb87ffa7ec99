"""Contract test: schemathesis against a live gunicorn + fakestripe, over every operation in schema.yml.

Creates a throw-away PostgreSQL (or SQLite) database, migrates it, loads a small catalog and a
customer with an open cart, starts fakestripe and gunicorn on loopback, and runs schemathesis
with a bounded number of examples per operation, authenticated as that customer. Fails on any
5xx or any response that does not match the schema. Stops everything it started.

Before schemathesis, `purchase_chain` walks one purchase with real ids (and a cancel), checking
every answer against the schema. The stateful phase follows the schema's OpenAPI links
(shopapi/schema_polish.py): the customer's open cart (`POST /carts/` answers it, with its line)
→ add a line → checkout → confirm, read and cancel the order, each with the ids the previous
answer gave, so those operations are reached with real ids rather than ones that 404.

    python scripts/contract_test.py [--max-examples 25] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import schemathesis  # noqa: E402

from devtools.fakestripe_process import start_fakestripe  # noqa: E402
from devtools.live import (  # noqa: E402
    manage,
    scratch_database,
    scratch_database_drop,
    server_env,
    start_gunicorn,
)

WEBHOOK_SECRET = "whsec_contract_test"
PASSWORD = "contract-pass-2026"


def _post_json(url: str, body: Mapping[str, object], token: str | None = None) -> dict[str, object]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read() or b"{}"))


def purchase_chain(api: str, schema_path: Path, pay: Callable[[str], object], token: str) -> None:
    """A purchase step by step with the ids each answer gives, every answer checked against the schema.

    Schemathesis's stateful phase follows the same links but with generated headers and bodies, so
    it seldom gets a payable order; this walk always does: a guest cart → a line → checkout →
    confirm (pending) → pay on fakestripe → confirm (paid) → the order; and the customer's own cart
    → checkout → cancel. Raises AssertionError naming the step that answered wrongly.
    """
    schema = schemathesis.openapi.from_path(str(schema_path))
    session = requests.Session()

    def call(method: str, template: str, status: int, **kwargs: Any) -> dict[str, Any]:
        path = template.format(**kwargs.pop("ids", {}))
        for attempt in range(5):
            response = session.request(method, api + path.removeprefix("/api/v1"), timeout=30, **kwargs)
            # 503 is the documented "retry later" (on SQLite: the webhook holding the write lock).
            if response.status_code != 503:
                break
            time.sleep(0.5 * (attempt + 1))
        assert response.status_code == status, (
            f"{method} {path}: {response.status_code} {response.text[:300]}"
        )
        schema[template][method].validate_response(response)
        return dict(response.json())

    cart = call("POST", "/api/v1/carts/", 201)
    guest = {"X-Cart-Token": str(cart["token"])}
    call(
        "POST",
        "/api/v1/carts/{id}/items/",
        201,
        ids=cart,
        headers=guest,
        json={"product_id": 1, "quantity": 1},
    )
    checkout = call(
        "POST", "/api/v1/carts/{id}/checkout/", 201, ids=cart, headers=guest, json={"email": "g@example.com"}
    )
    confirm = {"session_id": checkout["session_id"]}
    assert call("POST", "/api/v1/orders/confirm/", 200, json=confirm)["status"] == "pending"
    pay(str(checkout["session_id"]))
    assert call("POST", "/api/v1/orders/confirm/", 200, json=confirm)["status"] == "paid"
    order = call(
        "GET",
        "/api/v1/orders/{id}/",
        200,
        ids={"id": checkout["order_id"]},
        headers={"X-Order-Token": checkout["order_token"]},
    )
    assert order["status"] == "paid"

    user = {"Authorization": f"Bearer {token}"}
    own = call("POST", "/api/v1/carts/", 200, headers=user)  # the customer's open cart, with its line
    checkout = call("POST", "/api/v1/carts/{id}/checkout/", 201, ids=own, headers=user, json={})
    cancelled = call(
        "POST", "/api/v1/orders/{id}/cancel/", 200, ids={"id": checkout["order_id"]}, headers=user
    )
    assert cancelled["status"] == "cancelled"
    print("purchase chain: guest cart → line → checkout → confirm → pay → paid; checkout → cancel: ok")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--workers", default="2")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="shopapi-contract-"))
    database_url, admin_url = scratch_database(os.environ.get("DATABASE_URL"), workdir, "contract")
    fakestripe = start_fakestripe(webhook_secret=WEBHOOK_SECRET)
    env = server_env(
        database_url=database_url,
        extra={
            "STRIPE_API_BASE": fakestripe.base_url,
            "STRIPE_SECRET_KEY": "sk_test_contract",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # The stateful phase checks the cart out after the fuzzing phase has: keep it unthrottled.
            "THROTTLE_CHECKOUT": "100000/min",
            "THROTTLE_CHECKOUT_ADDRESS": "100000/min",
            "THROTTLE_GUEST_CART": "100000/hour",
        },
    )
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_catalog", "--products", "40", "--categories", "4", "-v", "0")
        # Request lines past gunicorn's limit get gunicorn's own HTML 400 before Django sees them;
        # lift the limit here so every generated request reaches the API under test.
        server = start_gunicorn(
            env=env,
            workers=2,
            threads=4,
            log_path=workdir / "gunicorn.log",
            extra_args=["--limit-request-line", "0"],
        )
        fakestripe.config(webhook_url=server.url + "/api/v1/payments/stripe/webhook/")

        api = server.url + "/api/v1"
        account = {"username": "contract", "email": "c@example.com", "password": PASSWORD}
        _post_json(api + "/auth/register/", account)
        token = str(_post_json(api + "/auth/token/", account)["access"])
        cart = _post_json(api + "/carts/", {}, token)
        _post_json(f"{api}/carts/{cart['id']}/items/", {"product_id": 1, "quantity": 2}, token)
        purchase_chain(
            api, ROOT / "schema.yml", lambda session_id: fakestripe.pay(session_id).raise_for_status(), token
        )

        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            str(ROOT / "schema.yml"),
            "--url",
            server.url,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            str(args.max_examples),
            "--workers",
            args.workers,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--request-timeout",
            "30",
            "--seed",
            "20261129",
        ]
        shown = [c if "Bearer" not in c else "Authorization: Bearer ***" for c in command]
        print("$", " ".join(shown), flush=True)
        status = subprocess.run(command, cwd=ROOT, check=False).returncode
        if status != 0:
            print("gunicorn log tail:\n" + server.log_tail(80), file=sys.stderr)
        return status
    finally:
        if server is not None:
            server.stop()
        fakestripe.stop()
        scratch_database_drop(database_url, admin_url)


if __name__ == "__main__":
    raise SystemExit(main())
