"""The image's install and entrypoint, for real, without Docker: the build context docker-py would
send, installed with `pip install .` into a fresh virtual environment as the Dockerfile's builder does
(the serving dependencies only: no torch), then the Dockerfile's ENTRYPOINT started with no model path
set, so that it serves the packaged models, and its HEALTHCHECK run against it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rthdr.bench.server import free_port
from rthdr.core.inference import DEFAULT_MODEL
from tests.helpers.deploy import (
    build_context,
    drawn_digit_png,
    entrypoint,
    extract_build_context,
    get,
    healthcheck,
)

pytestmark = pytest.mark.slow  # about 20 s: a virtual environment and a pip install

LIST_MODELS = (
    "from importlib.resources import files; "
    "print(*sorted(p.name for p in files('rthdr').joinpath('models').iterdir()), sep='\\n')"
)


def run(
    *command: str | Path, timeout: float = 120, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )


def test_entrypoint_serves_the_packaged_models_from_a_plain_venv_without_torch(tmp_path: Path) -> None:
    context, venv = tmp_path / "context", tmp_path / "venv"
    extract_build_context(context)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # As the image's builder does: the package with its base dependencies, no extras.
    pip = (python, "-m", "pip", "--disable-pip-version-check")
    install = run(*pip, "install", "--quiet", "--no-input", context, timeout=600)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    check = run(*pip, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    torch = run(python, "-c", "import torch", timeout=60)
    assert torch.returncode != 0 and "No module named 'torch'" in torch.stderr, "serving must not need torch"
    # The context carries no model the wheel leaves out (weights, reports, other networks' files).
    installed = run(python, "-c", LIST_MODELS, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    sent = sorted(Path(p).name for p in build_context() if p.startswith("src/rthdr/models/"))
    assert installed.stdout.split() == sent, "the build context sends model files the wheel does not ship"

    metrics = tmp_path / "metrics"
    metrics.mkdir()
    port = free_port()
    # The image's settings (Dockerfile ENV) where they apply here; no RTHDR_MODEL, as in the image.
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "RTHDR_HOST": "127.0.0.1",
        "RTHDR_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }
    program, *arguments = entrypoint()
    executable = shutil.which(program, path=str(venv / "bin"))
    assert executable, f"ENTRYPOINT {program}: not installed by the package"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [executable, *arguments, "--workers", "1"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (
                f"the server exited with {server.returncode}:\n{log_path.read_text()}"
            )
            try:
                if get(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"not ready within 60 s:\n{log_path.read_text()}"
            time.sleep(0.2)
        assert get(f"{base}/healthz") == (200, b'{"status":"ok"}')
        probe_program, *probe_arguments = healthcheck()
        probe = run(venv / "bin" / probe_program, *probe_arguments, env=env, timeout=30)
        assert probe.returncode == 0, f"the Dockerfile's HEALTHCHECK fails:\n{probe.stderr}"
        status, body = get(f"{base}/api/v1/predict", drawn_digit_png(), {"Content-Type": "image/png"})
        assert status == 200, body
        answer = json.loads(body)
        assert answer["digit"] in range(10) and 0 <= answer["confidence"] <= 1
        # The packaged default model, byte for byte the checkout's.
        version = hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest()[:12]
        assert answer["model"] == {"name": DEFAULT_MODEL.stem, "version": version}
        status, page = get(f"{base}/")
        assert status == 200 and b"<html" in page.lower(), "the page (static files) must be in the wheel"
        status, exposition = get(f"{base}/metrics")
        assert status == 200 and b"rthdr_http_requests_total" in exposition
        assert any(metrics.iterdir()), "multi-process metrics are written to PROMETHEUS_MULTIPROC_DIR"

        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=15)
        # Uvicorn re-raises the SIGTERM it handled once shut down: -15 is its clean exit, as 0 is.
        assert returncode in (0, -signal.SIGTERM), f"exit {returncode}:\n{log_path.read_text()}"
        assert time.monotonic() - stopping < 12
        log_text = log_path.read_text()
        assert "Application shutdown complete" in log_text, log_text
        assert "Traceback" not in log_text and "ERROR" not in log_text, log_text
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
