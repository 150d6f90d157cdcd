"""Checking who is asking before any account data is shown, in a way that cannot be brute-forced.

Factors: the contract number and the date of birth on file. On WhatsApp the sender's number is a
factor too: from the contract's own number that is enough; from any other number the mother's
maiden name is asked as well, *whatever* the first two were, and only then is one answer given
for all three (no reply tells whether a date of birth was right). The mother's name cannot be
derived from the date of birth (the NIK's digits can: they encode it).

Limits that no number of conversations gets around (policy.py):
- failures are recorded per contract number (existing or not) across every conversation and
  channel; after VERIFY_CONTRACT_MAX_FAILURES in VERIFY_CONTRACT_WINDOW_HOURS the contract's
  verification is locked for VERIFY_CONTRACT_LOCK_HOURS (also for the right answer), the queue
  gets one item, and staff may release the lock in the console;
- per client address (hashed): after VERIFY_CLIENT_SLOW_AFTER failures in an hour every attempt
  waits longer, after VERIFY_CLIENT_MAX_FAILURES it is refused until the hour has passed.
Unknown contracts are answered exactly like a wrong date of birth, and lock the same way.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import policy
from crm.clock import utc_now
from crm.models import (
    Contract,
    Customer,
    EscalationReason,
    Staff,
    VerificationCode,
    VerificationFailure,
    VerificationLock,
)

MAX_NAME_ANSWER_CHARS = 80


class Outcome(str, enum.Enum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"  # some factor was wrong (never said which, nor whether the contract exists)
    SECOND_FACTOR = "second_factor"  # not the contract's WhatsApp number: ask the mother's maiden name
    CODE_NEEDED = "code_needed"  # website: ask the one-time code sent to the contract's WhatsApp
    LOCKED = "locked"  # the contract's verification is locked (too many failures)
    REFUSED = "refused"  # this client address failed too often; try later


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    customer_id: Optional[int] = None
    customer_name: Optional[str] = None
    delay_seconds: float = 0.0  # the caller waits this long before answering (a slowed client)
    lock_engaged: bool = False  # this failure locked the contract


def normalise_phone(phone: str) -> str:
    """Digits in international form: '0812-1000-0001', '+62 812 1000 0001' -> '6281210000001'."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits


def same_phone(a: str, b: str) -> bool:
    return bool(a and b) and normalise_phone(a) == normalise_phone(b)


_HONORIFICS = {
    "ibu",
    "bu",
    "nama",
    "namanya",
    "ibunya",
    "ibuku",
    "mama",
    "mamah",
    "mami",
    "saya",
    "sy",
    "kandung",
    "gadis",
    "adalah",
    "yaitu",
    "nya",
    "hj",
    "hajjah",
    "almh",
    "alm",
}


def _name_words(text: str) -> List[str]:
    return [w for w in re.findall(r"[a-z]+", (text or "").lower()) if w not in _HONORIFICS]


def mother_name_matches(answer: str, on_file: Optional[str]) -> bool:
    """'ibu saya Sri Wahyuni', 'sri wahyuni', 'SRI  WAHYUNI' match 'Sri Wahyuni'; a list of names
    does not (at most two words beside the name on file)."""
    if not on_file or not answer or len(answer) > MAX_NAME_ANSWER_CHARS:
        return False
    given, wanted = _name_words(answer), _name_words(on_file)
    return bool(wanted) and all(w in given for w in wanted) and len(given) <= len(wanted) + 2


def pending_proof(secret: str, contract_number: str, date_of_birth: date) -> str:
    """What the conversation keeps between the date of birth and the mother's name: a keyed hash,
    so the date itself is not stored and the proof cannot be made without the secret."""
    message = f"verification:{contract_number}:{date_of_birth.isoformat()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# --- limits ---------------------------------------------------------------------------------


def active_lock(session: Session, contract_number: str, now: Optional[datetime] = None) -> Optional[VerificationLock]:
    now = now or utc_now()
    return session.execute(
        select(VerificationLock)
        .where(
            VerificationLock.contract_number == contract_number,
            VerificationLock.released_at.is_(None),
            VerificationLock.until > now,
        )
        .order_by(VerificationLock.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _last_release(session: Session, contract_number: str) -> Optional[datetime]:
    return session.execute(
        select(func.max(VerificationLock.released_at)).where(VerificationLock.contract_number == contract_number)
    ).scalar_one_or_none()


def client_failures(session: Session, client: Optional[str], now: Optional[datetime] = None) -> int:
    if not client:
        return 0
    since = (now or utc_now()) - timedelta(minutes=policy.VERIFY_CLIENT_WINDOW_MINUTES)
    return session.execute(
        select(func.count(VerificationFailure.id)).where(
            VerificationFailure.client == client, VerificationFailure.at >= since
        )
    ).scalar_one()


def client_delay(failures: int) -> float:
    """Seconds a slowed client waits per attempt: 1, 2, 4, then 8 at most."""
    if failures < policy.VERIFY_CLIENT_SLOW_AFTER:
        return 0.0
    return float(min(2 ** (failures - policy.VERIFY_CLIENT_SLOW_AFTER), policy.VERIFY_CLIENT_MAX_DELAY_SECONDS))


def _gate(
    session: Session, contract_number: str, client: Optional[str], now: datetime
) -> Tuple[Optional[Verification], float]:
    """(LOCKED or REFUSED, before any factor is looked at, or None to go on; the client's wait)."""
    failures = client_failures(session, client, now)
    delay = client_delay(failures)
    if failures >= policy.VERIFY_CLIENT_MAX_FAILURES:
        return Verification(Outcome.REFUSED, delay_seconds=delay), delay
    if active_lock(session, contract_number, now) is not None:
        return Verification(Outcome.LOCKED, delay_seconds=delay), delay
    return None, delay


def record_failure(
    session: Session,
    contract_number: str,
    *,
    client: Optional[str],
    conversation_id: Optional[str],
    channel: str = "unknown",
    now: Optional[datetime] = None,
) -> Verification:
    """Count a failure; lock the contract when it reaches the limit (one queue item per lock)."""
    from crm.services.escalations import escalate

    now = now or utc_now()
    session.add(
        VerificationFailure(
            contract_number=contract_number[:32],
            client=client,
            conversation_id=(conversation_id or "")[:255] or None,
            at=now,
        )
    )
    session.flush()
    delay = client_delay(client_failures(session, client, now))
    since = now - timedelta(hours=policy.VERIFY_CONTRACT_WINDOW_HOURS)
    released = _last_release(session, contract_number)
    if released is not None and released > since:
        since = released
    count = session.execute(
        select(func.count(VerificationFailure.id)).where(
            VerificationFailure.contract_number == contract_number, VerificationFailure.at >= since
        )
    ).scalar_one()
    if count < policy.VERIFY_CONTRACT_MAX_FAILURES or active_lock(session, contract_number, now) is not None:
        return Verification(Outcome.MISMATCH, delay_seconds=delay)
    until = now + timedelta(hours=policy.VERIFY_CONTRACT_LOCK_HOURS)
    lock = VerificationLock(contract_number=contract_number, locked_at=now, until=until, failures=count)
    session.add(lock)
    owner = _owner(session, contract_number)
    if owner is not None and conversation_id:
        lock.escalation_id = escalate(
            session,
            conversation_id=conversation_id,
            channel=channel,
            reason=EscalationReason.VERIFICATION,
            customer_id=owner.id,
            client=client,
            summary=(
                f"Verifikasi kontrak {contract_number} dikunci sampai {until:%d-%m-%Y %H:%M} UTC setelah "
                f"{count} kali gagal. Buka kunci di konsol bila pemilik kontrak menghubungi."
            ),
        ).escalation_id
    session.flush()
    return Verification(Outcome.MISMATCH, delay_seconds=delay, lock_engaged=True)


def release_lock(session: Session, contract_number: str, staff: Staff, now: Optional[datetime] = None) -> bool:
    """A staff member releases the contract's lock; failures before now stop counting."""
    lock = active_lock(session, contract_number, now)
    if lock is None:
        return False
    lock.released_at = now or utc_now()
    lock.released_by_id = staff.id
    return True


def active_locks(session: Session, now: Optional[datetime] = None) -> List[VerificationLock]:
    now = now or utc_now()
    return list(
        session.execute(
            select(VerificationLock)
            .where(VerificationLock.released_at.is_(None), VerificationLock.until > now)
            .order_by(VerificationLock.locked_at.desc())
        ).scalars()
    )


# --- the check ------------------------------------------------------------------------------


def _owner(session: Session, contract_number: str) -> Optional[Customer]:
    return session.execute(
        select(Customer).join(Contract, Contract.customer_id == Customer.id).where(Contract.number == contract_number)
    ).scalar_one_or_none()


def verify(
    session: Session,
    contract_number: str,
    date_of_birth: date,
    *,
    sender_phone: Optional[str] = None,
    client: Optional[str] = None,
    conversation_id: Optional[str] = None,
    channel: str = "unknown",
    now: Optional[datetime] = None,
    needs_code: bool = False,
) -> Verification:
    """The first step: contract number and date of birth (and, on WhatsApp, the sender's number).

    With `needs_code` (the website, when one-time codes are on) the answer is CODE_NEEDED whether
    or not the pair was right; `customer_id` is set only when it was (then a code is sent).

    `sender_phone` is given where the channel proves the sender's number (WhatsApp). From the
    contract's own number the right pair verifies; from any other number SECOND_FACTOR is the
    answer whether or not the pair was right (nothing is counted yet)."""
    now = now or utc_now()
    gate, delay = _gate(session, contract_number, client, now)
    if gate is not None:
        return gate
    owner = _owner(session, contract_number)
    right = owner is not None and owner.date_of_birth == date_of_birth
    if sender_phone is not None and not (right and owner is not None and same_phone(sender_phone, owner.phone)):
        return Verification(Outcome.SECOND_FACTOR, delay_seconds=delay)
    if needs_code:
        return Verification(Outcome.CODE_NEEDED, owner.id if right and owner else None, delay_seconds=delay)
    if right and owner is not None:
        return Verification(Outcome.VERIFIED, owner.id, owner.name, delay_seconds=delay)
    return record_failure(
        session, contract_number, client=client, conversation_id=conversation_id, channel=channel, now=now
    )


def verify_second_factor(
    session: Session,
    contract_number: str,
    proof: str,
    mother_name: str,
    *,
    secret: str,
    client: Optional[str] = None,
    conversation_id: Optional[str] = None,
    channel: str = "unknown",
    now: Optional[datetime] = None,
) -> Verification:
    """The second step on WhatsApp: every factor is checked at once, one answer for all."""
    now = now or utc_now()
    gate, delay = _gate(session, contract_number, client, now)
    if gate is not None:
        return gate
    owner = _owner(session, contract_number)
    right = (
        owner is not None
        and hmac.compare_digest(pending_proof(secret, contract_number, owner.date_of_birth), proof or "")
        and mother_name_matches(mother_name, owner.mother_maiden_name)
    )
    if right and owner is not None:
        return Verification(Outcome.VERIFIED, owner.id, owner.name, delay_seconds=delay)
    return record_failure(
        session, contract_number, client=client, conversation_id=conversation_id, channel=channel, now=now
    )


# --- one-time codes (website) ----------------------------------------------------------------


def _code_hash(secret: str, conversation_id: str, contract_number: str, code: str) -> str:
    message = f"{conversation_id}\n{contract_number}\n{code}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def issue_code(
    session: Session, contract_number: str, conversation_id: str, *, secret: str, now: Optional[datetime] = None
) -> Optional[Tuple[str, str]]:
    """A new code for this conversation and contract: (code, the owner's WhatsApp number), or None
    when the contract has had CODES_PER_CONTRACT_PER_HOUR codes this hour (the customer is not
    flooded). Only the code's keyed hash is stored; earlier codes of the conversation lapse."""
    now = now or utc_now()
    owner = _owner(session, contract_number)
    if owner is None or not owner.phone:
        return None
    recent = session.execute(
        select(func.count())
        .select_from(VerificationCode)
        .where(
            VerificationCode.contract_number == contract_number,
            VerificationCode.created_at > now - timedelta(hours=1),
        )
    ).scalar_one()
    if recent >= policy.CODES_PER_CONTRACT_PER_HOUR:
        return None
    for earlier in session.execute(
        select(VerificationCode).where(
            VerificationCode.conversation_id == conversation_id, VerificationCode.used_at.is_(None)
        )
    ).scalars():
        earlier.used_at = now
    code = f"{secrets.randbelow(10**policy.CODE_DIGITS):0{policy.CODE_DIGITS}d}"
    session.add(
        VerificationCode(
            conversation_id=conversation_id,
            contract_number=contract_number,
            code_hash=_code_hash(secret, conversation_id, contract_number, code),
            created_at=now,
            expires_at=now + timedelta(minutes=policy.CODE_VALID_MINUTES),
            attempts=0,
        )
    )
    session.flush()
    return code, normalise_phone(owner.phone)


def verify_code(
    session: Session,
    contract_number: str,
    proof: str,
    code: str,
    *,
    secret: str,
    client: Optional[str] = None,
    conversation_id: str,
    channel: str = "unknown",
    now: Optional[datetime] = None,
) -> Verification:
    """The website's second step: the birth date (its keyed proof from the first step) and the
    code are checked at once, one answer for both. A wrong, expired or used code is a failure
    like a wrong birth date; after CODE_MAX_ATTEMPTS a code is burnt."""
    now = now or utc_now()
    gate, delay = _gate(session, contract_number, client, now)
    if gate is not None:
        return gate
    owner = _owner(session, contract_number)
    row = session.execute(
        select(VerificationCode)
        .where(
            VerificationCode.conversation_id == conversation_id,
            VerificationCode.contract_number == contract_number,
            VerificationCode.used_at.is_(None),
        )
        .order_by(VerificationCode.id.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
    typed = re.sub(r"\D", "", code or "")
    code_right = False
    if row is not None and row.expires_at > now:
        row.attempts += 1
        code_right = hmac.compare_digest(row.code_hash, _code_hash(secret, conversation_id, contract_number, typed))
        if code_right or row.attempts >= policy.CODE_MAX_ATTEMPTS:
            row.used_at = now
    right = (
        code_right
        and owner is not None
        and hmac.compare_digest(pending_proof(secret, contract_number, owner.date_of_birth), proof or "")
    )
    if right and owner is not None:
        return Verification(Outcome.VERIFIED, owner.id, owner.name, delay_seconds=delay)
    return record_failure(
        session, contract_number, client=client, conversation_id=conversation_id, channel=channel, now=now
    )
