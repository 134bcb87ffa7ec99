"""Load generators: `wrk` for GET endpoints, a thread pool of keep-alive clients for POST flows.

`post` (requests, one session per thread) serves the checkout flows; `post_all` is the lighter
sender of the webhook scenario: `http.client` keep-alive connections opened before the clock
starts, bodies and headers prepared by the caller, so the timed window holds the requests alone.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.webhook_proc import cpu_seconds, process_tree

LUA = Path(__file__).with_name("wrk_report.lua")


@dataclass
class Result:
    """One measured endpoint: throughput, latency percentiles (ms), errors and notes."""

    name: str
    rps: float
    p50: float
    p99: float
    p95: float | None = None
    requests: int = 0
    errors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    name: str,
    base_url: str,
    paths: Sequence[str],
    *,
    duration: float,
    connections: int,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    warmup: float = 2.0,
    cpu_pids: Sequence[int] = (),
) -> Result:
    """`wrk` against `base_url` rotating over `paths`; a short warm-up run first (not counted).
    `cpu_pids`: processes whose CPU seconds over the measured run go in `extra["cpu_seconds"]`."""

    def once(seconds: float) -> dict[str, Any]:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
        ]
        for key, value in (headers or {}).items():
            command += ["-H", f"{key}: {value}"]
        command += [base_url + paths[0], "--", *paths]
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
        for line in out.stdout.splitlines():
            if line.startswith("BENCH_JSON "):
                data: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
                return data
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")

    if warmup > 0:
        once(warmup)
    before = [cpu_seconds(pid) or 0.0 for pid in cpu_pids]
    data = once(duration)
    used = [(cpu_seconds(pid) or 0.0) - start for pid, start in zip(cpu_pids, before, strict=True)]
    if data["requests"] == 0:
        raise RuntimeError(f"wrk completed no request against {base_url}{paths[0]}: {data}")
    lat = data["latency_us"]
    # Non-2xx answers and timeouts are errors; socket read/connect errors are gunicorn gthread
    # closing kept-alive connections under load (wrk reconnects) and are reported apart.
    errors = data["errors"]["status"] + data["errors"]["timeout"]
    return Result(
        name=name,
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50=lat["p50"] / 1000,
        p95=lat["p95"] / 1000,
        p99=lat["p99"] / 1000,
        requests=data["requests"],
        errors=errors,
        extra={
            "wrk": data,
            "socket_errors": data["errors"]["read"] + data["errors"]["connect"] + data["errors"]["write"],
            "cpu_seconds": used,
        },
    )


def worker_pids(server_pids: Sequence[int]) -> list[int]:
    """gunicorn's workers: the processes under its master processes."""
    return [pid for master in server_pids for pid in process_tree(master) if pid != master]


def run_wrk_watched(
    name: str, base_url: str, paths: Sequence[str], *, server_pids: Sequence[int], **kwargs: Any
) -> Result:
    """`run_wrk`, noting how the run's CPU fell on gunicorn's workers (`worker_cpu_share`: the
    busiest worker's share).

    wrk opens its few keep-alive connections at once and each stays with the worker that
    accepted it; a gthread worker runs Python on one core (its threads share the GIL), so when one
    worker took most connections the figure is closer to one core's than to the server's. The
    share says which it was (docs/benchmarks.md, "How the connections fall on the workers").
    """
    workers = worker_pids(server_pids)
    result = run_wrk(name, base_url, paths, cpu_pids=workers, **kwargs)
    used = result.extra["cpu_seconds"]
    result.extra["worker_cpu_share"] = max(used) / sum(used) if len(used) > 1 and sum(used) > 0 else None
    return result


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Call:
    status: int
    seconds: float
    body: Any
    retried: bool = False


_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        _local.session = session
    return session


def post(
    url: str,
    *,
    json_body: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Call:
    """One POST on this thread's keep-alive session, timed.

    gunicorn's gthread worker can close a kept-alive connection just as the next request goes out
    (it never read it: "Remote end closed connection without response"). That request is sent
    again once on a fresh connection, as Stripe and browsers do; `Call.retried` records it.
    """
    started = time.perf_counter()
    retried = False
    try:
        response = _session().post(url, json=json_body, data=data, headers=headers, timeout=timeout)
    except requests.ConnectionError:
        retried = True
        _local.session = None
        response = _session().post(url, json=json_body, data=data, headers=headers, timeout=timeout)
    elapsed = time.perf_counter() - started
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Call(response.status_code, elapsed, body, retried)


def run_parallel(
    calls: Sequence[Callable[[], Call]], *, workers: int, barrier: bool = False
) -> tuple[list[Call], float]:
    """Run every call on `workers` threads (all released together with `barrier`); (calls, wall seconds)."""
    gate = threading.Barrier(len(calls)) if barrier else None

    def runner(call: Callable[[], Call]) -> Call:
        if gate is not None:
            gate.wait(timeout=60)
        return call()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(runner, calls))
    return results, time.perf_counter() - started


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "mean": statistics.fmean(ms) if ms else float("nan"),
        "max": max(ms) if ms else float("nan"),
    }


# A kept-alive connection the server closed just as a request went out: sent again once.
_RECONNECT_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _answer(response: http.client.HTTPResponse) -> Any:
    raw = response.read()
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def post_all(
    url: str, requests_: Sequence[tuple[bytes, dict[str, str]]], *, workers: int, timeout: float = 60.0
) -> tuple[list[Call], float]:
    """POST every `(body, headers)` to `url` from `workers` threads: (calls in order, wall seconds).

    Each thread opens its keep-alive `http.client` connection and waits at a barrier before the
    clock starts; the wall time runs from the release to the last answer. Threads take the next
    request as they finish one (no fixed share). Every answer's status and JSON body are kept for
    the caller to check. A request whose kept-alive connection the server had closed is sent again
    once on a new connection (`Call.retried`), as `post` does.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    results: list[Call | None] = [None] * len(requests_)
    indexes = iter(range(len(requests_)))
    gate = threading.Barrier(workers + 1)
    errors: list[BaseException] = []

    def send(conn: http.client.HTTPConnection, body: bytes, headers: dict[str, str]) -> Call:
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        answer = _answer(response)
        return Call(response.status, time.perf_counter() - started, answer)

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.connect()
            gate.wait(timeout=60)
            for i in indexes:  # a shared iterator: next() on it is atomic under the GIL
                body, headers = requests_[i]
                try:
                    results[i] = send(conn, body, headers)
                except _RECONNECT_ERRORS:
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=timeout)
                    call = send(conn, body, headers)
                    call.retried = True
                    results[i] = call
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError) as exc:  # raised below
            errors.append(exc)
            gate.abort()
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, name=f"sender-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    gate.wait(timeout=60)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"sender failed: {errors[0]!r}") from errors[0]
    calls = [call for call in results if call is not None]
    if len(calls) != len(requests_):
        raise RuntimeError(f"{len(requests_) - len(calls)} requests were not sent")
    return calls, wall
