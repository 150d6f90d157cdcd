"""Checking who is asking before any account data is shown.

A customer proves identity with a contract number and the date of birth on file. On WhatsApp
the sender's number must also be the contract's phone; when it is not, the customer proves
identity with the last 6 digits of the NIK instead. The number of failed attempts and the
lockout are kept by the conversation (slots); this module only answers yes or no, and never
says which of the two values was wrong.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Contract, Customer

NIK_SUFFIX_DIGITS = 6


class Outcome(str, enum.Enum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"  # unknown contract or wrong date of birth (not said which)
    PHONE_MISMATCH = "phone_mismatch"  # right data, but from a number not on the contract


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    customer_id: Optional[int] = None
    customer_name: Optional[str] = None


def normalise_phone(phone: str) -> str:
    """Digits in international form: '0812-1000-0001', '+62 812 1000 0001' -> '6281210000001'."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits


def same_phone(a: str, b: str) -> bool:
    return bool(a and b) and normalise_phone(a) == normalise_phone(b)


def verify(
    session: Session,
    contract_number: str,
    date_of_birth: date,
    *,
    sender_phone: Optional[str] = None,
) -> Verification:
    """Does the contract exist and belong to someone born on `date_of_birth`?

    `sender_phone` is given on channels where the sender's number is known (WhatsApp); it must
    then match the phone registered for the customer.
    """
    row = session.execute(
        select(Customer)
        .join(Contract, Contract.customer_id == Customer.id)
        .where(Contract.number == contract_number)
    ).scalar_one_or_none()
    if row is None or row.date_of_birth != date_of_birth:
        return Verification(Outcome.MISMATCH)
    if sender_phone is not None and not same_phone(sender_phone, row.phone):
        return Verification(Outcome.PHONE_MISMATCH, row.id, row.name)
    return Verification(Outcome.VERIFIED, row.id, row.name)


def nik_suffix_matches(session: Session, customer_id: int, text: str) -> bool:
    """True when `text` holds exactly the last 6 digits of the customer's NIK."""
    digits = re.sub(r"\D", "", text or "")
    if len(digits) != NIK_SUFFIX_DIGITS:
        return False
    customer = session.get(Customer, customer_id)
    return customer is not None and customer.nik.endswith(digits)
