"""Browser test of the example storefront: Playwright on Debian's chromium against a live stack.

Makes a fresh database (`<DATABASE_URL name>_storefront` on PostgreSQL, else a SQLite file), migrates
it, loads the demo shop (`seed_demo`), starts fakestripe and gunicorn serving the API and the
committed storefront build (storefront/dist) on loopback, then runs `npx playwright test` in
storefront/ (tests/shop.spec.ts: guest and signed-in purchases, a declined card and its retry).
Screenshots go to docs/storefront/. Stops everything it started and drops the database.

    python scripts/storefront_test.py            # the test
    python scripts/storefront_test.py --serve    # the same stack, left running for a manual look
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.fakestripe_process import start_fakestripe  # noqa: E402
from devtools.live import (  # noqa: E402
    free_port,
    manage,
    scratch_database,
    scratch_database_drop,
    server_env,
    start_gunicorn,
)

WEBHOOK_SECRET = "whsec_storefront_test"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="start the stack and wait (Ctrl-C stops it)")
    parser.add_argument("--port", type=int, default=0, help="the API's port (default: a free one)")
    args, playwright_args = parser.parse_known_args()
    if not args.serve and not Path(CHROMIUM).exists():
        print(
            f"{CHROMIUM} is missing: `apt-get install -y chromium` (make storefront-test does).",
            file=sys.stderr,
        )
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="shopapi-storefront-"))
    database_url, admin_url = scratch_database(os.environ.get("DATABASE_URL"), workdir, "storefront")
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    fakestripe = start_fakestripe(
        webhook_url=f"{url}/api/v1/payments/stripe/webhook/", webhook_secret=WEBHOOK_SECRET
    )
    env = server_env(
        database_url=database_url,
        extra={
            "STRIPE_API_BASE": fakestripe.base_url,
            "STRIPE_SECRET_KEY": "sk_test_storefront",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SERVE_STOREFRONT": "1",
            "SERVE_MEDIA": "1",
            "MEDIA_ROOT": str(workdir / "media"),
            "CHECKOUT_SUCCESS_URL": f"{url}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}",
            "CHECKOUT_CANCEL_URL": f"{url}/cart?cancelled=1",
            "THROTTLE_GUEST_CART": "10000/hour",
            "EMAIL_URL": "memorymail://",
        },
    )
    server = None
    started = time.monotonic()
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_demo", "-v", "0")
        server = start_gunicorn(env=env, port=port, workers=2, threads=4, log_path=workdir / "gunicorn.log")
        up = time.monotonic() - started
        print(f"storefront: {url}/  fakestripe: {fakestripe.base_url}  (stack up in {up:.1f} s)")
        if args.serve:
            while True:
                time.sleep(3600)
        test_env = {
            **os.environ,
            "STOREFRONT_URL": url,
            "FAKESTRIPE_URL": fakestripe.base_url,
            "CHROMIUM": CHROMIUM,
        }
        status = subprocess.run(
            ["npx", "--no-install", "playwright", "test", *playwright_args],
            cwd=ROOT / "storefront",
            env=test_env,
            check=False,
        ).returncode
        if status != 0:
            print("gunicorn log tail:\n" + server.log_tail(60), file=sys.stderr)
        return status
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            server.stop()
        fakestripe.stop()
        scratch_database_drop(database_url, admin_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
