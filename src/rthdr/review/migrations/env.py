"""Alembic's environment: runs the revisions on the connection ReviewStore.migrate() opened (in
`config.attributes["connection"]`), inside its transaction, so there is no alembic.ini and no second
engine: the lock migrate() took covers the whole upgrade."""

from __future__ import annotations

from alembic import context

from rthdr.review.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=context.config.attributes["version_table"],
    render_as_batch=True,  # SQLite alters columns by copying the table; Alembic's batch mode does it
)
with context.begin_transaction():
    context.run_migrations()
