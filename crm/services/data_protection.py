"""Retention and data-subject requests (UU 27/2022 on personal data protection).

- `purge()`: conversations (Rasa's tracker store) whose last event is older than
  CONVERSATION_RETENTION_DAYS are deleted, unless the conversation is still in the CRM queue;
  NLU feedback of that age, processed WhatsApp webhook rows older than
  WHATSAPP_INBOX_RETENTION_DAYS, expired console sessions and expired documents issued to
  conversations (statement PDFs) go too. Cases, service requests and escalation records stay:
  they are the company's record of complaints and requests. Stored session outcomes of a deleted
  conversation keep their counts under an id that names nobody (`session_outcomes.forget`).
- `export_customer()`: everything held about one customer, as JSON-ready data: the customer,
  contracts with instalments, requests, cases, queue items, and the conversations linked to
  them (by verification, by WhatsApp number, by queue item or request).
- `erase_customer()`: deletes those conversations, WhatsApp rows, NLU feedback, the files they
  sent for cases and the documents issued to them, clears the free text of their cases and
  queue items, and replaces the customer's identity data (name, NIK, date of birth, phone,
  e-mail, address) with placeholders. Contracts, instalments and
  BPKB records are kept: a finance company must keep credit records for as long as the law
  requires (UU 27/2022 art. 8 allows keeping data a legal obligation requires).

Rasa's tracker store is reached with SQL (table `events`), the same way the NLU inbox reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional, Set

from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crm.clock import utc_now
from crm.models import (
    CampaignRecipient,
    Case,
    CaseAttachment,
    Contract,
    Customer,
    Escalation,
    EscalationStatus,
    IssuedDocument,
    NluFeedback,
    ServiceRequest,
    StaffSession,
    WhatsAppContact,
    WhatsAppInboxMessage,
)
from crm.services import documents, session_outcomes

ERASED = "(dihapus atas permintaan pelanggan)"


class NotFound(LookupError):
    pass


def tracker_engine(tracker_url: str) -> Engine:
    return create_engine(tracker_url)


def _has_events(engine: Engine) -> bool:
    with engine.connect() as connection:
        return engine.dialect.has_table(connection, "events")


# --- retention --------------------------------------------------------------------------------


@dataclass
class PurgeReport:
    conversations: int = 0
    events: int = 0
    kept_in_queue: int = 0
    whatsapp_rows: int = 0
    staff_sessions: int = 0
    nlu_feedback: int = 0
    documents: int = 0

    def lines(self) -> List[str]:
        return [
            f"conversations deleted: {self.conversations} ({self.events} events)",
            f"old conversations kept because they are in the CRM queue: {self.kept_in_queue}",
            f"WhatsApp webhook rows deleted: {self.whatsapp_rows}",
            f"expired console sessions deleted: {self.staff_sessions}",
            f"NLU feedback rows deleted: {self.nlu_feedback}",
            f"expired documents deleted: {self.documents}",
        ]


def purge(
    session: Session,
    tracker_url: str,
    conversation_days: int,
    whatsapp_days: int,
    now: Optional[datetime] = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete what is past its retention (see the module text). `now` is UTC."""
    now = now or utc_now()
    report = PurgeReport()
    cutoff = now - timedelta(days=conversation_days)
    in_queue = set(
        session.execute(
            select(Escalation.conversation_id).where(Escalation.status != EscalationStatus.RESOLVED)
        ).scalars()
    )
    engine = tracker_engine(tracker_url)
    try:
        if _has_events(engine):
            with engine.begin() as connection:
                old = connection.execute(
                    text("SELECT sender_id, count(*) FROM events GROUP BY sender_id HAVING max(timestamp) < :cutoff"),
                    {"cutoff": cutoff.timestamp()},
                ).fetchall()
                purged = []
                for sender_id, count in old:
                    if sender_id in in_queue:
                        report.kept_in_queue += 1
                        continue
                    report.conversations += 1
                    report.events += count
                    if not dry_run:
                        connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender_id})
                        purged.append(sender_id)
                session_outcomes.forget(session, purged, "purged")
    finally:
        engine.dispose()

    wa_cutoff = now - timedelta(days=whatsapp_days)
    statements = [
        (
            "whatsapp_rows",
            delete(WhatsAppInboxMessage).where(
                WhatsAppInboxMessage.processed_at.isnot(None), WhatsAppInboxMessage.received_at < wa_cutoff
            ),
        ),
        ("staff_sessions", delete(StaffSession).where(StaffSession.expires_at < now)),
        ("nlu_feedback", delete(NluFeedback).where(NluFeedback.at < cutoff)),
        ("documents", documents.expired(now)),
    ]
    for name, statement in statements:
        if dry_run:
            count = session.execute(
                select(text("count(*)")).select_from(statement.table).where(statement.whereclause)
            ).scalar_one()
        else:
            count = session.execute(statement.execution_options(synchronize_session=False)).rowcount
        setattr(report, name, count)
    return report


# --- one customer -----------------------------------------------------------------------------


def find_customer(
    session: Session, contract_number: Optional[str] = None, customer_id: Optional[int] = None
) -> Customer:
    if contract_number:
        contract = session.execute(
            select(Contract).where(Contract.number == contract_number.strip().upper())
        ).scalar_one_or_none()
        if contract is None:
            raise NotFound(f"no contract {contract_number!r}")
        return contract.customer
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    if customer is None:
        raise NotFound(f"no customer with id {customer_id!r}")
    return customer


def _wa_id(phone: str) -> str:
    return (phone or "").lstrip("+")


def conversation_ids(session: Session, customer: Customer, tracker_url: str) -> Set[str]:
    """Every conversation linked to `customer`: verified as them (slot customer_id), from their
    WhatsApp number, or named by one of their queue items, cases or requests."""
    ids: Set[str] = set()
    ids.update(
        session.execute(select(Escalation.conversation_id).where(Escalation.customer_id == customer.id)).scalars()
    )
    ids.update(session.execute(select(Case.conversation_id).where(Case.customer_id == customer.id)).scalars())
    contract_ids = [c.id for c in customer.contracts]
    if contract_ids:
        ids.update(
            i
            for i in session.execute(
                select(ServiceRequest.conversation_id).where(ServiceRequest.contract_id.in_(contract_ids))
            ).scalars()
            if i
        )
    engine = tracker_engine(tracker_url)
    try:
        if _has_events(engine):
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT DISTINCT sender_id, data FROM events WHERE type_name = 'slot' "
                        "AND data LIKE '%customer_id%'"
                    )
                ).fetchall()
                for sender_id, data in rows:
                    try:
                        event = json.loads(data)
                    except ValueError:
                        continue
                    if (
                        event.get("name") == "customer_id"
                        and event.get("value") is not None
                        and int(event["value"]) == customer.id
                    ):
                        ids.add(sender_id)
                phone = _wa_id(customer.phone)
                if phone:
                    ids.update(
                        r[0]
                        for r in connection.execute(
                            text("SELECT DISTINCT sender_id FROM events WHERE sender_id IN (:a, :b)"),
                            {"a": phone, "b": "+" + phone},
                        ).fetchall()
                    )
    finally:
        engine.dispose()
    return ids


def _conversation(connection, sender_id: str) -> List[Dict[str, Any]]:
    lines = []
    for type_name, timestamp, data in connection.execute(
        text(
            "SELECT type_name, timestamp, data FROM events WHERE sender_id = :s AND type_name IN ('user', 'bot') "
            "ORDER BY id"
        ),
        {"s": sender_id},
    ).fetchall():
        event = json.loads(data)
        lines.append(
            {
                "from": "customer" if type_name == "user" else "bot",
                "at": datetime.utcfromtimestamp(timestamp).isoformat(timespec="seconds") + "Z",
                "text": event.get("text"),
            }
        )
    return lines


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def export_customer(session: Session, customer: Customer, tracker_url: str) -> Dict[str, Any]:
    ids = sorted(conversation_ids(session, customer, tracker_url))
    contracts = []
    for contract in customer.contracts:
        contracts.append(
            {
                "number": contract.number,
                "vehicle": f"{contract.vehicle_brand} {contract.vehicle_model}",
                "year": contract.vehicle_year,
                "plate": contract.plate_number,
                "principal": contract.principal,
                "tenor_months": contract.tenor_months,
                "monthly_instalment": contract.monthly_instalment,
                "start_date": _iso(contract.start_date),
                "due_day": contract.due_day,
                "autodebit_bank": contract.autodebit_bank,
                "status": contract.status.value,
                "instalments": [
                    {
                        "sequence": i.sequence,
                        "due_date": _iso(i.due_date),
                        "amount": i.amount,
                        "paid_at": _iso(i.paid_at),
                        "paid_amount": i.paid_amount,
                        "late_fee": i.late_fee,
                    }
                    for i in contract.instalments
                ],
            }
        )
    contract_ids = [c.id for c in customer.contracts] or [-1]
    requests = session.execute(select(ServiceRequest).where(ServiceRequest.contract_id.in_(contract_ids))).scalars()
    cases = session.execute(select(Case).where(Case.customer_id == customer.id)).scalars()
    escalations = session.execute(select(Escalation).where(Escalation.customer_id == customer.id)).scalars()
    conversations = {}
    engine = tracker_engine(tracker_url)
    try:
        if _has_events(engine):
            with engine.connect() as connection:
                conversations = {sender: _conversation(connection, sender) for sender in ids}
    finally:
        engine.dispose()
    return {
        "exported_at": utc_now().isoformat(timespec="seconds") + "Z",
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "nik": customer.nik,
            "date_of_birth": _iso(customer.date_of_birth),
            "phone": customer.phone,
            "email": customer.email,
            "address": customer.address,
            "city": customer.city,
            "created_at": _iso(customer.created_at),
        },
        "contracts": contracts,
        "service_requests": [
            {
                "reference": r.reference,
                "kind": r.kind.value,
                "status": r.status.value,
                "scheduled_for": _iso(r.scheduled_for),
                "details": r.details,
                "created_at": _iso(r.created_at),
            }
            for r in requests
        ],
        "cases": [
            {
                "reference": c.reference,
                "kind": c.kind.value,
                "status": c.status.value,
                "channel": c.channel,
                "data": c.data,
                "created_at": _iso(c.created_at),
            }
            for c in cases
        ],
        "queue_items": [
            {
                "id": e.id,
                "reason": e.reason.value,
                "status": e.status.value,
                "channel": e.channel,
                "summary": e.summary,
                "note": e.note,
                "created_at": _iso(e.created_at),
                "resolved_at": _iso(e.resolved_at),
            }
            for e in escalations
        ],
        "whatsapp_consent": _consent(session, customer.id),
        "campaign_messages": [
            {
                "campaign": r.campaign_id,
                "template": (r.notice or {}).get("template"),
                "values": r.parameters,
                "status": r.status.value,
                "sent_at": _iso(r.sent_at),
                "read_at": _iso(r.read_at),
                "replied_at": _iso(r.replied_at),
            }
            for r in session.execute(
                select(CampaignRecipient)
                .where(CampaignRecipient.customer_id == customer.id)
                .order_by(CampaignRecipient.id)
            ).scalars()
        ],
        "conversations": conversations,
    }


def _consent(session: Session, customer_id: int) -> Optional[Dict[str, Any]]:
    row = session.get(WhatsAppContact, customer_id)
    if row is None:
        return None
    return {
        "opted_in_at": _iso(row.opted_in_at),
        "opt_in_source": row.opt_in_source,
        "marketing_opt_out_at": _iso(row.marketing_opt_out_at),
        "reminders_opt_out_at": _iso(row.reminders_opt_out_at),
        "not_on_whatsapp_at": _iso(row.not_on_whatsapp_at),
    }


@dataclass
class EraseReport:
    customer_id: int
    conversations: List[str] = field(default_factory=list)
    events: int = 0
    whatsapp_rows: int = 0
    nlu_feedback: int = 0
    cases: int = 0
    queue_items: int = 0
    files: int = 0

    def lines(self) -> List[str]:
        return [
            f"customer {self.customer_id}: identity data replaced",
            f"conversations deleted: {len(self.conversations)} ({self.events} events)",
            f"WhatsApp webhook rows deleted: {self.whatsapp_rows}",
            f"NLU feedback rows deleted: {self.nlu_feedback}",
            f"cases cleared: {self.cases}; queue items cleared: {self.queue_items}",
            f"case attachments and issued documents deleted: {self.files}",
            "kept (legal obligation): contracts, instalments, BPKB, request and case references",
        ]


def erase_customer(session: Session, customer: Customer, tracker_url: str) -> EraseReport:
    """Erase `customer`'s personal data (see the module text). Runs in the caller's
    transaction for our database; the tracker store is changed in its own transaction first."""
    open_items = (
        session.execute(
            select(Escalation.id).where(
                Escalation.customer_id == customer.id, Escalation.status != EscalationStatus.RESOLVED
            )
        )
        .scalars()
        .all()
    )
    if open_items:
        raise ValueError(
            f"customer {customer.id} has open CRM queue items ({', '.join(map(str, open_items))}); resolve them first"
        )
    report = EraseReport(customer.id)
    ids = sorted(conversation_ids(session, customer, tracker_url))
    report.conversations = ids
    engine = tracker_engine(tracker_url)
    try:
        if ids and _has_events(engine):
            with engine.begin() as connection:
                for sender_id in ids:
                    report.events += connection.execute(
                        text("DELETE FROM events WHERE sender_id = :s"), {"s": sender_id}
                    ).rowcount
    finally:
        engine.dispose()
    phone = _wa_id(customer.phone)
    report.whatsapp_rows = session.execute(
        delete(WhatsAppInboxMessage)
        .where(WhatsAppInboxMessage.wa_id.in_([phone, "+" + phone]))
        .execution_options(synchronize_session=False)
    ).rowcount
    session_outcomes.forget(session, ids, "erased")
    if ids:
        report.nlu_feedback = session.execute(
            delete(NluFeedback).where(NluFeedback.conversation_id.in_(ids)).execution_options(synchronize_session=False)
        ).rowcount
    case_ids = [c.id for c in session.execute(select(Case).where(Case.customer_id == customer.id)).scalars()]
    for case in session.execute(select(Case).where(Case.customer_id == customer.id)).scalars():
        case.data = {"erased": ERASED}
        report.cases += 1
    contract_ids = [c.id for c in customer.contracts]
    report.files = (
        session.execute(
            delete(CaseAttachment)
            .where(CaseAttachment.case_id.in_(case_ids or [-1]))
            .execution_options(synchronize_session=False)
        ).rowcount
        + session.execute(
            delete(IssuedDocument)
            .where(IssuedDocument.contract_id.in_(contract_ids or [-1]))
            .execution_options(synchronize_session=False)
        ).rowcount
    )
    for escalation in session.execute(
        select(Escalation).where((Escalation.customer_id == customer.id) | Escalation.conversation_id.in_(ids or [""]))
    ).scalars():
        escalation.summary = ERASED
        if escalation.note:
            escalation.note = ERASED
        report.queue_items += 1
    # outbound messages: the numbers and the filled-in texts go, the counts stay; no consent left
    session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.customer_id == customer.id)
        .values(phone="", parameters=[], notice={})
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(WhatsAppContact)
        .where(WhatsAppContact.customer_id == customer.id)
        .execution_options(synchronize_session=False)
    )
    customer.name = ERASED
    customer.nik = f"X{customer.id:015d}"[:16]
    customer.date_of_birth = date(1900, 1, 1)
    customer.phone = ""
    customer.email = None
    customer.address = "-"
    customer.city = "-"
    session.flush()
    return report
