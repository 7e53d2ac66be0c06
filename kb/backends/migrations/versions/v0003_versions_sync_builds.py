"""Kept versions, synced folders and index builds (issue 15).

`versions`: a replaced version, out of retrieval but openable (its original stays in the blob
store, its passages' texts in `kept_chunks`) until KB_KEEP_VERSIONS or KB_KEEP_VERSION_DAYS
retire it.
`sync_folders`: each folder `kb sync` keeps in step, with its last run's outcome.
`indexes`: the Chroma collection answers come from, and any being built beside it by a full
re-index (its recipe: chunking and embedding model); `index_docs` is a build's journal of
documents done, so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables (empty: no data dir had any of this before)."""
    op.create_table(
        "versions",
        sa.Column("doc_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("pages", sa.Integer),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("ingested_at", sa.Text, nullable=False),
        sa.Column("superseded_at", sa.Text, nullable=False),
        sa.Column("superseded_by", sa.Text, nullable=False),  # the version that replaced it
    )
    # A kept version's passages: text and metadata only, for opening a citation made while
    # it was live. Never searched, so no vectors, and they outlive any change of index.
    op.create_table(
        "kept_chunks",
        sa.Column("chunk_id", sa.Text, primary_key=True),
        sa.Column("doc_id", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
    )
    op.create_index("kept_chunks_version", "kept_chunks", ["doc_id", "version"])
    op.create_table(
        "sync_folders",
        sa.Column("folder", sa.Text, primary_key=True),
        sa.Column("added_at", sa.Text, nullable=False),
        sa.Column("last_run", sa.Text),
        sa.Column("summary", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_table(
        "indexes",
        sa.Column("collection", sa.Text, primary_key=True),
        sa.Column("state", sa.Text, nullable=False),  # "active" or "building"
        sa.Column("recipe", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("finished_at", sa.Text),
    )
    op.create_table(
        "index_docs",
        sa.Column("collection", sa.Text, primary_key=True),
        sa.Column("doc_id", sa.Text, primary_key=True),
        sa.Column("row", sa.Text, nullable=False),  # the document as it will be registered
    )


def downgrade() -> None:
    """Not offered (see revision 0001)."""
    raise NotImplementedError("kb does not downgrade")
