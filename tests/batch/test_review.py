"""rthdr batch --review: the rows a person should check reach the review queue with their file's
path (never bad files), as the service picks them; the command says how many it queued."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rthdr.batch.job import BatchOptions, run_batch
from rthdr.batch.reader import ReaderConfig
from rthdr.batch.review import BatchReview
from rthdr.batch.rows import read_rows
from rthdr.cli.main import main
from rthdr.review.store import ReviewStore
from tests.helpers.batch import copy_scans, write_bad_files
from tests.helpers.images import encode
from tests.helpers.paths import ROOT


@pytest.fixture
def store(tmp_path: Path) -> ReviewStore:
    store = ReviewStore(f"sqlite:///{tmp_path / 'reviews.sqlite3'}")
    store.migrate()
    return store


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    copy_scans(folder, "photo")
    write_bad_files(folder)
    scribble = (ROOT / "tests" / "fixtures" / "golden" / "inputs" / "stroke-hairline-4.png").read_bytes()
    (folder / "scribble.png").write_bytes(scribble)
    (folder / "smudge.png").write_bytes(encode(_smudge()))
    return folder


def _smudge():  # a blot that reads as no digit in particular: uncertain
    import cv2
    import numpy as np

    page = np.full((120, 120), 255, np.uint8)
    cv2.circle(page, (60, 60), 30, 0, -1)
    cv2.line(page, (20, 100), (100, 20), 0, 9)
    return page


@pytest.mark.parametrize("audit_rate", [0.0, 1.0])
def test_uncertain_rows_and_the_audit_share_are_queued_with_their_path(
    scans: Path, store: ReviewStore, tmp_path: Path, model_path: Path, audit_rate: float
) -> None:
    review = BatchReview(store, audit_rate, random.Random(0))
    out = tmp_path / f"rows-{audit_rate}.csv"
    paths = sorted(str(p) for p in scans.iterdir())
    run_batch(paths, BatchOptions(out, ReaderConfig(str(model_path)), workers=1), review, progress=False)
    rows = {row.path: row for row in read_rows(out)}
    expected = {
        str(Path(path).resolve())
        for path, row in rows.items()
        if row.error is None and (row.uncertain or audit_rate == 1.0)
    }
    items = store.pending(limit=100)
    assert {item.image_path for item in items} == expected and review.queued == len(expected)
    assert expected  # the smudge is read as uncertain, so even without audits something is queued
    for item in items:
        row = rows[next(p for p in rows if str(Path(p).resolve()) == item.image_path)]
        assert (item.source, item.reading, item.model_version) == ("batch", row.reading, row.model_version)
        assert item.reason == ("uncertain" if row.uncertain else "audit")
        assert store.image(item.id) == Path(row.path).read_bytes()


def test_the_command_queues_and_says_how_many(
    scans: Path, tmp_path: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    monkeypatch.setenv("RTHDR_DATABASE_URL", url)
    monkeypatch.setenv("RTHDR_REVIEW_AUDIT_RATE", "1.0")
    out = tmp_path / "rows.csv"
    args = [str(scans), "--out", str(out), "--workers", "1", "--no-progress", "--model", str(model_path)]
    assert main(["batch", *args, "--review"]) == 0
    readable = sum(row.error is None for row in read_rows(out))
    assert f"queued {readable:,} for review" in capsys.readouterr().out
    with ReviewStore(url) as store:
        assert store.counts()["pending"] == readable
