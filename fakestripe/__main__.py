"""Command line entry point: ``python -m fakestripe --host 127.0.0.1 --port 12111``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from fakestripe.controls import settlement_currency
from fakestripe.server import make_server


def _settlement_currency(value: str) -> str:
    try:
        return settlement_currency(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    """Parse flags, bind, print the listening line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="fakestripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=12111, help="port; 0 picks a free one")
    parser.add_argument(
        "--public-url",
        default=None,
        help="base of the hosted page URLs handed to browsers, e.g. http://192.168.1.20:12111 for a phone "
        "on the LAN (default: the bound address)",
    )
    parser.add_argument("--webhook-url", default=None, help="where to POST signed events")
    parser.add_argument("--webhook-secret", default=None, help="whsec_… used to sign events")
    parser.add_argument("--state-file", default=None, help="persist state as JSON here")
    parser.add_argument(
        "--settlement-currency",
        default=os.environ.get("FAKESTRIPE_SETTLEMENT_CURRENCY", "usd"),
        type=_settlement_currency,
        help="currency whose Stripe minimum charge applies (default $FAKESTRIPE_SETTLEMENT_CURRENCY or usd)",
    )
    args = parser.parse_args(argv)

    httpd = make_server(
        args.host,
        args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        public_url=args.public_url,
        state_file=args.state_file,
        settlement_currency=args.settlement_currency,
    )

    def _stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    print(f"fakestripe listening on {httpd.app.store.base_url}", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
