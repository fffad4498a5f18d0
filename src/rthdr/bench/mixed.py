"""A mixed load: /predict under wrk while one client posts 12-megapixel photos of numbers to
/recognize, against /predict alone; with /recognize's heavy work in its own process (the default,
rthdr.api.offload) and on the worker's event loop (RTHDR_RECOGNIZE_PROCESSES=0), in the same run."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from rthdr.bench.server import serving
from rthdr.bench.wrk import PREDICT, canvas_file, warm_up, wrk
from rthdr.evaluation.timing import percentiles

RECOGNIZE = "/api/v1/recognize"
PHOTO_SIZE = (3000, 4000)  # 12 megapixels, a phone camera's
SETTINGS = {"in its own process (the default)": "1", "on the event loop": "0"}


def large_photo(seed: int = 0) -> bytes:
    """A 12-megapixel JPEG of a five-digit number on grey paper with sensor noise, as a phone takes."""
    rng = np.random.default_rng(seed)
    page = np.full(PHOTO_SIZE, 200, np.float32)
    for i in range(5):
        x = 700 + i * 550
        for _ in range(3):  # a few strokes per digit: enough ink for the reader to find and cut
            start = (x + int(rng.integers(0, 400)), 1200 + int(rng.integers(0, 500)))
            end = (x + int(rng.integers(0, 400)), 1200 + int(rng.integers(0, 500)))
            cv2.line(page, start, end, 40, 45, cv2.LINE_AA)
    page += rng.normal(0, 6, page.shape)
    ok, jpeg = cv2.imencode(".jpg", np.clip(page, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return jpeg.tobytes()


def post_photo(url: str, photo: bytes) -> float:
    """One /recognize of the photo; its seconds."""
    request = urllib.request.Request(f"{url}{RECOGNIZE}", data=photo, headers={"Content-Type": "image/jpeg"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - started


def keep_posting(
    url: str, photo: bytes, stop: threading.Event, times_ms: list[float], errors: list[str]
) -> None:
    """The heavy client: one photo after another until `stop`; a failed one is noted, not fatal."""
    while not stop.is_set():
        try:
            times_ms.append(1000 * post_photo(url, photo))
        except OSError as exc:  # urllib's HTTPError (a 503 past the time limit) included
            errors.append(str(exc))


def measure(model: Path, workers: int, quick: bool) -> dict[str, Any]:
    """For each setting: /predict at concurrency 8 alone, then with a client posting photos in a
    loop; the ratio of the p99s is what the heavy work costs the light."""
    seconds, photo = (2.0 if quick else 10.0), large_photo()
    results: dict[str, Any] = {"photo_bytes": len(photo), "photo_pixels": PHOTO_SIZE[0] * PHOTO_SIZE[1]}
    with canvas_file() as body:
        for label, processes in SETTINGS.items():
            with serving(model, workers, {"RTHDR_RECOGNIZE_PROCESSES": processes}) as server:
                warm_up(server.url, body)
                post_photo(server.url, photo)  # starts the recognizer processes
                photo_alone = [1000 * post_photo(server.url, photo) for _ in range(3)]
                alone = wrk(f"{server.url}{PREDICT}", body, 8, seconds)
                stop, photo_ms, photo_errors = threading.Event(), list[float](), list[str]()
                client = threading.Thread(
                    target=keep_posting, args=(server.url, photo, stop, photo_ms, photo_errors)
                )
                client.start()
                try:
                    loaded = wrk(f"{server.url}{PREDICT}", body, 8, seconds)
                finally:
                    stop.set()
                    client.join()
            results[label] = {
                "predict_alone": alone,
                "predict_mixed": loaded,
                "p99_ratio": round(loaded["p99_ms"] / alone["p99_ms"], 2),
                "photos_read": len(photo_ms),
                "photo_errors": len(photo_errors),
                "photo_alone_ms": percentiles(photo_alone),
                "photo_ms": percentiles(photo_ms) if photo_ms else None,
            }
    return results
