"""Timing that a shared machine's changing speed skews least: warm-up first, percentiles, and
alternating rounds when two things are compared."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np


def percentiles(times_ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(float(np.percentile(times_ms, 50)), 4),
        "p99": round(float(np.percentile(times_ms, 99)), 4),
    }


def time_calls(call: Callable[[], object], runs: int, warmup: int = 100) -> list[float]:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def throughput(call: Callable[[], object], images: int, seconds: float) -> float:
    call()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        done += images
    return round(done / (time.perf_counter() - start), 1)


def interleaved(calls: Sequence[Callable[[], object]], runs: int, rounds: int = 10) -> list[list[float]]:
    """Each call's single-run times in ms, timed in alternating rounds, so that a slow spell of a
    shared machine falls on every call alike instead of on whichever was being timed."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, timings in zip(calls, times, strict=True):
            timings += time_calls(call, runs // rounds, warmup=20)  # warm again after the others ran
    return times
