"""The README's signature-verification snippets (Python and TypeScript) accept real deliveries and
refuse tampered ones. The snippets live in docs/webhooks/ and the README quotes them verbatim."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from notifications.models import WebhookEndpoint
from notifications.webhooks import webhook_deliver
from tests.notifications.conftest import Received, Receiver
from tests.notifications.test_webhook_delivery import make_delivery

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "webhooks"
TYPESCRIPT = "typescript@5.9.3"
NODE_TYPES = "@types/node@20.19.43"


@pytest.fixture
def delivered(receiver: Receiver, endpoint: WebhookEndpoint) -> Received:
    webhook_deliver(delivery_pk=make_delivery(endpoint, body='{"id":"evt_snippet","type":"order.paid"}').pk)
    return receiver.received[-1]


@pytest.mark.parametrize("name", ["verify_signature.py", "verify_signature.ts"])
def test_the_readme_quotes_the_snippet_verbatim(name: str) -> None:
    assert (SNIPPETS / name).read_text().strip() in (ROOT / "README.md").read_text()


def test_python_snippet_verifies_a_real_delivery(delivered: Received, endpoint: WebhookEndpoint) -> None:
    namespace: dict[str, Any] = {}
    exec((SNIPPETS / "verify_signature.py").read_text(), namespace)  # noqa: S102 - our own documented snippet
    verify = namespace["verify_shopapi_signature"]
    header = delivered.headers["Shopapi-Signature"]
    assert verify(header, delivered.body, endpoint.secret) is True
    assert verify(header, delivered.body + b" ", endpoint.secret) is False
    assert verify(header, delivered.body, "whsec_wrong") is False


def test_typescript_snippet_verifies_a_real_delivery(
    delivered: Received, endpoint: WebhookEndpoint, tmp_path: Path
) -> None:
    # given: the snippet and a runner, compiled with tsc --strict
    shutil.copy(SNIPPETS / "verify_signature.ts", tmp_path / "verify_signature.ts")
    (tmp_path / "run.ts").write_text(
        'import { readFileSync } from "node:fs";\n'
        'import { verifyShopapiSignature } from "./verify_signature";\n'
        'const cases = JSON.parse(readFileSync(process.argv[2], "utf8")) as [string, string, string][];\n'
        "const verdicts = cases.map(([h, b, s]) => verifyShopapiSignature(h, Buffer.from(b, 'base64'), s));\n"
        "console.log(JSON.stringify(verdicts));\n"
    )
    tools = ROOT / "build" / "snippet-tools"
    if not (tools / "node_modules" / ".bin" / "tsc").exists():
        installed = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(tools), TYPESCRIPT, NODE_TYPES],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert installed.returncode == 0, installed.stderr
    (tmp_path / "node_modules").symlink_to(tools / "node_modules")
    compiled = subprocess.run(
        [
            str(tools / "node_modules" / ".bin" / "tsc"), "--strict", "--types", "node",
            "--module", "commonjs", "--target", "es2022",
            "--outDir", str(tmp_path / "out"), str(tmp_path / "run.ts"),
        ],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    header = delivered.headers["Shopapi-Signature"]
    good = base64.b64encode(delivered.body).decode()
    bad = base64.b64encode(delivered.body + b" ").decode()
    (tmp_path / "cases.json").write_text(
        json.dumps(
            [[header, good, endpoint.secret], [header, bad, endpoint.secret], [header, good, "whsec_x"]]
        )
    )

    # when
    result = subprocess.run(
        ["node", str(tmp_path / "out" / "run.js"), str(tmp_path / "cases.json")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    # then
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, False, False]
