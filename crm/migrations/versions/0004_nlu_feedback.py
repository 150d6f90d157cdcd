"""NLU inbox: agents' flags and trainers' decisions on misunderstood messages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 07:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nlu_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_key", sa.String(length=255), nullable=False),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column("predicted_intent", sa.String(length=80), nullable=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_nlu_feedback_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nlu_feedback")),
    )
    with op.batch_alter_table("nlu_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_nlu_feedback_key", ["text_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nlu_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_nlu_feedback_key")
    op.drop_table("nlu_feedback")
