"""Verification limits across conversations (failures and locks per contract and client
address), the second factor, and per-address flood limits on escalations.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 06:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mother_maiden_name", sa.String(length=120), nullable=True))
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice", sa.Text(), nullable=True))
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("merged_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_escalations_client"), ["client"], unique=False)
    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_number", sa.String(length=32), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_failures")),
    )
    with op.batch_alter_table("verification_failures", schema=None) as batch_op:
        batch_op.create_index("ix_verification_failures_contract_at", ["contract_number", "at"], unique=False)
        batch_op.create_index("ix_verification_failures_client_at", ["client", "at"], unique=False)
    op.create_table(
        "verification_locks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_number", sa.String(length=32), nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"], ["escalations.id"], name=op.f("fk_verification_locks_escalation_id_escalations")
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"], ["staff.id"], name=op.f("fk_verification_locks_released_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_locks")),
    )
    with op.batch_alter_table("verification_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_locks_contract_number"), ["contract_number"], unique=False)


def downgrade() -> None:
    op.drop_table("verification_locks")
    op.drop_table("verification_failures")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_client"))
        batch_op.drop_column("merged_count")
        batch_op.drop_column("client")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_column("notice")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("mother_maiden_name")
