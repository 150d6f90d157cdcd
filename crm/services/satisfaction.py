"""Satisfaction surveys (CSAT): when a customer may be asked, the question's record, the rating
and the comment after a low one, and the figures the dashboard shows. The rules' numbers are in
crm.policy (CSAT_*); the wording is in domain.yml (utter_ask_csat…)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm import policy
from crm.models import SatisfactionSurvey, Staff
from crm.privacy import mask_text

# what a rating button sends back; domain.yml's utter_ask_csat buttons are written the same way.
# An existing intent with an entity of its own: a new intent would change the NLU model's labels.
RATING_INTENT = "inform"


def rating_payload(score: int) -> str:
    return f'/{RATING_INTENT}{{"csat_score":"{score}"}}'


def may_ask(db: Session, conversation_id: str, customer_id: Optional[int], now: datetime) -> bool:
    """Not asked in the last CSAT_QUIET_HOURS in this conversation, nor (verified) this customer."""
    since = now - timedelta(hours=policy.CSAT_QUIET_HOURS)
    who = [SatisfactionSurvey.conversation_id == conversation_id]
    if customer_id is not None:
        who.append(SatisfactionSurvey.customer_id == customer_id)
    asked = db.execute(
        select(SatisfactionSurvey.id)
        .where(or_(*who), SatisfactionSurvey.asked_at >= since, SatisfactionSurvey.how != "skipped")
        .limit(1)
    ).first()
    return asked is None


def record_question(
    db: Session,
    *,
    kind: str,
    conversation_id: str,
    channel: str,
    now: datetime,
    how: str = "buttons",
    customer_id: Optional[int] = None,
    intent: Optional[str] = None,
    escalation_id: Optional[int] = None,
    staff_id: Optional[int] = None,
) -> SatisfactionSurvey:
    survey = SatisfactionSurvey(
        kind=kind,
        conversation_id=conversation_id,
        channel=channel,
        customer_id=customer_id,
        intent=(intent or "")[:80] or None,
        escalation_id=escalation_id,
        staff_id=staff_id,
        how=how,
        asked_at=now,
    )
    db.add(survey)
    db.flush()
    return survey


def record_rating(db: Session, conversation_id: str, score: int, now: datetime) -> Optional[SatisfactionSurvey]:
    """The rating for the latest question asked in this conversation within CSAT_ANSWER_HOURS and
    not yet answered; None when there is none (an old button tapped again: nothing is counted)."""
    if not 1 <= score <= 5:
        return None
    survey = db.execute(
        select(SatisfactionSurvey)
        .where(
            SatisfactionSurvey.conversation_id == conversation_id,
            SatisfactionSurvey.how != "skipped",
            SatisfactionSurvey.answered_at.is_(None),
            SatisfactionSurvey.asked_at >= now - timedelta(hours=policy.CSAT_ANSWER_HOURS),
        )
        .order_by(SatisfactionSurvey.asked_at.desc(), SatisfactionSurvey.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if survey is None:
        return None
    survey.score, survey.answered_at = score, now
    db.flush()
    return survey


def add_comment(db: Session, conversation_id: str, text: str, now: datetime) -> bool:
    """Keep `text` (masked) as the comment on a low rating given in the last CSAT_COMMENT_MINUTES
    in this conversation that has none yet; False when there is no such rating."""
    text = " ".join((text or "").split())
    if not text or text.startswith("/"):
        return False
    survey = db.execute(
        select(SatisfactionSurvey)
        .where(
            SatisfactionSurvey.conversation_id == conversation_id,
            SatisfactionSurvey.score <= policy.CSAT_LOW,
            SatisfactionSurvey.comment.is_(None),
            SatisfactionSurvey.answered_at >= now - timedelta(minutes=policy.CSAT_COMMENT_MINUTES),
        )
        .order_by(SatisfactionSurvey.answered_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if survey is None:
        return False
    survey.comment = mask_text(text)[:1000]
    db.flush()
    return True


def _summary(rows: List[SatisfactionSurvey]) -> Dict[str, Any]:
    asked = [r for r in rows if r.how != "skipped"]
    rated = [r for r in asked if r.score is not None]
    satisfied = sum(1 for r in rated if r.score >= policy.CSAT_SATISFIED)
    return {
        "asked": len(asked),
        "not_asked": len(rows) - len(asked),
        "rated": len(rated),
        "response_rate": len(rated) / len(asked) if asked else None,
        "csat": satisfied / len(rated) if rated else None,
        "average": round(sum(r.score for r in rated) / len(rated), 2) if rated else None,
    }


def figures(db: Session, start: datetime, end: datetime, channel: Optional[str] = None) -> Dict[str, Any]:
    """CSAT of the questions asked in [start, end) (UTC): bot and agents, by intent and by agent,
    and the latest comments (masked)."""
    query = select(SatisfactionSurvey).where(SatisfactionSurvey.asked_at >= start, SatisfactionSurvey.asked_at < end)
    if channel:
        query = query.where(SatisfactionSurvey.channel == channel)
    rows = list(db.execute(query).scalars())
    by_intent: Dict[str, List[SatisfactionSurvey]] = {}
    by_agent: Dict[int, List[SatisfactionSurvey]] = {}
    for row in rows:
        if row.kind == "bot":
            by_intent.setdefault(row.intent or "-", []).append(row)
        elif row.staff_id is not None:
            by_agent.setdefault(row.staff_id, []).append(row)
    names = {
        s.id: s.full_name or s.username
        for s in db.execute(select(Staff).where(Staff.id.in_(list(by_agent) or [-1]))).scalars()
    }
    comments = sorted((r for r in rows if r.comment), key=lambda r: r.answered_at or r.asked_at, reverse=True)
    return {
        "bot": _summary([r for r in rows if r.kind == "bot"]),
        "agent": _summary([r for r in rows if r.kind == "agent"]),
        "by_intent": [{"intent": k, **_summary(v)} for k, v in sorted(by_intent.items())],
        "by_agent": [{"agent": names.get(k, str(k)), **_summary(v)} for k, v in sorted(by_agent.items())],
        "comments": [{"score": r.score, "kind": r.kind, "comment": r.comment} for r in comments[:20]],
    }
