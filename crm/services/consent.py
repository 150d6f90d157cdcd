"""Customers' WhatsApp consent: opted in (when, how), STOP for marketing, "stop semua" for
reminders and notices too, START to come back; a number WhatsApp cannot reach. Which campaigns a
customer may get is decided here, once (`exclusion`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Dict, Iterable, List, Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm.models import Customer, WhatsAppContact
from crm.services.verification import normalise_phone

# what a customer types (the whole message, any case, punctuation ignored) and what it does
OPT_OUT_MARKETING = {"stop", "berhenti", "unsubscribe", "stop promo", "berhenti promo", "/opt_out_marketing"}
OPT_OUT_ALL = {"stop semua", "berhenti semua", "stop all", "/opt_out_reminders", "berhenti pengingat"}
OPT_IN = {"start", "mulai", "/opt_in"}
MOBILE = re.compile(r"^628\d{7,12}$")

REASONS = {
    "no_consent": "belum memberi persetujuan (opt-in) WhatsApp",
    "opted_out": "sudah berhenti berlangganan (STOP)",
    "no_whatsapp": "nomor bukan WhatsApp / bukan nomor seluler",
    "already_sent": "sudah menerima pesan yang sama",
}


def command(text: str) -> Optional[str]:
    """'opt_out_marketing', 'opt_out_all' or 'opt_in' when the whole message is one of those words."""
    words = " ".join(re.sub(r"[^\w/ ]", " ", (text or "").lower()).split())
    if words in OPT_OUT_ALL:
        return "opt_out_all"
    if words in OPT_OUT_MARKETING:
        return "opt_out_marketing"
    if words in OPT_IN:
        return "opt_in"
    return None


def customers_with_number(session: Session, wa_id: str) -> List[Customer]:
    digits = normalise_phone(wa_id)
    candidates = session.execute(
        select(Customer).where(
            or_(Customer.phone == "+" + digits, Customer.phone == digits, Customer.phone.like("%" + digits[-9:]))
        )
    ).scalars()
    return [c for c in candidates if normalise_phone(c.phone) == digits]


def _contact(session: Session, customer_id: int) -> WhatsAppContact:
    row = session.get(WhatsAppContact, customer_id)
    if row is None:
        row = WhatsAppContact(customer_id=customer_id)
        session.add(row)
    return row


def opt_out(session: Session, wa_id: str, everything: bool, now: datetime) -> int:
    """STOP from `wa_id`: marketing off (and reminders and notices with `everything`) for every
    customer with that number; returns how many customers."""
    found = customers_with_number(session, wa_id)
    for customer in found:
        row = _contact(session, customer.id)
        row.marketing_opt_out_at = row.marketing_opt_out_at or now
        if everything:
            row.reminders_opt_out_at = row.reminders_opt_out_at or now
    session.flush()
    return len(found)


def opt_in(session: Session, wa_id: str, source: str, now: datetime) -> int:
    found = customers_with_number(session, wa_id)
    for customer in found:
        row = _contact(session, customer.id)
        row.marketing_opt_out_at = row.reminders_opt_out_at = None
        row.opted_in_at, row.opt_in_source = now, source
    session.flush()
    return len(found)


def not_on_whatsapp(session: Session, customer_id: int, now: datetime) -> None:
    _contact(session, customer_id).not_on_whatsapp_at = now


def contacts(session: Session, customer_ids: Iterable[int]) -> Dict[int, WhatsAppContact]:
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = session.execute(select(WhatsAppContact).where(WhatsAppContact.customer_id.in_(ids))).scalars()
    return {row.customer_id: row for row in rows}


def exclusion(
    contact: Optional[WhatsAppContact], phone: str, purpose: str, notices_to_opted_out: bool
) -> Optional[str]:
    """Why a customer may not get a campaign of `purpose` (notice | reminder | marketing), or None.
    Marketing needs no opt-out at all; a reminder is stopped by "stop semua"; an account notice
    by any opt-out unless the company's policy (NOTICES_TO_OPTED_OUT) says otherwise."""
    if not MOBILE.match(normalise_phone(phone)) or (contact is not None and contact.not_on_whatsapp_at):
        return "no_whatsapp"
    if contact is None or contact.opted_in_at is None:
        return "no_consent"
    marketing_off, all_off = contact.marketing_opt_out_at is not None, contact.reminders_opt_out_at is not None
    if purpose == "marketing" and (marketing_off or all_off):
        return "opted_out"
    if purpose == "reminder" and all_off:
        return "opted_out"
    if purpose == "notice" and (marketing_off or all_off) and not notices_to_opted_out:
        return "opted_out"
    return None
