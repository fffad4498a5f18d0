"""Alembic's environment and revisions for the review table, run in code by ReviewStore.migrate()."""
