"""The plain peer rthdr bench measures the service against: a real gunicorn serving Flask and
PyTorch, answering the same POST the service answers."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

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


def processes_serving(port: str) -> list[str]:
    """The processes whose command line binds this port: the peer's master and its workers."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile, or not a process
            continue
        if f"127.0.0.1:{port} " in command:
            found.append(entry.name)
    return found


def test_a_stopped_peer_leaves_no_process_behind() -> None:
    with serving_peer() as url:
        port = url.rsplit(":", 1)[1]
        request = urllib.request.Request(
            f"{url}/api/v1/predict", data=canvas_png(), headers={"Content-Type": "image/png"}
        )
        for _ in range(4):  # both workers have run the network, most likely
            urllib.request.urlopen(request, timeout=30).close()
        assert len(processes_serving(port)) == 3, "the master and its two workers"
    assert processes_serving(port) == []
