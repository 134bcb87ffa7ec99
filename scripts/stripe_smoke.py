"""`make stripe-smoke`: the Stripe calls shopapi makes, against real Stripe (test mode) and fakestripe.

Runs each scenario of scripts/stripe_smoke_scenarios.py twice through the project's own
`payments.stripe.api` functions: once against real Stripe (the SDK's default API base) and once
against a fakestripe started on a free port, then prints one table

    scenario | Stripe answered | fakestripe answered | same?

comparing normalised facts (statuses, amounts, error class, Stripe's error type/code/HTTP
status), never ids. A "no" means fakestripe has drifted from Stripe (or Stripe changed): fix
fakestripe, or the code that relied on the old answer.

Exit status: 0 when every row agrees, or when skipped (no `sk_test_` key in STRIPE_SECRET_KEY,
or api.stripe.com unreachable); 1 when any row differs; 2 for a live key (`sk_live_`/`rk_live_`),
which is refused outright.

    python scripts/stripe_smoke.py [--currency inr] [--fakestripe-only]

`--fakestripe-only` (or STRIPE_SMOKE_FAKESTRIPE_ONLY=1) runs just the fakestripe column: no key,
no network.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project; scripts/ itself (the scenarios module) is sys.path[0]

STRIPE_HOST = "api.stripe.com"
PROBE_TIMEOUT_SECONDS = 4.0
EXIT_OK, EXIT_DIFFERENT, EXIT_REFUSED = 0, 1, 2
LIVE_PREFIXES = ("sk_live_", "rk_live_")
TEST_PREFIX = "sk_test_"


def probe(host: str = STRIPE_HOST, port: int = 443, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """None if a TCP connection and TLS handshake to host:port succeed within `timeout`, else why not.

    Runs in a daemon thread so a slow DNS lookup cannot hold the caller past the timeout.
    """
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            with (
                socket.create_connection((host, port), timeout=timeout) as raw,
                ssl.create_default_context().wrap_socket(raw, server_hostname=host),
            ):
                outcome.append(None)
        except (OSError, ssl.SSLError) as exc:
            outcome.append(f"{type(exc).__name__}: {exc}")

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return outcome[0] if outcome else f"no answer within {timeout:g} s"


def preflight(api_key: str, reach: Callable[[], str | None] = probe) -> tuple[int, str] | None:
    """None when the Stripe column can run, else (exit status, message) saying which condition failed."""
    if api_key.startswith(LIVE_PREFIXES):
        return EXIT_REFUSED, (
            "stripe-smoke: refused: STRIPE_SECRET_KEY is a live-mode key. This check creates and "
            "refunds payments; run it only with a test key (sk_test_…)."
        )
    if not api_key:
        return (
            EXIT_OK,
            "stripe-smoke: skipped: STRIPE_SECRET_KEY is not set (needs a Stripe test key, sk_test_…).",
        )
    if not api_key.startswith(TEST_PREFIX):
        return EXIT_OK, "stripe-smoke: skipped: STRIPE_SECRET_KEY is not a Stripe test key (sk_test_…)."
    unreachable = reach()
    if unreachable is not None:
        return EXIT_OK, (
            f"stripe-smoke: skipped: {STRIPE_HOST}:443 is not reachable "
            f"(TCP/TLS probe, {PROBE_TIMEOUT_SECONDS:g} s: {unreachable})."
        )
    return None


def setup_django() -> None:
    """shopapi's settings (a throw-away SECRET_KEY if none: nothing here signs anything)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopapi.settings")
    os.environ.setdefault("SECRET_KEY", "stripe-smoke-not-a-secret")
    import django

    django.setup()
    # api.py logs every Stripe error at WARNING; here the errors are the answers in the table.
    logging.getLogger("payments.stripe.api").setLevel(logging.ERROR)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with ` | ` between columns, each as wide as its widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    rule = "-+-".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def run(currency: str, stripe_key: str | None) -> int:
    """Run every scenario on fakestripe (and on Stripe when `stripe_key`); print the table."""
    from stripe_smoke_scenarios import SCENARIOS, compared, describe, fakestripe_target, stripe_target

    from devtools.fakestripe_process import start_fakestripe

    server = start_fakestripe()
    try:
        fake = fakestripe_target(server.base_url, currency)
        real = stripe_target(stripe_key, currency) if stripe_key else None
        rows: list[list[str]] = []
        differ = 0
        for label, scenario in SCENARIOS:
            fake_facts = scenario(fake)
            if real is None:
                rows.append([label, describe(fake_facts)])
                continue
            real_facts = scenario(real)
            same = compared(real_facts) == compared(fake_facts)
            differ += not same
            rows.append([label, describe(real_facts), describe(fake_facts), "yes" if same else "NO"])
    finally:
        server.stop()
    if real is None:
        print(table(["scenario", "fakestripe answered"], rows))
        print(f"\nfakestripe only ({currency}); set STRIPE_SECRET_KEY=sk_test_… to compare with Stripe.")
        return EXIT_OK
    print(table(["scenario", "Stripe answered", "fakestripe answered", "same?"], rows))
    if differ:
        print(f"\n{differ} of {len(rows)} scenarios differ: fakestripe has drifted from Stripe.")
        return EXIT_DIFFERENT
    print(f"\nAll {len(rows)} scenarios agree ({currency}).")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--currency", help="presentment currency (default: settings.DEFAULT_CURRENCY)")
    parser.add_argument(
        "--fakestripe-only",
        action="store_true",
        default=os.environ.get("STRIPE_SMOKE_FAKESTRIPE_ONLY", "") not in ("", "0"),
        help="run only the fakestripe column (no key, no network); also STRIPE_SMOKE_FAKESTRIPE_ONLY=1",
    )
    args = parser.parse_args(argv)
    setup_django()
    from django.conf import settings

    api_key = str(settings.STRIPE_SECRET_KEY or "")  # the environment or .env, as the app reads it
    currency = str(args.currency or settings.DEFAULT_CURRENCY).lower()
    verdict = preflight(api_key, reach=lambda: None) if args.fakestripe_only else preflight(api_key)
    if args.fakestripe_only and (verdict is None or verdict[0] == EXIT_OK):
        return run(currency, None)  # a live key is refused even here; a missing one doesn't matter
    if verdict is not None:
        code, message = verdict
        print(message, file=sys.stderr if code else sys.stdout)
        return code
    return run(currency, api_key)


if __name__ == "__main__":
    sys.exit(main())
