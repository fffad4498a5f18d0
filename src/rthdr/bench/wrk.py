"""Load over HTTP from wrk: what it posts (a browser's canvas PNG), how it is driven, what it reports.

wrk, not a Python client: one C thread drives thousands of requests a second, so the figures are the
server's, not the load generator's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

PREDICT = "/api/v1/predict"  # the route loaded: the full pipeline, decode to JSON

# wrk's Lua hook: POST the file named by $RTHDR_BENCH_BODY, and print the summary as one JSON line.
WRK_SCRIPT = """
local f = assert(io.open(os.getenv("RTHDR_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "image/png"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RTHDR_RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p95_ms": %f, "p99_ms": %f, "max_ms": %f, '
    .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def canvas_png(size: int = 280) -> bytes:
    """What a browser's canvas.toDataURL() gives for a drawing: an opaque RGBA PNG, here a digit (a 4)
    drawn with a round 20-pixel pen on a white 280x280 canvas."""
    canvas = np.full((size, size, 4), 255, np.uint8)
    for start, end in (((90, 50), (70, 160)), ((70, 160), (200, 160)), ((170, 60), (165, 240))):
        cv2.line(canvas, start, end, (0, 0, 0, 255), 20, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", canvas, [cv2.IMWRITE_PNG_COMPRESSION, 3])  # 5.6 kB, as Chromium's
    assert ok
    return png.tobytes()


@contextmanager
def canvas_file() -> Iterator[Path]:
    """canvas_png() in a temporary file, which wrk reads as the body of every request."""
    with tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "canvas.png"
        body.write_bytes(canvas_png())
        yield body


def warm_up(server: str, body: Path) -> None:
    """A second of load before any timing: the first requests pay for connections and caches."""
    wrk(f"{server}{PREDICT}", body, 8, 1.0)


def wrk(url: str, body: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    """One wrk run (one thread, `concurrency` open connections) against POST url."""
    executable = shutil.which("wrk")
    if executable is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (Debian package wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        result = subprocess.run(
            [
                executable,
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "5s",
                "-s",
                script.name,
                url,
            ],
            env={**os.environ, "RTHDR_BENCH_BODY": str(body)},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(script.name)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("RTHDR_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    raw = json.loads(line.removeprefix("RTHDR_RESULT "))
    stats: dict[str, Any] = {k: round(v, 3) if isinstance(v, float) else v for k, v in raw.items()}
    # the rate from the rounded seconds, so that the figures a report prints agree with each other
    stats["requests_per_s"] = round(stats["requests"] / stats["seconds"], 1)
    stats["concurrency"] = concurrency
    stats["error_count"] = sum(stats["errors"].values())
    return stats
