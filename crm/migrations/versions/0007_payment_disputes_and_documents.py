"""Payment disputes with the customer's proof, payoff-letter requests and documents issued to a
conversation (statement PDFs).

Enum columns are VARCHAR with a CHECK constraint (portable); a new kind means replacing the
constraint (SQLite: batch mode recreates the table).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CASE_KINDS = ["insurance_claim", "vehicle_theft", "debtor_deceased", "credit_takeover", "complaint"]
REQUEST_KINDS = ["bpkb_pickup", "bpkb_loan", "due_date_change"]


def _kinds(table: str, constraint: str, kinds: list) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{constraint}"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{table}_{constraint}"), f"kind IN ({listed})")


def upgrade() -> None:
    _kinds("cases", "case_kind", CASE_KINDS + ["payment_dispute"])
    _kinds("service_requests", "request_kind", REQUEST_KINDS + ["payoff_letter"])
    op.create_table(
        "case_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_attachments_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_attachments")),
    )
    with op.batch_alter_table("case_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_attachments_case_id"), ["case_id"], unique=False)
    op.create_table(
        "issued_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_issued_documents_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_documents")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_issued_documents_token_hash")),
    )
    with op.batch_alter_table("issued_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issued_documents_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_documents_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_documents_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("issued_documents")
    op.drop_table("case_attachments")
    op.execute("DELETE FROM service_requests WHERE kind = 'payoff_letter'")
    op.execute("DELETE FROM escalations WHERE case_id IN (SELECT id FROM cases WHERE kind = 'payment_dispute')")
    op.execute("DELETE FROM cases WHERE kind = 'payment_dispute'")
    _kinds("service_requests", "request_kind", REQUEST_KINDS)
    _kinds("cases", "case_kind", CASE_KINDS)
