"""The profile of one API path: pyinstrument over in-process requests (Django test client).

Written to `bench/out/profile.txt` and `profile.html`; the text goes into the results too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.common import auth_headers, log

OUT_DIR = Path(__file__).resolve().parent / "out"


def profile_endpoint(
    path: str, token: str | None, *, label: str, requests_count: int = 300
) -> dict[str, Any]:
    """pyinstrument over `requests_count` in-process GETs of `path` (Django test client)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"skipped": "pyinstrument is not installed (pip install -r bench/requirements.txt)"}
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    headers = auth_headers(token)
    client.get(path, headers=headers)
    profiler = Profiler(interval=0.0005)
    t0 = time.perf_counter()
    profiler.start()
    for _ in range(requests_count):
        client.get(path, headers=headers)
    profiler.stop()
    elapsed = time.perf_counter() - t0
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "profile.txt").write_text(text)
    (OUT_DIR / "profile.html").write_text(profiler.output_html())
    ms_per_request = elapsed / requests_count * 1000
    log(
        f"profiled {label}: {requests_count} in-process requests, {ms_per_request:.2f} ms each "
        "(bench/out/profile.txt)"
    )
    return {"label": label, "path": path, "ms_per_request": ms_per_request, "text": text}
