"""Production behaviour: security headers, CORS, API keys, rate limits, request IDs, JSON logs."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rthdr.api.main import create_app
from rthdr.api.request_log import JsonFormatter
from rthdr.api.settings import Settings
from tests.helpers.images import encode, render


def make_client(model_path: Path, **settings: object) -> TestClient:
    return TestClient(create_app(Settings(model=model_path, **settings)), raise_server_exceptions=False)


@pytest.fixture
def digit_png(digit_samples) -> bytes:
    return encode(render(digit_samples[5]))


def predict(client: TestClient, png: bytes, **headers: str):
    return client.post("/api/v1/predict", files={"image": ("d.png", png, "image/png")}, headers=headers)


def test_security_headers_on_page_and_api(client, digit_png) -> None:
    for response in (client.get("/"), predict(client, digit_png), client.get("/nope")):
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_docs_are_served_from_local_assets(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_cors_is_closed_by_default_and_configurable(model_path: Path, client) -> None:
    preflight = {"Origin": "https://forms.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/api/v1/predict", headers=preflight).headers
    with make_client(model_path, cors_origins=["https://forms.example"]) as open_client:
        response = open_client.options("/api/v1/predict", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://forms.example"


def test_api_keys_when_configured(model_path: Path, digit_png) -> None:
    with make_client(model_path, api_keys=["s3cret", "other"]) as keyed:
        refused = predict(keyed, digit_png)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        assert predict(keyed, digit_png, **{"X-API-Key": "wrong"}).status_code == 401
        assert predict(keyed, digit_png, **{"X-API-Key": "other"}).status_code == 200
        assert keyed.get("/healthz").status_code == 200  # probes need no key


def test_api_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTHDR_API_KEYS", "a, b ,c")
    monkeypatch.setenv("RTHDR_CORS_ORIGINS", "https://x.example")
    settings = Settings()
    assert settings.api_keys == ["a", "b", "c"] and settings.cors_origins == ["https://x.example"]


def test_rate_limit_answers_429_with_retry_after(model_path: Path, digit_png) -> None:
    with make_client(model_path, rate_limit_per_minute=3) as limited:
        assert [predict(limited, digit_png).status_code for _ in range(3)] == [200, 200, 200]
        response = predict(limited, digit_png)
        assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert predict(limited, digit_png, **{"X-API-Key": "another-client"}).status_code == 200
        assert limited.get("/healthz").status_code == 200


def test_request_id_is_returned_and_logged(client, digit_png, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="rthdr.access"):
        given = predict(client, digit_png, **{"X-Request-ID": "abc-123"})
        fresh = predict(client, digit_png)
        hostile = predict(client, digit_png, **{"X-Request-ID": "bad id\n{json}"})
    assert given.headers["x-request-id"] == "abc-123"
    assert len(fresh.headers["x-request-id"]) == 32
    assert hostile.headers["x-request-id"] != "bad id\n{json}"
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "rthdr.access"]
    entry = next(line for line in lines if line["request_id"] == "abc-123")
    assert entry["status"] == 200 and entry["path"] == "/api/v1/predict" and entry["duration_ms"] > 0


def test_log_times_are_utc_whatever_the_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    record = logging.LogRecord("rthdr.access", logging.INFO, __file__, 1, "GET / 200", None, None)
    record.created, record.msecs = 86400.25, 250.0  # 1970-01-02 00:00:00.250 UTC
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # UTC+9: local time would read 09:00
    time.tzset()
    try:
        assert json.loads(JsonFormatter().format(record))["time"] == "1970-01-02T00:00:00.250Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_slow_api_requests_time_out_with_503(model_path: Path, digit_png) -> None:
    with make_client(model_path, request_timeout_s=0.000001) as hasty:
        response = predict(hasty, digit_png)
        assert response.status_code == 503 and response.json()["error"]["code"] == "timeout"
        assert "x-request-id" in response.headers
        assert response.headers["connection"] == "close"  # a client still sending is not kept
        assert hasty.get("/healthz").status_code == 200
