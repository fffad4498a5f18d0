"""The review queue through the API: what /predict and /recognize queue, every review route, the
reviewer role, corrections from the page, metrics, retention, and review off. A real store on a
temporary SQLite file, the real app and the shipped model, through FastAPI's TestClient."""

from __future__ import annotations

import base64
import io
import json
import random
import re
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.exc import OperationalError

from rthdr.api.main import create_app
from rthdr.api.review_queue import ReviewQueue
from rthdr.api.settings import Settings
from rthdr.bench.server import serving
from rthdr.review.store import ReviewStore
from tests.helpers.images import encode, render, write_number

# MNIST test images the shipped model is unsure of (a 9 it reads as an 8 at 44 %, a 5 at 56 %).
UNSURE = (193, 211)
PREDICT, RECOGNIZE, REVIEWS = "/api/v1/predict", "/api/v1/recognize", "/api/v1/reviews"


def make_client(model_path: Path, database: Path, **settings: object) -> TestClient:
    options: dict[str, object] = {"review": True, "database_url": f"sqlite:///{database}"} | settings
    return TestClient(create_app(Settings(model=model_path, **options)), raise_server_exceptions=False)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "reviews.sqlite3"


@pytest.fixture
def strict(model_path: Path, database: Path) -> Iterator[TestClient]:
    """Review on, no audit: only uncertain answers are queued."""
    with make_client(model_path, database, review_audit_rate=0.0) as client:
        yield client


@pytest.fixture
def audited(model_path: Path, database: Path) -> Iterator[TestClient]:
    """Review on and every confident answer audited: each answer is queued."""
    with make_client(model_path, database, review_audit_rate=1.0) as client:
        yield client


def upload(client: TestClient, png: bytes, path: str = PREDICT, **headers: str):
    return client.post(path, files={"image": ("d.png", png, "image/png")}, headers=headers)


def queue(client: TestClient, digit_samples, *digits: int) -> list[int]:
    """Drawn digits sent to /predict with every answer audited; their review ids."""
    ids = [upload(client, encode(render(digit_samples[d]))).json()["review_id"] for d in digits]
    assert all(isinstance(i, int) for i in ids), ids
    return ids


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"], body


def metric(client: TestClient, name: str, labels: str = "") -> float:
    """A sample's value from /metrics (0 when it has none yet)."""
    pattern = rf"^{re.escape(name)}{re.escape(labels)} (\S+)$"
    match = re.search(pattern, client.get("/metrics").text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


# ---- what is queued -----------------------------------------------------------------------------


def test_uncertain_answers_are_queued_with_what_the_model_read(strict, mnist_test, model_path) -> None:
    images, _ = mnist_test
    for index in UNSURE:
        body = strict.post(PREDICT, json={"pixels": images[index].tolist()}).json()
        assert body["uncertain"] is True, "the test needs an answer the model is unsure of"
        item = strict.get(f"{REVIEWS}/{body['review_id']}").json()
        assert item["status"] == "pending" and item["source"] == "predict" and item["reason"] == "uncertain"
        assert item["reading"] == str(body["digit"]) and item["confidences"] == [body["confidence"]]
        assert item["model_version"] == body["model"]["version"]
        # Pixels sent as JSON are kept as a PNG of those pixels.
        image = strict.get(item["image_url"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(image.content))), images[index])
    # Acknowledged means committed: another connection to the database sees both items.
    with ReviewStore(strict.app.state.settings.database_url) as store:
        assert store.counts()["pending"] == len(UNSURE)


def test_confident_answers_are_queued_only_when_audited(strict, model_path, database, digit_samples) -> None:
    png = encode(render(digit_samples[4]))
    body = upload(strict, png).json()
    assert body["uncertain"] is False and body["review_id"] is None
    assert strict.get(f"{REVIEWS}/counts").json()["pending"] == 0

    with make_client(model_path, database, review_audit_rate=1.0) as audited:
        review_id = upload(audited, png).json()["review_id"]
        item = audited.get(f"{REVIEWS}/{review_id}").json()
        assert item["reason"] == "audit" and item["reading"] == "4"
        assert audited.get(item["image_url"]).content == png  # the bytes as sent


def test_answers_marked_skip_are_not_queued(strict, mnist_test) -> None:
    """The page's interim answers, asked while a stroke is still being drawn, say X-Review: skip."""
    pixels = {"pixels": mnist_test[0][UNSURE[0]].tolist()}
    body = strict.post(PREDICT, json=pixels, headers={"X-Review": "skip"}).json()
    assert body["uncertain"] is True and body["review_id"] is None
    assert strict.get(f"{REVIEWS}/counts").json()["pending"] == 0


def test_audit_share_follows_the_rate() -> None:
    queue = ReviewQueue(store=None, audit_rate=0.25, rng=random.Random(20))  # type: ignore[arg-type]
    reasons = [queue.reason(uncertain=False) for _ in range(4000)]
    assert set(reasons) == {"audit", None}
    assert 0.23 < reasons.count("audit") / 4000 < 0.27
    assert queue.reason(uncertain=True) == "uncertain"


def test_numbers_are_queued_digit_by_digit(audited, digit_samples) -> None:
    page, _ = write_number(digit_samples, "907")
    body = upload(audited, encode(page), RECOGNIZE).json()
    item = audited.get(f"{REVIEWS}/{body['review_id']}").json()
    assert item["source"] == "recognize" and item["reading"] == body["text"]
    assert item["confidences"] == [d["confidence"] for d in body["digits"]]


def test_a_failing_database_does_not_fail_recognition(strict, mnist_test, monkeypatch) -> None:
    def broken(_: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(strict.app.state.review_queue.store, "add", broken)
    before = metric(strict, "rthdr_review_queue_errors_total")
    response = strict.post(PREDICT, json={"pixels": mnist_test[0][UNSURE[0]].tolist()})
    assert response.status_code == 200 and response.json()["review_id"] is None  # nothing acknowledged
    assert metric(strict, "rthdr_review_queue_errors_total") == before + 1


def test_a_failing_database_answers_503_on_review_routes(strict, monkeypatch) -> None:
    def broken(*_: object) -> None:
        raise OperationalError("SELECT", {}, OSError("database is locked"))

    monkeypatch.setattr(strict.app.state.review_queue.store, "claim_next", broken)
    response = strict.post(f"{REVIEWS}/next")
    assert_error(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "5"


# ---- reviewing ----------------------------------------------------------------------------------


def test_listing_oldest_or_least_confident_first(audited, digit_samples, mnist_test) -> None:
    ids = queue(audited, digit_samples, 1, 2, 3)
    unsure = audited.post(PREDICT, json={"pixels": mnist_test[0][UNSURE[0]].tolist()}).json()["review_id"]
    oldest = audited.get(REVIEWS, params={"status": "pending"}).json()["items"]
    assert [i["id"] for i in oldest] == [*ids, unsure]
    least_sure = audited.get(REVIEWS, params={"order": "confidence", "limit": 2}).json()["items"]
    assert least_sure[0]["id"] == unsure and len(least_sure) == 2
    assert_error(audited.get(REVIEWS, params={"status": "done"}), 422, "invalid_request")
    assert_error(audited.get(REVIEWS, params={"limit": 0}), 422, "invalid_request")
    assert_error(audited.get(REVIEWS, params={"order": "newest"}), 422, "invalid_request")


def test_claims_and_answers(audited, digit_samples) -> None:
    first, second, third = queue(audited, digit_samples, 1, 2, 3)
    alice, bob = {"X-Reviewer": "alice"}, {"X-Reviewer": "bob"}

    claimed = audited.post(f"{REVIEWS}/{first}/claim", headers=alice).json()
    assert claimed["status"] == "claimed" and claimed["claimed_by"] == "alice"
    assert audited.post(f"{REVIEWS}/{first}/claim", headers=alice).status_code == 200  # hers already
    assert_error(audited.post(f"{REVIEWS}/{first}/claim", headers=bob), 409, "already_claimed")
    nxt = audited.post(f"{REVIEWS}/next", headers=bob).json()
    assert nxt["item"]["id"] == second and nxt["item"]["claimed_by"] == "bob"
    assert nxt["counts"] | {"oldest_pending_age_s": 0} == {
        "pending": 1, "claimed": 2, "done": 0, "corrected": 0, "oldest_pending_age_s": 0
    }  # fmt: skip
    assert audited.post(f"{REVIEWS}/next", headers=bob).json()["item"]["id"] == second  # still his

    assert_error(audited.post(f"{REVIEWS}/{first}", json={"answer": "7"}, headers=bob), 409, "not_claimed")
    assert_error(audited.post(f"{REVIEWS}/{third}", json={"answer": "3"}, headers=bob), 409, "not_claimed")
    done = audited.post(f"{REVIEWS}/{first}", json={"answer": "7"}, headers=alice).json()
    assert done["status"] == "done" and done["answer"] == "7" and done["answered_by"] == "alice"
    assert_error(audited.post(f"{REVIEWS}/{first}", json={"answer": "1"}, headers=alice), 409, "already_done")
    assert_error(audited.post(f"{REVIEWS}/{first}/claim", headers=bob), 409, "already_done")
    unreadable = {"answer": None, "reason": "unreadable"}
    skipped = audited.post(f"{REVIEWS}/{second}", json=unreadable, headers=bob).json()
    assert skipped["answer"] is None and skipped["answer_reason"] == "unreadable"

    counts = audited.get(f"{REVIEWS}/counts").json()
    assert counts["pending"] == 1 and counts["done"] == 2 and counts["corrected"] == 1
    assert counts["oldest_pending_age_s"] >= 0
    last = audited.post(f"{REVIEWS}/next").json()["item"]
    assert last["id"] == third and last["claimed_by"] == "anonymous"  # no name given
    audited.post(f"{REVIEWS}/{third}", json={"answer": "3"})
    assert audited.post(f"{REVIEWS}/next").json()["item"] is None  # nothing left


def test_bad_ids_and_bodies(audited, digit_samples) -> None:
    (item,) = queue(audited, digit_samples, 5)
    for response in (
        audited.get(f"{REVIEWS}/999"),
        audited.get(f"{REVIEWS}/999/image"),
        audited.post(f"{REVIEWS}/999/claim"),
        audited.post(f"{REVIEWS}/999", json={"answer": "5"}),
    ):
        assert_error(response, 404, "not_found")
    assert_error(audited.get(f"{REVIEWS}/abc"), 422, "invalid_request")
    audited.post(f"{REVIEWS}/{item}/claim")
    for body in ({"answer": "5a"}, {"answer": ""}, {"answer": None}, {}, {"answer": "5", "extra": 1}):
        assert_error(audited.post(f"{REVIEWS}/{item}", json=body), 422, "invalid_request")
    assert audited.get(f"{REVIEWS}/{item}").json()["status"] == "claimed"  # untouched


def test_reviewing_needs_the_reviewer_role_when_keys_are_set(model_path, database, digit_samples) -> None:
    keys = {"api_keys": ["user-key"], "reviewer_keys": ["alice:alice-key", "bare-key"]}
    png = encode(render(digit_samples[8]))
    with make_client(model_path, database, review_audit_rate=1.0, **keys) as keyed:
        assert keyed.get(f"{REVIEWS}/status").json() == {"enabled": True, "reviewer_key_required": True}
        assert_error(upload(keyed, png), 401, "unauthorized")
        review_id = upload(keyed, png, **{"X-API-Key": "user-key"}).json()["review_id"]
        assert upload(keyed, png, **{"X-API-Key": "alice-key"}).status_code == 200  # reviewers draw too
        assert_error(keyed.get(REVIEWS), 401, "unauthorized")
        assert_error(keyed.get(REVIEWS, headers={"X-API-Key": "user-key"}), 403, "forbidden")
        assert_error(keyed.get(REVIEWS, headers={"X-API-Key": "wrong"}), 401, "unauthorized")
        claim = f"{REVIEWS}/{review_id}/claim"
        as_alice = {"X-API-Key": "alice-key", "X-Reviewer": "mallory"}  # the key names her, not the header
        assert keyed.post(claim, headers=as_alice).json()["claimed_by"] == "alice"
        other = keyed.post(f"{REVIEWS}/next", headers={"X-API-Key": "bare-key"}).json()["item"]
        assert re.fullmatch(r"reviewer-[0-9a-f]{8}", other["claimed_by"])  # never the key itself

    # Reviewer keys alone: the API stays open, reviewing does not.
    with make_client(model_path, database, reviewer_keys=["alice:alice-key"]) as half:
        assert upload(half, png).status_code == 200
        assert_error(half.get(REVIEWS), 401, "unauthorized")
        assert half.get(REVIEWS, headers={"X-API-Key": "alice-key"}).status_code == 200


# ---- corrections from the page ------------------------------------------------------------------


def test_corrections_are_queued_for_a_reviewer(strict, digit_samples, classifier) -> None:
    png = encode(render(digit_samples[7]))
    before = metric(strict, "rthdr_review_corrections_total", '{via="page"}')
    sent = {"image": data_url(png), "reading": "1", "answer": "7", "confidences": [0.91]}
    response = strict.post("/api/v1/corrections", json=sent)
    assert response.status_code == 201, response.text
    item = strict.get(f"{REVIEWS}/{response.json()['review_id']}").json()
    assert (item["source"], item["reason"], item["reading"], item["suggested"]) == (
        "page",
        "correction",
        "1",
        "7",
    )
    assert item["model_version"] == classifier.version and item["status"] == "pending"
    assert strict.get(item["image_url"]).content == png
    assert metric(strict, "rthdr_review_corrections_total", '{via="page"}') == before + 1

    bad = [
        ({"image": data_url(b"not an image")}, "invalid_image"),
        ({"answer": "seven"}, "invalid_request"),
        ({"confidences": [0.9, 0.8]}, "invalid_request"),
        ({"image": None}, "invalid_request"),
    ]
    for change, code in bad:
        assert_error(strict.post("/api/v1/corrections", json=sent | change), 422, code)


# ---- operations ---------------------------------------------------------------------------------


def test_metrics_show_the_queue(audited, digit_samples) -> None:
    queue(audited, digit_samples, 1, 2)
    corrected = metric(audited, "rthdr_review_corrections_total", '{via="review"}')
    item = audited.post(f"{REVIEWS}/next").json()["item"]
    audited.post(f"{REVIEWS}/{item['id']}", json={"answer": "9"})
    assert metric(audited, "rthdr_reviews", '{status="pending"}') == 1
    assert metric(audited, "rthdr_reviews", '{status="done"}') == 1
    assert metric(audited, "rthdr_review_queue_age_seconds") > 0
    assert metric(audited, "rthdr_review_corrections_total", '{via="review"}') == corrected + 1


def test_metrics_add_up_across_workers(model_path, database, digit_samples) -> None:
    """With two worker processes (multiprocess metrics), the counters add up and the queue's gauges
    come from the shared database, whichever worker answers the scrape."""
    env = {
        "RTHDR_REVIEW": "on",
        "RTHDR_DATABASE_URL": f"sqlite:///{database}",
        "RTHDR_REVIEW_AUDIT_RATE": "1",
    }
    png = encode(render(digit_samples[6]))
    with serving(model_path, workers=2, env=env) as server:
        for _ in range(4):
            request = urllib.request.Request(f"{server.url}{PREDICT}", png, {"Content-Type": "image/png"})
            with urllib.request.urlopen(request) as response:
                assert isinstance(json.load(response)["review_id"], int)
        for _ in range(3):  # a scrape may reach either worker
            with urllib.request.urlopen(f"{server.url}/metrics") as response:
                text = response.read().decode()
            assert 'rthdr_reviews_queued_total{reason="audit"} 4.0' in text.splitlines()
            assert 'rthdr_reviews{status="pending"} 4.0' in text.splitlines()


def test_old_items_are_purged_at_start_up(model_path, database, digit_samples) -> None:
    with make_client(model_path, database, review_audit_rate=1.0) as client:
        old, new = queue(client, digit_samples, 1, 2)
    with sqlite3.connect(database) as connection:  # as if `old` had been queued 100 days ago
        connection.execute("UPDATE review_items SET created_at = '2000-01-01 00:00:00' WHERE id = ?", (old,))
    with make_client(model_path, database, review_retention_days=0) as keeping:
        assert keeping.get(f"{REVIEWS}/{old}").status_code == 200  # 0 = kept forever
    with make_client(model_path, database, review_retention_days=90) as client:
        assert_error(client.get(f"{REVIEWS}/{old}"), 404, "not_found")
        assert client.get(f"{REVIEWS}/{new}").status_code == 200


def test_review_off(client, digit_samples, model_path, database) -> None:
    """Off by default: nothing queued, no database opened, every review route a clear 404."""
    assert client.app.state.review_store is None
    assert upload(client, encode(render(digit_samples[3]))).json()["review_id"] is None
    assert client.get(f"{REVIEWS}/status").json() == {"enabled": False, "reviewer_key_required": False}
    for response in (
        client.get(REVIEWS),
        client.get(f"{REVIEWS}/1"),
        client.post(f"{REVIEWS}/next"),
        client.post("/api/v1/corrections", json={}),
    ):
        assert_error(response, 404, "review_off")
        assert "RTHDR_REVIEW=on" in response.json()["error"]["message"]
    assert client.get("/review").status_code == 200  # the view itself says review is off

    # A database named but review off: the database is made ready, nothing is queued or reviewed.
    with make_client(model_path, database, review=False) as named:
        assert named.app.state.review_store is not None and database.exists()
        assert upload(named, encode(render(digit_samples[3]))).json()["review_id"] is None
        assert_error(named.get(REVIEWS), 404, "review_off")
