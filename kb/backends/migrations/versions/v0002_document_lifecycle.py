"""A document's lifecycle (issue 15): where it comes from, who owns it, when it is due for
review, what superseded it.

`source`: the absolute path of the file a folder ingest read (NULL for uploads and for every
document indexed before this revision: those keep their name-based ids, and a folder ingest of
a file with the same name takes them over, see kb.ingest.sources.identify). `owner`,
`review_by` (YYYY-MM-DD), `reviewed_at`, `superseded_by` (a doc id); `admin_set` lists the
fields an admin set, which the document's own metadata then never overrides.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable lifecycle columns and an index to find a document by its source."""
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("source", sa.Text, nullable=True))
        batch.add_column(sa.Column("owner", sa.Text, nullable=True))
        batch.add_column(sa.Column("review_by", sa.Text, nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.Text, nullable=True))
        batch.add_column(sa.Column("superseded_by", sa.Text, nullable=True))
        batch.add_column(sa.Column("admin_set", sa.Text, nullable=False, server_default="[]"))
    op.create_index("documents_source", "documents", ["source"])
    with op.batch_alter_table("pending") as batch:
        batch.add_column(sa.Column("source", sa.Text, nullable=True))


def downgrade() -> None:
    """Not offered (see revision 0001)."""
    raise NotImplementedError("kb does not downgrade")
