"""The adversarial pass as a script: hostile requests against live servers, one PASS/FAIL line per case.

By default it starts what the pass ran against — two gunicorn instances on free loopback ports
sharing one Redis (a private ``redis-server``, so the throttles are shared as in production) and
fakestripe, all on the database in ``DATABASE_URL`` (migrated; a few products seeded if it has
none) — runs every case and stops them. ``--base-url`` (once or twice) aims it at running servers
instead; give it ``--fakestripe-url`` and ``--webhook-secret`` for the checkout and webhook cases.

    python -m tests.adversarial [--base-url http://127.0.0.1:8000 --fakestripe-url … --webhook-secret …]

Loopback is made an untrusted client (``FORWARDED_ALLOW_IPS`` names another address), so every
``X-Forwarded-For`` sent here is a spoof, as it is from a client on the internet. Every loop has a
fixed count and every request a timeout; the run takes about 15 s. Exit status 1 on any FAIL.
tests/test_adversarial.py runs the same cases from the suite on the test database.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from devtools.fakestripe_process import start_fakestripe
from devtools.live import ROOT, free_port, server_env, start_gunicorn, stop_process
from fakestripe.signing import sign

TIMEOUT = 15.0  # seconds, every request
WEBHOOK_SECRET = "whsec_adversarial_pass"
PASSWORD = "adversarial-Pass-2026!"
# The rates the cases are written against: the production defaults (devtools.live relaxes login
# and register for other live tests; here they are the point).
RATES = {"THROTTLE_LOGIN": "10/min", "THROTTLE_REGISTER": "5/min", "THROTTLE_CHECKOUT": "20/min"}
UNTRUSTED_PROXY = "192.0.2.1"  # FORWARDED_ALLOW_IPS: a proxy that is not us (TEST-NET-1)
API = "/api/v1"


@dataclass(frozen=True)
class Target:
    """Where the cases send their requests."""

    urls: tuple[str, ...]  # one or two instances; cases alternate between them
    fakestripe_url: str | None
    webhook_secret: str | None

    def url(self, index: int, path: str) -> str:
        return self.urls[index % len(self.urls)] + path


@dataclass(frozen=True)
class Outcome:
    name: str
    passed: bool
    figure: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.figure}"


@dataclass
class Run:
    """State shared between cases: the accounts registered, their tokens, a product."""

    target: Target
    http: requests.Session = field(default_factory=requests.Session)
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    accounts: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def _code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _statuses(responses: Sequence[requests.Response]) -> str:
    return " ".join(
        f"{status}×{n}" for status, n in sorted(Counter(r.status_code for r in responses).items())
    )


# --- the cases -----------------------------------------------------------------------------------


def case_register_spoofed(run: Run) -> Outcome:
    """7 registers, each claiming another X-Forwarded-For, alternating instances → a 429."""
    responses = []
    for i in range(7):
        username = f"adv_{run.tag}_{i}"
        response = run.request(
            "POST",
            run.target.url(i, f"{API}/auth/register/"),
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
        )
        responses.append(response)
        if response.status_code == 201:
            run.accounts.append(username)
    throttled = [r for r in responses if r.status_code == 429]
    return Outcome("register ×7, spoofed X-Forwarded-For", bool(throttled), _statuses(responses))


def login_tokens(run: Run) -> None:
    """Access tokens for two of the accounts just registered (before the login address is throttled)."""
    for i, username in enumerate(run.accounts[:2]):
        response = run.request(
            "POST", run.target.url(i, f"{API}/auth/token/"), json={"username": username, "password": PASSWORD}
        )
        response.raise_for_status()
        run.tokens.append(response.json()["access"])
    if len(run.tokens) < 2:
        raise RuntimeError(f"needs two registered accounts, got {run.accounts}")


def case_login_spoofed(run: Run) -> Outcome:
    """14 wrong passwords, each claiming another X-Forwarded-For, alternating instances → a 429."""
    responses = [
        run.request(
            "POST",
            run.target.url(i, f"{API}/auth/token/"),
            json={"username": f"adv_victim_{run.tag}", "password": f"wrong-{i}"},
            headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
        )
        for i in range(14)
    ]
    first = next((i + 1 for i, r in enumerate(responses) if r.status_code == 429), None)
    return Outcome(
        "wrong login ×14, spoofed X-Forwarded-For",
        first is not None and all(r.status_code in (401, 429) for r in responses),
        f"{_statuses(responses)}; first 429 at attempt {first}",
    )


def case_deep_json(run: Run) -> Outcome:
    """JSON nested 1,000 deep to an anonymous endpoint, on each instance → 400 parse_error."""
    body = b"[" * 1000 + b"]" * 1000
    responses = [
        run.request(
            "POST",
            run.target.url(i, f"{API}/auth/token/refresh/"),
            data=body,
            headers={"Content-Type": "application/json"},
        )
        for i in range(len(run.target.urls))
    ]
    passed = all(r.status_code == 400 and _code(r) == "parse_error" for r in responses)
    return Outcome(
        "JSON nested 1,000 deep", passed, ", ".join(f"{r.status_code} {_code(r)}" for r in responses)
    )


def case_huge_content_length(run: Run) -> Outcome:
    """Content-Length 50 MB, 5 bytes sent → 413 before the body is read (answer within 5 s)."""
    figures, passed = [], True
    for base in run.target.urls:
        parts = urlsplit(base)
        head = (
            f"POST {API}/auth/token/ HTTP/1.1\r\nHost: {parts.hostname}\r\n"
            "Content-Type: application/json\r\nContent-Length: 52428800\r\nConnection: close\r\n\r\n"
        )
        started = time.monotonic()
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=5) as sock:
            sock.sendall(head.encode() + b'{"a":')
            answer = b""
            try:
                while b"\r\n" not in answer and len(answer) < 4096:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
            except TimeoutError:
                pass
        status_line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
        passed = passed and status_line.split(" ")[1:2] == ["413"]
        figures.append(f"{status_line or 'no answer'} in {(time.monotonic() - started) * 1000:.0f} ms")
    return Outcome("Content-Length 50 MB, headers only", passed, "; ".join(figures))


def _cursor(ordering: list[str], position: list[Any]) -> str:
    payload = json.dumps({"o": ordering, "r": False, "p": position})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


CRAFTED_VALUES: dict[str, Any] = {
    "UTC offset +99:00": "2024-05-01T10:00:00+99:00",
    "year 0": "0000-01-01T00:00:00+00:00",
    "huge int": 10**30,
    "NUL": "2024-05-01T10:00:00\x00+00:00",
}


def case_crafted_cursors(run: Run) -> Outcome:
    """Cursors with impossible values on the product and order lists → 400 naming `cursor`."""
    good_time = "2024-05-01T10:00:00+00:00"
    lists = {f"{API}/products/": (1, {}), f"{API}/orders/": (str(uuid.uuid4()), run.auth(run.tokens[0]))}
    responses: list[tuple[str, requests.Response]] = []
    for path, (good_id, headers) in lists.items():
        for label, value in CRAFTED_VALUES.items():
            for position in ([value, good_id], [good_time, value]):
                cursor = _cursor(["-created_at", "-id"], position)
                url = run.target.url(len(responses), path)
                responses.append(
                    (f"{path} {label}", run.request("GET", url, params={"cursor": cursor}, headers=headers))
                )
    bad = [
        f"{label} → {r.status_code}"
        for label, r in responses
        if r.status_code != 400 or "cursor" not in (r.json().get("fields") or {})
    ]
    return Outcome(
        "crafted cursors (products, orders)",
        not bad,
        f"{len(responses) - len(bad)}/{len(responses)} answered 400 naming cursor"
        + (f"; {bad}" if bad else ""),
    )


def case_bad_host(run: Run) -> Outcome:
    """A Host outside ALLOWED_HOSTS → 400 invalid_host, as JSON."""
    responses = [
        run.request("GET", run.target.url(i, f"{API}/products/"), headers={"Host": "evil.example"})
        for i in range(len(run.target.urls))
    ]
    passed = all(
        r.status_code == 400
        and r.headers.get("Content-Type", "").startswith("application/json")
        and _code(r) == "invalid_host"
        for r in responses
    )
    figure = ", ".join(f"{r.status_code} {r.headers.get('Content-Type')} {_code(r)}" for r in responses)
    return Outcome("disallowed Host", passed, figure)


def case_no_trailing_slash(run: Run) -> Outcome:
    """POST /api/v1/carts (no slash) with a JWT → a cart (201/200), never a redirect or a list."""
    responses = [
        run.request("POST", run.target.url(i, f"{API}/carts"), json={}, headers=run.auth(run.tokens[0]))
        for i in range(len(run.target.urls))
    ]
    passed = all(
        r.status_code in (200, 201) and isinstance(r.json(), dict) and "id" in r.json() for r in responses
    )
    return Outcome("POST /api/v1/carts without slash", passed, _statuses(responses))


def _event(event_id: str, obj: dict[str, Any]) -> bytes:
    return json.dumps(
        {"id": event_id, "type": "checkout.session.completed", "data": {"object": obj}}
    ).encode()


def case_webhooks(run: Run) -> Outcome:
    """Forged and stale signatures, and signed events the record could not hold → 400 each."""
    if not run.target.webhook_secret:
        return Outcome("webhooks", False, "no --webhook-secret")
    secret = run.target.webhook_secret
    session = {"id": "cs_test_adversarial", "object": "checkout.session"}
    good = _event(f"evt_{run.tag}", session)
    sends: dict[str, tuple[bytes, str]] = {
        "forged": (good, sign(good, "whsec_forged")),
        "stale": (good, sign(good, secret, int(time.time()) - 3600)),
    }
    for label, payload in {
        "300-char id": _event("evt_" + "x" * 296, session),
        "NUL in id": _event(f"evt_{run.tag}\x00", session),
        "no data.object.id": _event(f"evt_noid_{run.tag}", {"object": "checkout.session"}),
    }.items():
        sends[label] = (payload, sign(payload, secret))
    figures, passed = [], True
    for i, (label, (payload, signature)) in enumerate(sends.items()):
        response = run.request(
            "POST",
            run.target.url(i, f"{API}/payments/stripe/webhook/"),
            data=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        passed = passed and response.status_code == 400
        figures.append(f"{label} {response.status_code}")
    return Outcome("webhooks: bad signatures and unrecordable events", passed, ", ".join(figures))


def _cart_with_a_line(run: Run, token: str) -> str:
    products = run.request("GET", run.target.url(0, f"{API}/products/"), params={"page_size": 1}).json()
    cart = run.request("POST", run.target.url(0, f"{API}/carts/"), json={}, headers=run.auth(token))
    cart.raise_for_status()
    cart_id = str(cart.json()["id"])
    line = run.request(
        "POST",
        run.target.url(1, f"{API}/carts/{cart_id}/items/"),
        json={"product_id": products["results"][0]["id"], "quantity": 1},
        headers=run.auth(token),
    )
    line.raise_for_status()
    return cart_id


def _session_count(run: Run, order_ids: set[str]) -> int:
    assert run.target.fakestripe_url
    listed = run.request(
        "GET",
        run.target.fakestripe_url + "/v1/checkout/sessions",
        params={"limit": 100},
        headers={"Authorization": "Bearer sk_test_adversarial"},
    )
    listed.raise_for_status()
    return sum(1 for s in listed.json()["data"] if s.get("client_reference_id") in order_ids)


def case_concurrent_checkout(run: Run) -> Outcome:
    """50 checkouts of one cart at once, across both instances → one order, one session, no 5xx."""
    if not run.target.fakestripe_url:
        return Outcome("50 concurrent checkouts", False, "no --fakestripe-url")
    token = run.tokens[0]
    cart_id = _cart_with_a_line(run, token)

    def checkout(i: int) -> requests.Response:
        return run.request(
            "POST", run.target.url(i, f"{API}/carts/{cart_id}/checkout/"), headers=run.auth(token)
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(checkout, range(50)))
    orders = run.request("GET", run.target.url(0, f"{API}/orders/"), headers=run.auth(token)).json()[
        "results"
    ]
    order_ids = {str(o["id"]) for o in orders}
    sessions = _session_count(run, order_ids)
    passed = (
        len(order_ids) == 1
        and sessions == 1
        and all(r.status_code in (200, 201, 409, 429) for r in responses)
        and any(r.status_code in (200, 201) for r in responses)
    )
    return Outcome(
        "50 concurrent checkouts of one cart",
        passed,
        f"{_statuses(responses)}; orders={len(order_ids)} sessions={sessions}",
    )


def case_checkout_throttle(run: Run) -> Outcome:
    """Checkout repeated past THROTTLE_CHECKOUT (20/min) → 429 with Retry-After."""
    token = run.tokens[1]
    cart_id = _cart_with_a_line(run, token)
    responses: list[requests.Response] = []
    for i in range(25):
        responses.append(
            run.request(
                "POST", run.target.url(i, f"{API}/carts/{cart_id}/checkout/"), headers=run.auth(token)
            )
        )
        if responses[-1].status_code == 429:
            break
    last = responses[-1]
    passed = last.status_code == 429 and bool(last.headers.get("Retry-After"))
    passed = passed and all(r.status_code < 500 for r in responses)
    return Outcome(
        "checkout repeated ×25 max",
        passed,
        f"{_statuses(responses)}; 429 at #{len(responses)}, Retry-After={last.headers.get('Retry-After')}",
    )


CASES: list[Callable[[Run], Outcome]] = [
    case_register_spoofed,
    case_login_spoofed,
    case_deep_json,
    case_huge_content_length,
    case_crafted_cursors,
    case_bad_host,
    case_no_trailing_slash,
    case_webhooks,
    case_concurrent_checkout,
    case_checkout_throttle,
]


def run_cases(target: Target, *, out: Callable[[str], None] = print) -> list[Outcome]:
    """Every case against `target`, printing each line as it finishes; a case that raises is a FAIL."""
    run = Run(target)
    outcomes: list[Outcome] = []
    for case in CASES:
        started = time.monotonic()
        try:
            outcome = case(run)
            if case is case_register_spoofed:
                login_tokens(run)
        except (requests.RequestException, OSError, RuntimeError, KeyError, ValueError) as exc:
            outcome = Outcome(case.__name__, False, f"{type(exc).__name__}: {exc}")
        outcomes.append(outcome)
        out(f"{outcome.line()}  [{time.monotonic() - started:.1f}s]")
        if case is case_register_spoofed and not run.tokens:
            out("FAIL  no accounts to continue with; stopping")
            break
    run.http.close()
    return outcomes


# --- the servers ---------------------------------------------------------------------------------


def _wait_for_redis(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not answer PING")


@contextmanager
def redis_url() -> Iterator[str]:
    """A private redis-server on a free loopback port (no persistence), or REDIS_URL if there is none."""
    binary = shutil.which("redis-server")
    if binary is None:
        if not os.environ.get("REDIS_URL"):
            raise RuntimeError(
                "the throttles are shared through Redis: install redis-server or set REDIS_URL"
            )
        yield os.environ["REDIS_URL"]
        return
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_redis(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(process, grace=5)


@contextmanager
def live_stack(database_url: str) -> Iterator[Target]:
    """Redis, fakestripe and two gunicorn instances on `database_url`; all stopped on exit."""
    with ExitStack() as stack:
        cache = stack.enter_context(redis_url())
        fake = start_fakestripe(webhook_secret=WEBHOOK_SECRET)
        stack.callback(fake.stop)
        env = server_env(
            database_url=database_url,
            extra={
                **RATES,
                "REDIS_URL": cache,
                "FORWARDED_ALLOW_IPS": UNTRUSTED_PROXY,
                "STRIPE_API_BASE": fake.base_url,
                "STRIPE_SECRET_KEY": "sk_test_adversarial",
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_TIMEOUT_SECONDS": "5",
                "CONN_MAX_AGE": "0",
            },
        )
        log_dir = tempfile.mkdtemp(prefix="shopapi-adversarial-")
        urls = []
        for n in (1, 2):
            server = start_gunicorn(
                env=env, workers=2, threads=4, log_path=Path(log_dir) / f"gunicorn-{n}.log"
            )
            stack.callback(server.stop)
            urls.append(server.url)
        yield Target(urls=tuple(urls), fakestripe_url=fake.base_url, webhook_secret=WEBHOOK_SECRET)


def _prepare_database(database_url: str) -> None:
    """Migrate `database_url` and give it a few products if it has none."""
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0"}
    env.setdefault("SECRET_KEY", "adversarial-pass-local-secret-key-0123456789")

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    count = manage("shell", "-c", "from catalog.models import Product; print(Product.objects.count())")
    if int(count.strip().splitlines()[-1]) == 0:
        manage("seed_catalog", "--products", "5", "--categories", "1", "-v", "0")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base-url", action="append", help="a running server (give it twice for two)")
    parser.add_argument("--fakestripe-url", help="the fakestripe the running servers use")
    parser.add_argument("--webhook-secret", help="the STRIPE_WEBHOOK_SECRET of the running servers")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with ExitStack() as stack:
        if args.base_url:
            target = Target(
                tuple(u.rstrip("/") for u in args.base_url), args.fakestripe_url, args.webhook_secret
            )
        else:
            database_url = os.environ.get("DATABASE_URL", "")
            if not database_url.startswith(("postgres://", "postgresql://")):
                parser.error("set DATABASE_URL=postgres://… (or pass --base-url)")
            _prepare_database(database_url)
            target = stack.enter_context(live_stack(database_url))
        print(f"against {', '.join(target.urls)}", flush=True)
        outcomes = run_cases(target)
    failed = [o for o in outcomes if not o.passed]
    print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed in {time.monotonic() - started:.1f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
