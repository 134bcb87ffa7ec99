"""Production packaging: deploy checks, refusing to start unconfigured, gunicorn, image, compose."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Settings the production defaults must decide on their own, whatever the caller's shell says.
_OVERRIDABLE = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "LOG_FORMAT",
    "DEBUG",
)


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _OVERRIDABLE}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        ALLOWED_HOSTS="api.example.com",
        CSRF_TRUSTED_ORIGINS="https://api.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


# --- settings ----------------------------------------------------------------------------------------


def test_check_deploy_is_clean_with_production_env(tmp_path: Path) -> None:
    # given
    env = production_env(tmp_path)

    # when
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_production_env_without_ssl_redirect(tmp_path: Path) -> None:
    # given: the same env, minus one protection
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="0")

    # when
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    # then
    assert result.returncode != 0
    assert "security.W008" in result.stderr


def test_refuses_to_start_without_secret_key_when_debug_is_off(tmp_path: Path) -> None:
    # given: SECRET_KEY empty (an empty value also shadows a developer's .env file)
    env = production_env(tmp_path, SECRET_KEY="")

    # when
    result = manage(env, "check")

    # then
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_rejects_an_unknown_log_format(tmp_path: Path) -> None:
    # given
    env = production_env(tmp_path, LOG_FORMAT="xml")

    # when
    result = manage(env, "check")

    # then
    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr


# --- gunicorn ----------------------------------------------------------------------------------------

_GUNICORN_ENV = (
    "PORT",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_KEEPALIVE",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_MAX_REQUESTS_JITTER",
    "FORWARDED_ALLOW_IPS",
    "LOG_FORMAT",
    "LOG_LEVEL",
)


def load_gunicorn_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name in _GUNICORN_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_conf_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # given / when
    conf = load_gunicorn_conf(
        monkeypatch,
        PORT="9123",
        WEB_CONCURRENCY="5",
        GUNICORN_THREADS="8",
        GUNICORN_TIMEOUT="45",
        GUNICORN_GRACEFUL_TIMEOUT="25",
        GUNICORN_KEEPALIVE="75",
        GUNICORN_MAX_REQUESTS="0",
        FORWARDED_ALLOW_IPS="*",
        LOG_LEVEL="WARNING",
    )

    # then
    assert conf["bind"] == ["0.0.0.0:9123"]
    assert conf["workers"] == 5
    assert conf["threads"] == 8
    assert conf["timeout"] == 45
    assert conf["graceful_timeout"] == 25
    assert conf["keepalive"] == 75
    assert conf["max_requests"] == 0
    assert conf["forwarded_allow_ips"] == "*"
    assert conf["loglevel"] == "warning"


def test_gunicorn_conf_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # given / when
    conf = load_gunicorn_conf(monkeypatch)

    # then
    assert conf["wsgi_app"] == "shopapi.wsgi:application"
    assert conf["bind"] == ["0.0.0.0:8000"]
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (2, 4, "gthread")
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (30, 30, 5)
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert conf["accesslog"] is None, "the app logs each request; gunicorn's access log would double it"
    assert conf["logconfig_dict"]["formatters"]["json"]["()"] == "shopapi.logging.JsonFormatter"


def test_gunicorn_conf_plain_logs_keep_gunicorn_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # given / when
    conf = load_gunicorn_conf(monkeypatch, LOG_FORMAT="plain")

    # then
    assert "logconfig_dict" not in conf


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_gunicorn_serves_logs_one_json_line_per_request_and_stops_gracefully(tmp_path: Path) -> None:
    # given: the image's command, on a free port, with production settings
    port = _free_port()
    env = production_env(tmp_path, PORT=str(port), WEB_CONCURRENCY="1", GUNICORN_THREADS="2")
    env["PYTHONWARNINGS"] = "ignore:No directory at"  # no collectstatic here; the image has one
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.2)

        # when
        missing, missing_headers = _get(f"http://127.0.0.1:{port}/api/v1/nothing-here/?q=secret-query")
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=40)

    # then
    assert status == 200, output
    assert server.returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(lines) == len(output.splitlines()), f"every line is JSON:\n{output}"
    requests = [line for line in lines if line["logger"] == "shopapi.request"]
    assert [(line["path"], line["status"]) for line in requests] == [
        ("/healthz", 200),
        ("/api/v1/nothing-here/", 400),  # 127.0.0.1 is not an allowed host; probes are exempt
    ]
    assert requests[1]["request_id"] == missing_headers["X-Request-ID"]
    assert "secret-query" not in output
    assert any(line["logger"] == "gunicorn.error" and "Shutting down" in line["message"] for line in lines)
    assert missing == 400


# --- container image ---------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.startswith("#")))
    pairs = []
    for line in text.splitlines():
        if line.strip():
            instruction, _, args = line.strip().partition(" ")
            pairs.append((instruction.upper(), args.strip()))
    return pairs


def final_stage(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (instruction, _) in enumerate(pairs) if instruction == "FROM")
    return pairs[last_from:]


def test_dockerfile_installs_runtime_requirements_only() -> None:
    # given
    pairs = dockerfile_instructions()
    text = " ".join(args for _, args in pairs)

    # then
    assert all(args.startswith("python:3.11-slim-bookworm") for i, args in pairs if i == "FROM")
    assert "requirements-dev" not in text
    assert "fakestripe" not in text
    assert any(i == "RUN" and "pip install -r /tmp/requirements.txt" in args for i, args in pairs)
    assert any(i == "RUN" and "collectstatic --noinput" in args for i, args in pairs)


def test_dockerfile_runs_as_non_root_with_healthcheck_and_no_baked_secret() -> None:
    # given
    stage = final_stage(dockerfile_instructions())
    instructions = [instruction for instruction, _ in stage]

    # then
    users = [args for instruction, args in stage if instruction == "USER"]
    assert users, "the runtime stage sets a USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert instructions.index("USER") < instructions.index("CMD")
    healthcheck = next(args for instruction, args in stage if instruction == "HEALTHCHECK")
    assert "/healthz" in healthcheck
    assert "curl" not in healthcheck
    env_args = " ".join(args for instruction, args in stage if instruction in {"ENV", "ARG"})
    assert "SECRET_KEY" not in env_args
    assert "PYTHONDONTWRITEBYTECODE=1" in env_args
    assert "PYTHONUNBUFFERED=1" in env_args
    cmd = next(args for instruction, args in stage if instruction == "CMD")
    assert json.loads(cmd)[:3] == ["gunicorn", "--config", "/app/gunicorn.conf.py"]
    entrypoint = json.loads(next(args for instruction, args in stage if instruction == "ENTRYPOINT"))
    assert entrypoint == ["/app/bin/docker-entrypoint.sh"]


def dockerignored(path: str) -> bool:
    """Docker's rule: the last pattern that matches decides; `!` re-includes."""
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = [pattern, pattern.removeprefix("**/")]
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, c) for c in candidates for prefix in prefixes):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        "fakestripe/server.py",
        "tests/test_packaging.py",
        "bench/run.py",
        ".venv/bin/python",
        ".git/HEAD",
        ".env",
        "requirements-dev.txt",
        "db.sqlite3",
        "checkout/__pycache__/models.cpython-311.pyc",
    ],
)
def test_dockerignore_excludes_dev_only_and_secret_files(path: str) -> None:
    assert dockerignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "requirements.txt",
        "gunicorn.conf.py",
        "bin/docker-entrypoint.sh",
        "shopapi/settings.py",
        "checkout/models.py",
    ],
)
def test_dockerignore_keeps_the_runtime_files(path: str) -> None:
    assert not dockerignored(path)


def _entrypoint_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = production_env(tmp_path, **extra)
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_entrypoint_execs_the_command_without_migrating_by_default(tmp_path: Path) -> None:
    # given
    env = _entrypoint_env(tmp_path)

    # when
    result = subprocess.run(
        [str(ROOT / "bin/docker-entrypoint.sh"), "python", "-c", "print('served')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "served"
    assert not (tmp_path / "prod.sqlite3").exists()


def test_entrypoint_migrates_first_when_asked(tmp_path: Path) -> None:
    # given
    env = _entrypoint_env(tmp_path, RUN_MIGRATIONS="1")
    probe = (
        "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
        "print(db.execute('select count(*) from django_migrations').fetchone()[0])"
    )

    # when
    result = subprocess.run(
        [str(ROOT / "bin/docker-entrypoint.sh"), "python", "-c", probe, str(tmp_path / "prod.sqlite3")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) > 0


# --- compose and configuration ------------------------------------------------------------------------


def test_compose_stack_waits_for_healthy_services() -> None:
    # given
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    # then
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("db", "redis", "api", "fakestripe"):
        assert services[name]["healthcheck"]["test"], name
    api = services["api"]
    assert api["env_file"] == ".env"
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["fakestripe"]["profiles"] == ["dev"]
    assert "http://api:8000/api/v1/payments/stripe/webhook/" in services["fakestripe"]["command"]
    assert "profiles" not in api
    for name in ("worker", "beat"):
        assert services[name]["command"][:4] == ["celery", "-A", "shopapi", name]
        assert services[name]["env_file"] == ".env"
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def documented_variables() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def test_env_example_documents_every_variable_read() -> None:
    # given
    settings_vars = {
        name
        for module in sorted((ROOT / "shopapi").glob("settings*.py"))
        for name in re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", module.read_text())
    }
    gunicorn_vars = set(
        re.findall(
            r"(?:_int|os\.environ\.get)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']",
            (ROOT / "gunicorn.conf.py").read_text(),
        )
    )
    entrypoint_vars = set(
        re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "bin/docker-entrypoint.sh").read_text())
    )

    # then
    assert {"SECRET_KEY", "DATABASE_URL", "CHECKOUT_SUCCESS_URL"} <= settings_vars
    assert {"PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"} <= gunicorn_vars
    assert entrypoint_vars == {"RUN_MIGRATIONS"}
    undocumented = (settings_vars | gunicorn_vars | entrypoint_vars) - documented_variables()
    assert not undocumented, f"add these to .env.example with a comment: {sorted(undocumented)}"
