"""/recognize's decoding and cutting in a recognizer process (rthdr.api.offload): the same answers
as on the event loop, errors that cross the process as the API's JSON errors, a killed process
replaced, and /predict answered while a large photo is still being read."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rthdr.api.main import create_app
from rthdr.api.offload import NICENESS
from rthdr.api.settings import Settings
from rthdr.bench.mixed import large_photo, post_photo
from rthdr.bench.server import serving
from rthdr.bench.wrk import canvas_png
from tests.helpers.images import encode, write_number

RECOGNIZE = "/api/v1/recognize"


def recognize(client: TestClient, png: bytes, **params: str):
    return client.post(RECOGNIZE, params=params, files={"image": ("n.png", png, "image/png")})


@pytest.fixture
def number(digit_samples) -> bytes:
    page, _ = write_number(digit_samples, "4096")
    return encode(page)


def test_the_recognizer_process_reads_what_the_event_loop_reads(model_path: Path, number: bytes) -> None:
    answers = []
    for processes in (1, 0):
        with TestClient(create_app(Settings(model=model_path, recognize_processes=processes))) as client:
            body = recognize(client, number).json()
            answers.append(
                (
                    body["text"],
                    [c["box"] for c in body["characters"]],
                    [c["confidence"] for c in body["characters"]],
                )
            )
            pool = client.app.state.lines._pool
            if processes:
                (pid,) = list(pool._processes)  # one process per worker, started by the first /recognize
                assert pid != os.getpid()
                assert os.getpriority(os.PRIO_PROCESS, pid) - os.getpriority(os.PRIO_PROCESS, 0) == NICENESS
            else:
                assert pool is None
    assert answers[0] == answers[1] and answers[0][0] == "4096"


def test_an_input_error_crosses_the_process_as_a_json_422(model_path: Path) -> None:
    blank = encode(np.full((60, 200), 255, np.uint8))
    with TestClient(create_app(Settings(model=model_path))) as client:
        response = recognize(client, blank)
        assert response.status_code == 422 and response.json()["error"]["code"] == "no_digit_found"


def test_a_killed_recognizer_process_fails_one_request_and_is_replaced(
    model_path: Path, number: bytes
) -> None:
    with TestClient(create_app(Settings(model=model_path)), raise_server_exceptions=False) as client:
        assert recognize(client, number).status_code == 200
        (pid,) = list(client.app.state.lines._pool._processes)
        os.kill(pid, signal.SIGKILL)
        failed = recognize(client, number)
        assert failed.status_code == 503 and failed.json()["error"]["message"]
        again = recognize(client, number)
        assert again.status_code == 200 and again.json()["text"] == "4096"
        assert list(client.app.state.lines._pool._processes) != [pid]


def test_predict_is_answered_while_a_large_photo_is_read(model_path: Path) -> None:
    """One worker: a 12-megapixel photo posted to /recognize keeps its recognizer process busy for
    a good part of a second; a /predict sent meanwhile comes back before it (on the event loop it
    would wait behind the photo's decoding and cutting)."""
    photo = large_photo()
    with serving(model_path, workers=1) as server:
        post_photo(server.url, photo)  # starts the recognizer process
        finished: dict[str, float] = {}

        def read_photo() -> None:
            post_photo(server.url, photo)
            finished["photo"] = time.perf_counter()

        reader = threading.Thread(target=read_photo)
        reader.start()
        time.sleep(0.02)
        request = urllib.request.Request(
            f"{server.url}/api/v1/predict", data=canvas_png(), headers={"Content-Type": "image/png"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        finished["predict"] = time.perf_counter()
        reader.join()
    assert finished["predict"] < finished["photo"]
