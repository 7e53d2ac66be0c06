"""The results of each `kb eval golden` run, so the next run can say what changed (issue 16).

`golden_runs`: one row per run of a question set (the golden set kb keeps, or a questions
file by its path): when, k, and each question's outcome (right file, and right page when
the question names one, in the top k) as JSON.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "golden_runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("question_set", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("outcomes", sa.Text, nullable=False),
    )
    op.create_index("golden_runs_set", "golden_runs", ["question_set", "at"])


def downgrade() -> None:
    """Not offered (see revision 0001)."""
    raise NotImplementedError("kb does not downgrade")
