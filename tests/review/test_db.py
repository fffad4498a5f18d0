"""rthdr.review.db: which database a URL names, where the default file goes, and SQLite set up for
several processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from rthdr.review.db import database_url, make_engine
from rthdr.review.store import ReviewStore
from tests.helpers.python import run_without_torch


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        (
            "postgresql://rthdr@db.internal:5433/reviews",
            "postgresql+psycopg://rthdr@db.internal:5433/reviews",
        ),
        ("postgres://ann:secret@db/reviews", "postgresql+psycopg://ann:secret@db/reviews"),
        ("postgresql+psycopg://ann@db/reviews", "postgresql+psycopg://ann@db/reviews"),
        ("sqlite:////var/lib/rthdr/reviews.sqlite3", "sqlite:////var/lib/rthdr/reviews.sqlite3"),
    ],
)
def test_urls_as_operators_write_them(written: str, meant: str) -> None:
    assert database_url(written).render_as_string(hide_password=False) == meant


def test_the_url_comes_from_the_environment_else_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("RTHDR_DATABASE_URL", raising=False)
    assert database_url().database == str(tmp_path / "data" / "rthdr" / "reviews.sqlite3")
    assert (tmp_path / "data" / "rthdr").is_dir()
    monkeypatch.setenv("RTHDR_DATABASE_URL", "postgresql://rthdr@db/reviews")
    assert database_url().drivername == "postgresql+psycopg"
    assert database_url(f"sqlite:///{tmp_path}/given.sqlite3").database == f"{tmp_path}/given.sqlite3"


def test_the_store_names_its_database_without_the_password() -> None:
    store = ReviewStore("postgresql://ann:secret@db.internal/reviews")  # no connection is made yet
    assert store.url == "postgresql+psycopg://ann:***@db.internal/reviews"
    store.close()


def test_sqlite_waits_for_other_writers_and_keeps_a_write_ahead_log(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'reviews.sqlite3'}")
    with engine.connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA busy_timeout")) == 30000
        assert connection.scalar(text("PRAGMA synchronous")) == 2  # FULL: every commit synced
    engine.dispose()


def test_the_review_layer_needs_no_torch() -> None:
    """The service writes to the queue, and the serving image has no torch."""
    run_without_torch(
        "import rthdr.review.db, rthdr.review.store, rthdr.review.export\n"
        "import rthdr.review.migrations\n"
        "assert sys.modules['torch'] is None\n"
    )
