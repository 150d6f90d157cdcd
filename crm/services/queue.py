"""What the console shows of the CRM queue: items with their customer (when verified), case
data, age and OJK due time, filtered by status, reason, channel and age."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from crm import conversations
from crm.clock import to_local, utc_now
from crm.formatting import mask_phone, rupiah
from crm.models import Escalation, EscalationReason, EscalationStatus
from crm.privacy import mask_text
from crm.services.cases import CASE_TITLES

REASON_NAMES = {
    EscalationReason.FALLBACK: "Tidak dipahami bot",
    EscalationReason.HUMAN_REQUEST: "Minta petugas",
    EscalationReason.CASE_REPORT: "Laporan kasus",
    EscalationReason.COMPLAINT: "Pengaduan",
    EscalationReason.VERIFICATION: "Verifikasi gagal",
    EscalationReason.ERROR: "Gangguan sistem",
}
STATUS_NAMES = {
    EscalationStatus.OPEN: "Terbuka",
    EscalationStatus.CLAIMED: "Ditangani",
    EscalationStatus.RESOLVED: "Selesai",
}
CASE_FIELD_NAMES = {
    "incident_date": "Tanggal kejadian",
    "incident_place": "Lokasi",
    "incident_description": "Kronologi",
    "damage": "Kerusakan",
    "police_report": "Laporan polisi",
    "police_report_number": "No. surat kehilangan",
    "reporter_name": "Nama pelapor",
    "reporter_relation": "Hubungan",
    "death_date": "Tanggal meninggal",
    "death_certificate": "Akta kematian",
    "candidate_name": "Calon debitur",
    "candidate_relation": "Hubungan",
    "candidate_phone": "HP calon debitur",
    "contract_number_given": "No. kontrak (belum terverifikasi)",
    "message": "Pesan",
    "added": "Keterangan tambahan",
    "contract_number": "No. kontrak",
    "channel": "Saluran bayar",
    "paid_on": "Tanggal bayar",
    "amount": "Jumlah",
    "payment_reference": "No. pembayaran (diterima, belum tercatat)",
}
# case data kept for the software, not shown to staff
HIDDEN_CASE_FIELDS = frozenset({"recent_messages", "channel_id", "amount_source", "proof"})


class FilterError(ValueError):
    """A queue filter the console cannot apply; the message says which."""


def _local_text(moment: Optional[datetime]) -> Optional[str]:
    return to_local(moment).strftime("%d-%m-%Y %H:%M") if moment else None


def may_see_contact(role: str, staff_id: Optional[int], escalation: Escalation) -> bool:
    """Full phone numbers are for supervisors and for the agent who holds the item (to call the
    customer back); everyone else sees them masked."""
    return role == "supervisor" or (staff_id is not None and escalation.assignee_id == staff_id)


def _case_value(key: str, value: Any, data: Dict[str, Any], shown: Callable[[str], str]) -> str:
    if key == "candidate_phone":
        return shown(str(value))
    if key == "amount" and isinstance(value, int):
        guessed = data.get("amount_source") == "instalment_due"
        return rupiah(value) + (" (angsuran yang jatuh tempo; belum disebut pelanggan)" if guessed else "")
    return str(value)


def describe(
    escalation: Escalation, now: Optional[datetime] = None, reveal_contact: bool = False, mask_free_text: bool = False
) -> Dict[str, Any]:
    """An item as the console shows it (JSON-ready; the browser escapes every string). Phone
    numbers (the customer's, a WhatsApp conversation id, a takeover candidate's) are masked
    unless `reveal_contact` (see may_see_contact). With `mask_free_text` (everyone but
    supervisors) NIK, dates and phone numbers in the summary (the customer's recent messages)
    are masked too."""
    now = now or utc_now()
    shown = (lambda phone: phone) if reveal_contact else mask_phone
    customer = None
    if escalation.customer is not None:
        contracts = [c.number for c in escalation.customer.contracts]
        customer = {"name": escalation.customer.name, "phone": shown(escalation.customer.phone), "contracts": contracts}
    case = None
    if escalation.case is not None:
        data = escalation.case.data or {}
        case = {
            "reference": escalation.case.reference,
            "kind": CASE_TITLES[escalation.case.kind],
            "verified": escalation.case.verified,
            "contract": escalation.case.contract.number if escalation.case.contract else None,
            "fields": [
                {"name": CASE_FIELD_NAMES.get(k, k), "value": _case_value(k, v, data, shown)}
                for k, v in data.items()
                if k not in HIDDEN_CASE_FIELDS and v not in (None, "")
            ],
            "attachments": [
                {
                    "id": a.id,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "image": a.content_type.startswith("image/"),
                    "size_kb": max(1, round(a.size / 1024)),
                    "source": a.source,
                    "received": _local_text(a.received_at),
                    "url": f"/items/{escalation.id}/attachments/{a.id}",
                }
                for a in escalation.case.attachments
            ],
        }
    return {
        "id": escalation.id,
        # a WhatsApp number in full only for those who may call back; a web id never in full
        "conversation_id": (
            escalation.conversation_id
            if reveal_contact and escalation.channel == "whatsapp"
            else conversations.shown(escalation.conversation_id)
        ),
        "channel": escalation.channel,
        "reason": escalation.reason.value,
        "reason_name": REASON_NAMES[escalation.reason],
        "status": escalation.status.value,
        "status_name": STATUS_NAMES[escalation.status],
        "summary": mask_text(escalation.summary or "") if mask_free_text else escalation.summary or "",
        "created": _local_text(escalation.created_at),
        "age_minutes": int((now - escalation.created_at).total_seconds() // 60),
        "due": _local_text(escalation.due_at),
        "overdue": bool(
            escalation.due_at and escalation.status is not EscalationStatus.RESOLVED and escalation.due_at < now
        ),
        "assignee": escalation.assignee.full_name if escalation.assignee else None,
        "assignee_id": escalation.assignee_id,
        "note": escalation.note,
        "merged_count": escalation.merged_count or 0,
        "customer": customer,
        "case": case,
    }


SORTS = ("newest", "urgent", "oldest")
MOST_URGENT = 5
MAX_PER_PAGE = 100
MAX_AGE_HOURS = 24 * 3660  # ten years


def _page_number(raw: str, name: str, default: int, upper: int) -> int:
    if raw in ("", None):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise FilterError(f"{name} {raw!r} is not a whole number")
    if not 1 <= value <= upper:
        raise FilterError(f"{name} must be from 1 to {upper}")
    return value


def list_items(
    session: Session,
    *,
    status: str = "open",
    reason: str = "",
    channel: str = "",
    max_age_hours: str = "",
    sort: str = "",
    page: str = "",
    per_page: str = "",
    now: Optional[datetime] = None,
    reveal_contact: bool = False,
    mask_free_text: bool = False,
) -> Dict[str, Any]:
    """One page of the queue, the most urgent items, the total, and the flooding sources.

    `sort`: newest (the default: a new item is always on the first page), urgent (nearest OJK
    due time first), oldest. `most_urgent` lists the MOST_URGENT items nearest their OJK due
    time whatever the page shows. Pages hold at most MAX_PER_PAGE items, so every item stays
    reachable however many there are."""
    now = now or utc_now()
    query = select(Escalation).options(
        joinedload(Escalation.customer), joinedload(Escalation.case), joinedload(Escalation.assignee)
    )
    if status:
        try:
            query = query.where(Escalation.status == EscalationStatus(status))
        except ValueError:
            raise FilterError(f"unknown status {status!r}")
    if reason:
        try:
            query = query.where(Escalation.reason == EscalationReason(reason))
        except ValueError:
            raise FilterError(f"unknown reason {reason!r}")
    if channel:
        query = query.where(Escalation.channel == channel[:40])
    if max_age_hours:
        try:
            hours = float(max_age_hours)
        except ValueError:
            raise FilterError(f"age {max_age_hours!r} is not a number of hours")
        if not math.isfinite(hours) or not 0 < hours <= MAX_AGE_HOURS:
            raise FilterError(f"age must be more than 0 and at most {MAX_AGE_HOURS} hours")
        query = query.where(Escalation.created_at >= now - timedelta(hours=hours))
    sort = sort or "newest"
    if sort not in SORTS:
        raise FilterError(f"unknown order {sort!r} (urgent, newest, oldest)")
    per = _page_number(per_page, "per_page", 50, MAX_PER_PAGE)
    number = _page_number(page, "page", 1, 100_000)
    order = {
        "urgent": (Escalation.due_at.is_(None), Escalation.due_at, Escalation.id),
        "newest": (Escalation.id.desc(),),
        "oldest": (Escalation.id,),
    }[sort]
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = session.execute(query.order_by(*order).offset((number - 1) * per).limit(per)).unique().scalars().all()
    urgent = (
        session.execute(
            query.where(Escalation.status != EscalationStatus.RESOLVED, Escalation.due_at.is_not(None))
            .order_by(Escalation.due_at, Escalation.id)
            .limit(MOST_URGENT)
        )
        .unique()
        .scalars()
        .all()
    )
    shown = lambda row: describe(row, now, reveal_contact=reveal_contact, mask_free_text=mask_free_text)  # noqa: E731
    return {
        "items": [shown(row) for row in rows],
        "most_urgent": [shown(row) for row in urgent],
        "total": total,
        "page": number,
        "per_page": per,
        "sort": sort,
        "flooding": flooding(session, now),
    }


FLOOD_ITEMS_PER_HOUR = 10


def flooding(session: Session, now: Optional[datetime] = None) -> List[Dict[str, Any]]:
    """Client addresses that made many unverified items in the last hour (merged ones counted):
    what the console shows as a flood warning. Addresses are hashed; only counts are shown."""
    now = now or utc_now()
    made = func.count(Escalation.id) + func.coalesce(func.sum(Escalation.merged_count), 0)
    rows = session.execute(
        select(Escalation.client, made)
        .where(
            Escalation.client.is_not(None),
            Escalation.customer_id.is_(None),
            Escalation.created_at >= now - timedelta(hours=1),
        )
        .group_by(Escalation.client)
        .having(made >= FLOOD_ITEMS_PER_HOUR)
        .order_by(made.desc())
        .limit(10)
    ).all()
    return [{"source": f"sumber {n}", "items_last_hour": int(count)} for n, (_, count) in enumerate(rows, start=1)]
