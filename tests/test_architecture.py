"""Rules of the layout that a grep can check: the payment provider has one home, modules stay small."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Where a provider's name may appear: its own package, the local stand-in and the tools that start
# it, tests, and migrations (history). The settings modules (shopapi/settings*.py) read the
# provider's environment variables (STRIPE_SECRET_KEY …, the public configuration) and name the
# gateway class.
PROVIDER_HOMES = ("payments/stripe/", "fakestripe/", "tests/", "bench/", "scripts/", "devtools/")
PROVIDER_CONFIGURATION = re.compile(r"^shopapi/settings(_\w+)?\.py$")
CODE_SUFFIXES = {".py", ".html"}
MAX_MODULE_LINES = 400


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [name for name in listed if (ROOT / name).is_file()]


def code_files() -> list[str]:
    return [
        name for name in tracked_files() if Path(name).suffix in CODE_SUFFIXES and "/migrations/" not in name
    ]


def stripe_mentions(name: str, text: str) -> list[str]:
    """`name:line: text` for every line naming the provider, unless `name` is one of its homes."""
    if name.startswith(PROVIDER_HOMES) or PROVIDER_CONFIGURATION.match(name):
        return []
    return [
        f"{name}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        if re.search("stripe", line, re.IGNORECASE)
    ]


def test_stripe_is_named_only_under_payments_stripe() -> None:
    found = [
        mention
        for name in code_files()
        for mention in stripe_mentions(name, (ROOT / name).read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_grep_reports_a_mention_outside_the_provider_package() -> None:
    text = '"""Settles orders."""\nimport stripe  # a shortcut\n'
    assert stripe_mentions("checkout/services/settlement.py", text) == [
        "checkout/services/settlement.py:2: import stripe  # a shortcut"
    ]
    assert stripe_mentions("payments/stripe/api.py", text) == []
    assert "checkout/services/settlement.py" in code_files()


def test_no_module_outside_tests_and_migrations_is_over_400_lines() -> None:
    too_long = {
        name: lines
        for name in tracked_files()
        if name.endswith(".py") and not name.startswith("tests/") and "/migrations/" not in name
        if (lines := len((ROOT / name).read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}
