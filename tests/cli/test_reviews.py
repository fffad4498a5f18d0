"""`rthdr reviews`: stats, export and purge as an operator types them, on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from rthdr.cli.main import main
from rthdr.review.store import ReviewStore
from tests.helpers.images import encode
from tests.helpers.reviews import backdate, digit


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A queue with one corrected 1 (read as 7), one old pending item and one new."""
    url = f"sqlite:///{tmp_path / 'reviews.sqlite3'}"
    page = np.full((100, 100), 255, np.uint8)
    cv2.line(page, (50, 15), (50, 85), 0, 8)
    with ReviewStore(url) as store:
        store.migrate()
        corrected = store.add(digit("7", image=encode(page)))
        store.claim(corrected, "ann")
        store.answer(corrected, "1", None, "ann")
        backdate(store, store.add(digit()), days=40)
        store.add(digit())
    return url


def test_stats(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reviews", "stats", "--database", database, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert {k: stats[k] for k in ("pending", "claimed", "done", "corrected")} == {
        "pending": 2,
        "claimed": 0,
        "done": 1,
        "corrected": 1,
    }
    assert stats["oldest_pending_age_s"] > 40 * 86400
    assert main(["reviews", "stats", "--database", database]) == 0
    assert "corrected 1" in " ".join(capsys.readouterr().out.split())


def test_export_writes_the_training_set(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reviews", "export", "--database", database, "--out", str(tmp_path / "set")]) == 0
    assert "1 corrected digits" in capsys.readouterr().out
    with np.load(tmp_path / "set" / "inputs.npz") as data:
        assert data["images"].shape == (1, 28, 28) and data["labels"].tolist() == [1]


def test_purge_takes_its_retention_from_the_flag_or_the_environment(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RTHDR_REVIEW_RETENTION_DAYS", raising=False)
    assert main(["reviews", "purge", "--database", database]) == 0  # the service's 90 days
    assert "deleted 0 review items made more than 90 days ago" in capsys.readouterr().out
    monkeypatch.setenv("RTHDR_REVIEW_RETENTION_DAYS", "0")
    assert main(["reviews", "purge", "--database", database]) == 0
    assert "kept forever" in capsys.readouterr().out
    monkeypatch.setenv("RTHDR_REVIEW_RETENTION_DAYS", "30")
    assert main(["reviews", "purge", "--database", database]) == 0
    assert "deleted 1 review items made more than 30 days ago" in capsys.readouterr().out
    assert main(["reviews", "purge", "--database", database, "--days", "-1"]) == 2
    assert "0 days or more" in capsys.readouterr().err


def test_an_unreachable_database_is_a_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-folder-is-made' / 'x.sqlite3'}"
    assert main(["reviews", "stats", "--database", url]) == 0  # SQLite makes its file
    assert main(["reviews", "stats", "--database", "postgresql://nobody@127.0.0.1:9/none"]) == 2
    assert "error" in capsys.readouterr().err
