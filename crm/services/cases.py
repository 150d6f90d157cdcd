"""Case reports (insurance claim, theft, deceased debtor, credit takeover, complaint, a payment
that does not show) and the files customers send for them (the proof of a payment).

Filing a case writes the case with a reference number (``CASE-2026-000123``) and puts the
conversation in the CRM queue in one transaction: both are there, or neither.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import policy
from crm.models import Case, CaseAttachment, CaseKind, CaseStatus, Contract, EscalationReason
from crm.services.escalations import EscalationResult, escalate, find_unresolved

CASE_TITLES = {
    CaseKind.INSURANCE_CLAIM: "Klaim asuransi",
    CaseKind.VEHICLE_THEFT: "Kendaraan hilang",
    CaseKind.DEBTOR_DECEASED: "Debitur meninggal dunia",
    CaseKind.CREDIT_TAKEOVER: "Over kredit / alih debitur",
    CaseKind.COMPLAINT: "Pengaduan",
    CaseKind.PAYMENT_DISPUTE: "Pembayaran belum masuk",
}


@dataclass(frozen=True)
class FiledCase:
    case_id: int
    reference: str
    escalation: EscalationResult


def file_case(
    session: Session,
    *,
    kind: CaseKind | str,
    conversation_id: str,
    channel: str,
    data: Dict[str, Any],
    customer_id: Optional[int] = None,
    contract_number: Optional[str] = None,
    client: Optional[str] = None,
    client_limit: Optional[int] = None,
) -> FiledCase:
    """Write the case and escalate the conversation (reason complaint or case report).

    The case is marked verified only when `customer_id` (a verified customer) is given; a
    contract number is linked only when that customer holds it. The caller commits.
    """
    kind = CaseKind(kind)
    contract_id = None
    if contract_number and customer_id is not None:
        contract_id = session.execute(
            select(Contract.id).where(Contract.number == contract_number, Contract.customer_id == customer_id)
        ).scalar_one_or_none()
    case = Case(
        reference=f"TMP-{uuid.uuid4().hex[:16]}",
        kind=kind,
        status=CaseStatus.OPEN,
        conversation_id=conversation_id,
        channel=channel,
        customer_id=customer_id,
        contract_id=contract_id,
        verified=customer_id is not None,
        data=dict(data),
    )
    session.add(case)
    session.flush()
    case.reference = f"CASE-{case.created_at.year}-{case.id:06d}"
    reason = EscalationReason.COMPLAINT if kind is CaseKind.COMPLAINT else EscalationReason.CASE_REPORT
    summary = f"{CASE_TITLES[kind]} {case.reference}" + ("" if case.verified else " (belum terverifikasi)")
    result = escalate(
        session,
        conversation_id=conversation_id,
        channel=channel,
        reason=reason,
        summary=summary,
        case_id=case.id,
        customer_id=customer_id,
        client=client,
        client_limit=client_limit,
    )
    session.flush()
    return FiledCase(case.id, case.reference, result)


def add_to_open_complaint(session: Session, conversation_id: str, message: str) -> Optional[str]:
    """A further complaint message while this conversation's complaint still waits in the queue
    (unresolved) is added to that case (`added`, shown to staff), not filed as a case of its own
    with a due date of its own. Its reference, or None when no complaint of it is open."""
    waiting = find_unresolved(session, conversation_id)
    case = waiting.case if waiting is not None else None
    if case is None or case.kind is not CaseKind.COMPLAINT or case.status is CaseStatus.CLOSED:
        return None
    data = dict(case.data or {})
    data["added"] = " | ".join(part for part in (data.get("added"), message) if part)
    case.data = data
    session.flush()
    return case.reference


# --- proofs --------------------------------------------------------------------------------------


class ProofRefused(ValueError):
    """A file that cannot be kept as a proof; `code` is "too_large" or "file_type"."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class AttachedProof:
    case_reference: str
    attachment_id: int


def awaiting_proof(session: Session, conversation_id: str, now: datetime) -> Optional[Case]:
    """The conversation's newest payment dispute still open and at most PROOF_WAIT_DAYS old."""
    return (
        session.execute(
            select(Case)
            .where(
                Case.conversation_id == conversation_id,
                Case.kind == CaseKind.PAYMENT_DISPUTE,
                Case.status != CaseStatus.CLOSED,
                Case.created_at >= now - timedelta(days=policy.PROOF_WAIT_DAYS),
            )
            .order_by(Case.id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def attach_proof(
    session: Session,
    conversation_id: str,
    *,
    source: str,
    content_type: str,
    filename: str,
    data: bytes,
    now: datetime,
) -> Optional[AttachedProof]:
    """Keep `data` as the proof of the conversation's open payment dispute; None when there is
    none to attach it to. Refuses files over MAX_PROOF_BYTES and types other than images and PDF.
    `now` is naive UTC; the caller commits."""
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in policy.PROOF_CONTENT_TYPES:
        raise ProofRefused("file_type")
    if not data or len(data) > policy.MAX_PROOF_BYTES:
        raise ProofRefused("too_large" if data else "file_type")
    case = awaiting_proof(session, conversation_id, now)
    if case is None:
        return None
    attachment = CaseAttachment(
        case_id=case.id,
        source=source,
        content_type=content_type,
        filename=(filename or "bukti-bayar")[:120],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        received_at=now,
    )
    session.add(attachment)
    session.flush()
    return AttachedProof(case.reference, attachment.id)
