"""Alembic environment: always run with a connection handed over by ``migrate.upgrade``."""

from alembic import context

from printcloud.server.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `printcloud serve` (printcloud.server.db.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
