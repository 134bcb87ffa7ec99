"""Start shopapi as a real server process (gunicorn) for end-to-end tests, contract tests and benchmarks.

Used by tests/e2e (a generated client against a live server), scripts/contract_test.py
(schemathesis) and bench/. Every process binds only 127.0.0.1 and is stopped by its caller.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[Any], grace: float) -> None:
    """Terminate ``process``; kill it if it has not exited after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_for_http(url: str, *, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll `url` until it answers 200; fail early if `process` died."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http on loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last_error = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last_error}")


@dataclass
class LiveServer:
    """A running gunicorn: its process, base URL and log file."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self) -> None:
        """Terminate gunicorn (kill it if it does not stop within 15 s)."""
        stop_process(self.process, grace=15)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log ("" if unreadable)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def server_env(*, database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a production-like server process on loopback."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_")) and key != "DATABASE_URL"
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": env.get("SECRET_KEY") or "live-server-secret-key-for-local-tests-only-0123456789",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING"),
            "THROTTLE_LOGIN": "10000/min",
            "THROTTLE_REGISTER": "10000/min",
        }
    )
    if extra:
        env.update(extra)
    return env


def start_gunicorn(
    *,
    env: Mapping[str, str],
    port: int | None = None,
    workers: int = 2,
    threads: int = 4,
    log_path: Path | None = None,
    app: str = "shopapi.wsgi:application",
    extra_args: Sequence[str] = (),
) -> LiveServer:
    """gunicorn serving `app` on 127.0.0.1; waits for /healthz (or `/` for other apps)."""
    port = port or free_port()
    log_path = log_path or Path(tempfile.gettempdir()) / f"shopapi-gunicorn-{port}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        *extra_args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            command, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer(process=process, url=f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        wait_for_http(server.url + "/healthz", timeout=60, process=process)
    except (RuntimeError, TimeoutError):
        server.stop()
        raise RuntimeError(f"gunicorn did not start:\n{server.log_tail()}") from None
    return server


def psql(admin_url: str, sql: str) -> None:
    """Run one SQL statement with psql against `admin_url` (stops on the first error)."""
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)  # noqa: S603, S607


def scratch_database(base_url: str | None, workdir: Path, suffix: str) -> tuple[str, str | None]:
    """(database URL to use, admin URL to drop it with): a fresh PostgreSQL database
    `<name>_<suffix>` beside `base_url` when it is PostgreSQL, else a SQLite file in `workdir`."""
    if not base_url or not base_url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{workdir / f'{suffix}.sqlite3'}", None
    parsed = urlparse(base_url)
    name = f"{parsed.path.lstrip('/') or 'shopapi'}_{suffix}"
    admin = urlunparse(parsed._replace(path="/postgres"))
    psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(admin, f'CREATE DATABASE "{name}"')
    return urlunparse(parsed._replace(path=f"/{name}")), admin


def scratch_database_drop(database_url: str, admin_url: str | None) -> None:
    """Drop what `scratch_database` created (nothing for SQLite: its folder goes with the caller)."""
    if admin_url is not None:
        psql(admin_url, f'DROP DATABASE IF EXISTS "{urlparse(database_url).path.lstrip("/")}" WITH (FORCE)')


def manage(env: Mapping[str, str], *args: str) -> None:
    """`manage.py <args>` in the project with `env`; raises when it fails."""
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=dict(env), check=True)  # noqa: S603
