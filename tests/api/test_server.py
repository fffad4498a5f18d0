"""The real server process (`rthdr serve`) over real HTTP: it starts, answers, and stops cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import uvicorn

from rthdr.api.server import Server, listening_socket
from rthdr.bench.server import free_port, serving
from tests.helpers.images import encode, render
from tests.helpers.load import post, worker_pids

pytestmark = pytest.mark.slow  # real server processes: seconds each


def test_live_server_answers_over_http(live_server: str, digit_samples) -> None:
    status, body = post(f"{live_server}/api/v1/predict", encode(render(digit_samples[7])), "image/png")
    assert status == 200 and body["digit"] == 7
    status, body = post(f"{live_server}/api/v1/predict", b"not an image", "image/png")
    assert status == 422 and body["error"]["code"] == "invalid_image"
    status, body = post(
        f"{live_server}/api/v1/predict", json.dumps({"pixels": [[0] * 28] * 28}).encode(), "application/json"
    )
    assert status == 422 and body["error"]["code"] == "no_digit_found"
    with urllib.request.urlopen(f"{live_server}/") as page:
        assert b"<canvas" in page.read()
    with urllib.request.urlopen(f"{live_server}/metrics") as metrics:
        assert b"rthdr_http_requests_total" in metrics.read()


def test_two_workers_share_metrics_and_serve(model_path: Path, digit_samples) -> None:
    with serving(model_path, workers=2) as server:
        url = server.url
        for _ in range(6):
            status, _ = post(f"{url}/api/v1/predict", encode(render(digit_samples[4])), "image/png")
            assert status == 200
        with urllib.request.urlopen(f"{url}/metrics") as response:
            text = response.read().decode()
        line = next(row for row in text.splitlines() if row.startswith('rthdr_predictions_total{digit="4"}'))
        assert float(line.split()[-1]) == 6.0, "metrics must add up across worker processes"


def listening_sockets(pid: int, port: int) -> set[str]:
    """Inodes of the sockets listening on `port` that process `pid` holds (Linux /proc)."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                listening.add(f"socket:[{fields[9]}]")
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            held.add(os.readlink(fd))
    return listening & held


def test_each_worker_listens_on_its_own_socket_and_a_dead_one_is_replaced(
    model_path: Path, digit_samples
) -> None:
    """Workers share the port through sockets of their own (SO_REUSEPORT), so the kernel spreads
    connections over them; the parent holds none, so a dead worker's connections cannot queue
    unaccepted; it is replaced, and the service keeps answering throughout."""
    with serving(model_path, workers=2) as server:
        port = int(server.url.rsplit(":", 1)[1])
        first, second = worker_pids(server)
        deadline = time.monotonic() + 60  # a worker listens once its app has started
        while not all(sockets := [listening_sockets(pid, port) for pid in (first, second)]):
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)
        assert all(len(held) == 1 for held in sockets) and sockets[0] != sockets[1]
        assert not listening_sockets(server.process.pid, port)

        os.kill(first, signal.SIGKILL)
        worker_pids(server, at_least=3)  # its replacement
        for _ in range(20):  # new connections each: any left on a dead socket would time out
            status, body = post(f"{server.url}/api/v1/predict", encode(render(digit_samples[4])), "image/png")
            assert status == 200 and body["digit"] == 4
        assert f"worker {first} exited" in server.output()

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        assert "all workers stopped" in server.output()


def test_connections_to_a_worker_socket_have_nagle_off() -> None:
    """A worker's socket is made by rthdr, not by asyncio, which turns Nagle's algorithm off only on
    the connections of sockets that say they are TCP. With it on, a response's second write (Uvicorn
    writes the headers, then the body) waited for the client's delayed ACK: 40 ms per request."""

    async def accept_one() -> int:
        sock = listening_socket("127.0.0.1", 0, share_port=True)
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connection(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.set_result(
                writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            )
            writer.close()

        async with await asyncio.start_server(on_connection, sock=sock):
            _, client = await asyncio.open_connection(*sock.getsockname())
            nodelay = await asyncio.wait_for(accepted, 10)
            client.close()
        return nodelay

    assert asyncio.run(accept_one()) != 0


def test_the_server_freezes_what_its_start_up_left() -> None:
    """A full collection walked every module and model the start-up left: ~40 ms under load, each
    request in flight waiting. Frozen once the app has started, the collector passes them by."""

    async def app(scope: dict, receive: object, send: object) -> None:  # never called: no requests
        raise AssertionError(scope)

    async def frozen_while_serving() -> int:
        server = Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
        serving = asyncio.create_task(server.serve(sockets=[listening_socket("127.0.0.1", 0, True)]))
        while not server.started:
            assert not serving.done(), serving.exception()
            await asyncio.sleep(0.01)
        frozen = gc.get_freeze_count()
        server.should_exit = True
        await serving
        return frozen

    gc.unfreeze()  # the count is this test's alone
    try:
        assert asyncio.run(frozen_while_serving()) > 1000
    finally:
        gc.unfreeze()  # back under the collector: pytest's objects are not a server's


def test_workers_stop_when_their_supervisor_is_killed(model_path: Path) -> None:
    with serving(model_path, workers=2) as server:
        workers = worker_pids(server)
        server.process.kill()  # SIGKILL: no chance to stop them itself
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            assert time.monotonic() < deadline, "orphaned workers keep serving"
            time.sleep(0.2)


def test_sighup_stops_the_workers_gracefully(model_path: Path) -> None:
    with serving(model_path, workers=2) as server:
        server.process.send_signal(signal.SIGHUP)
        assert server.process.wait(timeout=30) == 0
        assert server.output().count("Application shutdown complete") == 2


def test_workers_that_cannot_start_stop_the_server(tmp_path: Path) -> None:
    broken = tmp_path / "onedigit.onnx"
    broken.write_bytes(b"not a model")  # the app loads it at start-up and fails
    command = [sys.executable, "-m", "rthdr.cli", "serve", "--port", str(free_port()), "--workers", "2"]
    result = subprocess.run(
        command,
        env={**os.environ, "RTHDR_ONE_DIGIT": str(broken)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, "exit status 3: no endless restarts"
    assert "failed to start" in result.stderr and "starting another" not in result.stderr


def test_a_taken_port_is_reported_not_shared(model_path: Path) -> None:
    """Port sharing is only between one server's workers: a second server on the port stops."""
    with serving(model_path, workers=2) as server:
        port = server.url.rsplit(":", 1)[1]
        command = [sys.executable, "-m", "rthdr.cli", "serve", "--port", port, "--workers", "2"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert "Address already in use" in result.stderr


def test_sigterm_stops_the_server_gracefully(model_path: Path) -> None:
    with serving(model_path) as server:
        server.process.send_signal(signal.SIGTERM)
        # Uvicorn finishes in-flight requests, then re-raises the signal: exit status -SIGTERM.
        assert server.process.wait(timeout=15) in (0, -signal.SIGTERM)
        output = server.output()
    assert "Waiting for application shutdown" in output and "Finished server process" in output


def test_missing_model_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rthdr.cli",
            "serve",
            "--port",
            str(free_port()),
            "--workers",
            "1",
            "--model",
            str(tmp_path / "nope.onnx"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "nope.onnx" in result.stderr and "RTHDR_MODEL" in result.stderr
