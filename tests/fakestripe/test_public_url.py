"""`--public-url`: the hosted page URL handed to browsers uses the name they reach fakestripe by."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from devtools.fakestripe_process import make_stripe_client
from fakestripe.__main__ import main
from fakestripe.server import FakeStripeHTTPServer, make_server
from tests.fakestripe.test_api import session_params


@pytest.fixture
def lan_server() -> Iterator[FakeStripeHTTPServer]:
    httpd = make_server("127.0.0.1", 0, public_url="http://192.168.1.20:12111/")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    thread.join(timeout=5)
    httpd.server_close()


def test_a_session_url_uses_the_public_url(lan_server: FakeStripeHTTPServer) -> None:
    # given: the SDK talks to the bound address, as the API server does
    port = lan_server.server_address[1]
    client = make_stripe_client(f"http://127.0.0.1:{port}")

    # when
    session = client.v1.checkout.sessions.create(params=session_params())

    # then: the browser (a phone on the LAN) is sent to the public name
    assert session.url == f"http://192.168.1.20:12111/pay/{session.id}"


def test_without_a_public_url_the_bound_address_is_used() -> None:
    # given
    httpd = make_server("127.0.0.1", 0)
    try:
        # then
        assert httpd.app.store.base_url == f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.server_close()


def test_the_command_line_takes_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a server that stops as soon as it starts serving
    seen: dict[str, str] = {}
    real_make_server = make_server

    def fake_make_server(*args: object, **kwargs: object) -> FakeStripeHTTPServer:
        httpd = real_make_server(*args, **kwargs)  # type: ignore[arg-type]
        seen["base_url"] = httpd.app.store.base_url
        httpd.serve_forever = lambda poll_interval=0.5: None  # type: ignore[method-assign]
        return httpd

    monkeypatch.setattr("fakestripe.__main__.make_server", fake_make_server)

    # when
    status = main(["--port", "0", "--public-url", "http://10.0.2.2:12111"])

    # then
    assert status == 0
    assert seen["base_url"] == "http://10.0.2.2:12111"
