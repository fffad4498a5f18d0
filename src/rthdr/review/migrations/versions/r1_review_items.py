"""The review table as release 1.1 made it: one row per reading to check, oldest first.

Revision ID: r1
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "review_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("reading", sa.String(64), nullable=False),
        sa.Column("confidences", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("image_path", sa.String(4096), nullable=True),
        sa.Column("suggested", sa.String(64), nullable=True),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("claimed_at", moment, nullable=True),
        sa.Column("claim_expires_at", moment, nullable=True),
        sa.Column("answer", sa.String(64), nullable=True),
        sa.Column("answer_reason", sa.String(256), nullable=True),
        sa.Column("answered_by", sa.String(128), nullable=True),
        sa.Column("answered_at", moment, nullable=True),
    )
    op.create_index("ix_review_items_status_created", "review_items", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("review_items")
