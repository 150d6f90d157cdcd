"""Outbound WhatsApp: message templates and their approval state at Meta, customers' consent,
campaigns with their approvals, one row per (campaign, customer), and the delivery statuses.
New console roles: analyst, department head, corporate secretary (the staff role CHECK is
replaced; SQLite: batch mode recreates the table).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:46:54
"""

from alembic import op
import sqlalchemy as sa

OLD_ROLES = ["agent", "supervisor"]
NEW_ROLES = OLD_ROLES + ["analyst", "department_head", "corporate_secretary"]


def _roles(roles: list) -> None:
    listed = ", ".join(f"'{role}'" for role in roles)
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_staff_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_staff_staff_role"), f"role IN ({listed})")


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _roles(NEW_ROLES)
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "utility",
                "marketing",
                "authentication",
                name="template_category",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("use", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_submitted",
                "pending",
                "approved",
                "rejected",
                "paused",
                "disabled",
                name="template_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("meta_id", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("name", "language", name="uq_message_templates_name_language"),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("audience_options", sa.JSON(), nullable=False),
        sa.Column("send_at", sa.DateTime(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "approved",
                "sending",
                "paused",
                "cancelled",
                "done",
                name="campaign_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("materialized_at", sa.DateTime(), nullable=True),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"], name=op.f("fk_campaigns_created_by_id_staff")),
        sa.ForeignKeyConstraint(
            ["template_id"], ["message_templates.id"], name=op.f("fk_campaigns_template_id_message_templates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_status_send_at", ["status", "send_at"], unique=False)

    op.create_table(
        "whatsapp_contacts",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("opted_in_at", sa.DateTime(), nullable=True),
        sa.Column("opt_in_source", sa.String(length=40), nullable=True),
        sa.Column("marketing_opt_out_at", sa.DateTime(), nullable=True),
        sa.Column("reminders_opt_out_at", sa.DateTime(), nullable=True),
        sa.Column("not_on_whatsapp_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_whatsapp_contacts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_whatsapp_contacts")),
    )
    op.create_table(
        "campaign_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "agent",
                "supervisor",
                "analyst",
                "department_head",
                "corporate_secretary",
                name="approval_role",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_approvals_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_campaign_approvals_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_approvals")),
        sa.UniqueConstraint("campaign_id", "version", "role", name="uq_campaign_approvals_step"),
    )
    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("notice", sa.JSON(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "delivered",
                "read",
                "failed",
                name="recipient_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("failed_at", sa.DateTime(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sa.String(length=255), nullable=True),
        sa.Column("replied_at", sa.DateTime(), nullable=True),
        sa.Column("opted_out_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_campaign_recipients_contract_id_contracts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_campaign_recipients_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_recipients")),
        sa.UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_recipients_once"),
        sa.UniqueConstraint("message_id", name=op.f("uq_campaign_recipients_message_id")),
    )
    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_recipients_campaign_status", ["campaign_id", "status"], unique=False)
        batch_op.create_index("ix_campaign_recipients_customer_key", ["customer_id", "message_key"], unique=False)
        batch_op.create_index("ix_campaign_recipients_phone_sent", ["phone", "sent_at"], unique=False)

    op.create_table(
        "whatsapp_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sa.String(length=255), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["campaign_recipients.id"],
            name=op.f("fk_whatsapp_statuses_recipient_id_campaign_recipients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_statuses")),
        sa.UniqueConstraint("message_id", "status", name="uq_whatsapp_statuses_once"),
    )
    with op.batch_alter_table("whatsapp_statuses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatsapp_statuses_recipient_id"), ["recipient_id"], unique=False)

    op.create_table(
        "verification_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("contract_number", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_codes")),
    )
    with op.batch_alter_table("verification_codes", schema=None) as batch_op:
        batch_op.create_index("ix_verification_codes_contract_created", ["contract_number", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_verification_codes_conversation_id"), ["conversation_id"], unique=False)


def downgrade() -> None:
    op.drop_table("verification_codes")
    with op.batch_alter_table("whatsapp_statuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_statuses_recipient_id"))

    op.drop_table("whatsapp_statuses")
    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_recipients_phone_sent")
        batch_op.drop_index("ix_campaign_recipients_customer_key")
        batch_op.drop_index("ix_campaign_recipients_campaign_status")

    op.drop_table("campaign_recipients")
    op.drop_table("campaign_approvals")
    op.drop_table("whatsapp_contacts")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_status_send_at")

    op.drop_table("campaigns")
    op.drop_table("message_templates")
    op.execute(
        "DELETE FROM staff_sessions WHERE staff_id IN (SELECT id FROM staff WHERE role NOT IN ('agent', 'supervisor'))"
    )
    op.execute("UPDATE staff SET active = false, role = 'agent' WHERE role NOT IN ('agent', 'supervisor')")
    _roles(OLD_ROLES)
