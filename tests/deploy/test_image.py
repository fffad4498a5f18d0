"""The shipped image, built and run for real with podman (`make image`, then `make image-test`).

One container of $RTHDR_IMAGE (default localhost/rthdr:latest), started as docs/deployment.md says
for podman (read-only root, a tmpfs at /tmp, all capabilities dropped), is checked from outside:
its process is not root, it answers /readyz, a prediction and the page, its HEALTHCHECK passes, it has
no torch, SIGTERM stops it gracefully, and its size is reported. `make test` runs this where podman
is installed; elsewhere the marker keeps it out and `make image-test` runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from rthdr.bench.server import free_port
from tests.helpers.deploy import UID, drawn_digit_png, get, missing

pytestmark = [pytest.mark.image, pytest.mark.slow]  # about 30 s, once the image is built

IMAGE = os.environ.get("RTHDR_IMAGE", "localhost/rthdr:latest")
# runc, not crun, and the two ulimits: what works on these machines (the Makefile's PODMAN).
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
MAX_IMAGE_MB = 700  # 597 MB on 2026-12-01; torch alone would add more than that


def podman(*arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PODMAN, *arguments], capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class Container:
    name: str
    url: str

    def logs(self) -> str:
        result = podman("logs", self.name)
        return result.stdout + result.stderr


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("podman") is None:
        missing("podman is not installed: `make image-test` installs it, builds the image and runs this")
    if podman("image", "exists", IMAGE).returncode != 0:
        missing(f"{IMAGE} is not built: `make image` builds it")
    return IMAGE


@pytest.fixture(scope="module")
def container(image: str) -> Iterator[Container]:
    """The image started as deployed, on a free port of the host's network, two workers."""
    port = free_port()
    name = f"rthdr-image-test-{os.getpid()}"
    started = podman(
        "run", "--detach", "--name", name, *ULIMITS, "--network", "host",
        "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges", "--env", f"RTHDR_PORT={port}", "--env", "RTHDR_WORKERS=2",
        image,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    served = Container(name, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if get(f"{served.url}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            running = podman("inspect", "--format", "{{.State.Running}}", name).stdout.strip()
            assert running == "true", f"the container exited:\n{served.logs()}"
            assert time.monotonic() < deadline, f"not ready within 90 s:\n{served.logs()}"
            time.sleep(0.5)
        yield served
    finally:
        podman("rm", "--force", "--time", "5", name)


def test_the_process_is_not_root(container: Container) -> None:
    assert podman("inspect", "--format", "{{.Config.User}}", container.name).stdout.strip() == f"{UID}:{UID}"
    status = podman("exec", container.name, "cat", "/proc/1/status").stdout
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert uids == [str(UID)] * 4, f"PID 1 runs as {uids} (real, effective, saved, filesystem)"


def test_it_answers_a_prediction_and_serves_the_page(container: Container) -> None:
    status, body = get(f"{container.url}/api/v1/predict", drawn_digit_png(), {"Content-Type": "image/png"})
    assert status == 200, body
    answer = json.loads(body)
    assert answer["digit"] == 7 and not answer["uncertain"], answer
    status, body = get(f"{container.url}/api/v1/predict", b"not an image", {"Content-Type": "image/png"})
    assert status in range(400, 500) and "error" in json.loads(body), body
    status, exposition = get(f"{container.url}/metrics")
    assert status == 200 and b"rthdr_http_requests_total" in exposition, "the workers' metrics add up"
    status, page = get(f"{container.url}/")
    assert status == 200 and b"<canvas" in page, "the page is served"
    # The page's on-device mode: the ONNX Runtime Web files the web stage copied in.
    status, body = get(f"{container.url}/api/v1/on-device")
    assert status == 200 and json.loads(body)["available"] is True, body


def test_its_healthcheck_passes_and_it_has_no_torch(container: Container) -> None:
    health = podman("healthcheck", "run", container.name)
    assert health.returncode == 0, health.stdout + health.stderr
    torch = podman("exec", container.name, "python", "-c", "import torch")
    assert torch.returncode != 0 and "No module named 'torch'" in torch.stderr


def test_its_size_is_reported(image: str) -> None:
    size_mb = int(podman("image", "inspect", "--format", "{{.Size}}", image).stdout) / 1e6
    print(f"\n{image}: {size_mb:.0f} MB")
    assert size_mb < MAX_IMAGE_MB, f"{image} is {size_mb:.0f} MB: did torch or a compiler get in?"


def test_sigterm_stops_it_gracefully(container: Container) -> None:
    """Last in this module: it stops the container."""
    stopping = time.monotonic()
    assert podman("kill", "--signal", "TERM", container.name).returncode == 0
    exit_code = podman("wait", container.name, timeout=40).stdout.strip()
    seconds = time.monotonic() - stopping
    logs = container.logs()
    # Uvicorn re-raises the SIGTERM it handled once shut down: 143 (128 + 15) is its clean exit, as 0 is.
    assert exit_code in ("0", "143"), f"exit {exit_code}:\n{logs}"
    assert seconds < 30, f"{seconds:.0f} s to stop:\n{logs}"
    assert logs.count("Application shutdown complete") == 2, logs  # both workers finished
    assert "Traceback" not in logs, logs
    print(f"\nSIGTERM to exit: {seconds:.1f} s")
