"""The server harness: a free port, and a served process that is waited for or explained."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from rthdr.bench.server import free_port, serving


def test_a_free_port_can_be_listened_on() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", free_port()))


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    """Its exit code and its own output, at once rather than after the readiness timeout."""
    missing = tmp_path / "missing.onnx"
    with (
        pytest.raises(RuntimeError, match=r"rthdr serve exited with \d+:(.|\n)*missing\.onnx"),
        serving(missing, timeout=30),
    ):
        pass
