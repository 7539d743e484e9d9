"""Alembic environment: runs on the connection handed over by ``runtime.migrate``."""

from __future__ import annotations

from alembic import context

from runtime.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
