"""A soak: minutes of load at concurrency 32 on a real two-worker server, valid and invalid inputs
mixed, on loopback. What it proves: no 5xx and no dropped connection over tens of thousands of
requests, every input answered the same way each time, and no worker's memory creeping up (a leak per
request, per error or per connection would show as growth of its resident set)."""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path

import numpy as np
import pytest

from rthdr.bench.server import serving
from rthdr.bench.wrk import canvas_png
from tests.helpers.images import encode, render
from tests.helpers.load import JSON, Load, resident_kib, worker_pids

pytestmark = pytest.mark.slow  # minutes

# Two minutes: long enough for 65,000-100,000 requests per worker here (1,100-1,700/s), so a leak
# of 250 bytes a request would pass 10 % of a 160 MiB worker, and short enough for CI on two cores.
# Raise it locally for a longer soak.
SOAK_S = 120
WARM_UP_S = 15  # caches, allocator arenas and ONNX Runtime's buffers reach their size first
CONCURRENCY = 32
MAX_GROWTH = 0.10  # of each worker's resident memory after warm-up


def mixed_bodies(digits: dict[int, np.ndarray]) -> list[tuple[tuple[bytes, str], int]]:
    """Half valid, half invalid inputs, each with the status it must always get."""
    pixels = {"pixels": digits[7].astype(int).tolist()}
    return [
        ((canvas_png(), "image/png"), 200),  # what the page sends
        ((json.dumps(pixels).encode(), JSON), 200),
        ((encode(render(digits[3]), "JPEG", quality=80), "image/jpeg"), 200),
        ((b"\x89PNG\r\n\x1a\n truncated", "image/png"), 422),  # not an image
        ((b'{"pixels": [[1e308]]}', JSON), 422),  # out of range, and not 28x28
        ((b"<digits/>", "text/xml"), 415),  # a kind of body the API does not take
    ]


def test_a_soak_of_mixed_inputs_ends_with_no_5xx_and_no_memory_growth(
    model_path: Path, digit_samples: dict[int, np.ndarray]
) -> None:
    cases = mixed_bodies(digit_samples)
    with serving(model_path, workers=2) as server:
        workers = worker_pids(server, at_least=2)
        with Load(server.url, [body for body, _ in cases], CONCURRENCY) as load:
            time.sleep(WARM_UP_S)
            warm = {pid: resident_kib(pid) for pid in workers}
            soak_from = time.monotonic()
            time.sleep(SOAK_S)
            end = {pid: resident_kib(pid) for pid in workers}
        assert worker_pids(server) == workers, "a worker died during the soak"
    soaked = load.since(soak_from)
    statuses = collections.Counter(o.status for o in soaked)
    growth = {pid: end[pid] / warm[pid] - 1 for pid in workers}
    print(
        f"\nsoak: {len(soaked)} requests in {SOAK_S} s ({len(soaked) / SOAK_S:.0f}/s) at concurrency "
        f"{CONCURRENCY}; statuses {dict(statuses)}; RSS "
        + ", ".join(f"{warm[pid] // 1024} -> {end[pid] // 1024} MiB ({growth[pid]:+.1%})" for pid in workers)
    )
    assert statuses[None] == 0, "connections failed"
    assert not [status for status in statuses if status is not None and status >= 500]
    wrong = [o for o in soaked if o.status is not None and o.status != cases[o.body][1]]
    assert not wrong, f"{len(wrong)} answers differed from their input's status"
    assert len(soaked) >= 50 * SOAK_S, "the load was too light to prove anything"
    assert all(g < MAX_GROWTH for g in growth.values()), growth
