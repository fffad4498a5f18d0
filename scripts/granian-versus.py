"""Granian in place of Uvicorn, measured: the same app with 2 workers under each (`rthdr serve`'s
supervisor and Uvicorn; Granian's own workers), and the paper-style peer, loaded in turns with
/api/v1/predict at concurrency 1 and 32 (rthdr.bench.versus.in_turns), then the medians printed as a
Markdown table.

    .venv/bin/pip install granian && .venv/bin/python scripts/granian-versus.py [ROUNDS] > docs/results/granian-versus.md

Needs wrk. Granian serves the ASGI app through its factory, with the same multiprocess metrics folder
that `rthdr serve` sets up.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from rthdr.api.server import APP
from rthdr.bench.peer import serving_peer
from rthdr.bench.server import free_port, serving, stop
from rthdr.bench.versus import in_turns
from rthdr.bench.wrk import canvas_file
from rthdr.core.inference import DEFAULT_MODEL

WORKERS, SECONDS = 2, 6.0


@contextmanager
def granian() -> Iterator[str]:
    """The app under Granian (asyncio loop, as `rthdr serve` uses) on a free port, once /readyz answers."""
    executable = shutil.which("granian")
    if executable is None:
        raise SystemExit("granian is not installed: .venv/bin/pip install granian")
    port, metrics = free_port(), tempfile.mkdtemp(prefix="rthdr-metrics-")
    env = {
        **os.environ,
        "RTHDR_MODEL": str(DEFAULT_MODEL),
        "RTHDR_LOG_JSON": "true",
        "PROMETHEUS_MULTIPROC_DIR": metrics,
    }
    command = [executable, "--interface", "asgi", "--factory", "--workers", str(WORKERS), "--host", "127.0.0.1",
               "--port", str(port), "--loop", "asyncio", "--log-level", "warning", APP]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        time.sleep(3)  # both workers up: the first one answers /readyz
        yield url
    finally:
        stop(process)
        shutil.rmtree(metrics, ignore_errors=True)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    log = {"RTHDR_LOG_JSON": "true"}
    with (
        canvas_file() as body,
        serving(DEFAULT_MODEL, WORKERS, log) as uvicorn,
        serving_peer() as peer,
        granian() as other,
    ):
        servers = {"rthdr serve (Uvicorn)": uvicorn.url, "Granian": other, "Flask + gunicorn peer": peer}
        rows = in_turns(servers, body, rounds, SECONDS)
    print(f"# Granian against Uvicorn, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"{rounds} rounds of {SECONDS:g} s in turns, {WORKERS} workers each; medians.\n")
    print("| server | requests/s at 1 | p50 ms at 1 | requests/s at 32 | p99 ms at 32 | errors |")
    print("|---|---|---|---|---|---|")
    for name in servers:
        one = [r for r in rows if r["version"] == name and r["concurrency"] == 1]
        many = [r for r in rows if r["version"] == name and r["concurrency"] == 32]

        def median(part: list[dict], key: str) -> float:
            return statistics.median(r[key] for r in part)

        errors = sum(r["error_count"] for r in one + many)
        print(f"| {name} | {median(one, 'requests_per_s'):,.0f} | {median(one, 'p50_ms'):.2f} | "
              f"{median(many, 'requests_per_s'):,.0f} | {median(many, 'p99_ms'):.1f} | {errors} |")  # fmt: skip


if __name__ == "__main__":
    main()
