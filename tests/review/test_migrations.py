"""The migrations: a database made by the first revision upgrades with its rows kept, the head
equals the model in db.py, and workers that start together migrate once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, column, insert, table, text

from rthdr.review.db import Base, UTCDateTime
from rthdr.review.store import VERSION_TABLE, ReviewStore

FIRST = "r1"
HEAD = "r2"
MADE = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def revision(store: ReviewStore) -> str:
    with store.engine.connect() as connection:
        return str(connection.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}")))


def test_a_database_of_the_first_revision_upgrades_with_its_rows_kept(database: str) -> None:
    with ReviewStore(database) as store:
        store.migrate(FIRST)
        assert revision(store) == FIRST
        columns = ("status", "source", "reason", "reading", "model_version", "image", "answer", "answered_by")
        r1_items = table(
            "review_items",
            column("created_at", UTCDateTime()),
            column("confidences", JSON()),
            *(column(name) for name in columns),
        )  # the table as revision r1 made it: no min_confidence
        rows = [
            (0, "pending", "7", [0.61], b"one", None, None),
            (1, "done", "12", [0.9, 0.35], b"two", "17", "ann"),
            (2, "pending", "", [], None, None, None),
        ]
        with store.engine.begin() as connection:
            for second, status, reading, confidences, image, answer, by in rows:
                values = {"created_at": MADE + timedelta(seconds=second), "confidences": confidences}
                values |= {"status": status, "source": "predict", "reason": "uncertain", "reading": reading}
                values |= {"model_version": "v1", "image": image, "answer": answer, "answered_by": by}
                connection.execute(insert(r1_items).values(values))

        store.migrate()

        assert revision(store) == HEAD
        pending = store.pending()
        assert [(i.reading, i.confidences) for i in pending] == [("7", [0.61]), ("", [])]
        assert [i.reading for i in store.pending(order="confidence")] == ["", "7"]  # backfilled
        (corrected,) = store.corrected()
        assert (corrected.reading, corrected.answer, corrected.answered_by) == ("12", "17", "ann")
        assert store.image(corrected.id) == b"two"
        assert store.counts() == {"pending": 2, "claimed": 0, "done": 1, "corrected": 1}
        assert pending[0].created_at == MADE


def test_the_head_revision_is_the_model(store: ReviewStore) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, Base.metadata) == []


def test_migrating_again_or_from_many_workers_at_once_is_harmless(database: str) -> None:
    stores = [ReviewStore(database) for _ in range(3)]
    failures: list[BaseException] = []

    def migrate(store: ReviewStore) -> None:
        try:
            store.migrate()
        except BaseException as failed:  # reported below, with the others
            failures.append(failed)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    stores[0].migrate()
    assert revision(stores[0]) == HEAD
    for store in stores:
        store.close()
