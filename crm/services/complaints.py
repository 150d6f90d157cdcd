"""Complaint and suggestion analysis for the dashboard: complaints by topic (the words in
business/complaint_topics.yml, which analysts edit), by case kind and by reviewers' tags, with
counts per week and the share resolved within the OJK due time. Counts only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, List, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from crm.business_files import BUSINESS, reread_when_saved
from crm.clock import to_local
from crm.models import Case, CaseKind, ConversationSession, Escalation
from crm.parsing import mentions
from crm.services.monitoring import Period

TOPICS_FILE = BUSINESS / "complaint_topics.yml"
OTHER = ("other", "Lainnya")


class TopicsFileError(ValueError):
    """business/complaint_topics.yml is not as the console needs it; the message says where."""


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    words: Tuple[str, ...]


def _parse(path: Path, data: Dict[str, Any]) -> Tuple[Topic, ...]:
    topics = []
    for index, raw in enumerate(data.get("topics") or []):
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("title") or not raw.get("words"):
            raise TopicsFileError(f"{path.name}: topic {index + 1} needs id, title and words")
        topics.append(Topic(str(raw["id"]), str(raw["title"]), tuple(str(w).lower() for w in raw["words"])))
    return tuple(topics)


_read = reread_when_saved(_parse, TopicsFileError)


def topics(path: Path = TOPICS_FILE) -> Tuple[Topic, ...]:
    """The topics as the analysts last saved them (re-read when the file changes)."""
    return _read(path)


def topic_of(text: str, listed: Tuple[Topic, ...]) -> Tuple[str, str]:
    """(id, title) of the first topic whose words the text holds; ("other", "Lainnya") if none."""
    found = next((t for t in listed if mentions(text, t.words)), None)
    return (found.id, found.title) if found else OTHER


def _week(moment: datetime) -> str:
    local = to_local(moment).date()
    return (local - timedelta(days=local.weekday())).isoformat()  # the Monday


def analysis(db: DbSession, period: Period, now: datetime) -> Dict[str, Any]:
    """Complaints of the period by topic (count, per week, resolved on time), cases by kind, and
    reviewers' tags on complaint sessions."""
    listed = topics()
    query = (
        select(Case.data, Case.created_at, Escalation.due_at, Escalation.resolved_at)
        .outerjoin(Escalation, Escalation.case_id == Case.id)
        .where(Case.kind == CaseKind.COMPLAINT, Case.created_at >= period.utc_start, Case.created_at < period.utc_end)
    )
    if period.channel:
        query = query.where(Case.channel == period.channel)
    by_topic: Dict[Tuple[str, str], Dict[str, Any]] = {}
    weeks: set = set()
    for data, created, due, resolved in db.execute(query):
        data = data if isinstance(data, dict) else {}
        said = " ".join([str(data.get("message") or "")] + [str(m) for m in data.get("recent_messages") or []])
        key = topic_of(said, listed)
        row = by_topic.setdefault(
            key, {"count": 0, "weeks": defaultdict(int), "on_time": 0, "late": 0, "open_past_due": 0}
        )
        row["count"] += 1
        week = _week(created)
        weeks.add(week)
        row["weeks"][week] += 1
        if resolved is not None:
            row["on_time" if due is None or resolved <= due else "late"] += 1
        elif due is not None and due < now:
            row["open_past_due"] += 1
    ordered_weeks = sorted(weeks)
    topic_rows: List[Dict[str, Any]] = []
    for (topic_id, title), row in sorted(by_topic.items(), key=lambda kv: (-kv[1]["count"], kv[0][1])):
        closed = row["on_time"] + row["late"]
        topic_rows.append(
            {
                "topic": topic_id,
                "title": title,
                "complaints": row["count"],
                "per_week": [row["weeks"].get(w, 0) for w in ordered_weeks],
                "on_time": row["on_time"],
                "late": row["late"],
                "open_past_due": row["open_past_due"],
                "on_time_share": row["on_time"] / closed if closed else None,
            }
        )
    kinds = select(Case.kind, func.count()).where(Case.created_at >= period.utc_start, Case.created_at < period.utc_end)
    if period.channel:
        kinds = kinds.where(Case.channel == period.channel)
    return {
        "weeks": ordered_weeks,
        "topics": topic_rows,
        "case_kinds": [
            {"kind": k.value, "cases": n}
            for k, n in db.execute(kinds.group_by(Case.kind).order_by(func.count().desc()))
        ],
        "review_tags": _tags(db, period),
    }


def _tags(db: DbSession, period: Period) -> List[Dict[str, Any]]:
    """Reviewers' tags on the period's sessions, most used first."""
    query = select(ConversationSession.review_tags).where(
        ConversationSession.day >= period.first,
        ConversationSession.day <= period.last,
        ConversationSession.review_tags.is_not(None),
    )
    if period.channel:
        query = query.where(ConversationSession.channel == period.channel)
    counts: Dict[str, int] = defaultdict(int)
    for (tags,) in db.execute(query):
        for tag in str(tags).split(","):
            if tag:
                counts[tag] += 1
    return [{"tag": t, "sessions": n} for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
