"""Where a /predict worker spends its time under load: py-spy samples both workers of `rthdr serve
--workers 2` while wrk drives /api/v1/predict at concurrency 32 for 20 s, then the samples are summed
per function (inclusive: time on the stack) and printed as a Markdown table.

    .venv/bin/pip install py-spy && .venv/bin/python scripts/profile-predict.py > docs/results/profile-predict.md

Needs root (or ptrace rights) for py-spy, and wrk. The profiler slows the workers down, so its
requests per second are not comparable with `rthdr bench`'s; the shares are what this is for.
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rthdr.bench.server import serving
from rthdr.bench.wrk import PREDICT, canvas_file, warm_up, wrk
from rthdr.core.inference import DEFAULT_MODEL

SECONDS, CONCURRENCY, RATE = 20, 32, 200
# The functions whose inclusive share the table shows: the route and what it calls, then the layers
# around it.
SHOWN = (
    "predict (rthdr/api/routes/predict.py)", "prepare (rthdr/core/pipeline.py)",
    "decode_image (rthdr/core/decode.py)", "to_model_input (rthdr/core/preprocess.py)",
    "Predictor.run (rthdr/api/batcher.py)", "Session.run (onnxruntime/capi/onnxruntime_inference_collection.py)",
    "calibrated (rthdr/core/inference.py)", "read_characters (rthdr/core/characters.py)",
    "png_data_url (rthdr/core/pipeline.py)", "solve_dependencies (fastapi/dependencies/utils.py)",
    "RequestResponseCycle.send (uvicorn/protocols/http/httptools_impl.py)",
    "MetricsMiddleware.__call__ (rthdr/api/metrics.py)", "JsonFormatter.format (rthdr/api/request_log.py)",
    "serialize_response (fastapi/routing.py)",
)  # fmt: skip


def shares(raw: Path) -> tuple[int, collections.Counter[str]]:
    """py-spy's raw (collapsed) stacks -> the sample count, and each function's inclusive count."""
    total, inclusive = 0, collections.Counter[str]()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():  # py-spy's own notes, not a stack
            continue
        total += int(count)
        for name in {re.sub(r":\d+\)", ")", frame) for frame in stack.split(";")}:
            inclusive[name] += int(count)
    return total, inclusive


def main() -> int:
    with (
        serving(DEFAULT_MODEL, workers=2) as server,
        canvas_file() as body,
        tempfile.TemporaryDirectory() as out,
    ):
        warm_up(server.url, body)
        workers = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True)
        # the workers (multiprocessing's spawn), not its resource tracker
        pids = [
            pid
            for pid in workers.stdout.split()
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        spies = [
            subprocess.Popen(
                ["py-spy", "record", "-p", pid, "-d", str(SECONDS), "-r", str(RATE), "-f", "raw",
                 "-o", f"{out}/{pid}.txt", "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for pid in pids
        ]  # fmt: skip
        time.sleep(1)
        load = wrk(f"{server.url}{PREDICT}", body, CONCURRENCY, SECONDS - 2)
        for spy in spies:
            spy.wait()
        total, inclusive = 0, collections.Counter[str]()
        for pid in pids:
            count, counts = shares(Path(out) / f"{pid}.txt")
            total, inclusive = total + count, inclusive + counts
    print(f"# Where a /predict worker's time goes\n\n`python {' '.join(sys.argv)}`, {time.strftime('%Y-%m-%d')}: "
          f"{len(pids)} workers sampled at {RATE} Hz for {SECONDS} s ({total:,} samples) while wrk sent "
          f"{load['requests']:,} requests at concurrency {CONCURRENCY} ({load['requests_per_s']} per s under the "
          "profiler).\n\n| function | share of the samples (on the stack) |\n|---|---|")  # fmt: skip
    for name in SHOWN:
        print(f"| `{name}` | {100 * inclusive[name] / max(total, 1):.1f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
