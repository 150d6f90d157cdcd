"""The customer database: SQLAlchemy models of customers, contracts and CRM work items.

Money is held in whole rupiah (integers). Dates are calendar dates in Indonesian local time;
timestamps are naive UTC. The schema itself is created by the Alembic migrations in
`crm/migrations/`, which a test keeps identical to these models.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declarative_base, deferred, relationship

from crm.clock import utc_now, utc_now_exact

# Deterministic constraint names so migrations are portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))  # SQLAlchemy 1.4: untyped


def _enum(cls: type, name: str) -> Enum:
    """A portable enum column storing the member *values* (lower-case words)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Product(str, enum.Enum):
    NEW_CAR = "new_car"  # kredit mobil baru
    MULTIPURPOSE = "multipurpose"  # "Siap Dana", secured by the car
    FLEET = "fleet"


class ContractStatus(str, enum.Enum):
    ACTIVE = "active"
    PAID_OFF = "paid_off"
    WRITTEN_OFF = "written_off"


class BpkbStatus(str, enum.Enum):
    HELD = "held"  # kept by the financier as collateral
    READY = "ready"  # ready for pickup at a branch
    LENT_OUT = "lent_out"  # borrowed by the customer (e.g. 5-yearly STNK renewal)
    HANDED_OVER = "handed_over"  # picked up by the customer after payoff


class Service(str, enum.Enum):
    BRANCH_OFFICE = "branch_office"
    SERVICE_LOUNGE = "service_lounge"
    CUSTOMER_CARE = "customer_care"


class RequestKind(str, enum.Enum):
    BPKB_PICKUP = "bpkb_pickup"
    BPKB_LOAN = "bpkb_loan"
    DUE_DATE_CHANGE = "due_date_change"
    PAYOFF_LETTER = "payoff_letter"  # the official early-settlement letter (surat keterangan pelunasan)


class RequestStatus(str, enum.Enum):
    SUBMITTED = "submitted"
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


class CaseKind(str, enum.Enum):
    INSURANCE_CLAIM = "insurance_claim"
    VEHICLE_THEFT = "vehicle_theft"
    DEBTOR_DECEASED = "debtor_deceased"
    CREDIT_TAKEOVER = "credit_takeover"
    COMPLAINT = "complaint"
    PAYMENT_DISPUTE = "payment_dispute"  # paid, not found after the channel's posting delay


class CaseStatus(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class EscalationReason(str, enum.Enum):
    FALLBACK = "fallback"
    HUMAN_REQUEST = "human_request"
    CASE_REPORT = "case_report"
    COMPLAINT = "complaint"
    VERIFICATION = "verification"
    ERROR = "error"


class EscalationStatus(str, enum.Enum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class StaffRole(str, enum.Enum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"  # CRM analyst: drafts outbound campaigns
    DEPARTMENT_HEAD = "department_head"  # CRM department head: approves every campaign
    CORPORATE_SECRETARY = "corporate_secretary"  # also approves marketing (promo) campaigns


class TemplateCategory(str, enum.Enum):
    UTILITY = "utility"  # account notices and reminders
    MARKETING = "marketing"  # greetings, promos: opted-out customers never get these
    AUTHENTICATION = "authentication"  # one-time codes (website verification)


class TemplateStatus(str, enum.Enum):
    NOT_SUBMITTED = "not_submitted"  # in business/whatsapp_templates.yml, not (yet) at Meta, or edited since
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAUSED = "paused"
    DISABLED = "disabled"


class CampaignStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for approvals
    APPROVED = "approved"  # waits for its send time
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class RecipientStatus(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; in doubt if the sender died before the answer
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class Branch(Base):
    __tablename__ = "branches"

    id = Column(Integer, primary_key=True)
    code = Column(String(3), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    city = Column(String(80), nullable=False)
    address = Column(String(255), nullable=False)
    phone = Column(String(20), nullable=False)

    hours = relationship("BranchHours", back_populates="branch", cascade="all, delete-orphan")


class BranchHours(Base):
    """Regular weekly opening hours of one service at one branch (no row = closed that day)."""

    __tablename__ = "branch_hours"
    __table_args__ = (
        UniqueConstraint("branch_id", "service", "weekday", name="uq_branch_hours_slot"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    id = Column(Integer, primary_key=True)
    branch_id = Column(ForeignKey("branches.id", ondelete="CASCADE"), nullable=False)
    service = Column(_enum(Service, "service"), nullable=False)
    weekday = Column(Integer, nullable=False)  # Monday = 0 ... Sunday = 6
    opens = Column(Time, nullable=False)
    closes = Column(Time, nullable=False)

    branch = relationship("Branch", back_populates="hours")


class HolidayOverride(Base):
    """Special hours on a public holiday or collective leave day.

    `branch_id` NULL applies to every branch. `opens`/`closes` NULL means closed that day.
    """

    __tablename__ = "holiday_overrides"
    __table_args__ = (
        UniqueConstraint("day", "branch_id", "service", name="uq_holiday_overrides_slot"),
        CheckConstraint(
            "(opens IS NULL AND closes IS NULL) OR (opens IS NOT NULL AND closes IS NOT NULL AND opens < closes)",
            name="hours_consistent",
        ),
    )

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, index=True)
    branch_id = Column(ForeignKey("branches.id", ondelete="CASCADE"), nullable=True)
    service = Column(_enum(Service, "service"), nullable=False)
    opens = Column(Time, nullable=True)
    closes = Column(Time, nullable=True)
    name = Column(String(120), nullable=False)


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False)
    nik = Column(String(16), nullable=False, unique=True)
    date_of_birth = Column(Date, nullable=False)
    phone = Column(String(20), nullable=False, index=True)  # E.164, e.g. +6281234567890
    email = Column(String(120), nullable=True)
    address = Column(String(255), nullable=False)
    city = Column(String(80), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utc_now)
    # the second verification factor when the WhatsApp number is not the contract's: unlike the
    # NIK (whose digits encode the date of birth) it cannot be derived from the first factor
    mother_maiden_name = Column(String(120), nullable=True)

    contracts = relationship("Contract", back_populates="customer", order_by="Contract.number")


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("due_day BETWEEN 1 AND 28", name="due_day_range"),
        CheckConstraint("tenor_months > 0", name="tenor_positive"),
        CheckConstraint("principal > 0", name="principal_positive"),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(12), nullable=False, unique=True)
    customer_id = Column(ForeignKey("customers.id"), nullable=False, index=True)
    branch_id = Column(ForeignKey("branches.id"), nullable=False)
    product = Column(_enum(Product, "product"), nullable=False)
    vehicle_brand = Column(String(40), nullable=False)
    vehicle_model = Column(String(60), nullable=False)
    vehicle_year = Column(Integer, nullable=False)
    plate_number = Column(String(12), nullable=False)
    principal = Column(BigInteger, nullable=False)
    tenor_months = Column(Integer, nullable=False)
    monthly_instalment = Column(BigInteger, nullable=False)
    start_date = Column(Date, nullable=False)
    due_day = Column(Integer, nullable=False)
    autodebit_bank = Column(String(20), nullable=True)  # None: pays by transfer/outlet
    virtual_account = Column(String(20), nullable=True)  # the contract's own VA number
    virtual_account_bank = Column(String(20), nullable=True)
    status = Column(_enum(ContractStatus, "contract_status"), nullable=False)

    customer = relationship("Customer", back_populates="contracts")
    branch = relationship("Branch")
    instalments = relationship("Instalment", back_populates="contract", order_by="Instalment.sequence")
    bpkb = relationship("Bpkb", back_populates="contract", uselist=False)


class Instalment(Base):
    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("contract_id", "sequence", name="uq_instalments_contract_sequence"),
        CheckConstraint("late_fee >= 0", name="late_fee_nonnegative"),
    )

    id = Column(Integer, primary_key=True)
    contract_id = Column(ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False)
    sequence = Column(Integer, nullable=False)  # 1 .. tenor
    due_date = Column(Date, nullable=False, index=True)
    amount = Column(BigInteger, nullable=False)
    paid_at = Column(DateTime, nullable=True)
    paid_amount = Column(BigInteger, nullable=True)
    late_fee = Column(BigInteger, nullable=False, default=0)  # charged or accrued, rupiah

    contract = relationship("Contract", back_populates="instalments")


class Payment(Base):
    """A payment as the company received it: paid by the customer at `paid_at` through `channel`,
    posted to the contract at `posted_at` (None while in flight), for one instalment."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payments_contract_paid_at", "contract_id", "paid_at"),
    )

    id = Column(Integer, primary_key=True)
    contract_id = Column(ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False)
    instalment_id = Column(ForeignKey("instalments.id"), nullable=True)
    paid_at = Column(DateTime, nullable=False)
    posted_at = Column(DateTime, nullable=True)
    channel = Column(String(30), nullable=False)  # an id in business/payment_channels.yml
    amount = Column(BigInteger, nullable=False)
    reference = Column(String(40), nullable=False, unique=True)

    contract = relationship("Contract")
    instalment = relationship("Instalment")


class Bpkb(Base):
    """The vehicle ownership book held as collateral for one contract."""

    __tablename__ = "bpkb"

    id = Column(Integer, primary_key=True)
    contract_id = Column(ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False, unique=True)
    status = Column(_enum(BpkbStatus, "bpkb_status"), nullable=False)
    branch_id = Column(ForeignKey("branches.id"), nullable=False)
    since = Column(Date, nullable=False)

    contract = relationship("Contract", back_populates="bpkb")
    branch = relationship("Branch")


class Staff(Base):
    __tablename__ = "staff"

    id = Column(Integer, primary_key=True)
    username = Column(String(60), nullable=False, unique=True)
    full_name = Column(String(120), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(_enum(StaffRole, "staff_role"), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utc_now)


class ServiceRequest(Base):
    __tablename__ = "service_requests"

    id = Column(Integer, primary_key=True)
    reference = Column(String(24), nullable=False, unique=True)
    kind = Column(_enum(RequestKind, "request_kind"), nullable=False)
    status = Column(_enum(RequestStatus, "request_status"), nullable=False)
    contract_id = Column(ForeignKey("contracts.id"), nullable=False, index=True)
    conversation_id = Column(String(255), nullable=True)
    scheduled_for = Column(Date, nullable=True)
    details = Column(JSON, nullable=False, default=dict)
    created_at = Column(DateTime, nullable=False, default=utc_now)

    contract = relationship("Contract")


class Case(Base):
    __tablename__ = "cases"

    id = Column(Integer, primary_key=True)
    reference = Column(String(24), nullable=False, unique=True)
    kind = Column(_enum(CaseKind, "case_kind"), nullable=False)
    status = Column(_enum(CaseStatus, "case_status"), nullable=False)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    customer_id = Column(ForeignKey("customers.id"), nullable=True)
    contract_id = Column(ForeignKey("contracts.id"), nullable=True)
    verified = Column(Boolean, nullable=False, default=False)
    data = Column(JSON, nullable=False, default=dict)
    created_at = Column(DateTime, nullable=False, default=utc_now)

    customer = relationship("Customer")
    contract = relationship("Contract")
    attachments = relationship("CaseAttachment", back_populates="case", order_by="CaseAttachment.id")


class CaseAttachment(Base):
    """A file the customer sent for a case (the proof of a payment that does not show): kept in the
    database with the case, so every replica and the console see it and a backup holds it."""

    __tablename__ = "case_attachments"

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    source = Column(String(24), nullable=False)  # whatsapp | website
    content_type = Column(String(80), nullable=False)
    filename = Column(String(120), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    data = deferred(Column(LargeBinary, nullable=False))  # read only when the file is opened
    received_at = Column(DateTime, nullable=False, default=utc_now)

    case = relationship("Case", back_populates="attachments")


class IssuedDocument(Base):
    """A document made for a verified customer in one conversation (a statement PDF). The link
    the customer gets holds a random token; only its SHA-256 is stored, and the document is
    served only to that conversation until it expires."""

    __tablename__ = "issued_documents"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    contract_id = Column(ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(24), nullable=False)  # statement
    filename = Column(String(120), nullable=False)
    content_type = Column(String(80), nullable=False)
    data = Column(LargeBinary, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utc_now)
    expires_at = Column(DateTime, nullable=False, index=True)


class Escalation(Base):
    """A conversation handed to the CRM monitoring queue.

    At most one escalation per conversation is not yet resolved: a partial unique index makes
    the database itself refuse a second one, so concurrent `escalate()` calls cannot duplicate.
    """

    __tablename__ = "escalations"
    __table_args__ = (
        Index(
            "uq_escalations_conversation_unresolved",
            "conversation_id",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_escalations_status_created", "status", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    channel = Column(String(40), nullable=False)
    reason = Column(_enum(EscalationReason, "escalation_reason"), nullable=False)
    status = Column(_enum(EscalationStatus, "escalation_status"), nullable=False)
    summary = Column(Text, nullable=True)
    case_id = Column(ForeignKey("cases.id"), nullable=True)
    customer_id = Column(ForeignKey("customers.id"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utc_now)
    claimed_at = Column(DateTime, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    assignee_id = Column(ForeignKey("staff.id"), nullable=True)
    note = Column(Text, nullable=True)
    due_at = Column(DateTime, nullable=True)  # OJK resolution deadline (naive UTC)
    customer_notified_at = Column(DateTime, nullable=True)  # "no agent yet" message sent
    client = Column(String(64), nullable=True, index=True)  # hashed client address (flood limits)
    merged_count = Column(Integer, nullable=False, default=0)  # other conversations merged into it

    case = relationship("Case")
    customer = relationship("Customer")
    assignee = relationship("Staff")
    events = relationship("EscalationEvent", back_populates="escalation", order_by="EscalationEvent.id")


class EscalationEvent(Base):
    """Audit row: one per escalation status transition."""

    __tablename__ = "escalation_events"

    id = Column(Integer, primary_key=True)
    escalation_id = Column(ForeignKey("escalations.id", ondelete="CASCADE"), nullable=False, index=True)
    from_status = Column(_enum(EscalationStatus, "from_status"), nullable=True)
    to_status = Column(_enum(EscalationStatus, "to_status"), nullable=False)
    staff_id = Column(ForeignKey("staff.id"), nullable=True)  # None: the bot / system
    note = Column(Text, nullable=True)
    at = Column(DateTime, nullable=False, default=utc_now)

    escalation = relationship("Escalation", back_populates="events")


class StaffSession(Base):
    """A console login. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    csrf_token = Column(String(64), nullable=False)
    staff_id = Column(ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utc_now)
    expires_at = Column(DateTime, nullable=False)
    notice = Column(Text, nullable=True)  # shown once the staff member logs in (failed attempts)

    staff = relationship("Staff")


class AuditEntry(Base):
    """Who did what in the console, and when: logins (also failed ones), claims, replies,
    resolutions. Failed logins here also drive the login rate limit."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utc_now)
    staff_id = Column(ForeignKey("staff.id"), nullable=True)
    username = Column(String(60), nullable=True)  # as typed, for failed logins
    action = Column(String(40), nullable=False)
    escalation_id = Column(ForeignKey("escalations.id", ondelete="SET NULL"), nullable=True, index=True)
    client = Column(String(64), nullable=True)  # remote address
    detail = Column(Text, nullable=True)

    staff = relationship("Staff")


class WhatsAppInboxMessage(Base):
    """Every WhatsApp message id seen by the webhook. Meta redelivers webhooks (late, twice);
    the primary key makes each message processed once, also across restarts, and a message
    stored but not processed (a crash in between) is processed when the channel starts."""

    __tablename__ = "whatsapp_inbox"
    __table_args__ = (Index("ix_whatsapp_inbox_pending", "processed_at", "received_at"),)

    message_id = Column(String(128), primary_key=True)
    wa_id = Column(String(32), nullable=False)
    kind = Column(String(24), nullable=False)
    payload = Column(JSON, nullable=False)
    # microseconds: the order of one second's lines and the drainer's settle window need them
    received_at = Column(DateTime, nullable=False, default=utc_now_exact)
    processed_at = Column(DateTime, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)


class NluFeedback(Base):
    """Trainer work on what the bot misunderstood: a message an agent flagged, or a trainer's
    decision on an inbox message (labelled with an intent and written to the training data, or
    dismissed). Texts are stored with NIK, phone and contract numbers masked."""

    __tablename__ = "nlu_feedback"
    __table_args__ = (Index("ix_nlu_feedback_key", "text_key"),)

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)  # flag | label | dismiss
    text = Column(Text, nullable=False)  # masked
    text_key = Column(String(255), nullable=False)  # lower-case, spacing collapsed: groups the inbox
    intent = Column(String(80), nullable=True)  # label: the chosen intent
    predicted_intent = Column(String(80), nullable=True)
    conversation_id = Column(String(255), nullable=True)
    staff_id = Column(ForeignKey("staff.id"), nullable=True)
    at = Column(DateTime, nullable=False, default=utc_now)


class VerificationFailure(Base):
    """One failed verification, counted per contract across conversations and channels and per
    client address (crm.services.verification). The contract number is kept as typed and
    normalised, whether or not such a contract exists."""

    __tablename__ = "verification_failures"
    __table_args__ = (
        Index("ix_verification_failures_contract_at", "contract_number", "at"),
        Index("ix_verification_failures_client_at", "client", "at"),
    )

    id = Column(Integer, primary_key=True)
    contract_number = Column(String(32), nullable=False)
    client = Column(String(64), nullable=True)
    conversation_id = Column(String(255), nullable=True)
    at = Column(DateTime, nullable=False, default=utc_now)


class VerificationLock(Base):
    """A contract whose verification is locked after too many failures, until `until` or until a
    staff member releases it in the console."""

    __tablename__ = "verification_locks"

    id = Column(Integer, primary_key=True)
    contract_number = Column(String(32), nullable=False, index=True)
    locked_at = Column(DateTime, nullable=False, default=utc_now)
    until = Column(DateTime, nullable=False)
    failures = Column(Integer, nullable=False)
    escalation_id = Column(ForeignKey("escalations.id"), nullable=True)
    released_at = Column(DateTime, nullable=True)
    released_by_id = Column(ForeignKey("staff.id"), nullable=True)

    released_by = relationship("Staff")


class MessageTemplate(Base):
    """A WhatsApp message template: its text from business/whatsapp_templates.yml, its approval
    state as Meta last reported it. Only an approved template is sent."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("name", "language", name="uq_message_templates_name_language"),)

    id = Column(Integer, primary_key=True)
    name = Column(String(512), nullable=False)
    language = Column(String(8), nullable=False)
    category = Column(_enum(TemplateCategory, "template_category"), nullable=False)
    body = Column(Text, nullable=False)
    parameters = Column(JSON, nullable=False, default=list)  # default audience field per {{n}}
    buttons = Column(JSON, nullable=False, default=list)  # quick-reply titles
    use = Column(String(16), nullable=False, default="campaigns")  # campaigns | agents (after 24 h)
    status = Column(_enum(TemplateStatus, "template_status"), nullable=False)
    meta_id = Column(String(40), nullable=True)
    reason = Column(Text, nullable=True)  # Meta's rejection reason or our note
    synced_at = Column(DateTime, nullable=True)


class WhatsAppContact(Base):
    """A customer's WhatsApp consent: opted in (when, how), opted out of marketing ("STOP") and
    of reminders; a number WhatsApp said it cannot reach. No row: never opted in."""

    __tablename__ = "whatsapp_contacts"

    customer_id = Column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    opted_in_at = Column(DateTime, nullable=True)
    opt_in_source = Column(String(40), nullable=True)  # contract_form | whatsapp_reply | console
    marketing_opt_out_at = Column(DateTime, nullable=True)
    reminders_opt_out_at = Column(DateTime, nullable=True)
    not_on_whatsapp_at = Column(DateTime, nullable=True)  # Graph API error 131026


class Campaign(Base):
    """An outbound WhatsApp campaign: one approved template, its parameters, a named audience
    and a send time. Any change resets the approvals (`version` counts the changes)."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status_send_at", "status", "send_at"),)

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False)
    template_id = Column(ForeignKey("message_templates.id"), nullable=False)
    parameters = Column(JSON, nullable=False, default=list)  # per {{n}}: "{field}" or fixed text
    audience = Column(String(40), nullable=False)  # a name in crm.services.audiences.AUDIENCES
    audience_options = Column(JSON, nullable=False, default=dict)
    send_at = Column(DateTime, nullable=False)  # naive UTC
    status = Column(_enum(CampaignStatus, "campaign_status"), nullable=False)
    version = Column(Integer, nullable=False, default=1)
    created_by_id = Column(ForeignKey("staff.id"), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utc_now)
    updated_at = Column(DateTime, nullable=False, default=utc_now)
    materialized_at = Column(DateTime, nullable=True)  # the recipient list was written
    excluded = Column(JSON, nullable=False, default=dict)  # reason -> customers left out, when written
    finished_at = Column(DateTime, nullable=True)
    note = Column(Text, nullable=True)  # why it paused (template paused by Meta, throttled...)

    template = relationship("MessageTemplate")
    created_by = relationship("Staff")
    approvals = relationship("CampaignApproval", back_populates="campaign", order_by="CampaignApproval.id")


class CampaignApproval(Base):
    """One approval of one version of a campaign, by a role (department head, corporate secretary)."""

    __tablename__ = "campaign_approvals"
    __table_args__ = (UniqueConstraint("campaign_id", "version", "role", name="uq_campaign_approvals_step"),)

    id = Column(Integer, primary_key=True)
    campaign_id = Column(ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    version = Column(Integer, nullable=False)
    role = Column(_enum(StaffRole, "approval_role"), nullable=False)
    staff_id = Column(ForeignKey("staff.id"), nullable=False)
    at = Column(DateTime, nullable=False, default=utc_now)

    campaign = relationship("Campaign", back_populates="approvals")
    staff = relationship("Staff")


class CampaignRecipient(Base):
    """One (campaign, customer): sent at most once. The sender claims a pending row before the
    Graph API call; the status webhook (and its biz_opaque_callback_data) settles the rest."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_recipients_once"),
        Index("ix_campaign_recipients_campaign_status", "campaign_id", "status"),
        Index("ix_campaign_recipients_phone_sent", "phone", "sent_at"),
        Index("ix_campaign_recipients_customer_key", "customer_id", "message_key"),
    )

    id = Column(Integer, primary_key=True)
    campaign_id = Column(ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    customer_id = Column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    contract_id = Column(ForeignKey("contracts.id", ondelete="SET NULL"), nullable=True)
    phone = Column(String(20), nullable=False)  # wa_id: digits only
    parameters = Column(JSON, nullable=False, default=list)  # the rendered {{n}} values
    notice = Column(JSON, nullable=False, default=dict)  # what the bot needs to answer a reply
    message_key = Column(String(64), nullable=False)  # SHA-256 of template + parameters
    status = Column(_enum(RecipientStatus, "recipient_status"), nullable=False)
    message_id = Column(String(128), nullable=True, unique=True)
    claimed_at = Column(DateTime, nullable=True)
    sent_at = Column(DateTime, nullable=True)
    delivered_at = Column(DateTime, nullable=True)
    read_at = Column(DateTime, nullable=True)
    failed_at = Column(DateTime, nullable=True)
    error_code = Column(Integer, nullable=True)
    error_title = Column(String(255), nullable=True)
    replied_at = Column(DateTime, nullable=True)
    opted_out_at = Column(DateTime, nullable=True)

    campaign = relationship("Campaign")
    customer = relationship("Customer")


class WhatsAppStatus(Base):
    """Every delivery status the webhook brought, as it came (a repeat is stored once); the
    recipient row holds the furthest state. A status for an unknown message id stays here."""

    __tablename__ = "whatsapp_statuses"
    __table_args__ = (UniqueConstraint("message_id", "status", name="uq_whatsapp_statuses_once"),)

    id = Column(Integer, primary_key=True)
    message_id = Column(String(128), nullable=False)
    status = Column(String(16), nullable=False)
    at = Column(DateTime, nullable=False)  # Meta's timestamp (UTC)
    recipient_id = Column(ForeignKey("campaign_recipients.id", ondelete="SET NULL"), nullable=True, index=True)
    error_code = Column(Integer, nullable=True)
    error_title = Column(String(255), nullable=True)
    received_at = Column(DateTime, nullable=False, default=utc_now)


class VerificationCode(Base):
    """A one-time code sent to a contract's WhatsApp number for a website verification: only a
    keyed hash is stored; it expires within minutes, is used once and allows few attempts."""

    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_contract_created", "contract_number", "created_at"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    contract_number = Column(String(32), nullable=False)
    code_hash = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utc_now)
    expires_at = Column(DateTime, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    used_at = Column(DateTime, nullable=True)  # verified with it, or burnt by too many attempts


class ConversationSession(Base):
    """One conversation session and its outcome (crm.outcomes), written by the outcome refresh
    (crm.services.session_outcomes) from Rasa's tracker store: the dashboard and the weekly
    report count these rows instead of rereading trackers. A session is identified by its
    conversation and the id of its first event in the tracker store; the reviewer's marks live
    on the same row and survive a refresh."""

    __tablename__ = "conversation_sessions"
    __table_args__ = (
        UniqueConstraint("conversation_id", "first_event_id", name="uq_conversation_sessions_start"),
        Index("ix_conversation_sessions_day_channel", "day", "channel"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    first_event_id = Column(BigInteger, nullable=False)
    last_event_id = Column(BigInteger, nullable=False)
    started_at = Column(DateTime, nullable=False)  # naive UTC
    ended_at = Column(DateTime, nullable=False)
    day = Column(Date, nullable=False)  # WIB day the session started
    hour = Column(Integer, nullable=False)  # WIB hour it started
    channel = Column(String(40), nullable=False)
    outcome = Column(String(20), nullable=False, index=True)
    reason = Column(String(120), nullable=True)  # escalated: queue reason; abandoned: form:slot
    request_intent = Column(String(80), nullable=True)  # the first intent that is not small talk
    intents = Column(JSON, nullable=False, default=list)  # distinct intents, in order
    messages = Column(Integer, nullable=False, default=0)
    fallbacks = Column(Integer, nullable=False, default=0)
    low_confidence = Column(Integer, nullable=False, default=0)
    review_correct = Column(Boolean, nullable=True)  # answered correctly (reviewer)
    review_solved = Column(Boolean, nullable=True)  # the customer got a solution (reviewer)
    review_tags = Column(String(255), nullable=True)  # comma-separated
    review_note = Column(Text, nullable=True)
    reviewer_id = Column(ForeignKey("staff.id"), nullable=True)
    reviewed_at = Column(DateTime, nullable=True)

    reviewer = relationship("Staff")


class OutcomeRun(Base):
    """One outcome refresh: the tracker events it read (id range) and what it wrote. The last
    run's `to_event_id` is where the next one starts."""

    __tablename__ = "outcome_runs"

    id = Column(Integer, primary_key=True)
    trigger = Column(String(16), nullable=False)  # nightly | console | command
    started_at = Column(DateTime, nullable=False, default=utc_now)
    finished_at = Column(DateTime, nullable=True)
    from_event_id = Column(BigInteger, nullable=False)
    to_event_id = Column(BigInteger, nullable=False)
    conversations = Column(Integer, nullable=False, default=0)
    sessions = Column(Integer, nullable=False, default=0)


class SatisfactionSurvey(Base):
    """A satisfaction question put to a customer (crm.services.satisfaction): after the bot
    answered (kind bot: the intent answered) or after an agent resolved a queue item (kind agent:
    the item and the agent). `how` is buttons (in the chat), template (WhatsApp, outside the
    24-hour window) or skipped (could not be asked: counted as not asked). The rating is 1-5;
    the comment is what the customer wrote after a low rating."""

    __tablename__ = "satisfaction_surveys"
    __table_args__ = (Index("ix_satisfaction_surveys_conversation_asked", "conversation_id", "asked_at"),)

    id = Column(Integer, primary_key=True)
    kind = Column(String(8), nullable=False)  # bot | agent
    conversation_id = Column(String(255), nullable=False)
    channel = Column(String(40), nullable=False)
    customer_id = Column(ForeignKey("customers.id"), nullable=True, index=True)
    intent = Column(String(80), nullable=True)  # bot: the question answered; agent: the queue reason
    escalation_id = Column(ForeignKey("escalations.id", ondelete="SET NULL"), nullable=True)
    staff_id = Column(ForeignKey("staff.id"), nullable=True)  # the agent who resolved the item
    how = Column(String(10), nullable=False)  # buttons | template | skipped
    asked_at = Column(DateTime, nullable=False, default=utc_now, index=True)
    score = Column(Integer, nullable=True)
    answered_at = Column(DateTime, nullable=True)
    comment = Column(Text, nullable=True)  # masked

    staff = relationship("Staff")
