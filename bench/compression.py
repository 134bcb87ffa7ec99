"""The CPU cost of gzip on real answers of this shop, on this machine (`make bench` runs it).

For each path the JSON is fetched in-process (Django's test client, the bench database, no
`Accept-Encoding`, so the bytes are the uncompressed answer), then compressed with `gzip` at levels
1, 6 (what shopapi uses: catalog/cache.py, shopapi/http_caching.py) and 9, best of 5 × 50 rounds.
A cached catalog page is compressed once when it is stored, not per request; an uncached public
answer pays the figure below on every request.
"""

from __future__ import annotations

import gzip
import time
from typing import Any

from django.test import Client

LEVELS = (1, 6, 9)


def _best_us(body: bytes, level: int, *, rounds: int = 50, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(rounds):
            gzip.compress(body, compresslevel=level, mtime=0)
        best = min(best, (time.perf_counter() - t0) / rounds)
    return best * 1e6


def compression_measure(paths: dict[str, str], tokens: dict[str, str]) -> dict[str, Any]:
    """{label: {bytes, per level: gzip bytes, µs per compression, MB/s}} for each path."""
    client = Client(HTTP_HOST="127.0.0.1")
    out: dict[str, Any] = {}
    for label, path in paths.items():
        token = tokens.get(label)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = client.get(path, headers=headers).content
        row: dict[str, Any] = {"path": path, "bytes": len(body), "levels": {}}
        for level in LEVELS:
            micros = _best_us(body, level)
            row["levels"][level] = {
                "gzip_bytes": len(gzip.compress(body, compresslevel=level, mtime=0)),
                "us": round(micros, 1),
                "mb_per_s": round(len(body) / micros, 1),  # bytes per µs = MB/s
            }
        out[label] = row
    return out


def compression_lines(figures: dict[str, Any]) -> list[str]:
    """The report's table of the figures above."""
    lines = ["| gzip cost (in-process, best of 5 × 50) | bytes | level 1 | level 6 (used) | level 9 |"]
    lines.append("|---|---:|---:|---:|---:|")
    for label, row in figures.items():
        cells = [
            f"{v['gzip_bytes']:,} B, {v['us']:.0f} µs ({v['mb_per_s']:.0f} MB/s)"
            for v in (row["levels"][level] for level in LEVELS)
        ]
        lines.append(f"| {label} | {row['bytes']:,} | " + " | ".join(cells) + " |")
    return lines
