"""WhatsApp inbox: message ids seen by the webhook (processed once, survives restarts).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 06:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_inbox",
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_whatsapp_inbox")),
    )
    with op.batch_alter_table("whatsapp_inbox", schema=None) as batch_op:
        batch_op.create_index("ix_whatsapp_inbox_pending", ["processed_at", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_inbox_pending")
    op.drop_table("whatsapp_inbox")
