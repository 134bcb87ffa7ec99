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
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.fakestripe_process import start_fakestripe  # noqa: E402
from devtools.live import free_port, server_env, start_gunicorn  # noqa: E402

WEBHOOK_SECRET = "whsec_storefront_test"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def _database(base_url: str | None, workdir: Path) -> tuple[str, str | None]:
    """(database URL to use, admin URL to drop it with): PostgreSQL if DATABASE_URL says so."""
    if not base_url or not base_url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{workdir / 'storefront.sqlite3'}", None
    parsed = urlparse(base_url)
    name = f"{parsed.path.lstrip('/') or 'shopapi'}_storefront"
    admin = urlunparse(parsed._replace(path="/postgres"))
    _psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(admin, f'CREATE DATABASE "{name}"')
    return urlunparse(parsed._replace(path=f"/{name}")), admin


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


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
    database_url, admin_url = _database(os.environ.get("DATABASE_URL"), workdir)
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
        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "seed_demo", "-v", "0")
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
        if admin_url:
            name = urlparse(database_url).path.lstrip("/")
            _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
