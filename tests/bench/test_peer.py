"""The plain peer rthdr bench measures the service against: a real gunicorn serving Flask and
PyTorch, answering the same POST the service answers."""

from __future__ import annotations

import json
import urllib.request

from rthdr.bench.peer import serving_peer
from rthdr.bench.wrk import canvas_png


def test_the_peer_answers_the_benchmarks_canvas_as_a_digit() -> None:
    with serving_peer() as url:
        request = urllib.request.Request(
            f"{url}/api/v1/predict", data=canvas_png(), headers={"Content-Type": "image/png"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    assert 0 <= answer["digit"] <= 9 and len(answer["probabilities"]) == 10
    assert abs(sum(answer["probabilities"]) - 1) < 1e-5
    assert answer["confidence"] == max(answer["probabilities"])
