"""scripts/stripe_smoke.py: its fakestripe half (no network), its skip and its refusal of live keys."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.fakestripe_process import start_fakestripe

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import stripe_smoke  # noqa: E402
import stripe_smoke_scenarios  # noqa: E402
from stripe_smoke_scenarios import (  # noqa: E402
    AMOUNT,
    REFUND_AMOUNT,
    SCENARIOS,
    Facts,
    Target,
    compared,
    describe,
    fakestripe_target,
    scenario_amount_too_small,
    scenario_create,
    scenario_expire,
    scenario_expire_again,
    scenario_idempotency_conflict,
    scenario_idempotent_replay,
    scenario_partial_refund,
    scenario_retrieve,
    scenario_too_many_lines,
)

SCRIPT = ROOT / "scripts" / "stripe_smoke.py"


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    server = start_fakestripe()
    try:
        yield fakestripe_target(server.base_url, "inr")
    finally:
        server.stop()


OPEN = {"status": "open", "payment_status": "unpaid", "amount_total": AMOUNT, "currency": "inr"}

EXPECTED: list[tuple[Callable[[Target], Facts], Facts]] = [
    (scenario_create, {**OPEN, "url": "hosted page"}),
    (scenario_retrieve, {**OPEN, "same_id": True, "order_ref_kept": True, "payment_intent": None}),
    (scenario_idempotent_replay, {"same_session": True, "status": "open"}),
    (
        scenario_idempotency_conflict,
        {
            "raised": "PaymentProviderError",
            "http_status": 400,
            "error_type": "idempotency_error",
            "code": None,
        },
    ),
    (scenario_expire, {"status": "expired", "payment_status": "unpaid"}),
    (
        scenario_expire_again,
        {"raised": "SessionNotOpen", "http_status": 400, "error_type": "invalid_request_error", "code": None},
    ),
    (
        scenario_partial_refund,
        {"status": "succeeded", "amount": REFUND_AMOUNT, "currency": "inr", "same_payment": True},
    ),
]


@pytest.mark.parametrize(("scenario", "expected"), EXPECTED, ids=lambda v: getattr(v, "__name__", ""))
def test_scenario_on_fakestripe(target: Target, scenario: Callable[[Target], Facts], expected: Facts) -> None:
    assert compared(scenario(target)) == expected


def test_the_url_host_is_shown_but_not_compared(target: Target) -> None:
    facts = scenario_create(target)
    assert facts["url_host"] == "127.0.0.1"
    assert "url_host" not in compared(facts)
    assert "url_host=127.0.0.1" in describe(facts)


def test_a_total_below_the_minimum_charge_is_refused(target: Target) -> None:
    assert scenario_amount_too_small(target) == {
        "raised": "PaymentProviderError",
        "http_status": 400,
        "error_type": "invalid_request_error",
        "code": "amount_too_small",
    }


def test_more_than_100_line_items_are_refused(target: Target) -> None:
    facts = scenario_too_many_lines(target)
    # fakestripe sends no error code here; whether Stripe does is what `make stripe-smoke` shows.
    assert {key: facts[key] for key in ("raised", "http_status", "error_type")} == {
        "raised": "PaymentProviderError",
        "http_status": 400,
        "error_type": "invalid_request_error",
    }


def test_every_scenario_is_listed_once() -> None:
    functions = [scenario for _, scenario in SCENARIOS]
    assert len(functions) == len(set(functions)) == 9
    assert scenario_partial_refund in functions


# ------------------------------------------------------------------------------ preflight
def test_preflight_refuses_live_keys_before_anything_else() -> None:
    def never() -> str | None:
        raise AssertionError("a live key must not even probe Stripe")

    for key in ("sk_live_abc", "rk_live_abc"):
        verdict = stripe_smoke.preflight(key, reach=never)
        assert verdict is not None
        assert verdict[0] == 2
        assert "live-mode key" in verdict[1]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "is not set"),
        ("pk_test_abc", "is not a Stripe test key"),
        ("whatever", "is not a Stripe test key"),
    ],
)
def test_preflight_skips_without_a_test_key(key: str, reason: str) -> None:
    verdict = stripe_smoke.preflight(key, reach=lambda: None)
    assert verdict is not None
    assert verdict[0] == 0
    assert reason in verdict[1]


def test_preflight_skips_when_stripe_is_unreachable_and_runs_when_it_answers() -> None:
    verdict = stripe_smoke.preflight("sk_test_abc", reach=lambda: "timed out")
    assert verdict is not None
    assert verdict[0] == 0
    assert "api.stripe.com:443 is not reachable" in verdict[1]
    assert "timed out" in verdict[1]
    assert stripe_smoke.preflight("sk_test_abc", reach=lambda: None) is None


def test_probe_reports_a_refused_connection() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reason = stripe_smoke.probe("127.0.0.1", port, timeout=2)
    assert reason is not None
    assert "ConnectionRefusedError" in reason


def test_table_aligns_columns() -> None:
    text = stripe_smoke.table(["a", "bb"], [["ccc", "d"]])
    assert text.splitlines() == ["a   | bb", "----+---", "ccc | d"]


# ------------------------------------------------------------------------- the script itself
def _run_script(key: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRIPE_")}
    if key is not None:
        env["STRIPE_SECRET_KEY"] = key
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_script_skips_with_exit_0_and_says_why_without_a_key() -> None:
    result = _run_script(None)
    assert result.returncode == 0, result.stderr
    assert "stripe-smoke: skipped: STRIPE_SECRET_KEY is not set" in result.stdout


def test_script_refuses_a_live_key_with_exit_2() -> None:
    result = _run_script("sk_live_x")
    assert result.returncode == 2
    assert "refused" in result.stderr
    assert "live-mode key" in result.stderr
    assert _run_script("sk_live_x", "--fakestripe-only").returncode == 2


# --------------------------------------------------------------- the two-column comparison
@pytest.mark.parametrize(
    ("currency", "status", "verdict"), [("inr", 0, "All 9 scenarios agree"), ("usd", 1, "differ")]
)
def test_run_compares_the_two_columns(
    target: Target,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    currency: str,
    status: int,
    verdict: str,
) -> None:
    # The module's fakestripe stands in for real Stripe: the same answers, or in another currency.
    monkeypatch.setattr(
        stripe_smoke_scenarios, "stripe_target", lambda key, _: fakestripe_target(target.api_base, currency)
    )
    assert stripe_smoke.run("inr", "sk_test_stand_in") == status
    out = capsys.readouterr().out
    assert "| Stripe answered" in out
    assert "| fakestripe answered" in out
    assert verdict in out
