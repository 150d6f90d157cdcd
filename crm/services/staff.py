"""CRM staff accounts, console logins and the audit log.

Passwords are stored as bcrypt hashes. A login creates a server-side session: the browser
keeps a random token in an HttpOnly cookie and the database keeps only its SHA-256, with the
session's CSRF token. Failed logins are audit rows, and they are also what the login rate
limit counts, so the limit holds across restarts and console processes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import bcrypt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import policy
from crm.clock import utc_now
from crm.models import AuditEntry, Staff, StaffRole, StaffSession

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")


class StaffError(Exception):
    """Bad input for a staff account; the message says what to change."""


class LoginThrottled(Exception):
    """Too many failed logins recently for this username or address."""


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=12)).decode("ascii")


def password_matches(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:
        return False


def create_staff(session: Session, username: str, full_name: str, password: str, role: StaffRole | str) -> Staff:
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise StaffError("Username: 3-60 characters, lower-case letters, digits, '.', '_' or '-'.")
    if len(password or "") < policy.MIN_STAFF_PASSWORD_LENGTH:
        raise StaffError(f"Password: at least {policy.MIN_STAFF_PASSWORD_LENGTH} characters.")
    if len(password.encode("utf-8")) > 72:
        raise StaffError("Password: at most 72 bytes (bcrypt's limit).")
    if session.execute(select(Staff).where(Staff.username == username)).scalar_one_or_none():
        raise StaffError(f"A staff account named {username!r} already exists.")
    staff = Staff(
        username=username,
        full_name=(full_name or username).strip()[:120],
        password_hash=hash_password(password),
        role=StaffRole(role),
        active=True,
    )
    session.add(staff)
    session.flush()
    audit(session, "staff_created", staff=staff, detail=f"role {staff.role.value}")
    return staff


def by_id(session: Session, staff_id: int) -> Staff:
    """The staff member of a live console session (LookupError if the account is gone)."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise LookupError(f"staff {staff_id} no longer exists")
    return staff


def ensure_first_supervisor(session: Session, username: Optional[str], password: Optional[str]) -> Optional[Staff]:
    """Create the first supervisor from settings when no supervisor exists yet; else nothing."""
    if not username or not password:
        return None
    exists = session.execute(select(Staff).where(Staff.role == StaffRole.SUPERVISOR)).first()
    if exists:
        return None
    return create_staff(session, username, username, password, StaffRole.SUPERVISOR)


def audit(
    session: Session,
    action: str,
    *,
    staff: Optional[Staff] = None,
    username: Optional[str] = None,
    escalation_id: Optional[int] = None,
    client: Optional[str] = None,
    detail: Optional[str] = None,
) -> None:
    session.add(
        AuditEntry(
            at=utc_now(),
            staff_id=staff.id if staff else None,
            username=(username or (staff.username if staff else None) or "")[:60] or None,
            action=action,
            escalation_id=escalation_id,
            client=(client or "")[:64] or None,
            detail=(detail or "")[:4000] or None,
        )
    )


def recent_failures(
    session: Session, now: datetime, *, username: Optional[str] = None, client: Optional[str] = None
) -> int:
    """Failed logins in the window for a username, an address, or the pair when both are given."""
    since = now - timedelta(minutes=policy.LOGIN_FAILURE_WINDOW_MINUTES)
    query = (
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "login_failed", AuditEntry.at >= since)
    )
    if username is not None:
        query = query.where(AuditEntry.username == username[:60])
    if client is not None:
        query = query.where(AuditEntry.client == (client or "")[:64])
    return session.execute(query).scalar_one()


def usual_address(session: Session, username: str, client: Optional[str], now: datetime) -> bool:
    """`username` logged in successfully from `client` within LOGIN_USUAL_ADDRESS_DAYS."""
    if not client:
        return False
    since = now - timedelta(days=policy.LOGIN_USUAL_ADDRESS_DAYS)
    return (
        session.execute(
            select(AuditEntry.id)
            .where(
                AuditEntry.action == "login",
                AuditEntry.username == username[:60],
                AuditEntry.client == client[:64],
                AuditEntry.at >= since,
            )
            .limit(1)
        ).first()
        is not None
    )


def throttled(session: Session, username: str, client: Optional[str], now: datetime) -> bool:
    if recent_failures(session, now, username=username, client=client or "") >= policy.LOGIN_MAX_FAILURES:
        return True
    if client and recent_failures(session, now, client=client) >= policy.LOGIN_MAX_FAILURES_PER_CLIENT:
        return True
    return recent_failures(
        session, now, username=username
    ) >= policy.LOGIN_MAX_FAILURES_PER_USERNAME and not usual_address(session, username, client, now)


def login_delay(session: Session, username: str, client: Optional[str], now: Optional[datetime] = None) -> float:
    """Seconds to wait before answering a login for this pair: 1, 2, 4 ... after a few failures."""
    failures = recent_failures(
        session, now or utc_now(), username=(username or "").strip().lower()[:60], client=client or ""
    )
    if failures < policy.LOGIN_SLOW_AFTER:
        return 0.0
    return float(min(2 ** (failures - policy.LOGIN_SLOW_AFTER), policy.LOGIN_MAX_DELAY_SECONDS))


def failures_since_last_login(session: Session, username: str, now: datetime) -> int:
    previous = session.execute(
        select(func.max(AuditEntry.at)).where(AuditEntry.action == "login", AuditEntry.username == username[:60])
    ).scalar_one_or_none()
    query = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action.in_(("login_failed", "login_throttled")), AuditEntry.username == username[:60])
    )
    if previous is not None:
        query = query.where(AuditEntry.at >= previous)
    return session.execute(query).scalar_one()


def authenticate(
    session: Session, username: str, password: str, client: Optional[str] = None, now: Optional[datetime] = None
) -> Optional[Staff]:
    """The active staff member with these credentials, or None (the failure is audited).

    Raises LoginThrottled, without checking the password, after too many recent failures for
    this (username, address) pair, from this address, or for this username from an address it
    does not usually log in from. The caller commits, so that failures are recorded. After a
    successful login `staff.failed_attempts` says how many failed since the previous one.
    """
    now = now or utc_now()
    username = (username or "").strip().lower()[:60]
    if throttled(session, username, client, now):
        audit(session, "login_throttled", username=username, client=client)
        raise LoginThrottled()
    staff = session.execute(select(Staff).where(Staff.username == username)).scalar_one_or_none()
    # check a hash even for unknown users, so timing does not reveal which usernames exist
    ok = password_matches(password or "", staff.password_hash if staff else _DUMMY_HASH)
    if staff is None or not staff.active or not ok:
        audit(session, "login_failed", username=username, client=client)
        return None
    staff.failed_attempts = failures_since_last_login(session, username, now)
    audit(
        session,
        "login",
        staff=staff,
        client=client,
        detail=f"{staff.failed_attempts} failed attempts since the previous login" if staff.failed_attempts else None,
    )
    return staff


_DUMMY_HASH = bcrypt.hashpw(b"not a password", bcrypt.gensalt(rounds=12)).decode("ascii")


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie; never stored
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, staff: Staff, now: Optional[datetime] = None) -> NewSession:
    now = now or utc_now()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    failed = getattr(staff, "failed_attempts", 0)
    notice = (
        f"Ada {failed} percobaan login gagal ke akun Anda sejak login terakhir. Bila itu bukan Anda, "
        "beri tahu supervisor."
        if failed
        else None
    )
    session.add(
        StaffSession(
            token_hash=_digest(token),
            csrf_token=csrf,
            staff_id=staff.id,
            created_at=now,
            expires_at=now + timedelta(hours=policy.STAFF_SESSION_HOURS),
            notice=notice,
        )
    )
    return NewSession(token, csrf)


def find_session(session: Session, token: Optional[str], now: Optional[datetime] = None) -> Optional[StaffSession]:
    if not token or len(token) > 200:
        return None
    row = session.execute(select(StaffSession).where(StaffSession.token_hash == _digest(token))).scalar_one_or_none()
    if row is None or row.expires_at <= (now or utc_now()) or not row.staff.active:
        return None
    return row


def end_session(session: Session, token: Optional[str]) -> None:
    if token:
        row = session.execute(
            select(StaffSession).where(StaffSession.token_hash == _digest(token))
        ).scalar_one_or_none()
        if row is not None:
            session.delete(row)
