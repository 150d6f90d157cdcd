"""Outbound WhatsApp campaigns: drafted by a CRM analyst, approved by the department head (and
the corporate secretary for marketing), sent once per customer, delivery tracked.

Exactly once: when a campaign starts, its recipients are written in one transaction (one row per
(campaign, customer), a unique key); a sender claims a pending row with a conditional UPDATE
before it calls the Graph API, so two senders never send the same row; a row left `sending` by a
sender that died is never sent again: the status webhook, which carries the row id in
`biz_opaque_callback_data`, settles it. Every step of the workflow is audited.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Dict, Iterator, List, Optional, Tuple

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.formatting import mask_phone
from crm.models import (
    Campaign,
    CampaignApproval,
    CampaignRecipient,
    CampaignStatus,
    MessageTemplate,
    RecipientStatus,
    Staff,
    StaffRole,
    TemplateCategory,
    TemplateStatus,
    WhatsAppStatus,
)
from crm.services import audiences, consent, templates
from crm.services import staff as staff_service
from crm.services.templates import placeholder_count, render

DRAFTERS = {StaffRole.ANALYST, StaffRole.SUPERVISOR}
APPROVERS = {StaffRole.DEPARTMENT_HEAD, StaffRole.CORPORATE_SECRETARY}
STEERERS = {StaffRole.DEPARTMENT_HEAD, StaffRole.SUPERVISOR}  # may pause, resume, cancel any campaign
EDITABLE = {CampaignStatus.DRAFT, CampaignStatus.SUBMITTED, CampaignStatus.APPROVED}
MAX_PARAMETER = 200  # characters of one filled {{n}}
OPAQUE_PREFIX = "campaign-recipient:"
REPLY_WINDOW = timedelta(days=7)  # a customer's message this soon after a notice is its reply
IN_DOUBT_AFTER = timedelta(minutes=5)  # claimed this long ago, no answer, no status: in doubt
RANK = {
    RecipientStatus.PENDING: 0,
    RecipientStatus.SENDING: 1,
    RecipientStatus.SENT: 2,
    RecipientStatus.DELIVERED: 3,
    RecipientStatus.READ: 4,
}
NOT_ON_WHATSAPP = 131026
THROTTLED = {130429, 131056}  # pair rate limit, throughput: wait and try again
TEMPLATE_UNUSABLE = {132000, 132001, 132005, 132007, 132012, 132015, 132016}


class CampaignError(ValueError):
    """A refused campaign step; the message is for the staff member (Indonesian)."""


@dataclass
class Preview:
    total: int = 0  # members of the audience
    included: int = 0
    excluded: Dict[str, int] = field(default_factory=dict)
    samples: List[Tuple[str, str]] = field(default_factory=list)  # (masked phone, message)
    problems: List[str] = field(default_factory=list)  # e.g. a parameter too long for some customers


# --- drafting and approving -----------------------------------------------------------------


def _fill(parameters: List[str], values: Dict[str, str]) -> List[str]:
    """Each {{n}}: "{field}" takes the customer's value, anything else is fixed text."""
    filled = []
    for parameter in parameters:
        if parameter.startswith("{") and parameter.endswith("}"):
            filled.append(values.get(parameter[1:-1], ""))
        else:
            filled.append(parameter)
    return filled


def check_parameters(template: MessageTemplate, audience: audiences.Audience, parameters: List[str]) -> List[str]:
    count = placeholder_count(template.body)
    cleaned = [" ".join(str(p or "").split()) for p in parameters]
    if len(cleaned) != count:
        raise CampaignError(f"Template {template.name} butuh {count} parameter, bukan {len(cleaned)}.")
    for index, parameter in enumerate(cleaned, start=1):
        if not parameter:
            raise CampaignError(f"Parameter {{{{{index}}}}} kosong: isi teks atau pilih data nasabah.")
        if len(parameter) > MAX_PARAMETER:
            raise CampaignError(f"Parameter {{{{{index}}}}} terlalu panjang (maks. {MAX_PARAMETER} karakter).")
        if parameter.startswith("{") and parameter.endswith("}") and parameter[1:-1] not in audience.fields:
            raise CampaignError(
                f"Parameter {{{{{index}}}}}: data {parameter} tidak ada untuk audiens ini "
                f"(tersedia: {', '.join('{' + f + '}' for f in audience.fields)})."
            )
    return cleaned


def default_parameters(template: MessageTemplate) -> List[str]:
    return ["{" + p + "}" if p else "" for p in (template.parameters or [])]


def _require(staff: Staff, roles: set, action: str) -> None:
    if staff.role not in roles:
        raise CampaignError(f"Peran {staff.role.value} tidak boleh {action}.")


def _load(session: Session, campaign_id: int, lock: bool = False) -> Campaign:
    query = select(Campaign).where(Campaign.id == campaign_id)
    campaign = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if campaign is None:
        raise CampaignError("Kampanye tidak ditemukan.")
    return campaign


def get(session: Session, campaign_id: int) -> Campaign:
    return _load(session, campaign_id)


def save(
    session: Session,
    staff: Staff,
    *,
    name: str,
    template_id: int,
    parameters: List[str],
    audience: str,
    options: Dict[str, Any],
    send_at: datetime,
    today: date,
    now: datetime,
    campaign_id: Optional[int] = None,
    client: Optional[str] = None,
) -> Campaign:
    """Create a draft, or change one (any change makes it a draft again: approvals reset)."""
    _require(staff, DRAFTERS, "menyusun kampanye")
    name = " ".join((name or "").split())
    if not 3 <= len(name) <= 120:
        raise CampaignError("Nama kampanye 3 sampai 120 karakter.")
    template = session.get(MessageTemplate, template_id)
    if template is None or template.use != "campaigns":
        raise CampaignError("Template tidak ditemukan.")
    chosen = audiences.AUDIENCES.get(audience)
    if chosen is None:
        raise CampaignError("Audiens tidak dikenal.")
    try:
        parsed = audiences.parse_options(chosen, options, today)
    except ValueError as error:
        raise CampaignError(str(error))
    if chosen.purpose == "marketing" and template.category is not TemplateCategory.MARKETING:
        raise CampaignError("Ucapan dan promo memakai template kategori marketing.")
    if chosen.purpose != "marketing" and template.category is TemplateCategory.MARKETING:
        raise CampaignError("Pemberitahuan dan pengingat memakai template kategori utility.")
    cleaned = check_parameters(template, chosen, parameters)
    if send_at < now - timedelta(minutes=1):
        raise CampaignError("Waktu kirim sudah lewat; pilih waktu yang akan datang.")
    if campaign_id is None:
        campaign = Campaign(created_by_id=staff.id, created_at=now, version=1, excluded={})
        session.add(campaign)
        action = "campaign_draft"
    else:
        campaign = _load(session, campaign_id, lock=True)
        if campaign.status not in EDITABLE:
            raise CampaignError("Kampanye yang sudah dikirim, dibatalkan atau selesai tidak dapat diubah.")
        campaign.version += 1
        action = "campaign_change"
    campaign.name, campaign.template_id, campaign.parameters = name, template.id, cleaned
    campaign.audience, campaign.audience_options = audience, audiences.stored_options(parsed)
    campaign.send_at, campaign.status, campaign.updated_at = send_at, CampaignStatus.DRAFT, now
    session.flush()
    staff_service.audit(
        session, action, staff=staff, client=client, detail=f"campaign {campaign.id} v{campaign.version}"
    )
    return campaign


def required_roles(campaign: Campaign) -> List[StaffRole]:
    roles = [StaffRole.DEPARTMENT_HEAD]
    if campaign.template.category is TemplateCategory.MARKETING:
        roles.append(StaffRole.CORPORATE_SECRETARY)
    return roles


def current_approvals(campaign: Campaign) -> Dict[StaffRole, CampaignApproval]:
    return {a.role: a for a in campaign.approvals if a.version == campaign.version}


def submit(session: Session, staff: Staff, campaign_id: int, now: datetime, client: Optional[str] = None) -> Campaign:
    _require(staff, DRAFTERS, "mengajukan kampanye")
    campaign = _load(session, campaign_id, lock=True)
    if campaign.status is not CampaignStatus.DRAFT:
        raise CampaignError("Hanya draf yang dapat diajukan.")
    if campaign.template.status is not TemplateStatus.APPROVED:
        raise CampaignError(
            f"Template {campaign.template.name} belum disetujui Meta ({campaign.template.status.value})."
        )
    campaign.status, campaign.updated_at = CampaignStatus.SUBMITTED, now
    staff_service.audit(
        session, "campaign_submit", staff=staff, client=client, detail=f"campaign {campaign.id} v{campaign.version}"
    )
    return campaign


def approve(session: Session, staff: Staff, campaign_id: int, now: datetime, client: Optional[str] = None) -> Campaign:
    """One approval for the current version; the campaign is approved when every role it needs
    has approved. Nobody approves a campaign they drafted or last changed."""
    _require(staff, APPROVERS, "menyetujui kampanye")
    campaign = _load(session, campaign_id, lock=True)
    if campaign.status is not CampaignStatus.SUBMITTED:
        raise CampaignError("Kampanye ini tidak sedang menunggu persetujuan.")
    if campaign.created_by_id == staff.id or _last_editor(session, campaign) == staff.id:
        raise CampaignError("Anda tidak dapat menyetujui kampanye yang Anda susun sendiri.")
    needed = required_roles(campaign)
    if staff.role not in needed:
        raise CampaignError("Kampanye ini tidak memerlukan persetujuan peran Anda.")
    if staff.role in current_approvals(campaign):
        raise CampaignError("Peran Anda sudah menyetujui versi ini.")
    if campaign.template.status is not TemplateStatus.APPROVED:
        raise CampaignError(
            f"Template {campaign.template.name} tidak lagi disetujui Meta ({campaign.template.status.value})."
        )
    session.add(
        CampaignApproval(campaign_id=campaign.id, version=campaign.version, role=staff.role, staff_id=staff.id, at=now)
    )
    session.flush()
    session.refresh(campaign)
    if all(role in current_approvals(campaign) for role in needed):
        campaign.status = CampaignStatus.APPROVED
    campaign.updated_at = now
    staff_service.audit(
        session,
        "campaign_approve",
        staff=staff,
        client=client,
        detail=f"campaign {campaign.id} v{campaign.version} as {staff.role.value}",
    )
    return campaign


def _last_editor(session: Session, campaign: Campaign) -> Optional[int]:
    from crm.models import AuditEntry

    return session.execute(
        select(AuditEntry.staff_id)
        .where(
            AuditEntry.action.in_(("campaign_draft", "campaign_change")),
            AuditEntry.detail == f"campaign {campaign.id} v{campaign.version}",
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def steer(
    session: Session, staff: Staff, campaign_id: int, action: str, now: datetime, client: Optional[str] = None
) -> Campaign:
    """pause | resume | cancel. The department head and supervisors steer any campaign; its
    drafter may pause or cancel their own."""
    campaign = _load(session, campaign_id, lock=True)
    own = campaign.created_by_id == staff.id
    if staff.role not in STEERERS and not (own and action in ("pause", "cancel")):
        raise CampaignError(f"Peran {staff.role.value} tidak boleh mengubah jalannya kampanye ini.")
    if action == "pause":
        if campaign.status not in (CampaignStatus.APPROVED, CampaignStatus.SENDING):
            raise CampaignError("Hanya kampanye yang disetujui atau sedang dikirim yang dapat dijeda.")
        campaign.status, campaign.note = CampaignStatus.PAUSED, f"dijeda oleh {staff.full_name}"
    elif action == "resume":
        if campaign.status is not CampaignStatus.PAUSED:
            raise CampaignError("Kampanye ini tidak sedang dijeda.")
        if campaign.template.status is not TemplateStatus.APPROVED:
            raise CampaignError(
                f"Template {campaign.template.name} belum disetujui Meta ({campaign.template.status.value})."
            )
        campaign.status = CampaignStatus.SENDING if campaign.materialized_at else CampaignStatus.APPROVED
        campaign.note = None
    elif action == "cancel":
        if campaign.status in (CampaignStatus.DONE, CampaignStatus.CANCELLED):
            raise CampaignError("Kampanye ini sudah selesai atau dibatalkan.")
        campaign.status, campaign.finished_at = CampaignStatus.CANCELLED, now
    else:
        raise CampaignError("Tindakan tidak dikenal.")
    campaign.updated_at = now
    staff_service.audit(session, f"campaign_{action}", staff=staff, client=client, detail=f"campaign {campaign.id}")
    return campaign


def requeue_in_doubt(
    session: Session, staff: Staff, campaign_id: int, now: datetime, client: Optional[str] = None
) -> int:
    """A supervisor's or the department head's decision: rows left in doubt by a sender that died
    mid-send (no answer, no status since IN_DOUBT_AFTER) are sent again. Some may reach the
    customer twice; the page says so before the button. Returns how many."""
    if staff.role not in STEERERS:
        raise CampaignError(f"Peran {staff.role.value} tidak boleh mengirim ulang.")
    campaign = _load(session, campaign_id, lock=True)
    if campaign.status is CampaignStatus.CANCELLED:
        raise CampaignError("Kampanye ini dibatalkan.")
    count = session.execute(
        update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.status == RecipientStatus.SENDING,
            CampaignRecipient.message_id.is_(None),
            CampaignRecipient.claimed_at < now - IN_DOUBT_AFTER,
        )
        .values(status=RecipientStatus.PENDING, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if count and campaign.status is CampaignStatus.DONE:
        campaign.status, campaign.finished_at = CampaignStatus.SENDING, None
    staff_service.audit(
        session, "campaign_requeue", staff=staff, client=client, detail=f"campaign {campaign_id}: {count}"
    )
    return count


def list_campaigns(session: Session, limit: int = 100) -> List[Campaign]:
    return list(session.execute(select(Campaign).order_by(Campaign.id.desc()).limit(limit)).scalars())


# --- who gets it ----------------------------------------------------------------------------


def message_key(template: MessageTemplate, values: List[str]) -> str:
    """The same template with the same values is the same message (sent once per customer)."""
    raw = json.dumps([template.name, template.language, values], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _already_sent(session: Session, campaign_id: int, keys: Dict[int, str]) -> set:
    if not keys:
        return set()
    rows = session.execute(
        select(CampaignRecipient.customer_id, CampaignRecipient.message_key).where(
            CampaignRecipient.customer_id.in_(list(keys)),
            CampaignRecipient.campaign_id != campaign_id,
            CampaignRecipient.status.in_(
                [RecipientStatus.SENDING, RecipientStatus.SENT, RecipientStatus.DELIVERED, RecipientStatus.READ]
            ),
        )
    )
    return {customer_id for customer_id, key in rows if keys.get(customer_id) == key}


@dataclass(frozen=True)
class Decision:
    member: audiences.Member
    values: List[str]
    key: str
    reason: Optional[str]  # None: included


def decide(
    session: Session, campaign: Campaign, today: date, brand: str, notices_to_opted_out: bool
) -> Iterator[Decision]:
    """Every member of the campaign's audience with its filled parameters and why it is left out
    (consent, number, already sent), streamed in chunks."""
    audience = audiences.AUDIENCES[campaign.audience]
    stream = audiences.members(session, campaign.audience, campaign.audience_options, today, brand)
    chunk: List[audiences.Member] = []

    def settle(members: List[audiences.Member]) -> Iterator[Decision]:
        contacts = consent.contacts(session, [m.customer_id for m in members])
        filled = {m.customer_id: _fill(campaign.parameters, m.values) for m in members}
        keys = {m.customer_id: message_key(campaign.template, filled[m.customer_id]) for m in members}
        repeated = _already_sent(session, campaign.id or 0, keys)
        for member in members:
            reason = consent.exclusion(
                contacts.get(member.customer_id), member.phone, audience.purpose, notices_to_opted_out
            )
            if reason is None and member.customer_id in repeated:
                reason = "already_sent"
            yield Decision(member, filled[member.customer_id], keys[member.customer_id], reason)

    for member in stream:
        chunk.append(member)
        if len(chunk) >= audiences.CHUNK:
            yield from settle(chunk)
            chunk = []
    if chunk:
        yield from settle(chunk)


def _too_long(values: List[str]) -> bool:
    return any(len(v) > MAX_PARAMETER or not v.strip() for v in values)


def preview(
    session: Session, campaign: Campaign, today: date, brand: str, notices_to_opted_out: bool, samples: int = 3
) -> Preview:
    """The audience count, who is left out and why, and the exact message for a few recipients."""
    result = Preview()
    for decision in decide(session, campaign, today, brand, notices_to_opted_out):
        result.total += 1
        if decision.reason:
            result.excluded[decision.reason] = result.excluded.get(decision.reason, 0) + 1
            continue
        result.included += 1
        if _too_long(decision.values) and len(result.problems) < 5:
            result.problems.append(
                f"{mask_phone(decision.member.phone)}: parameter kosong atau terlalu panjang; tidak akan dikirim"
            )
        if len(result.samples) < samples:
            result.samples.append((mask_phone(decision.member.phone), render(campaign.template.body, decision.values)))
    return result


def materialize(
    session: Session, campaign: Campaign, today: date, brand: str, notices_to_opted_out: bool, now: datetime
) -> int:
    """Write the recipient rows (in the caller's transaction: all or none) and start sending."""
    excluded: Dict[str, int] = {}
    count = 0
    batch: List[Dict[str, Any]] = []
    for decision in decide(session, campaign, today, brand, notices_to_opted_out):
        if decision.reason:
            excluded[decision.reason] = excluded.get(decision.reason, 0) + 1
            continue
        member = decision.member
        batch.append(
            dict(
                campaign_id=campaign.id,
                customer_id=member.customer_id,
                contract_id=member.contract_id,
                phone=member.wa_id,
                parameters=decision.values,
                notice={**member.notice, "campaign": campaign.id, "template": campaign.template.name},
                message_key=decision.key,
                status=RecipientStatus.PENDING,
            )
        )
        if len(batch) >= audiences.CHUNK:
            session.execute(CampaignRecipient.__table__.insert(), batch)
            count += len(batch)
            batch = []
    if batch:
        session.execute(CampaignRecipient.__table__.insert(), batch)
        count += len(batch)
    campaign.excluded, campaign.materialized_at = excluded, now
    campaign.status = CampaignStatus.SENDING
    return count


# --- sending ---------------------------------------------------------------------------------


def due(session: Session, now: datetime) -> List[int]:
    """Campaigns to work on: approved ones whose time has come, and those sending."""
    return list(
        session.execute(
            select(Campaign.id)
            .where(
                or_(
                    and_(Campaign.status == CampaignStatus.APPROVED, Campaign.send_at <= now),
                    Campaign.status == CampaignStatus.SENDING,
                )
            )
            .order_by(Campaign.send_at, Campaign.id)
        ).scalars()
    )


def start(
    session: Session, campaign_id: int, today: date, brand: str, notices_to_opted_out: bool, now: datetime
) -> Optional[Campaign]:
    """Materialize an approved campaign whose time has come (once: under the row lock, in one
    transaction); a campaign whose template Meta paused or rejected is paused with the reason."""
    campaign = _load(session, campaign_id, lock=True)
    if campaign.status not in (CampaignStatus.APPROVED, CampaignStatus.SENDING):
        return None
    if campaign.template.status is not TemplateStatus.APPROVED:
        pause_for(
            campaign, f"template {campaign.template.name} berstatus {campaign.template.status.value} di Meta", now
        )
        return None
    if campaign.materialized_at is None:
        materialize(session, campaign, today, brand, notices_to_opted_out, now)
    return campaign


def pause_for(campaign: Campaign, reason: str, now: datetime) -> None:
    campaign.status, campaign.note, campaign.updated_at = CampaignStatus.PAUSED, reason, now


def claim(session: Session, campaign_id: int, now: datetime, limit: int) -> List[CampaignRecipient]:
    """Up to `limit` pending recipients, each marked `sending` by a conditional UPDATE: a row
    another sender took in between is skipped, so no row is sent twice."""
    candidates = (
        session.execute(
            select(CampaignRecipient.id)
            .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status == RecipientStatus.PENDING)
            .order_by(CampaignRecipient.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    taken = []
    for recipient_id in candidates:
        result = session.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.id == recipient_id, CampaignRecipient.status == RecipientStatus.PENDING)
            .values(status=RecipientStatus.SENDING, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            taken.append(recipient_id)
    if not taken:
        return []
    return list(
        session.execute(
            select(CampaignRecipient).where(CampaignRecipient.id.in_(taken)).order_by(CampaignRecipient.id)
        ).scalars()
    )


def opaque(recipient_id: int) -> str:
    return f"{OPAQUE_PREFIX}{recipient_id}"


def template_message(recipient: CampaignRecipient, template: MessageTemplate) -> Dict[str, Any]:
    """The Graph API body of the campaign's template message to `recipient`."""
    return templates.template_message(
        template.name,
        template.language,
        recipient.phone,
        list(recipient.parameters),
        quick_replies=templates.quick_reply_payloads(template),
        opaque=opaque(recipient.id),
    )


def sent(session: Session, recipient_id: int, message_id: str, now: datetime) -> None:
    row = session.get(CampaignRecipient, recipient_id, with_for_update=True)
    if row is None:
        return
    row.message_id = row.message_id or message_id
    row.sent_at = row.sent_at or now
    if RANK.get(row.status, 9) < RANK[RecipientStatus.SENT]:
        row.status = RecipientStatus.SENT


def failed(session: Session, recipient_id: int, code: Optional[int], title: str, now: datetime) -> None:
    row = session.get(CampaignRecipient, recipient_id, with_for_update=True)
    if row is None:
        return
    row.status, row.failed_at, row.error_code, row.error_title = RecipientStatus.FAILED, now, code, title[:255]
    if code == NOT_ON_WHATSAPP:
        consent.not_on_whatsapp(session, row.customer_id, now)


def release(session: Session, recipient_id: int) -> None:
    """Back to pending: the Graph API did not take it (throttled, down); it is tried again."""
    session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.id == recipient_id, CampaignRecipient.status == RecipientStatus.SENDING)
        .values(status=RecipientStatus.PENDING, claimed_at=None)
        .execution_options(synchronize_session=False)
    )


def finish_if_done(session: Session, campaign_id: int, now: datetime) -> bool:
    campaign = _load(session, campaign_id, lock=True)
    if campaign.status is not CampaignStatus.SENDING:
        return False
    left = session.execute(
        select(func.count())
        .select_from(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status == RecipientStatus.PENDING)
    ).scalar_one()
    if left:
        return False
    campaign.status, campaign.finished_at = CampaignStatus.DONE, now
    return True


def recipients_since(session: Session, since: datetime, besides: int = 0) -> int:
    """Unique numbers campaigns reached since `since` or are sending to now, row `besides` left
    out (WhatsApp's rolling 24-hour limit on business-initiated conversations)."""
    return session.execute(
        select(func.count(func.distinct(CampaignRecipient.phone))).where(
            or_(CampaignRecipient.sent_at >= since, CampaignRecipient.status == RecipientStatus.SENDING),
            CampaignRecipient.id != besides,
        )
    ).scalar_one()


def recently_reached(session: Session, phone: str, since: datetime) -> bool:
    return (
        session.execute(
            select(CampaignRecipient.id)
            .where(CampaignRecipient.phone == phone, CampaignRecipient.sent_at >= since)
            .limit(1)
        ).first()
        is not None
    )


# --- what came back ---------------------------------------------------------------------------

STATUS_NAMES = {
    "sent": RecipientStatus.SENT,
    "delivered": RecipientStatus.DELIVERED,
    "read": RecipientStatus.READ,
    "failed": RecipientStatus.FAILED,
}


def _timestamp(raw: Any, now: datetime) -> datetime:
    try:
        return datetime.utcfromtimestamp(int(str(raw)))
    except (TypeError, ValueError, OverflowError, OSError):
        return now


def record_status(session: Session, item: Dict[str, Any], now: datetime) -> str:
    """One entry of a webhook's `statuses`: logged once (a repeat is ignored), then applied to its
    recipient so the furthest state wins whatever the order (read after delivered after sent;
    failed unless it was already delivered). Returns 'duplicate', 'unknown' or 'applied'."""
    message_id, name = str(item.get("id") or "")[:128], str(item.get("status") or "")[:16]
    if not message_id or name not in STATUS_NAMES:
        return "unknown"
    if session.execute(
        select(WhatsAppStatus.id).where(WhatsAppStatus.message_id == message_id, WhatsAppStatus.status == name)
    ).first():
        return "duplicate"
    errors = item.get("errors") if isinstance(item.get("errors"), list) else []
    error = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    title = str(error.get("title") or error.get("message") or "")[:255] or None
    at = _timestamp(item.get("timestamp"), now)
    row = session.execute(
        select(CampaignRecipient).where(CampaignRecipient.message_id == message_id).with_for_update()
    ).scalar_one_or_none()
    tag = str(item.get("biz_opaque_callback_data") or "")
    if row is None and tag.startswith(OPAQUE_PREFIX) and tag[len(OPAQUE_PREFIX) :].isdigit():
        row = session.get(CampaignRecipient, int(tag[len(OPAQUE_PREFIX) :]), with_for_update=True)
        if row is not None and row.message_id not in (None, message_id):
            row = None  # the tag names a row that went out as another message: not ours to change
        elif row is not None:
            row.message_id = message_id
    status = WhatsAppStatus(
        message_id=message_id,
        status=name,
        at=at,
        recipient_id=row.id if row else None,
        error_code=code,
        error_title=title,
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(status)
    except IntegrityError:  # another replica logged the same status at the same moment
        return "duplicate"
    if row is None:
        return "unknown"
    new = STATUS_NAMES[name]
    if new is RecipientStatus.FAILED:
        row.failed_at, row.error_code, row.error_title = at, code, title
        if RANK.get(row.status, 0) < RANK[RecipientStatus.DELIVERED] or row.status is RecipientStatus.FAILED:
            row.status = RecipientStatus.FAILED
        if code == NOT_ON_WHATSAPP:
            consent.not_on_whatsapp(session, row.customer_id, now)
        return "applied"
    column = {
        RecipientStatus.SENT: "sent_at",
        RecipientStatus.DELIVERED: "delivered_at",
        RecipientStatus.READ: "read_at",
    }[new]
    if getattr(row, column) is None:
        setattr(row, column, at)
    if row.sent_at is None:
        row.sent_at = at  # delivered or read before sent: it was sent
    if row.status is RecipientStatus.FAILED or RANK.get(row.status, 0) < RANK[new]:
        row.status = new
    return "applied"


def latest_notice(session: Session, wa_id: str, now: datetime) -> Optional[CampaignRecipient]:
    """The campaign message this number got most recently (within the reply window)."""
    return session.execute(
        select(CampaignRecipient)
        .where(CampaignRecipient.phone == wa_id, CampaignRecipient.sent_at >= now - REPLY_WINDOW)
        .order_by(CampaignRecipient.sent_at.desc(), CampaignRecipient.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def note_reply(session: Session, wa_id: str, now: datetime, opted_out: bool = False) -> Optional[Dict[str, Any]]:
    """A message from `wa_id`: the notice it answers (if one was sent recently) is marked replied
    (or opted out); returns that notice for the bot."""
    row = latest_notice(session, wa_id, now)
    if row is None:
        return None
    row.replied_at = row.replied_at or now
    if opted_out:
        row.opted_out_at = row.opted_out_at or now
    return dict(row.notice or {})


# --- figures ---------------------------------------------------------------------------------


def figures(
    session: Session, campaign_id: int, now: datetime, in_doubt_after: timedelta = timedelta(minutes=5)
) -> Dict[str, Any]:
    """Per campaign: audience, sent, delivered, read, failed by reason, replied, opted out, and
    rows in doubt (a sender died between claiming and hearing back)."""
    R = CampaignRecipient
    by_status = dict(
        session.execute(select(R.status, func.count()).where(R.campaign_id == campaign_id).group_by(R.status)).all()
    )
    count = lambda status: by_status.get(status, 0)  # noqa: E731
    failures = session.execute(
        select(R.error_code, R.error_title, func.count())
        .where(R.campaign_id == campaign_id, R.status == RecipientStatus.FAILED)
        .group_by(R.error_code, R.error_title)
        .order_by(func.count().desc())
    ).all()
    replied = session.execute(
        select(func.count()).where(R.campaign_id == campaign_id, R.replied_at.isnot(None))
    ).scalar_one()
    opted_out = session.execute(
        select(func.count()).where(R.campaign_id == campaign_id, R.opted_out_at.isnot(None))
    ).scalar_one()
    in_doubt = session.execute(
        select(func.count()).where(
            R.campaign_id == campaign_id, R.status == RecipientStatus.SENDING, R.claimed_at < now - in_doubt_after
        )
    ).scalar_one()
    reached = count(RecipientStatus.SENT) + count(RecipientStatus.DELIVERED) + count(RecipientStatus.READ)
    return {
        "audience": sum(by_status.values()),
        "pending": count(RecipientStatus.PENDING),
        "sending": count(RecipientStatus.SENDING),
        "in_doubt": in_doubt,
        "sent": reached,
        "delivered": count(RecipientStatus.DELIVERED) + count(RecipientStatus.READ),
        "read": count(RecipientStatus.READ),
        "failed": count(RecipientStatus.FAILED),
        "failures": [{"code": code, "title": title or "tanpa keterangan", "count": n} for code, title, n in failures],
        "replied": replied,
        "opted_out": opted_out,
    }


CSV_COLUMNS = [
    "customer_id",
    "phone",
    "status",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
    "error_code",
    "error_title",
    "replied_at",
    "opted_out_at",
]


def recipients_csv(session: Session, campaign_id: int) -> Iterator[str]:
    """The recipients and their status as CSV lines (numbers masked), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    rows = session.execute(
        select(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign_id)
        .order_by(CampaignRecipient.id)
        .execution_options(yield_per=1000)
    ).scalars()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                row.customer_id,
                mask_phone("+" + row.phone),
                row.status.value,
                *(
                    v.isoformat(sep=" ") if v else ""
                    for v in (row.sent_at, row.delivered_at, row.read_at, row.failed_at)
                ),
                row.error_code or "",
                row.error_title or "",
                row.replied_at.isoformat(sep=" ") if row.replied_at else "",
                row.opted_out_at.isoformat(sep=" ") if row.opted_out_at else "",
            ]
        )
        yield buffer.getvalue()
