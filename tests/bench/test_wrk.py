"""The load: what wrk posts, and what a wrk run reports, against a stand-in server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from rthdr.bench.wrk import canvas_file, canvas_png, wrk


def test_canvas_png_is_a_280_pixel_drawing_as_a_browser_exports_it() -> None:
    image = cv2.imdecode(np.frombuffer(canvas_png(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None
    assert image.shape == (280, 280, 4) and (image[..., 3] == 255).all()  # opaque RGBA, as canvases give
    grey = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    assert grey.min() == 0 and grey.max() == 255


class Recorder(BaseHTTPRequestHandler):
    """Answers every POST with 200 and keeps the last body and content type it was sent."""

    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    received: tuple[str, bytes] = ("", b"")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received = (self.headers["Content-Type"], body)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_wrk_posts_the_canvas_and_reports_rates_and_percentiles(stand_in: str) -> None:
    with canvas_file() as body:
        stats = wrk(f"{stand_in}/api/v1/predict", body, concurrency=2, seconds=1)
    assert Recorder.received == ("image/png", canvas_png())
    assert stats["concurrency"] == 2 and stats["requests"] > 0 and stats["error_count"] == 0
    assert stats["requests_per_s"] == round(stats["requests"] / stats["seconds"], 1)
    assert 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] <= stats["max_ms"]


def test_wrk_says_how_to_install_it_where_it_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    with pytest.raises(RuntimeError, match="wrk is not installed"):
        wrk("http://127.0.0.1:9/", tmp_path / "body.png", 1, 1)
