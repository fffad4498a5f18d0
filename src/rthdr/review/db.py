"""The review queue's table and the engine it lives in: SQLite in the user's data folder when no URL is
given, PostgreSQL (through psycopg 3) when RTHDR_DATABASE_URL names one.

The table here is the head of the migrations in `migrations/versions/`: a change to it is a new
revision there, never an edit of an old one, so that a database made by an earlier release upgrades.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    create_engine,
    event,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

DATABASE_URL_VARIABLE = "RTHDR_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's write lock
# An execution option: transactions of a connection carrying it begin with BEGIN IMMEDIATE on SQLite,
# taking the write lock at the start (see sqlite_transactions below).
WRITE = "rthdr_write"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both engines. PostgreSQL keeps a timestamptz; SQLite has no time zones,
    so the naive UTC time is stored and UTC put back on reading, which keeps its text comparisons
    (claim lapses, retention) in one zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class ReviewRow(Base):
    """One reading a person is asked to check. `status` is what was last written: "pending",
    "claimed" or "done"; a claim whose `claim_expires_at` has passed counts as pending again."""

    __tablename__ = "review_items"

    # BIGINT on PostgreSQL (millions of scans a year); SQLite's rowid needs exactly INTEGER.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    reading: Mapped[str] = mapped_column(String(64))
    confidences: Mapped[list[float]] = mapped_column(JSON)
    # The lowest of `confidences` (0 where nothing was read), for "least sure first"; revision 2.
    min_confidence: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(128))
    image: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    image_path: Mapped[str | None] = mapped_column(String(4096))
    suggested: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(String(64))
    answer_reason: Mapped[str | None] = mapped_column(String(256))
    answered_by: Mapped[str | None] = mapped_column(String(128))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_review_items_status_created", "status", "created_at"),
        Index("ix_review_items_status_confidence", "status", "min_confidence"),
    )


def default_sqlite_path() -> Path:
    """reviews.sqlite3 in the user's data folder (~/.local/share/rthdr on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("rthdr")) / "reviews.sqlite3"


def database_url(url: str | None = None) -> URL:
    """The URL to use: `url`, else $RTHDR_DATABASE_URL, else the SQLite file. PostgreSQL URLs as
    operators write them (postgresql://user@host:port/db, or postgres://) get the psycopg 3 driver;
    SQLAlchemy would otherwise pick psycopg2, which is not installed."""
    text = url or os.environ.get(DATABASE_URL_VARIABLE) or ""
    if not text:
        path = default_sqlite_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return URL.create("sqlite", database=str(path))
    parsed = make_url(text)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (see database_url); SQLite files get WAL and a busy timeout."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    )
    sqlite_transactions(engine)
    return engine


def sqlite_transactions(engine: Engine) -> None:
    """SQLite as several processes share it. WAL lets readers work beside the one writer; the busy
    timeout makes a writer wait for the lock instead of failing; synchronous=FULL syncs every commit,
    so an acknowledged write survives a crash of the machine, not only of the process. Python's
    sqlite3 would begin transactions itself, late and never for SELECT; SQLAlchemy emits BEGIN
    instead (its documented recipe), and BEGIN IMMEDIATE for writers (the WRITE option), which take
    the lock before they read: a claim's read-then-update cannot interleave with another's."""

    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
