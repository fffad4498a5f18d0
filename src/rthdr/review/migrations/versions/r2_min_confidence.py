"""Least sure first: each item's lowest per-digit confidence as a column with an index, so that
"order=confidence" is an index scan, not a pass over every row's JSON. Rows made by revision r1 get
it computed from their confidences.

Revision ID: r2
Revises: r1
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "r2"
down_revision = "r1"
branch_labels = None
depends_on = None


def lowest(confidences: Any) -> float:
    """min(confidences), 0 where nothing was read; JSON arrives as text from some drivers."""
    values = json.loads(confidences) if isinstance(confidences, str) else confidences
    return min((float(v) for v in values or ()), default=0.0)


def upgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(sa.Column("min_confidence", sa.Float(), nullable=True))
    items = sa.table("review_items", sa.column("id"), sa.column("confidences", sa.JSON()))
    connection = op.get_bind()
    update = sa.text("UPDATE review_items SET min_confidence = :value WHERE id = :id")
    rows = connection.execute(sa.select(items.c.id, items.c.confidences)).all()
    if rows:  # one executemany, not a round trip per row
        connection.execute(update, [{"value": lowest(r.confidences), "id": r.id} for r in rows])
    with op.batch_alter_table("review_items") as batch:
        batch.alter_column("min_confidence", existing_type=sa.Float(), nullable=False)
        batch.create_index("ix_review_items_status_confidence", ["status", "min_confidence"])


def downgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.drop_index("ix_review_items_status_confidence")
        batch.drop_column("min_confidence")
