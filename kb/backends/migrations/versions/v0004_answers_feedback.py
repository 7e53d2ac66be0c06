"""Saved conversations, answers kept with their trace, and feedback on them (issue 16).

`conversations`: each user's chats, titled by their first question (renamable).

`answers`: every answer kb gave, by id: who asked, when, the question and the whole record
(retrieval candidates with scores, the passages given, prompt, model text, checks, timings) as
JSON, so it can be opened later exactly as it was. `feedback`: a user's thumbs up or down on an
answer, with an optional comment, correct answer text and document. `case_labels`: an admin's
override of the label kb gave a case, and whether it is resolved. `golden`: questions
admins added to the golden set from cases (`kb eval golden` runs on them by default).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "conversations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_index("conversations_user", "conversations", ["user_name", "updated_at"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("conversation_id", sa.Text),  # NULL: asked outside a chat (CLI, API)
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("found", sa.Integer, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("answers_user", "answers", ["user_name", "at"])
    op.create_index("answers_conversation", "answers", ["conversation_id", "at"])
    op.create_table(
        "feedback",
        sa.Column("answer_id", sa.Text, primary_key=True),
        sa.Column("user_name", sa.Text, primary_key=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("vote", sa.Integer, nullable=False),  # +1 or -1
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("correct", sa.Text, nullable=False, server_default=""),
        sa.Column("doc", sa.Text, nullable=False, server_default=""),
    )
    # The golden set that grows from use: a case an admin added, in the questions.yaml format.
    op.create_table(
        "golden",
        sa.Column("question", sa.Text, primary_key=True),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("page", sa.Integer),
        sa.Column("answer", sa.Text, nullable=False, server_default=""),
        sa.Column("answer_id", sa.Text),  # the case it came from
        sa.Column("added_by", sa.Text, nullable=False),
        sa.Column("added_at", sa.Text, nullable=False),
    )
    op.create_table(
        "case_labels",
        sa.Column("answer_id", sa.Text, primary_key=True),
        sa.Column("label", sa.Text),
        sa.Column("resolved", sa.Integer, nullable=False, server_default="0"),
        sa.Column("by_name", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Not offered (see revision 0001)."""
    raise NotImplementedError("kb does not downgrade")
