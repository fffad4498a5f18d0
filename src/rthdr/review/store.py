"""The review queue as its callers see it: add a reading, list and claim what is pending, answer it,
count, purge, and read the corrections back for training.

Every write is one short transaction that has committed when the method returns, so an
acknowledged answer survives a kill -9 of the process. Claims are conditional updates: two reviewers
asking at once never get the same item, on PostgreSQL (row locks, FOR UPDATE SKIP LOCKED for "the
next one") and on SQLite (BEGIN IMMEDIATE: one writer at a time, across processes). A claim is a
lease: it lapses `hold_s` seconds after it was taken, and the item is pending again, so a reviewer
who walks away does not keep it forever.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, delete, func, insert, or_, select, text, update
from sqlalchemy.exc import OperationalError

from rthdr.review.db import WRITE, ReviewRow, make_engine, utcnow

SOURCES = ("predict", "recognize", "batch", "page")
REASONS = ("uncertain", "audit", "correction")
ORDERS = ("oldest", "confidence")
DEFAULT_HOLD_S = 600.0
VERSION_TABLE = "rthdr_review_version"  # not alembic_version: the database may be shared
PAGE = 500  # corrected() reads this many rows per query
# "rthd": the PostgreSQL advisory lock that makes workers starting together migrate one at a time.
MIGRATION_LOCK = 0x72746864
MIGRATION_ATTEMPTS = 5  # SQLite only: see ReviewStore.migrate


class ReviewError(Exception):
    """A request the queue cannot carry out, in the domain's words (no HTTP: the API maps the code).
    Codes: invalid_item, invalid_request, not_found, already_done, not_claimed, reason_required,
    invalid_answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class NewItem:
    source: str  # "predict" | "recognize" | "batch" | "page"
    reason: str  # "uncertain" | "audit" | "correction"
    reading: str  # what the machine read: "7", "90210"; "" where nothing was read
    confidences: list[float]  # one per digit read
    model_version: str  # Classifier.version
    image: bytes | None = None  # the image as sent
    image_path: str | None = None  # batch jobs: the file's path instead of its bytes
    suggested: str | None = None  # "Wrong? Correct it": the person's own answer, if given


@dataclass(frozen=True)
class Item:
    """An item as it stands now. `status` counts a lapsed claim as "pending"; claimed_by and
    claimed_at still name the last claim. `has_image`: the bytes are stored or a path was given."""

    id: int
    created_at: datetime
    status: str  # "pending" | "claimed" | "done"
    source: str
    reason: str
    reading: str
    confidences: list[float]
    model_version: str
    has_image: bool
    image_path: str | None
    suggested: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    answer: str | None
    answer_reason: str | None
    answered_by: str | None
    answered_at: datetime | None


t = ReviewRow  # the table, as SQLAlchemy's examples name it
# What an Item is read from: never the image bytes, which only image() loads.
COLUMNS = (
    t.id, t.created_at, t.status, t.claim_expires_at, t.source, t.reason, t.reading, t.confidences,
    t.model_version, t.image_path, t.suggested, t.claimed_by, t.claimed_at, t.answer,
    t.answer_reason, t.answered_by, t.answered_at,
    or_(t.image.is_not(None), t.image_path.is_not(None)).label("has_image"),
)  # fmt: skip


def claimable(now: datetime) -> ColumnElement[bool]:
    """Pending, or claimed by a lease that has run out."""
    return or_(t.status == "pending", and_(t.status == "claimed", t.claim_expires_at <= now))


def held(now: datetime) -> ColumnElement[bool]:
    return and_(t.status == "claimed", t.claim_expires_at > now)


CORRECTED = and_(t.status == "done", t.answer.is_not(None), t.answer != t.reading)


def ordering(order: str) -> tuple[Any, ...]:
    if order not in ORDERS:
        raise ReviewError("invalid_request", f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    return (t.created_at, t.id) if order == "oldest" else (t.min_confidence, t.created_at, t.id)


def to_item(row: Any, now: datetime) -> Item:
    fields = dict(row._mapping)
    expires = fields.pop("claim_expires_at")
    if fields["status"] == "claimed" and expires is not None and expires <= now:
        fields["status"] = "pending"
    return Item(**{**fields, "has_image": bool(fields["has_image"])})


def check_item(item: NewItem) -> None:
    problems = []
    if item.source not in SOURCES:
        problems.append(f"source must be one of {', '.join(SOURCES)}")
    if item.reason not in REASONS:
        problems.append(f"reason must be one of {', '.join(REASONS)}")
    if len(item.confidences) != len(item.reading):
        problems.append(f"{len(item.confidences)} confidences for the {len(item.reading)} characters read")
    if any(not 0 <= c <= 1 for c in item.confidences):
        problems.append("confidences must lie in [0, 1]")
    if max(len(item.reading), len(item.suggested or "")) > 64 or len(item.model_version) > 128:
        problems.append("a reading or suggestion is at most 64 characters, a model version 128")
    if problems:
        raise ReviewError("invalid_item", "; ".join(problems))


def check_reviewer(reviewer: str, hold_s: float = DEFAULT_HOLD_S) -> None:
    if not reviewer.strip() or len(reviewer) > 128:
        raise ReviewError("invalid_request", "a reviewer is named by 1 to 128 characters")
    if hold_s <= 0:
        raise ReviewError("invalid_request", "a claim must be held for more than 0 seconds")


class ReviewStore:
    """The queue in the database at `url` (None: $RTHDR_DATABASE_URL, else the SQLite file in the
    user's data folder). Call migrate() once before use; it is safe to call from every worker."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = make_engine(url)
        self._writer = self.engine.execution_options(**{WRITE: True})
        self.url = self.engine.url.render_as_string(hide_password=True)  # for logs: no password

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to `revision` (Alembic, in one transaction that holds a lock, so that
        workers starting together do not race)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", "rthdr.review:migrations")
        config.attributes["version_table"] = VERSION_TABLE
        for attempt in range(MIGRATION_ATTEMPTS):
            try:
                with self._writer.begin() as connection:
                    if connection.dialect.name == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                        )
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
                return
            except OperationalError as failed:
                # SQLite can answer "database is locked" at once, without waiting out its busy timeout
                # (where it sees a deadlock; seen once in a CI rehearsal, three workers migrating a new
                # file together, not reproduced in 40 more). The migration is one transaction: trying
                # again is safe.
                if "database is locked" not in str(failed) or attempt == MIGRATION_ATTEMPTS - 1:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def add(self, item: NewItem) -> int:
        """Queue `item`; its id, once committed."""
        check_item(item)
        values = {
            **{name: getattr(item, name) for name in NewItem.__dataclass_fields__},
            "created_at": utcnow(),
            "status": "pending",
            "min_confidence": min(item.confidences, default=0.0),  # nothing read: least sure of all
        }
        with self._writer.begin() as connection:
            key = connection.execute(insert(t).values(values)).inserted_primary_key
            assert key is not None  # a single-row INSERT always has one
            return int(key[0])

    def pending(self, limit: int = 50, order: str = "oldest") -> list[Item]:
        """What is waiting (lapsed claims too): oldest first, or lowest confidence first."""
        now, by = utcnow(), ordering(order)
        query = select(*COLUMNS).where(claimable(now)).order_by(*by).limit(max(0, limit))
        with self.engine.connect() as connection:
            return [to_item(row, now) for row in connection.execute(query)]

    def get(self, item_id: int) -> Item | None:
        with self.engine.connect() as connection:
            return self._get(connection, item_id)

    def _get(self, connection: Connection, item_id: int) -> Item | None:
        row = connection.execute(select(*COLUMNS).where(t.id == item_id)).first()
        return None if row is None else to_item(row, utcnow())

    def image(self, item_id: int) -> bytes | None:
        """The image as sent, or read from its path (batch jobs); None if there is none, or the
        file has gone since."""
        with self.engine.connect() as connection:
            row = connection.execute(select(t.image, t.image_path).where(t.id == item_id)).first()
        if row is None or (row.image is None and row.image_path is None):
            return None
        if row.image is not None:
            return bytes(row.image)
        try:
            return Path(row.image_path).read_bytes()
        except OSError:
            return None

    def claim(self, item_id: int, reviewer: str, hold_s: float = DEFAULT_HOLD_S) -> Item | None:
        """Take the item for `hold_s` seconds (again, if `reviewer` holds it already). None when
        another reviewer holds it; ReviewError not_found or already_done."""
        check_reviewer(reviewer, hold_s)
        now = utcnow()
        mine_or_free = or_(claimable(now), and_(t.status == "claimed", t.claimed_by == reviewer))
        with self._writer.begin() as connection:
            taken = connection.execute(
                update(t).where(t.id == item_id, mine_or_free).values(lease(reviewer, now, hold_s))
            )
            if taken.rowcount == 0:
                status = connection.scalar(select(t.status).where(t.id == item_id))
                if status is None:
                    raise ReviewError("not_found", f"there is no review item {item_id}")
                if status == "done":
                    raise ReviewError("already_done", f"review item {item_id} has been answered")
                return None
            return self._get(connection, item_id)

    def claim_next(self, reviewer: str, order: str = "oldest", hold_s: float = DEFAULT_HOLD_S) -> Item | None:
        """The item `reviewer` holds already (a reloaded page gets its item back), else the first
        free one in `order`, claimed; None when nothing is pending."""
        check_reviewer(reviewer, hold_s)
        now, by = utcnow(), ordering(order)
        with self._writer.begin() as connection:
            item_id = connection.scalar(
                select(t.id).where(held(now), t.claimed_by == reviewer).order_by(*by).limit(1)
            )
            if item_id is None:
                free = select(t.id).where(claimable(now)).order_by(*by).limit(1)
                item_id = connection.scalar(free.with_for_update(skip_locked=True))  # SQLite: no-op
            if item_id is None:
                return None
            connection.execute(update(t).where(t.id == item_id).values(lease(reviewer, now, hold_s)))
            return self._get(connection, item_id)

    def answer(self, item_id: int, answer: str | None, reason: str | None, reviewer: str) -> Item:
        """Record the reviewer's answer: the true reading, or None with a reason ("unreadable").
        The item must be claimed by `reviewer` (a lapsed claim still counts if nobody took it over)."""
        answer = answer.strip() if answer is not None else None
        if answer is None and not (reason or "").strip():
            raise ReviewError("reason_required", 'no answer needs a reason, e.g. "unreadable"')
        if answer is not None and not 0 < len(answer) <= 64:
            raise ReviewError("invalid_answer", "an answer is 1 to 64 characters")
        with self._writer.begin() as connection:
            row = connection.execute(
                select(t.status, t.claimed_by).where(t.id == item_id).with_for_update()
            ).first()
            if row is None:
                raise ReviewError("not_found", f"there is no review item {item_id}")
            if row.status == "done":
                raise ReviewError("already_done", f"review item {item_id} has been answered")
            if row.status != "claimed" or row.claimed_by != reviewer:
                raise ReviewError("not_claimed", f"claim review item {item_id} before answering it")
            values: dict[str, object] = {"status": "done", "answer": answer, "answer_reason": reason}
            values |= {"answered_by": reviewer, "answered_at": utcnow()}
            connection.execute(update(t).where(t.id == item_id).values(values))
            item = self._get(connection, item_id)
        assert item is not None  # the row was locked: it cannot have gone
        return item

    def counts(self) -> dict[str, int]:
        """Items pending (lapsed claims too), claimed, done, and done with an answer that differs
        from the machine's reading (corrected)."""
        now = utcnow()
        conditions = {
            "pending": claimable(now),
            "claimed": held(now),
            "done": t.status == "done",
            "corrected": CORRECTED,
        }
        query = select(*(func.count(case((c, 1))).label(name) for name, c in conditions.items()))
        with self.engine.connect() as connection:
            row = connection.execute(query).one()
        return {name: int(row._mapping[name]) for name in conditions}

    def oldest_pending_age_s(self) -> float | None:
        """Seconds the oldest pending item has waited; None when nothing is pending."""
        now = utcnow()
        with self.engine.connect() as connection:
            oldest = connection.scalar(select(func.min(t.created_at)).where(claimable(now)))
        return None if oldest is None else (now - oldest).total_seconds()

    def purge(self, older_than_days: float) -> int:
        """Delete every item (answered or not) made more than `older_than_days` ago: the retention
        limit on what is stored. Export the corrections first to keep them. Returns how many went."""
        if older_than_days < 0:
            raise ReviewError("invalid_request", "the retention is 0 days or more")
        cutoff = utcnow() - timedelta(days=older_than_days)
        with self._writer.begin() as connection:
            return int(connection.execute(delete(t).where(t.created_at < cutoff)).rowcount)

    def corrected(self) -> Iterator[Item]:
        """Done items whose answer differs from the reading, oldest first, read PAGE at a time so
        that no transaction stays open while the caller works."""
        last = 0
        while True:
            query = select(*COLUMNS).where(CORRECTED, t.id > last).order_by(t.id).limit(PAGE)
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
            if not rows:
                return
            now = utcnow()
            yield from (to_item(row, now) for row in rows)
            last = rows[-1].id


def lease(reviewer: str, now: datetime, hold_s: float) -> dict[str, Any]:
    return {
        "status": "claimed",
        "claimed_by": reviewer,
        "claimed_at": now,
        "claim_expires_at": now + timedelta(seconds=hold_s),
    }
