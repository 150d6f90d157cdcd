"""Watching the bot (issue 19): stored outcomes refreshed incrementally from a real Rasa SQL
tracker store, the dashboard's figures, complaint topics, the review (filters, sample, marks,
test story) and the weekly report; the console's pages in-process."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import date, datetime, timedelta

import aiohttp
import pytest
from sanic import Sanic
from sqlalchemy import func, select

from crm import policy
from crm.clock import to_local, utc_now
from crm.db import session_scope
from crm.models import (
    AuditEntry,
    Case,
    CaseKind,
    CaseStatus,
    ConversationSession,
    Escalation,
    EscalationReason,
    EscalationStatus,
    OutcomeRun,
)
from crm.services import complaints, monitoring, session_outcomes
from crm.services.escalations import escalate
from crm.services.staff import create_staff
from crm.settings import PROJECT_ROOT, load_settings
from tests.support.console import PASSWORD, FakeRasa, login, run


class Tracker:
    """Rasa's own SQLTrackerStore on SQLite: conversations are appended to as the bot would."""

    def __init__(self, path):
        from rasa.core.tracker_store import SQLTrackerStore
        from rasa.shared.core.domain import Domain

        self.domain = Domain.from_path(PROJECT_ROOT / "domain.yml")
        self.store = SQLTrackerStore(self.domain, dialect="sqlite", db=str(path))
        self.url = f"sqlite:///{path}"

    def add(self, sender: str, *events) -> None:
        from rasa.shared.core.trackers import DialogueStateTracker

        async def append():
            tracker = await self.store.retrieve(sender) or DialogueStateTracker(sender, self.domain.slots)
            for event in events:
                tracker.update(event)
            await self.store.save(tracker)

        asyncio.new_event_loop().run_until_complete(append())


def user(intent, text="…", channel="whatsapp", confidence=0.93, entities=()):
    from rasa.shared.core.events import UserUttered

    return UserUttered(text, {"name": intent, "confidence": confidence}, list(entities), input_channel=channel)


def action(name):
    from rasa.shared.core.events import ActionExecuted

    return ActionExecuted(name)


def started():
    from rasa.shared.core.events import SessionStarted

    return SessionStarted()


@pytest.fixture
def tracker(tmp_path):
    return Tracker(tmp_path / "tracker.db")


def _refresh(factory, tracker):
    with session_scope(factory) as db:
        return session_outcomes.refresh(db, tracker.url, utc_now())


def _rows(factory):
    with session_scope(factory) as db:
        return [
            (r.conversation_id, r.outcome, r.reason, r.request_intent, r.messages)
            for r in db.execute(select(ConversationSession).order_by(ConversationSession.id)).scalars()
        ]


def test_refresh_reads_only_new_events_and_keeps_the_reviewers_marks(demo_db, tracker):
    tracker.add(
        "whatsapp:6281", started(), user("greet"), user("ask_office_hours"), action("action_answer_office_hours")
    )
    first = _refresh(demo_db, tracker)
    assert (first.conversations, first.sessions) == (1, 1)
    assert _rows(demo_db) == [("whatsapp:6281", "self_served", None, "ask_office_hours", 2)]
    with session_scope(demo_db) as db:
        reviewer = create_staff(db, "rina", "Rina", PASSWORD, "analyst")
        row_id = db.execute(select(ConversationSession.id)).scalar_one()
        session_outcomes.mark(db, row_id, reviewer, utc_now(), correct=True, solved=True, tags=["Jam", " jam", ""])

    again = _refresh(demo_db, tracker)
    assert (again.conversations, again.sessions, again.from_event_id) == (0, 0, first.to_event_id)

    # the same session goes on: answered, then the customer asks for a person
    tracker.add("whatsapp:6281", user("request_human"), action("action_handover"))
    with session_scope(demo_db) as db:
        escalate(db, conversation_id="whatsapp:6281", channel="whatsapp", reason=EscalationReason.HUMAN_REQUEST)
    _refresh(demo_db, tracker)
    assert _rows(demo_db) == [("whatsapp:6281", "escalated", "human_request", "ask_office_hours", 3)]
    with session_scope(demo_db) as db:
        row = db.get(ConversationSession, row_id)
        assert (row.review_correct, row.review_tags, row.reviewer.username) == (True, "jam", "rina")

    # a new session of the same conversation is a second row (the conversation is reread from its
    # latest stored session: that one is written again, with the new one)
    time.sleep(1.1)  # queue times are whole seconds: the next session starts a second later
    tracker.add("whatsapp:6281", started(), user("ask_instalment"))
    tracker.add("rest:web-1", started(), user("out_of_scope", channel="rest"))
    third = _refresh(demo_db, tracker)
    assert third.conversations == 2 and third.sessions == 3
    assert sorted(_rows(demo_db)[1:]) == [
        ("rest:web-1", "not_understood", None, None, 1),
        ("whatsapp:6281", "no_answer", None, "ask_instalment", 1),
    ]
    with session_scope(demo_db) as db:
        assert db.execute(select(func.count()).select_from(OutcomeRun)).scalar() == 4


def test_a_queue_item_written_after_a_refresh_still_reaches_its_session(demo_db, tracker):
    tracker.add("rest:late", started(), user("request_human", channel="rest"), action("action_handover"))
    _refresh(demo_db, tracker)
    assert _rows(demo_db)[0][1] == "no_answer"  # the outbox had not written the item yet
    with session_scope(demo_db) as db:
        escalate(db, conversation_id="rest:late", channel="rest", reason=EscalationReason.HUMAN_REQUEST)
    assert _refresh(demo_db, tracker).conversations == 1
    assert _rows(demo_db)[0][1:3] == ("escalated", "human_request")


def test_an_empty_or_missing_tracker_store_refreshes_to_nothing(demo_db, tmp_path):
    with session_scope(demo_db) as db:
        done = session_outcomes.refresh(db, f"sqlite:///{tmp_path / 'none.db'}", utc_now())
    assert (done.conversations, done.sessions, done.to_event_id) == (0, 0, 0)


# --- figures ------------------------------------------------------------------------------------

DAY = date(2026, 11, 23)  # a Monday


def _session(db, n, outcome, *, day=DAY, hour=9, channel="whatsapp", reason=None, intent="ask_instalment", **extra):
    started_at = datetime(day.year, day.month, day.day, hour) - timedelta(hours=7)  # WIB -> UTC
    row = ConversationSession(
        conversation_id=f"{channel}:{n}",
        first_event_id=n,
        last_event_id=n + 5,
        started_at=started_at,
        ended_at=started_at + timedelta(minutes=3),
        day=day,
        hour=hour,
        channel=channel,
        outcome=outcome,
        reason=reason,
        request_intent=intent if outcome != "small_talk" else None,
        intents=[intent],
        messages=extra.pop("messages", 3),
        fallbacks=extra.pop("fallbacks", 0),
        low_confidence=extra.pop("low_confidence", 0),
        **extra,
    )
    db.add(row)
    return row


@pytest.fixture
def history(demo_db):
    """Ten sessions over two days, two queue items with agent replies, three complaints."""
    with session_scope(demo_db) as db:
        for n in range(4):
            _session(db, n, "self_served", hour=9 + n)
        _session(db, 4, "escalated", reason="human_request", intent="request_human")
        _session(db, 5, "escalated", reason="fallback", fallbacks=2, messages=4)
        _session(db, 6, "abandoned", reason="verification_form:date_of_birth")
        _session(db, 7, "small_talk", intent="greet")
        _session(db, 8, "self_served", day=DAY + timedelta(days=1), channel="rest", intent="ask_office_hours")
        _session(db, 9, "not_understood", day=DAY + timedelta(days=1), channel="rest", fallbacks=1, messages=1)
        base = datetime(2026, 11, 23, 3)
        for n, (reply, resolve) in enumerate([(10, 60), (30, None)]):
            item = Escalation(
                conversation_id=f"whatsapp:q{n}",
                channel="whatsapp",
                reason=EscalationReason.HUMAN_REQUEST,
                status=EscalationStatus.RESOLVED if resolve else EscalationStatus.CLAIMED,
                created_at=base,
                resolved_at=base + timedelta(minutes=resolve) if resolve else None,
            )
            db.add(item)
            db.flush()
            db.add(AuditEntry(action="reply", escalation_id=item.id, at=base + timedelta(minutes=reply)))
            db.add(AuditEntry(action="reply", escalation_id=item.id, at=base + timedelta(minutes=reply + 5)))
        complaints_ = [
            ("debt collector nya kasar banget datang malam2", 2, 1),  # resolved on time
            ("denda saya kok besar sekali", 2, 5),  # resolved late
            ("aplikasinya error terus", -1, None),  # open past due
        ]
        for n, (message, due_days, resolved_days) in enumerate(complaints_):
            case = Case(
                reference=f"CASE-2026-{n:06d}",
                kind=CaseKind.COMPLAINT,
                status=CaseStatus.OPEN,
                conversation_id=f"whatsapp:c{n}",
                channel="whatsapp",
                data={"message": message, "recent_messages": []},
                created_at=base,
            )
            db.add(case)
            db.flush()
            db.add(
                Escalation(
                    conversation_id=f"whatsapp:c{n}",
                    channel="whatsapp",
                    reason=EscalationReason.COMPLAINT,
                    status=EscalationStatus.RESOLVED if resolved_days else EscalationStatus.OPEN,
                    case_id=case.id,
                    created_at=base,
                    due_at=base + timedelta(days=due_days),
                    resolved_at=base + timedelta(days=resolved_days) if resolved_days else None,
                )
            )
    return demo_db


def test_the_dashboard_figures_have_their_documented_denominators(history):
    now = datetime(2026, 11, 26)
    with session_scope(history) as db:
        f = monitoring.figures(db, monitoring.Period(DAY, DAY + timedelta(days=6)), now)
        whatsapp = monitoring.figures(db, monitoring.Period(DAY, DAY + timedelta(days=6), "whatsapp"), now)
        one_day = monitoring.figures(db, monitoring.Period(DAY + timedelta(days=1), DAY + timedelta(days=1)), now)
    assert f["sessions"] == 10 and f["real_requests"] == 9
    assert f["containment"] == 5 / 9 and f["escalation_rate"] == 2 / 9
    assert {r["reason"]: r["sessions"] for r in f["escalation_by_reason"]} == {"human_request": 1, "fallback": 1}
    assert f["abandoned_at"] == [{"step": "verification_form:date_of_birth", "sessions": 1}]
    assert f["fallback_rate"] == 3 / 29  # fallback messages over customer messages
    assert f["top_intents"][0] == {"intent": "ask_instalment", "sessions": 7}
    assert f["intent_trend"]["ask_instalment"][:2] == [6, 1] and len(f["by_day"]) == 7
    assert f["by_day"][1] == {"day": "2026-11-24", "sessions": 2, "self_served": 1, "real": 2, "containment": 0.5}
    assert [h["messages"] for h in f["messages_by_hour"]][9:13] == [20, 3, 3, 3]
    assert f["agents"]["median_first_reply_minutes"] == 20.0  # 10 and 30 minutes
    assert f["agents"]["median_resolution_minutes"] == 1440.0  # 60 minutes, 1 day and 5 days (complaints)
    assert f["complaints"] == {
        "total": 3,
        "on_time": 1,
        "late": 1,
        "open_past_due": 1,
        "open": 0,
        "on_time_share": 0.5,
    }
    assert whatsapp["sessions"] == 8 and {c["channel"] for c in f["by_channel"]} == {"rest", "whatsapp"}
    assert one_day["sessions"] == 2 and one_day["agents"]["items"] == 0


def test_complaints_are_grouped_by_the_topics_analysts_edit(history, tmp_path, monkeypatch):
    now = datetime(2026, 11, 26)
    with session_scope(history) as db:
        found = complaints.analysis(db, monitoring.Period(DAY, DAY + timedelta(days=6)), now)
    by_topic = {t["topic"]: t for t in found["topics"]}
    assert set(by_topic) == {"collection", "fees", "digital"}
    assert by_topic["collection"]["on_time"] == 1 and by_topic["fees"]["late"] == 1
    assert by_topic["digital"]["open_past_due"] == 1 and by_topic["digital"]["on_time_share"] is None
    assert found["weeks"] == ["2026-11-23"] and by_topic["fees"]["per_week"] == [1]
    assert found["case_kinds"] == [{"kind": "complaint", "cases": 3}]
    listed = complaints.topics()
    assert complaints.topic_of("dc nya datang ke rumah", listed)[0] == "collection"
    assert complaints.topic_of("bpkb saya belum keluar", listed)[0] == "bpkb"
    assert complaints.topic_of("saya kecewa", listed) == complaints.OTHER
    broken = tmp_path / "topics.yml"
    broken.write_text("topics:\n  - id: x\n    title: X\n")
    with pytest.raises(complaints.TopicsFileError, match="topic 1 needs id, title and words"):
        complaints.topics(broken)


def test_tables_and_their_csv_columns_follow_the_figures(history):
    now = datetime(2026, 11, 26)
    period = monitoring.Period(DAY, DAY + timedelta(days=6))
    with session_scope(history) as db:
        listed = monitoring.tables(monitoring.figures(db, period, now), complaints.analysis(db, period, now))
    assert set(listed) >= {"outcomes", "escalations", "abandoned", "intents", "days", "hours", "complaints"}
    title, columns, rows = listed["escalations"]
    assert columns == ["reason", "sessions", "rate"] and ["fallback", 1, "0.111"] in rows


# --- review -------------------------------------------------------------------------------------


def test_review_filters_the_daily_sample_favours_failures_and_marks_stick(history):
    with session_scope(history) as db:
        found = lambda **kw: [  # noqa: E731
            r.first_event_id
            for r in db.execute(session_outcomes.review_query(session_outcomes.ReviewFilter(**kw))).scalars()
        ]
        assert sorted(found(outcome="escalated")) == [4, 5]
        assert sorted(found(has_fallback=True)) == [5, 9]
        assert found(channel="rest", day_from=DAY + timedelta(days=1)) == [9, 8] or sorted(found(channel="rest")) == [
            8,
            9,
        ]
        assert found(intent="request_human") == [4]
        sample = session_outcomes.daily_sample(db, DAY, size=4)
        assert len(sample) == 4 and sum(r.outcome != "self_served" for r in sample) >= 3
        assert [r.id for r in sample] == [r.id for r in session_outcomes.daily_sample(db, DAY, size=4)]
        reviewer = create_staff(db, "rina", "Rina", PASSWORD, "analyst")
        session_outcomes.mark(db, sample[0].id, reviewer, utc_now(), correct=False, solved=None, note="salah jawab")
        assert found(review="incorrect") == [sample[0].first_event_id]
        assert len(found(review="unreviewed")) == 9
        with pytest.raises(LookupError):
            session_outcomes.mark(db, 10**6, reviewer, utc_now(), correct=True, solved=True)


def test_a_test_story_keeps_what_the_policies_need_and_nothing_about_the_customer():
    from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet

    from crm.nlu.stories import story_yaml

    events = [
        e.as_dict()
        for e in [
            started(),
            user("ask_instalment", "cicilan saya berapa ya"),
            action("verification_form"),
            ActiveLoop("verification_form"),
            SlotSet("requested_slot", "contract_number"),
            BotUttered("Silakan tulis nomor kontrak"),
            user(
                "inform",
                "K20123000002 tgl lahir 05-03-1990",
                entities=[{"entity": "contract_number", "value": "K20123000002", "start": 0, "end": 12}],
            ),
            SlotSet("contract_number", "K20123000002"),
            SlotSet("customer_name", "Siti Rahmawati"),
            SlotSet("verified", True),
            ActiveLoop(None),
            action("action_answer_account"),
        ]
    ]
    story = story_yaml("reviewed session 7", events)
    for secret in ("K20123000002", "05-03-1990", "Siti", "cicilan saya", "Silakan tulis"):
        assert secret not in story
    assert "- intent: ask_instalment" in story and "- action: action_answer_account" in story
    assert "contract_number: Kxxxxxxxxxxx" in story and "customer_name: xxx" in story
    assert "verified: true" in story and "- active_loop: null" in story


# --- console ------------------------------------------------------------------------------------


@pytest.fixture
def console(history, tmp_path, monkeypatch):
    monkeypatch.setattr(policy, "LOGIN_MAX_DELAY_SECONDS", 0)
    monkeypatch.setattr(Sanic, "test_mode", True)
    tracker = Tracker(tmp_path / "console-tracker.db")
    tracker.add(
        "whatsapp:6281234567890",
        started(),
        user("ask_instalment", "cicilan K20123000002 berapa", confidence=0.41),
        action("action_answer_account"),
    )
    with session_scope(history) as db:
        create_staff(db, "kepala", "Kepala CRM", PASSWORD, "supervisor")
        create_staff(db, "ayu", "Ayu", PASSWORD, "agent")
        create_staff(db, "rina", "Rina", PASSWORD, "analyst")
    settings = load_settings(
        {"TRACKER_STORE_URL": tracker.url, "REVIEW_STORIES_DIR": str(tmp_path / "stories")}, env_file=tmp_path / "none"
    )
    app = create_app_for(settings, history, tmp_path)
    return app, history, tmp_path


def create_app_for(settings, factory, tmp_path):
    from crm.console.app import create_app

    return create_app(
        settings, rasa=FakeRasa(), factory=factory, name=f"mon_{tmp_path.name}"[:60].replace("-", "_"), notify=False
    )


def test_console_dashboard_csv_refresh_and_review(console):
    app, factory, tmp_path = console

    async def scenario(base):
        agent, _ = await login(base, "ayu")
        async with agent.get(base + "/dashboard") as page:
            assert page.status == 403
        async with agent.get(base + "/review") as page:
            assert page.status == 403
        await agent.close()
        boss, _ = await login(base, "kepala")
        async with boss.get(base + "/dashboard?from=2026-11-23&to=2026-11-29") as page:
            html = await page.text()
            assert page.status == 200 and 'id="sessions">10<' in html and "55.6%" in html
            assert "chart.umd.min.js" in html and "data-charts=" in html
        async with boss.get(base + "/dashboard?from=nonsense&to=2026-13-45&channel=<img src=x>") as page:
            assert page.status == 200 and "<img src=x>" not in await page.text()
        async with boss.get(base + "/dashboard/csv/escalations?from=2026-11-23&to=2026-11-29") as csv_:
            assert csv_.status == 200 and (await csv_.text()).splitlines()[0] == "reason,sessions,rate"
        async with boss.get(base + "/dashboard/csv/secrets") as missing:
            assert missing.status == 404
        async with aiohttp.ClientSession(cookie_jar=boss.cookie_jar) as no_token:
            async with no_token.post(base + "/dashboard/refresh") as refused:
                assert refused.status == 403
        async with boss.post(base + "/dashboard/refresh", allow_redirects=False) as refreshed:
            assert refreshed.status == 303 and "refreshed=1" in refreshed.headers["Location"]
        with session_scope(factory) as db:
            new = db.execute(
                select(ConversationSession).where(ConversationSession.conversation_id == "whatsapp:6281234567890")
            ).scalar_one()
            new_id, day = new.id, new.day
        async with boss.get(base + f"/review?low=1&from={day}") as page:
            listed = await page.text()
            assert f'href="/review/{new_id}"' in listed
        async with boss.get(base + f"/review/{new_id}") as page:
            transcript = await page.text()  # a supervisor sees what was typed, as in the queue
            assert "cicilan K20123000002 berapa" in transcript and "ask_instalment 0.41" in transcript
        analyst, _ = await login(base, "rina")
        async with analyst.get(base + f"/review/{new_id}") as page:
            masked = await page.text()
            assert "cicilan Kxxxxxxxxxxx berapa" in masked and "K20123000002" not in masked
        await analyst.close()
        async with boss.post(
            base + f"/review/{new_id}",
            data={"correct": "no", "solved": "yes", "tags": "salah intent, cicilan", "note": "perlu contoh"},
            allow_redirects=False,
        ) as marked:
            assert marked.status == 303
        async with boss.post(base + f"/review/{new_id}/nlu", data={"index": "99"}) as wrong:
            assert wrong.status == 404
        index = re.search(r'name="index" value="(\d+)"', transcript).group(1)
        async with boss.post(base + f"/review/{new_id}/nlu", data={"index": index}, allow_redirects=False) as flagged:
            assert flagged.status == 303
        async with boss.post(base + f"/review/{new_id}/story", allow_redirects=False) as saved:
            assert saved.status == 303
        async with boss.get(base + "/review/999999") as missing:
            assert missing.status == 404
        await boss.close()
        return new_id

    new_id = run(app, scenario)
    with session_scope(factory) as db:
        row = db.get(ConversationSession, new_id)
        assert (row.review_correct, row.review_solved, row.review_tags) == (False, True, "salah intent,cicilan")
        actions = [a for (a,) in db.execute(select(AuditEntry.action).where(AuditEntry.staff_id.is_not(None)))]
        assert {"dashboard_export", "session_reviewed", "test_story_saved"} <= set(actions)
        from crm.models import NluFeedback

        flagged = db.execute(select(NluFeedback)).scalar_one()
        assert flagged.text == "cicilan Kxxxxxxxxxxx berapa" and flagged.predicted_intent == "ask_instalment"
    story = (tmp_path / "stories" / f"review_{new_id}.yml").read_text()
    assert "- intent: ask_instalment" in story and "K20123000002" not in story


# --- weekly report ------------------------------------------------------------------------------


def test_weekly_report_compares_with_the_week_before(history, tmp_path):
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from crm.console import report
    from crm.console.web import HERE

    assert report.week_of("2026-W48") == DAY and report.week_of("2026-11-26") == DAY
    with pytest.raises(ValueError, match="2026-W48"):
        report.week_of("minggu lalu")
    with session_scope(history) as db:
        found = report.build(db, DAY, datetime(2026, 11, 26))
    templates = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]))
    html = report.render(templates, found, to_local(datetime(2026, 11, 30, 2)))
    assert "<script" not in html and html.count("<svg") >= 6
    assert '<td>Terlayani bot (containment)</td><td class="n">55.6%</td><td class="n">-</td>' in html
    assert "Penagihan / debt collector" in html


def test_the_commands_refresh_and_write_the_report(demo_db, tracker, tmp_path, monkeypatch, capsys):
    from crm.__main__ import main

    monkeypatch.setenv("DATABASE_URL", str(demo_db.kw["bind"].url))
    monkeypatch.setenv("TRACKER_STORE_URL", tracker.url)
    tracker.add("rest:cli", started(), user("ask_office_hours", channel="rest"), action("action_answer_office_hours"))
    assert main(["outcomes", "refresh"]) == 0
    assert "1 session(s) of 1 conversation(s) refreshed" in capsys.readouterr().out
    assert main(["outcomes", "summary", "--days", "2"]) == 0
    assert '"containment": 1.0' in capsys.readouterr().out
    out = tmp_path / "report.html"
    assert main(["report", "--week", to_local(utc_now()).date().isoformat(), "--out", str(out)]) == 0
    assert "1 session(s)" in capsys.readouterr().out and "<svg" in out.read_text()
    assert main(["report", "--week", "kemarin"]) == 2
    assert "--week must look like 2026-W48" in capsys.readouterr().err
