"""Alembic environment: runs on the connection handed over by ``core.migrate``.

Migrations are written by hand and import no models, so the ground floor stays below every part.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
