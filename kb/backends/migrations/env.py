"""Alembic's entry point: runs the migrations on the connection kb.backends.migrate passes."""

from alembic import context

# kb.backends.migrate opens the transaction (and takes the migration lock) before calling in.
connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
