"""Nothing acknowledged is lost: a real server with review on, killed with SIGKILL (supervisor and
workers alike) while it queues answers, keeps every item whose review_id it sent."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from rthdr.bench.server import serving
from rthdr.review.store import ReviewStore
from tests.helpers.paths import ROOT

pytestmark = pytest.mark.slow
PHOTO = ROOT / "tests" / "fixtures" / "golden" / "inputs" / "photo-5.jpg"


def post_until_killed(url: str, acknowledged: list[int], stop: threading.Event) -> None:
    """Predictions, one after another, each queued (audit rate 1); the ids the server sent back."""
    body = PHOTO.read_bytes()
    while not stop.is_set():
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "image/jpeg"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                acknowledged.append(json.loads(response.read())["review_id"])
        except OSError:  # the server is gone: no answer, so nothing was acknowledged
            return


def test_sigkill_mid_write_loses_no_acknowledged_item(model_path: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reviews.sqlite3'}"
    env = {"RTHDR_REVIEW": "on", "RTHDR_REVIEW_AUDIT_RATE": "1", "RTHDR_DATABASE_URL": url}
    acknowledged: list[int] = []
    with serving(model_path, workers=2, env=env) as server:
        stop = threading.Event()
        clients = [
            threading.Thread(
                target=post_until_killed, args=(f"{server.url}/api/v1/predict", acknowledged, stop)
            )
            for _ in range(4)
        ]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", server.output())]
        for pid in [server.process.pid, *workers]:  # no chance to finish anything
            os.kill(pid, signal.SIGKILL)
        stop.set()
        for client in clients:
            client.join(timeout=10)
    assert len(acknowledged) >= 40, "the server answered too few requests before the kill"
    with ReviewStore(url) as store:
        missing = [review_id for review_id in acknowledged if store.get(review_id) is None]
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged items lost"
