"""A plain peer to measure the service against: the paper's style of server.

Flask under gunicorn with 2 sync workers, PyTorch eager on the shipped weights, a Pillow decode and
a resize to 28x28: no centring, no preview image, no limits, no metrics (issue 21, part 4). It reads
MNIST's polarity from a dark-on-white drawing by inverting it. `rthdr bench` serves it beside the
service and loads both in turns (rthdr.bench.versus.in_turns).

    gunicorn --preload --workers 2 --bind 127.0.0.1:8001 'rthdr.bench.peer:loaded_app()'
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask, jsonify, request
from PIL import Image

from rthdr.bench.server import free_port, stop
from rthdr.bench.versus import in_turns
from rthdr.bench.wrk import canvas_file
from rthdr.core.inference import SHIPPED_WEIGHTS

WEIGHTS_ENV = "RTHDR_PEER_WEIGHTS"
WORKERS = 2
# Workers forked from a master that loaded torch (--preload) hang in Python's exit, on a lock of a
# thread the fork left behind; gunicorn kills them once this grace is over, and then exits itself.
# A bench request lasts milliseconds, so no answer is cut short.
GRACE_S = 2
app = Flask(__name__)
_model: Any = None


def model() -> Any:
    """The shipped network in PyTorch, loaded once per gunicorn worker, one thread (as the service)."""
    global _model
    if _model is None:
        import torch

        from rthdr.training.model import load_checkpoint

        torch.set_num_threads(1)
        _model, _ = load_checkpoint(os.environ.get(WEIGHTS_ENV, str(SHIPPED_WEIGHTS)))
    return _model


def loaded_app() -> Flask:
    """The app with its network loaded: under `gunicorn --preload` this runs once, before the workers
    fork, so none of them answers its first requests late while it imports torch (on a busy machine
    longer than wrk's timeout: errors that are start-up, not serving)."""
    model()
    return app


@app.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@app.post("/api/v1/predict")
def predict() -> Any:
    import torch

    data = request.files["image"].read() if request.files else request.get_data()
    grey = Image.open(io.BytesIO(data)).convert("L").resize((28, 28))
    pixels = torch.from_numpy(255 - np.asarray(grey, np.float32)) / 255  # dark ink -> bright, as MNIST
    with torch.inference_mode():
        probabilities = torch.softmax(model()(pixels[None, None]), dim=1)[0]
    digit = int(probabilities.argmax())
    return jsonify(digit=digit, confidence=float(probabilities[digit]), probabilities=probabilities.tolist())


@contextmanager
def serving_peer(weights: Path = SHIPPED_WEIGHTS, timeout: float = 60) -> Iterator[str]:
    """The peer under gunicorn on a free port, once it answers; stopped on exit."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"]
    command += ["--preload", "--graceful-timeout", str(GRACE_S), "--log-level", "warning"]
    command += ["rthdr.bench.peer:loaded_app()"]
    # A session of its own: should its master have to be killed, its workers go with it.
    process = subprocess.Popen(command, env={**os.environ, WEIGHTS_ENV: str(weights)}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {process.returncode}: is the bench extra installed?"
                )
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the peer did not answer within {timeout:g} s") from None
                time.sleep(0.2)
        yield url
    finally:
        stop(process)
        with contextlib.suppress(ProcessLookupError):  # whatever of the group outlived its master
            os.killpg(process.pid, signal.SIGKILL)


def versus_peer(service_url: str, quick: bool) -> list[dict[str, Any]]:
    """The service (already serving at service_url) and the peer, loaded in turns."""
    rounds, seconds = (1, 1.0) if quick else (3, 6.0)
    with serving_peer() as peer, canvas_file() as body:
        return in_turns({"rthdr": service_url, "Flask + gunicorn peer": peer}, body, rounds, seconds)
