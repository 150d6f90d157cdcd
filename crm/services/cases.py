"""Case reports (insurance claim, theft, deceased debtor, credit takeover, complaint).

Filing a case writes the case with a reference number (``CASE-2026-000123``) and puts the
conversation in the CRM queue in one transaction: both are there, or neither.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Dict, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Case, CaseKind, CaseStatus, Contract, EscalationReason
from crm.services.escalations import EscalationResult, escalate

CASE_TITLES = {
    CaseKind.INSURANCE_CLAIM: "Klaim asuransi",
    CaseKind.VEHICLE_THEFT: "Kendaraan hilang",
    CaseKind.DEBTOR_DECEASED: "Debitur meninggal dunia",
    CaseKind.CREDIT_TAKEOVER: "Over kredit / alih debitur",
    CaseKind.COMPLAINT: "Pengaduan",
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
