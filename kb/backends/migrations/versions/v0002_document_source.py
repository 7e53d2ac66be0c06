"""Where a document comes from: `documents.source` and `pending.source` (issue 15).

The absolute path of the file a folder ingest read (NULL for uploads and for every document
indexed before this revision: those keep their name-based ids, and a folder ingest of a file
with the same name claims them, see kb.ingest.pipeline).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable source columns and an index to find a document by its source."""
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("source", sa.Text, nullable=True))
    op.create_index("documents_source", "documents", ["source"])
    with op.batch_alter_table("pending") as batch:
        batch.add_column(sa.Column("source", sa.Text, nullable=True))


def downgrade() -> None:
    """Not offered (see revision 0001)."""
    raise NotImplementedError("kb does not downgrade")
