"""Conversation sessions with their outcome and the reviewer's marks, and the outcome refresh
runs (where the next refresh starts reading the tracker store).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 21:40:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("first_event_id", sa.BigInteger(), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=True),
        sa.Column("request_intent", sa.String(length=80), nullable=True),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("low_confidence", sa.Integer(), nullable=False),
        sa.Column("review_correct", sa.Boolean(), nullable=True),
        sa.Column("review_solved", sa.Boolean(), nullable=True),
        sa.Column("review_tags", sa.String(length=255), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["reviewer_id"], ["staff.id"], name=op.f("fk_conversation_sessions_reviewer_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_sessions")),
        sa.UniqueConstraint("conversation_id", "first_event_id", name="uq_conversation_sessions_start"),
    )
    with op.batch_alter_table("conversation_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_sessions_day_channel", ["day", "channel"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversation_sessions_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversation_sessions_outcome"), ["outcome"], unique=False)
    op.create_table(
        "outcome_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("from_event_id", sa.BigInteger(), nullable=False),
        sa.Column("to_event_id", sa.BigInteger(), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_runs")),
    )


def downgrade() -> None:
    op.drop_table("outcome_runs")
    with op.batch_alter_table("conversation_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_sessions_outcome"))
        batch_op.drop_index(batch_op.f("ix_conversation_sessions_conversation_id"))
        batch_op.drop_index("ix_conversation_sessions_day_channel")
    op.drop_table("conversation_sessions")
