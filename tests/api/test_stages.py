"""Cohort scheduling (rthdr.api.batcher.next_stage): /predict requests in flight together take its
stages in turn (every request's decoding before any request's preprocessing, every preprocessing
before any model call) and each still gets its own answer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

import rthdr.core.pipeline
from rthdr.api.main import create_app
from rthdr.api.settings import Settings
from rthdr.core.inference import Classifier
from tests.helpers.images import encode, render


async def post(app: object, body: bytes) -> tuple[int, dict]:
    """One POST /api/v1/predict straight through the app's ASGI interface: its status and JSON."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/predict", "raw_path": b"/api/v1/predict", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"rthdr"), (b"content-type", b"image/png"), (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[operator]
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


async def post_together(app: object, bodies: list[bytes]) -> list[tuple[int, dict]]:
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        return await asyncio.gather(*(post(app, body) for body in bodies))


def test_requests_in_flight_take_each_stage_in_turn(
    model_path: Path, digit_samples: dict[int, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    stages: list[str] = []

    def noted(stage: str, work):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            stages.append(stage)
            return work(*args, **kwargs)

        return run

    monkeypatch.setattr(
        rthdr.core.pipeline, "decode_image", noted("decode", rthdr.core.pipeline.decode_image)
    )
    monkeypatch.setattr(
        rthdr.core.pipeline, "to_model_input", noted("preprocess", rthdr.core.pipeline.to_model_input)
    )
    monkeypatch.setattr(Classifier, "run", noted("model", Classifier.run))
    digits = [3, 7, 1, 8, 0, 5]
    bodies = [encode(render(digit_samples[d])) for d in digits]

    responses = asyncio.run(post_together(create_app(Settings(model=model_path)), bodies))

    assert [status for status, _ in responses] == [200] * len(digits)
    assert [answer["digit"] for _, answer in responses] == digits
    count = len(digits)
    assert stages[: 2 * count] == ["decode"] * count + ["preprocess"] * count, stages
    # then the digit model for every request, then the character model that checks each answer
    assert stages[2 * count :] == ["model"] * (2 * count), stages
