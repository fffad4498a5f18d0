"""`rthdr serve` as a real process, for the benchmark's load and for the tests that need a real server:
a free port, the process, and a wait until every worker is ready, so no timing starts early."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A port nothing listens on now (the system picks it), for a server started next."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Any  # the process's stdout and stderr, a temporary file

    def output(self) -> str:
        """What the server has written so far. Read with pread, at an offset: the server writes to
        the same open file, and seeking it would move the server's writes back to the start, over
        its first lines (a soak test once lost a worker's "Started server process" line so)."""
        descriptor = self.log.fileno()
        return os.pread(descriptor, os.fstat(descriptor).st_size, 0).decode("utf-8", errors="replace")


@contextmanager
def serving(
    model: Path, workers: int = 1, env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[Served]:
    """`rthdr serve` as a real process on a free port, once all its workers have started; stopped on
    exit."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "rthdr.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--model",
        str(model),
    ]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_ready(url, process, log, timeout, workers)
            yield Served(url, process, log)
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as an orchestrator stops a server; SIGKILL if it has not exited 15 s later."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Any, timeout: float, workers: int) -> None:
    """Until /readyz answers and every worker has started: the first worker up answers /readyz, and
    connections opened before the others listen would all stay with it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = Served(url, process, log).output()
        if process.poll() is not None:
            raise RuntimeError(f"rthdr serve exited with {process.returncode}:\n{output}")
        if output.count("Application startup complete") >= workers:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"rthdr serve was not ready within {timeout:g} s")
