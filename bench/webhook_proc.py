"""Where the CPU of a timed window went, from /proc: the server, PostgreSQL, this process, the rest.

On a 2-core VM shared with other work, a throughput figure alone cannot tell a slower server from
a busier machine. Around the webhook scenario's first deliveries this reads the CPU time of the
gunicorn processes (the master and its workers), of every `postgres` process (all databases: other
work on the same cluster counts too), of this process (the senders), and the machine's busy and
total time (/proc/stat). Linux only; elsewhere the figures are empty.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PROC = Path("/proc")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, or None once it is gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": field 3 onwards
    return (int(fields[11]) + int(fields[12])) / _TICKS


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in (_PROC / str(current) / "task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return pids


def _named(name: str) -> list[int]:
    pids = []
    for entry in _PROC.glob("[0-9]*/comm"):
        try:
            if entry.read_text().strip() == name:
                pids.append(int(entry.parent.name))
        except OSError:
            continue
    return pids


@dataclass
class Snapshot:
    server: dict[int, float] = field(default_factory=dict)
    postgres: dict[int, float] = field(default_factory=dict)
    client: float = 0.0
    busy: float = 0.0
    total: float = 0.0


def _by_pid(pids: list[int]) -> dict[int, float]:
    return {pid: seconds for pid in pids if (seconds := cpu_seconds(pid)) is not None}


def snapshot(server_pids: Sequence[int]) -> Snapshot:
    """The CPU seconds so far of the server's processes, PostgreSQL's, this process, the machine."""
    if not (_PROC / "stat").exists():
        return Snapshot()
    ticks = [int(v) for v in (_PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return Snapshot(
        server=_by_pid([pid for server_pid in server_pids for pid in process_tree(server_pid)]),
        postgres=_by_pid(_named("postgres")),
        client=cpu_seconds(os.getpid()) or 0.0,
        busy=(sum(ticks) - idle) / _TICKS,
        total=sum(ticks) / _TICKS,
    )


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    # A process started during the window spent all its time in it; one that ended is not counted.
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def cpu_share(before: Snapshot, after: Snapshot, events: int) -> dict[str, float]:
    """CPU ms per event of the server, PostgreSQL and the senders, the rest of the machine's busy
    time per event ("others"), how busy the machine was (% of all cores), and the busiest server
    process's share of the server's CPU."""
    if not after.total or events <= 0:
        return {}
    server = _spent(before.server, after.server)
    postgres = _spent(before.postgres, after.postgres)
    client = after.client - before.client
    busy = after.busy - before.busy
    total = after.total - before.total
    per_event = 1000 / events
    # The busiest server process's share of the server's CPU (50 % with two is an even split).
    by_process = [seconds - before.server.get(pid, 0.0) for pid, seconds in after.server.items()]
    return {
        "busiest_process_percent": 100 * max(by_process, default=0.0) / server if server else 0.0,
        "server_ms": server * per_event,
        "postgres_ms": postgres * per_event,
        "senders_ms": client * per_event,
        "others_ms": max(0.0, busy - server - postgres - client) * per_event,
        "machine_busy_percent": 100 * busy / total if total else 0.0,
    }
