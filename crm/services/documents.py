"""Documents issued to a customer in one conversation (a statement PDF) and served back only to
that conversation until they expire. The customer's link carries a random token; only its
SHA-256 is stored, so a database dump holds no usable link."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Delete

from crm import policy
from crm.models import IssuedDocument


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    filename: str
    content_type: str
    data: bytes
    expires_at: datetime  # naive UTC


def issue(
    session: Session,
    *,
    conversation_id: str,
    contract_id: int,
    kind: str,
    filename: str,
    content_type: str,
    data: bytes,
    now: datetime,
    valid_minutes: int = policy.STATEMENT_LINK_MINUTES,
) -> str:
    """Store the document for `conversation_id`; returns the token of its link. `now` is naive UTC."""
    token = secrets.token_urlsafe(24)
    session.add(
        IssuedDocument(
            token_hash=_hash(token),
            conversation_id=conversation_id,
            contract_id=contract_id,
            kind=kind,
            filename=filename,
            content_type=content_type,
            data=data,
            created_at=now,
            expires_at=now + timedelta(minutes=valid_minutes),
        )
    )
    session.flush()
    return token


def fetch(session: Session, token: str, conversation_id: Optional[str], now: datetime) -> Optional[Document]:
    """The document behind `token` when it was issued to `conversation_id` and has not expired;
    None otherwise (the caller cannot tell which: a guessed token learns nothing)."""
    if not token or not conversation_id:
        return None
    row = session.execute(select(IssuedDocument).where(IssuedDocument.token_hash == _hash(token))).scalar_one_or_none()
    if row is None or row.conversation_id != conversation_id or row.expires_at <= now:
        return None
    return Document(row.filename, row.content_type, bytes(row.data), row.expires_at)


def expired(now: datetime) -> Delete:
    """The statement deleting documents expired at `now` (data_protection.purge runs it nightly)."""
    return delete(IssuedDocument).where(IssuedDocument.expires_at <= now)


def purge_expired(session: Session, now: datetime) -> int:
    """Delete expired documents; returns how many."""
    return session.execute(expired(now)).rowcount or 0
