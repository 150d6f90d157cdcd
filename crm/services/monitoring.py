"""The figures the CRM team watches the bot with, for a period of WIB days and a channel: what the
dashboard shows, the CSV exports hold and the weekly report prints. Counted in SQL over the
stored session outcomes (crm.services.session_outcomes) and the CRM queue; counts only, no
personal data.

Denominators: containment and escalation rates are over sessions with a real request (not small
talk only); CSAT is satisfied ratings (4-5) over ratings, of the questions asked in the period;
the fallback rate is fallback messages over customer messages; OJK timeliness is over
complaints created in the period; agent times are over queue items created in the period
(first reply: the first reply or template reply an agent sent; resolution: resolved_at).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session as DbSession

from crm.clock import end_of_local_day, to_utc
from crm.models import AuditEntry, ConversationSession, Escalation, EscalationReason, OutcomeRun
from crm.outcomes import OUTCOMES
from crm.services import satisfaction

AGENT_REPLIES = ("reply", "template_reply")
TOP_INTENTS = 10
TREND_INTENTS = 5


@dataclass(frozen=True)
class Period:
    first: date  # WIB days, both included
    last: date
    channel: Optional[str] = None

    @property
    def utc_start(self) -> datetime:
        return to_utc(datetime.combine(self.first, datetime.min.time()))

    @property
    def utc_end(self) -> datetime:  # exclusive
        return end_of_local_day(self.last) + timedelta(seconds=1)

    def days(self) -> List[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def _sessions(period: Period):
    conditions = [ConversationSession.day >= period.first, ConversationSession.day <= period.last]
    if period.channel:
        conditions.append(ConversationSession.channel == period.channel)
    return and_(*conditions)


def _share(part: float, whole: float) -> Optional[float]:
    return part / whole if whole else None


def figures(db: DbSession, period: Period, now: datetime) -> Dict[str, Any]:
    """Everything the dashboard shows, as plain numbers and lists."""
    where = _sessions(period)
    outcomes = {name: 0 for name in OUTCOMES}
    for outcome, count in db.execute(
        select(ConversationSession.outcome, func.count()).where(where).group_by(ConversationSession.outcome)
    ):
        outcomes[outcome] = count
    sessions = sum(outcomes.values())
    real = sessions - outcomes["small_talk"]
    messages, fallbacks = db.execute(
        select(
            func.coalesce(func.sum(ConversationSession.messages), 0),
            func.coalesce(func.sum(ConversationSession.fallbacks), 0),
        ).where(where)
    ).one()
    reasons = _grouped(db, ConversationSession.reason, where, ConversationSession.outcome == "escalated")
    steps = _grouped(db, ConversationSession.reason, where, ConversationSession.outcome == "abandoned")
    top = _grouped(db, ConversationSession.request_intent, where, ConversationSession.request_intent.is_not(None))
    top_intents = [{"intent": k, "sessions": v} for k, v in list(top.items())[:TOP_INTENTS]]
    return {
        "period": {"first": period.first.isoformat(), "last": period.last.isoformat(), "channel": period.channel},
        "sessions": sessions,
        "real_requests": real,
        "outcomes": outcomes,
        "containment": _share(outcomes["self_served"], real),
        "escalation_rate": _share(outcomes["escalated"], real),
        "escalation_by_reason": [{"reason": k, "sessions": v, "rate": _share(v, real)} for k, v in reasons.items()],
        "abandoned_at": [{"step": k, "sessions": v} for k, v in steps.items()],
        "messages": int(messages),
        "fallback_rate": _share(int(fallbacks), int(messages)),
        "top_intents": top_intents,
        "intent_trend": _intent_trend(db, period, where, list(top)[:TREND_INTENTS]),
        "by_day": _by_day(db, period, where),
        "messages_by_hour": _by_hour(db, where),
        "by_channel": _by_channel(db, where),
        "agents": agent_times(db, period),
        "complaints": complaint_timeliness(db, period, now),
        "review": _review(db, where),
        "csat": satisfaction.figures(db, period.utc_start, period.utc_end, period.channel),
        "refreshed_at": _refreshed_at(db),
    }


def _grouped(db: DbSession, column, where, condition) -> Dict[str, int]:
    rows = db.execute(
        select(column, func.count()).where(where, condition).group_by(column).order_by(func.count().desc(), column)
    )
    return {str(key): count for key, count in rows}


def _by_day(db: DbSession, period: Period, where) -> List[Dict[str, Any]]:
    found: Dict[date, Dict[str, int]] = {}
    for day, sessions, self_served, small in db.execute(
        select(
            ConversationSession.day,
            func.count(),
            func.sum(case((ConversationSession.outcome == "self_served", 1), else_=0)),
            func.sum(case((ConversationSession.outcome == "small_talk", 1), else_=0)),
        )
        .where(where)
        .group_by(ConversationSession.day)
    ):
        found[day] = {"sessions": sessions, "self_served": int(self_served or 0), "real": sessions - int(small or 0)}
    rows = []
    for day in period.days():
        got = found.get(day, {"sessions": 0, "self_served": 0, "real": 0})
        rows.append({"day": day.isoformat(), **got, "containment": _share(got["self_served"], got["real"])})
    return rows


def _by_hour(db: DbSession, where) -> List[Dict[str, int]]:
    """Customer messages by WIB hour of day (a session's messages count at the hour it started)."""
    found = {
        hour: int(total or 0)
        for hour, total in db.execute(
            select(ConversationSession.hour, func.sum(ConversationSession.messages))
            .where(where)
            .group_by(ConversationSession.hour)
        )
    }
    return [{"hour": hour, "messages": found.get(hour, 0)} for hour in range(24)]


def _by_channel(db: DbSession, where) -> List[Dict[str, Any]]:
    table: Dict[str, Dict[str, int]] = defaultdict(lambda: {name: 0 for name in OUTCOMES})
    for channel, outcome, count in db.execute(
        select(ConversationSession.channel, ConversationSession.outcome, func.count())
        .where(where)
        .group_by(ConversationSession.channel, ConversationSession.outcome)
    ):
        table[channel][outcome] = count
    rows = []
    for channel, counts in sorted(table.items()):
        real = sum(counts.values()) - counts["small_talk"]
        rows.append(
            {"channel": channel, "sessions": sum(counts.values()), "containment": _share(counts["self_served"], real)}
        )
    return rows


def _intent_trend(db: DbSession, period: Period, where, intents: List[str]) -> Dict[str, List[int]]:
    if not intents:
        return {}
    counts: Dict[str, Dict[date, int]] = defaultdict(dict)
    for intent, day, count in db.execute(
        select(ConversationSession.request_intent, ConversationSession.day, func.count())
        .where(where, ConversationSession.request_intent.in_(intents))
        .group_by(ConversationSession.request_intent, ConversationSession.day)
    ):
        counts[intent][day] = count
    return {intent: [counts[intent].get(day, 0) for day in period.days()] for intent in intents}


def _review(db: DbSession, where) -> Dict[str, Any]:
    reviewed, correct, solved = db.execute(
        select(
            func.count(ConversationSession.reviewed_at),
            func.sum(case((ConversationSession.review_correct.is_(True), 1), else_=0)),
            func.sum(case((ConversationSession.review_solved.is_(True), 1), else_=0)),
        ).where(where)
    ).one()
    return {
        "reviewed": reviewed,
        "answered_correctly": _share(int(correct or 0), reviewed),
        "solved": _share(int(solved or 0), reviewed),
    }


def _refreshed_at(db: DbSession) -> Optional[str]:
    last = db.execute(select(func.max(OutcomeRun.finished_at))).scalar()
    return last.isoformat() if last else None


def _median_minutes(durations: List[timedelta]) -> Optional[float]:
    return round(statistics.median(d.total_seconds() for d in durations) / 60, 1) if durations else None


def agent_times(db: DbSession, period: Period) -> Dict[str, Any]:
    """Median minutes from a queue item to the first agent reply and to its resolution."""
    items = select(Escalation.id, Escalation.created_at, Escalation.resolved_at).where(
        Escalation.created_at >= period.utc_start, Escalation.created_at < period.utc_end
    )
    if period.channel:
        items = items.where(Escalation.channel == period.channel)
    created: Dict[int, datetime] = {}
    resolution: List[timedelta] = []
    for item_id, at, resolved in db.execute(items):
        created[item_id] = at
        if resolved is not None:
            resolution.append(resolved - at)
    first_reply: List[timedelta] = []
    if created:
        for item_id, first in db.execute(
            select(AuditEntry.escalation_id, func.min(AuditEntry.at))
            .where(AuditEntry.action.in_(AGENT_REPLIES), AuditEntry.escalation_id.in_(list(created)))
            .group_by(AuditEntry.escalation_id)
        ):
            first_reply.append(first - created[item_id])
    return {
        "items": len(created),
        "replied": len(first_reply),
        "resolved": len(resolution),
        "median_first_reply_minutes": _median_minutes(first_reply),
        "median_resolution_minutes": _median_minutes(resolution),
    }


def complaint_timeliness(db: DbSession, period: Period, now: datetime) -> Dict[str, Any]:
    """Complaints (OJK: resolved within their due time) created in the period."""
    items = select(Escalation.due_at, Escalation.resolved_at).where(
        Escalation.reason == EscalationReason.COMPLAINT,
        Escalation.created_at >= period.utc_start,
        Escalation.created_at < period.utc_end,
    )
    if period.channel:
        items = items.where(Escalation.channel == period.channel)
    counts = {"on_time": 0, "late": 0, "open_past_due": 0, "open": 0}
    for due, resolved in db.execute(items):
        if resolved is not None:
            counts["on_time" if due is None or resolved <= due else "late"] += 1
        else:
            counts["open_past_due" if due is not None and due < now else "open"] += 1
    total = sum(counts.values())
    return {"total": total, **counts, "on_time_share": _share(counts["on_time"], counts["on_time"] + counts["late"])}


def tables(found: Dict[str, Any], complaints: Dict[str, Any]) -> Dict[str, Any]:
    """The dashboard's tables as (title, columns, rows), by the name their CSV export uses."""
    return {
        "outcomes": ("Hasil sesi", ["outcome", "sessions"], [[k, v] for k, v in found["outcomes"].items()]),
        "escalations": (
            "Eskalasi per alasan",
            ["reason", "sessions", "rate"],
            [[r["reason"], r["sessions"], _rounded(r["rate"])] for r in found["escalation_by_reason"]],
        ),
        "abandoned": (
            "Berhenti di langkah",
            ["step", "sessions"],
            [[r["step"], r["sessions"]] for r in found["abandoned_at"]],
        ),
        "intents": (
            "Intent teratas",
            ["intent", "sessions"],
            [[r["intent"], r["sessions"]] for r in found["top_intents"]],
        ),
        "days": (
            "Per hari",
            ["day", "sessions", "real_requests", "self_served", "containment"],
            [
                [r["day"], r["sessions"], r["real"], r["self_served"], _rounded(r["containment"])]
                for r in found["by_day"]
            ],
        ),
        "hours": (
            "Pesan per jam (WIB)",
            ["hour", "messages"],
            [[r["hour"], r["messages"]] for r in found["messages_by_hour"]],
        ),
        "channels": (
            "Per kanal",
            ["channel", "sessions", "containment"],
            [[r["channel"], r["sessions"], _rounded(r["containment"])] for r in found["by_channel"]],
        ),
        "complaints": (
            "Pengaduan per topik",
            ["topic", "complaints", "on_time", "late", "open_past_due", "on_time_share"],
            [
                [r["title"], r["complaints"], r["on_time"], r["late"], r["open_past_due"], _rounded(r["on_time_share"])]
                for r in complaints["topics"]
            ],
        ),
        "cases": ("Laporan per jenis", ["kind", "cases"], [[r["kind"], r["cases"]] for r in complaints["case_kinds"]]),
        "tags": ("Tag peninjau", ["tag", "sessions"], [[r["tag"], r["sessions"]] for r in complaints["review_tags"]]),
        "csat_intents": (
            "Kepuasan setelah jawaban bot, per pertanyaan",
            ["intent", "asked", "rated", "csat", "average"],
            [
                [r["intent"], r["asked"], r["rated"], _rounded(r["csat"]), r["average"] or ""]
                for r in found["csat"]["by_intent"]
            ],
        ),
        "csat_agents": (
            "Kepuasan setelah ditangani petugas, per petugas",
            ["agent", "asked", "not_asked", "rated", "csat", "average"],
            [
                [r["agent"], r["asked"], r["not_asked"], r["rated"], _rounded(r["csat"]), r["average"] or ""]
                for r in found["csat"]["by_agent"]
            ],
        ),
    }


def _rounded(share: Optional[float]) -> str:
    return "" if share is None else f"{share:.3f}"
