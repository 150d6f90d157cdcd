"""Watching the bot in the console: the dashboard (figures and charts for a period and channel,
CSV of each table, refresh of the stored outcomes) and the conversation review (filtered list,
daily sample, transcript with the predicted intent and confidence, the reviewer's marks, a
misread message to the NLU inbox, a session saved as a test story). Supervisors, CRM analysts
and the department head; counts on the dashboard, transcripts masked like the queue's (by role)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

from sanic import Blueprint, Sanic, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sqlalchemy.exc import IntegrityError

from crm.clock import local_today, to_local, utc_now
from crm.console.web import MONITOR_ROLES, Me, body, json_error, page, require_staff, valid_id
from crm.db import session_scope
from crm.models import ConversationSession
from crm.outcomes import LOW_CONFIDENCE, OUTCOMES
from crm.privacy import mask_text
from crm.services import complaints, monitoring, nlu_inbox, session_outcomes
from crm.services import staff as staff_service

log = logging.getLogger("crm.console.monitoring")
monitoring_bp = Blueprint("console_monitoring")
PAGE_SIZE = 50
OUTCOME_WORDS = {
    "self_served": "terlayani bot",
    "escalated": "dieskalasi",
    "abandoned": "berhenti di tengah",
    "not_understood": "tidak dimengerti",
    "small_talk": "sapaan saja",
    "no_answer": "tanpa jawaban",
}


def _me(request: Request, *, csrf: bool = False, page_request: bool = True):
    return require_staff(request, MONITOR_ROLES, csrf=csrf, page_request=page_request)


def _day(raw: Optional[str], default: date) -> date:
    try:
        return date.fromisoformat(str(raw)) if raw else default
    except ValueError:
        return default


def _period(request: Request) -> monitoring.Period:
    """?from=&to= (WIB days, default the last 7) and ?channel=; at most a year."""
    today = local_today()
    last = _day(request.args.get("to"), today)
    first = _day(request.args.get("from"), last - timedelta(days=6))
    if first > last:
        first, last = last, first
    first = max(first, last - timedelta(days=366))
    return monitoring.Period(first, last, (request.args.get("channel") or "").strip()[:40] or None)


def _channels(db) -> List[str]:
    from sqlalchemy import select

    return [
        c for (c,) in db.execute(select(ConversationSession.channel).distinct().order_by(ConversationSession.channel))
    ]


@monitoring_bp.get("/dashboard")
async def dashboard(request: Request):
    me = _me(request)
    if not isinstance(me, Me):
        return me
    period = _period(request)
    now = utc_now()
    with session_scope(request.app.ctx.sessions) as db:
        found = monitoring.figures(db, period, now)
        topics = complaints.analysis(db, period, now)
        channels = _channels(db)
    query = f"from={period.first.isoformat()}&to={period.last.isoformat()}" + (
        f"&channel={period.channel}" if period.channel else ""
    )
    return page(
        request,
        "dashboard.html",
        me=me,
        period=period,
        channels=channels,
        f=found,
        complaints=topics,
        tables=monitoring.tables(found, topics),
        outcome_words=OUTCOME_WORDS,
        query=query,
        chart_data=json.dumps(
            {"figures": found, "complaints": topics, "outcome_words": OUTCOME_WORDS}, ensure_ascii=False
        ),
    )


@monitoring_bp.get("/dashboard/csv/<name:str>")
async def dashboard_csv(request: Request, name: str):
    me = _me(request)
    if not isinstance(me, Me):
        return me
    period = _period(request)
    now = utc_now()
    with session_scope(request.app.ctx.sessions) as db:
        listed = monitoring.tables(monitoring.figures(db, period, now), complaints.analysis(db, period, now))
        if name not in listed:
            return response.text("Tabel tidak ditemukan.", status=404)
        staff_service.audit(
            db,
            "dashboard_export",
            staff=staff_service.by_id(db, me.id),
            client=request.ip,
            detail=f"{name} {period.first}..{period.last} {period.channel or 'all'}",
        )
    _title, columns, rows = listed[name]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return response.text(
        buffer.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="dasbor-{name}-{period.first}-{period.last}.csv"'},
    )


async def refresh_outcomes(app: Sanic, trigger: str) -> session_outcomes.Refreshed:
    """One refresh of the stored outcomes, in a worker thread (it reads the tracker store), one
    at a time in this process."""

    def run() -> session_outcomes.Refreshed:
        with session_scope(app.ctx.sessions) as db:
            return session_outcomes.refresh(db, app.ctx.settings.tracker_db_url, utc_now(), trigger=trigger)

    async with app.ctx.refresh_lock:
        return await asyncio.get_running_loop().run_in_executor(None, run)


async def _refresher_loop(app: Sanic) -> None:
    while True:
        try:
            done = await refresh_outcomes(app, "scheduled")
            log.info(
                "outcomes refreshed: %d session(s) of %d conversation(s) in %.1f s",
                done.sessions,
                done.conversations,
                done.seconds,
            )
        except Exception:  # keep the loop alive; the next round retries
            log.exception("outcome refresh failed")
        await asyncio.sleep(app.ctx.settings.outcome_refresh_minutes * 60)


def install(app: Sanic, *, schedule: bool) -> None:
    """The refresh lock, and (`schedule`) a refresh at start and every OUTCOME_REFRESH_MINUTES."""
    app.ctx.refresh_lock = asyncio.Lock()
    if not schedule:
        return

    async def start(app_: Sanic, loop: Any) -> None:
        app_.ctx.refresher = loop.create_task(_refresher_loop(app_))

    async def stop(app_: Sanic, loop: Any) -> None:
        task = getattr(app_.ctx, "refresher", None)
        if task:
            task.cancel()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")


@monitoring_bp.post("/dashboard/refresh")
async def refresh(request: Request):
    me = _me(request, csrf=True)
    if not isinstance(me, Me):
        return me
    try:
        done = await refresh_outcomes(request.app, "console")
    except IntegrityError:  # another process (python -m crm outcomes refresh) wrote the same sessions
        return response.text("Pembaruan lain sedang berjalan; coba lagi sebentar lagi.", status=409)
    back = request.form.get("back") if request.form else None
    target = back if isinstance(back, str) and back.startswith("/dashboard") else "/dashboard"
    separator = "&" if "?" in target else "?"
    return response.redirect(f"{target}{separator}refreshed={done.sessions}", status=303)


# --- review -------------------------------------------------------------------------------------


def _filter(request: Request) -> session_outcomes.ReviewFilter:
    args = request.args
    outcome = args.get("outcome") if args.get("outcome") in OUTCOMES else None
    review = args.get("review") if args.get("review") in session_outcomes.REVIEW_STATES else None
    return session_outcomes.ReviewFilter(
        day_from=_day(args.get("from"), None) if args.get("from") else None,  # type: ignore[arg-type]
        day_to=_day(args.get("to"), None) if args.get("to") else None,  # type: ignore[arg-type]
        outcome=outcome,
        channel=(args.get("channel") or "").strip()[:40] or None,
        intent=(args.get("intent") or "").strip()[:80] or None,
        has_fallback=args.get("fallback") == "1",
        low_confidence=args.get("low") == "1",
        review=review,
    )


def _row(r: ConversationSession) -> Dict[str, Any]:
    return {
        "id": r.id,
        "started": to_local(r.started_at),
        "channel": r.channel,
        "outcome": OUTCOME_WORDS.get(r.outcome, r.outcome),
        "reason": r.reason or "",
        "intent": r.request_intent or "",
        "messages": r.messages,
        "fallbacks": r.fallbacks,
        "low": r.low_confidence,
        "reviewed": r.reviewed_at is not None,
        "correct": r.review_correct,
        "solved": r.review_solved,
        "tags": r.review_tags or "",
    }


@monitoring_bp.get("/review")
async def review_list(request: Request):
    me = _me(request)
    if not isinstance(me, Me):
        return me
    sample_day = request.args.get("sample")
    try:
        page_no = max(1, min(int(request.args.get("page") or 1), 10_000))
    except ValueError:
        page_no = 1
    with session_scope(request.app.ctx.sessions) as db:
        if sample_day:
            day = _day(sample_day, local_today() - timedelta(days=1))
            rows = [_row(r) for r in session_outcomes.daily_sample(db, day)]
        else:
            query = (
                session_outcomes.review_query(_filter(request)).offset((page_no - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
            )
            rows = [_row(r) for r in db.execute(query).scalars()]
        channels = _channels(db)
    more = len(rows) > PAGE_SIZE and not sample_day
    args = {k: v for k, v in request.args.items() if k != "page"}
    return page(
        request,
        "review.html",
        me=me,
        rows=rows[:PAGE_SIZE],
        more=more,
        page_no=page_no,
        args={k: (v[0] if isinstance(v, list) else v) for k, v in args.items()},
        sample_day=sample_day,
        yesterday=(local_today() - timedelta(days=1)).isoformat(),
        outcomes=OUTCOME_WORDS,
        channels=channels,
        states=session_outcomes.REVIEW_STATES,
    )


def _transcript(events: List[Dict[str, Any]], masked: bool) -> List[Dict[str, Any]]:
    """What was said (masked as in the queue, by role), with the predicted intent and confidence
    beside each customer message."""
    show = mask_text if masked else (lambda text: text)
    lines = []
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            lines.append(
                {
                    "index": index,
                    "who": "customer",
                    "text": show(event.get("text") or ""),
                    "intent": intent.get("name") or "",
                    "confidence": float(intent.get("confidence") or 0.0),
                }
            )
        elif kind == "bot" and (event.get("text") or "").strip():
            agent = (event.get("metadata") or {}).get("agent")
            lines.append({"index": index, "who": "agent" if agent else "bot", "text": show(event.get("text") or "")})
    return lines


@monitoring_bp.get("/review/<session_id:int>")
async def review_session(request: Request, session_id: int):
    me = _me(request)
    if not isinstance(me, Me):
        return me
    with session_scope(request.app.ctx.sessions) as db:
        row = _stored_session(db, session_id)
        summary = _row(row)
        summary["note"] = row.review_note or ""
        summary["reviewer"] = row.reviewer.full_name if row.reviewer else ""
        events = session_outcomes.events_of(request.app.ctx.settings.tracker_db_url, row)
    return page(
        request,
        "review_session.html",
        me=me,
        s=summary,
        lines=_transcript(events, masked=not me.sees_typed_personal_data),
        low=LOW_CONFIDENCE,
        saved=request.args.get("saved"),
    )


def _yes_no(value: Any) -> Optional[bool]:
    return {"yes": True, "no": False}.get(str(value or "").lower())


@monitoring_bp.post("/review/<session_id:int>")
async def review_mark(request: Request, session_id: int):
    me = _me(request, csrf=True)
    if not isinstance(me, Me):
        return me
    if not valid_id(session_id):
        return response.text("Sesi tidak ditemukan.", status=404)
    try:
        data = body(request)
    except ValueError as error:
        return json_error(str(error), 400)
    with session_scope(request.app.ctx.sessions) as db:
        try:
            session_outcomes.mark(
                db,
                session_id,
                staff_service.by_id(db, me.id),
                utc_now(),
                correct=_yes_no(data.get("correct")),
                solved=_yes_no(data.get("solved")),
                tags=str(data.get("tags") or "").split(","),
                note=str(data.get("note") or ""),
            )
        except LookupError:
            return response.text("Sesi tidak ditemukan.", status=404)
        staff_service.audit(
            db,
            "session_reviewed",
            staff=staff_service.by_id(db, me.id),
            client=request.ip,
            detail=f"session {session_id}",
        )
    return response.redirect(f"/review/{session_id}?saved=mark", status=303)


def _stored_session(db, session_id: int) -> ConversationSession:
    """The stored session, or NotFound, which the console's error handler answers with a 404."""
    row = db.get(ConversationSession, session_id) if valid_id(session_id) else None
    if row is None:
        raise NotFound("Sesi tidak ditemukan.")
    return row


def _session_events(request: Request, session_id: int):
    """(conversation id, the session's tracker events); NotFound for an unknown session."""
    with session_scope(request.app.ctx.sessions) as db:
        row = _stored_session(db, session_id)
        return row.conversation_id, session_outcomes.events_of(request.app.ctx.settings.tracker_db_url, row)


@monitoring_bp.post("/review/<session_id:int>/nlu")
async def review_to_inbox(request: Request, session_id: int):
    """A misread customer message of the session to the trainers' NLU inbox (masked there)."""
    me = _me(request, csrf=True)
    if not isinstance(me, Me):
        return me
    conversation_id, events = _session_events(request, session_id)
    try:
        index = int((request.form or {}).get("index") or -1)
    except ValueError:
        index = -1
    if not 0 <= index < len(events) or events[index].get("event") != "user":
        return response.text("Pesan tidak ditemukan.", status=404)
    event = events[index]
    predicted = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    with session_scope(request.app.ctx.sessions) as db:
        try:
            nlu_inbox.flag(db, event.get("text") or "", staff_service.by_id(db, me.id), predicted, conversation_id)
        except nlu_inbox.InboxError as error:
            return response.text(str(error), status=400)
    return response.redirect(f"/review/{session_id}?saved=nlu", status=303)


@monitoring_bp.post("/review/<session_id:int>/story")
async def review_to_story(request: Request, session_id: int):
    """The session as a masked Rasa test story under tests/stories/reviewed/, for trainers to commit."""
    from crm.nlu.stories import story_yaml

    me = _me(request, csrf=True)
    if not isinstance(me, Me):
        return me
    conversation_id, events = _session_events(request, session_id)
    folder: Path = request.app.ctx.settings.review_stories_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"review_{session_id}.yml"
    header = (
        f"# saved from the conversation review by {me.username} on {to_local(utc_now()):%Y-%m-%d %H:%M} WIB (masked)\n"
    )
    path.write_text(header + story_yaml(f"reviewed session {session_id}", events), encoding="utf-8")
    with session_scope(request.app.ctx.sessions) as db:
        staff_service.audit(
            db, "test_story_saved", staff=staff_service.by_id(db, me.id), client=request.ip, detail=path.name
        )
    return response.redirect(f"/review/{session_id}?saved=story", status=303)
