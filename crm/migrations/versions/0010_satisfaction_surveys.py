"""Satisfaction surveys: asked after a bot answer or an agent's resolution, and the rating.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 21:30:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "satisfaction_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_satisfaction_surveys_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_satisfaction_surveys_escalation_id_escalations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_satisfaction_surveys_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_surveys")),
    )
    with op.batch_alter_table("satisfaction_surveys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_satisfaction_surveys_conversation_asked", ["conversation_id", "asked_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_satisfaction_surveys_asked_at"), ["asked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_satisfaction_surveys_customer_id"), ["customer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("satisfaction_surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_satisfaction_surveys_customer_id"))
        batch_op.drop_index(batch_op.f("ix_satisfaction_surveys_asked_at"))
        batch_op.drop_index("ix_satisfaction_surveys_conversation_asked")
    op.drop_table("satisfaction_surveys")
