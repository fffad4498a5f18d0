"""This checkout against git revision REF under varied images: both served at once (2 workers each,
rthdr.bench.versus.checkout), loaded in turns at concurrency 32 by wrk cycling through 64 different
canvas PNGs of MNIST test digits, then the medians printed as a Markdown table.

    RTHDR_DATA_DIR=... .venv/bin/python scripts/varied-versus.py REF [ROUNDS] > docs/results/varied-versus.md

`rthdr bench --versus REF` posts one canvas over and over, which leaves more of each request's data
in the CPU's caches than real traffic would; this is the check that a gain is not only that.
Needs wrk and MNIST.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from rthdr.bench.server import serving
from rthdr.bench.versus import checkout
from rthdr.bench.wrk import PREDICT, canvas_file, warm_up
from rthdr.core.inference import DEFAULT_MODEL
from rthdr.data.mnist import load_mnist

CANVASES, CONCURRENCY, SECONDS = 64, 32, 4

# wrk's Lua hook: POST the files canvas-0.png ... in turn, and print the summary as one line.
LUA = """
local bodies, n = {}, 0
for i = 0, %(count)d - 1 do
  local f = assert(io.open("%(folder)s/canvas-" .. i .. ".png", "rb")); bodies[i] = f:read("*all"); f:close()
end
request = function()
  n = (n + 1) %% %(count)d
  return wrk.format("POST", nil, {["Content-Type"] = "image/png"}, bodies[n])
end
done = function(summary, latency, requests)
  io.write(string.format("RTHDR_RESULT %%d %%f %%f %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(99) / 1e3, summary.errors.status + summary.errors.timeout))
end
"""


def write_canvases(folder: Path) -> None:
    """MNIST test digits as a browser's canvas exports them: dark ink on a white 280x280 RGBA PNG."""
    digits, _ = load_mnist("test")
    for i in range(CANVASES):
        canvas = np.full((280, 280, 4), 255, np.uint8)
        ink = cv2.resize(digits[i * 37], (200, 200), interpolation=cv2.INTER_CUBIC)
        canvas[40:240, 40:240, :3] = (255 - ink)[..., np.newaxis]
        ok, png = cv2.imencode(".png", canvas, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        assert ok
        (folder / f"canvas-{i}.png").write_bytes(png.tobytes())


def load(url: str, script: Path) -> tuple[float, float]:
    """One wrk run: requests/s and p99 ms. Errors fail the run: a server that errs is not measured."""
    command = ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{SECONDS}s", "-s", str(script), url + PREDICT]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    _, requests, seconds, p99, errors = next(
        line for line in output.splitlines() if line.startswith("RTHDR_RESULT")
    ).split()
    if int(errors):
        raise RuntimeError(f"{url} answered {errors} requests with an error or not at all")
    return int(requests) / float(seconds), float(p99)


def main(ref: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder, checkout(ref) as other, canvas_file() as body:
        write_canvases(Path(folder))
        script = Path(folder) / "canvases.lua"
        script.write_text(LUA % {"count": CANVASES, "folder": folder})
        log = {"RTHDR_LOG_JSON": "true"}
        with (
            serving(DEFAULT_MODEL, 2, log) as this,
            serving(DEFAULT_MODEL, 2, {**log, "PYTHONPATH": str(other / "src")}) as before,
        ):
            servers = {"this checkout": this.url, ref: before.url}
            for url in servers.values():
                warm_up(url, body)
                load(url, script)
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
            for turn in range(rounds):  # who goes first alternates
                for name, url in list(servers.items())[:: 1 if turn % 2 == 0 else -1]:
                    runs[name].append(load(url, script))
    ratios = [a[0] / b[0] for a, b in zip(runs["this checkout"], runs[ref], strict=True)]
    print(
        f"# This checkout against {ref}, {CANVASES} different canvases, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print(f"{rounds} rounds of {SECONDS} s in turns at concurrency {CONCURRENCY}, 2 workers each; medians.\n")
    print("| version | requests/s | p99 ms |\n|---|---|---|")
    for name, measured in runs.items():
        print(
            f"| {name} | {statistics.median(r for r, _ in measured):,.0f} | {statistics.median(p for _, p in measured):.1f} |"
        )
    print(
        f"\nRequests/s, this checkout over {ref}: {statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}x)."
    )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 6)
