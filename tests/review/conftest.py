"""The review tests run against both engines for real: a SQLite file in the test's folder, and a
PostgreSQL cluster that this suite starts (tests/helpers/postgres.py), one fresh database a test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rthdr.review.store import ReviewStore
from tests.helpers.postgres import bindir, fresh_database, postgres_cluster

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The suite's PostgreSQL cluster. Missing binaries fail in CI (make system installs them) and
    skip elsewhere."""
    if bindir() is None:
        message = "PostgreSQL not installed: apt-get install postgresql (make system)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database's URL, as an operator would write it, on each engine in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reviews.sqlite3'}"
        return
    with fresh_database(request.getfixturevalue("postgres")) as url:
        yield url


@pytest.fixture
def store(database: str) -> Iterator[ReviewStore]:
    with ReviewStore(database) as migrated:
        migrated.migrate()
        yield migrated
