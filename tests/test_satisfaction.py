"""Satisfaction surveys (issue 19): who may be asked and when, the rating and the comment, the
question after a self-served answer (actions), after an agent's resolution (console), the
survey template, and the CSAT figures."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sanic import Sanic
from sqlalchemy import select

from actions import account, common, fallback, handover, hours, payments
from crm import policy
from crm.db import session_scope
from crm.models import (
    EscalationReason,
    MessageTemplate,
    SatisfactionSurvey,
    TemplateCategory,
    TemplateStatus,
)
from crm.responses import buttons
from crm.services import satisfaction, templates
from crm.services.escalations import escalate
from crm.services.staff import create_staff
from crm.settings import load_settings
from tests.support.actions import responses, run, tracker
from tests.support.console import PASSWORD, FakeRasa, login
from tests.support.console import run as run_console

NOW = datetime(2026, 11, 23, 3, 0)


def _surveys(factory):
    with session_scope(factory) as db:
        return [
            (s.kind, s.conversation_id, s.how, s.intent, s.score, s.comment)
            for s in db.execute(select(SatisfactionSurvey).order_by(SatisfactionSurvey.id)).scalars()
        ]


def test_asked_at_most_once_a_day_per_conversation_and_per_customer(demo_db):
    with session_scope(demo_db) as db:
        assert satisfaction.may_ask(db, "whatsapp:1", 7, NOW)
        satisfaction.record_question(
            db, kind="bot", conversation_id="whatsapp:1", channel="whatsapp", now=NOW, customer_id=7
        )
        assert not satisfaction.may_ask(db, "whatsapp:1", None, NOW + timedelta(hours=23))
        assert not satisfaction.may_ask(db, "socketio:web", 7, NOW + timedelta(hours=2))  # same customer, website
        assert satisfaction.may_ask(db, "socketio:web", 8, NOW + timedelta(hours=2))
        assert satisfaction.may_ask(db, "whatsapp:1", 7, NOW + timedelta(hours=policy.CSAT_QUIET_HOURS, seconds=1))
        satisfaction.record_question(
            db, kind="agent", conversation_id="whatsapp:2", channel="whatsapp", now=NOW, how="skipped"
        )
        assert satisfaction.may_ask(db, "whatsapp:2", None, NOW)  # one that could not be asked does not count


def test_a_rating_answers_the_latest_open_question_and_a_low_one_takes_a_comment(demo_db):
    with session_scope(demo_db) as db:
        assert satisfaction.record_rating(db, "rest:a", 5, NOW) is None  # nothing asked
        satisfaction.record_question(db, kind="bot", conversation_id="rest:a", channel="rest", now=NOW, intent="x")
        assert satisfaction.record_rating(db, "rest:a", 9, NOW) is None  # not a rating
        assert satisfaction.record_rating(db, "rest:a", 1, NOW + timedelta(minutes=1)).score == 1
        assert satisfaction.record_rating(db, "rest:a", 5, NOW + timedelta(minutes=2)) is None  # answered already
        assert not satisfaction.add_comment(db, "rest:a", "/inform{}", NOW + timedelta(minutes=3))
        assert satisfaction.add_comment(db, "rest:a", "nomor K20123000002 saya ga ketemu", NOW + timedelta(minutes=3))
        assert not satisfaction.add_comment(db, "rest:a", "lagi", NOW + timedelta(minutes=4))  # one comment
        satisfaction.record_question(db, kind="bot", conversation_id="rest:b", channel="rest", now=NOW)
        satisfaction.record_rating(db, "rest:b", 2, NOW)
        assert not satisfaction.add_comment(
            db, "rest:b", "telat", NOW + timedelta(minutes=policy.CSAT_COMMENT_MINUTES + 1)
        )
        satisfaction.record_question(db, kind="bot", conversation_id="rest:c", channel="rest", now=NOW)
        assert (
            satisfaction.record_rating(db, "rest:c", 5, NOW + timedelta(hours=policy.CSAT_ANSWER_HOURS, minutes=1))
            is None
        )
    assert _surveys(demo_db)[0][4:] == (1, "nomor Kxxxxxxxxxxx saya ga ketemu")


def test_csat_figures_bot_and_agents_by_intent_and_by_agent(demo_db):
    with session_scope(demo_db) as db:
        rina = create_staff(db, "rina", "Rina Wijaya", PASSWORD, "agent")
        for n, (kind, score, intent) in enumerate(
            [("bot", 5, "instalment"), ("bot", 4, "instalment"), ("bot", 1, "ask_office_hours"), ("bot", None, "x")]
        ):
            satisfaction.record_question(
                db, kind=kind, conversation_id=f"rest:{n}", channel="rest", now=NOW, intent=intent
            )
            if score:
                satisfaction.record_rating(db, f"rest:{n}", score, NOW)
        satisfaction.record_question(
            db, kind="agent", conversation_id="rest:9", channel="rest", now=NOW, staff_id=rina.id, intent="complaint"
        )
        satisfaction.record_rating(db, "rest:9", 3, NOW)
        satisfaction.record_question(
            db, kind="agent", conversation_id="whatsapp:9", channel="whatsapp", now=NOW, staff_id=rina.id, how="skipped"
        )
        found = satisfaction.figures(db, NOW - timedelta(days=1), NOW + timedelta(days=1))
        only_whatsapp = satisfaction.figures(db, NOW - timedelta(days=1), NOW + timedelta(days=1), "whatsapp")
    assert found["bot"] == {
        "asked": 4,
        "not_asked": 0,
        "rated": 3,
        "response_rate": 0.75,
        "csat": 2 / 3,
        "average": 3.33,
    }
    assert found["agent"]["asked"] == 1 and found["agent"]["not_asked"] == 1 and found["agent"]["csat"] == 0.0
    assert {r["intent"]: r["csat"] for r in found["by_intent"]} == {
        "instalment": 1.0,
        "ask_office_hours": 0.0,
        "x": None,
    }
    assert found["by_agent"] == [
        {
            "agent": "Rina Wijaya",
            "asked": 1,
            "not_asked": 1,
            "rated": 1,
            "response_rate": 1.0,
            "csat": 0.0,
            "average": 3.0,
        }
    ]
    assert only_whatsapp["agent"]["not_asked"] == 1 and only_whatsapp["bot"]["asked"] == 0


# --- the bot -----------------------------------------------------------------------------------


@pytest.fixture
def asking(actions_environment, monkeypatch):
    monkeypatch.setenv("CSAT_AFTER_ANSWERS", "true")
    common.reset()
    yield actions_environment
    common.reset()


def test_after_a_final_answer_the_question_comes_once(asking):
    ask = tracker(text="cabang surabaya buka gak pas natal", intent="ask_office_hours", sender="rest:csat")
    messages, _ = run(hours.ActionAnswerOfficeHours(), ask)
    assert responses(messages) == ["utter_office_hours", "utter_ask_csat"]
    again, _ = run(hours.ActionAnswerOfficeHours(), ask)
    assert responses(again) == ["utter_office_hours"]  # not twice in a day
    assert _surveys(asking) == [("bot", "rest:csat", "buttons", "ask_office_hours", None, None)]


def test_an_answer_that_asks_something_back_is_not_followed_by_the_question(asking):
    messages, _ = run(hours.ActionAnswerOfficeHours(), tracker(text="besok buka?", intent="ask_office_hours"))
    assert responses(messages) == ["utter_office_hours_general"]
    offered, _ = run(payments.ActionAnswerPaymentMethods(), tracker(text="cara bayar?", intent="ask_payment_methods"))
    assert "utter_ask_csat" not in responses(offered)
    assert _surveys(asking) == []


def test_the_buttons_record_the_rating_and_a_low_one_invites_a_comment(asking):
    run(
        hours.ActionAnswerOfficeHours(),
        tracker(text="jam buka cabang surabaya", intent="ask_office_hours", sender="rest:r"),
    )
    low = tracker(intent="inform", entities=[{"entity": "csat_score", "value": "1"}], sender="rest:r")
    messages, _ = run(handover.ActionReplyOrWait(), low)
    assert responses(messages) == ["utter_csat_sorry"]
    comment = tracker(text="jawabannya ga nyambung sama pertanyaan saya", intent="nlu_fallback", sender="rest:r")
    messages, _ = run(fallback.ActionFallback(), comment)
    assert responses(messages) == ["utter_csat_comment_thanks"]
    messages, _ = run(fallback.ActionFallback(), comment)
    assert responses(messages) == ["utter_ask_rephrase"]  # the comment was taken once; back to normal
    stale, _ = run(handover.ActionReplyOrWait(), low)
    assert responses(stale) == ["utter_csat_thanks"]  # an old button: thanked, nothing counted
    broken = tracker(intent="inform", entities=[{"entity": "csat_score", "value": "x"}], sender="rest:r")
    assert responses(run(handover.ActionReplyOrWait(), broken)[0]) == ["utter_csat_thanks"]
    # tapped while the bot waits for an answer to another question: rated, the question stays open
    offer = tracker(
        slots={"offer_open": True, "pending_offer": "office_hours_city"},
        intent="inform",
        entities=[{"entity": "csat_score", "value": "5"}],
        sender="rest:r",
    )
    messages, events = run(account.ActionHandleOffer(), offer)
    assert responses(messages) == ["utter_csat_thanks"] and events == []
    assert _surveys(asking) == [
        ("bot", "rest:r", "buttons", "ask_office_hours", 1, "jawabannya ga nyambung sama pertanyaan saya")
    ]


def test_an_emoji_typed_under_the_buttons_is_that_rating_and_after_an_answer_is_noted(asking):
    """ "👍" typed instead of tapping "👍 Membantu" rates 5; "👍" after an answer with no rating
    asked is an acknowledgement, and counts as no message misunderstood; at the start it is
    not understood, as before."""
    first, _ = run(hours.ActionAnswerOfficeHours(), tracker(text="jam buka cabang surabaya", sender="rest:e"))
    history = [
        {"event": "user", "text": "jam buka cabang surabaya", "parse_data": {"intent": {"name": "ask_office_hours"}}},
        *({"event": "bot", "data": {"buttons": buttons(m["response"]) or None}} for m in first),
        {"event": "user", "text": "👍", "parse_data": {"intent": {"name": "nlu_fallback"}}},
    ]
    typed = tracker(text="👍", intent="nlu_fallback", events=history, sender="rest:e")
    messages, _ = run(fallback.ActionFallback(), typed)
    assert responses(messages) == ["utter_csat_thanks"]
    assert _surveys(asking) == [("bot", "rest:e", "buttons", "ask_office_hours", 5, None)]
    noted = history[:1] + [{"event": "bot", "text": "Jam layanan ..."}] + history[-1:]
    messages, _ = run(fallback.ActionFallback(), tracker(text="👍", intent="nlu_fallback", events=noted))
    assert responses(messages) == ["utter_nothing_more"]
    unclear = {"event": "user", "text": "asdf", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    assert fallback.consecutive_fallbacks(tracker(events=[unclear, *history[-1:]])) == 1
    messages, _ = run(fallback.ActionFallback(), tracker(text="👍", intent="nlu_fallback", events=history[-1:]))
    assert responses(messages) != ["utter_nothing_more"]


# --- the console, after a resolution ------------------------------------------------------------


class WhatsAppRasa(FakeRasa):
    """A WhatsApp conversation whose last customer message is `age_s` seconds old."""

    def __init__(self, age_s: float):
        super().__init__()
        self.age_s = age_s

    async def tracker(self, conversation_id):
        return {
            "events": [
                {"event": "user", "text": "halo", "timestamp": time.time() - self.age_s, "input_channel": "whatsapp"}
            ]
        }


def _console(factory, tmp_path, rasa, monkeypatch, **env):
    from crm.console.app import create_app

    monkeypatch.setattr(policy, "LOGIN_MAX_DELAY_SECONDS", 0)
    monkeypatch.setattr(Sanic, "test_mode", True)
    settings = load_settings(env, env_file=tmp_path / "none")
    return create_app(
        settings, rasa=rasa, factory=factory, name=f"csat_{tmp_path.name}"[:60].replace("-", "_"), notify=False
    )


def _resolve_as_ayu(app, item_id):
    async def scenario(base):
        ayu, _ = await login(base, "ayu")
        async with ayu.post(f"{base}/api/items/{item_id}/claim", json={}) as claimed:
            assert claimed.status == 200
        async with ayu.post(f"{base}/api/items/{item_id}/resolve", json={"note": "selesai"}) as resolved:
            assert resolved.status == 200, await resolved.text()
        await ayu.close()

    run_console(app, scenario)


def test_after_a_resolution_the_customer_is_asked_about_the_agent(demo_db, tmp_path, monkeypatch):
    with session_scope(demo_db) as db:
        ayu = create_staff(db, "ayu", "Ayu", PASSWORD, "agent")
        ayu_id = ayu.id
        first = escalate(
            db, conversation_id="rest:tanya", channel="rest", reason=EscalationReason.HUMAN_REQUEST
        ).escalation_id
    rasa = FakeRasa()
    app = _console(demo_db, tmp_path, rasa, monkeypatch)
    _resolve_as_ayu(app, first)
    question = [e for _, events in rasa.appended for e in events if (e.get("data") or {}).get("buttons")]
    assert len(question) == 1 and question[0]["text"].startswith("Pertanyaan Bapak/Ibu sudah ditangani")
    assert [b["payload"] for b in question[0]["data"]["buttons"]] == [
        satisfaction.rating_payload(s) for s in policy.CSAT_SCORES
    ]
    with session_scope(demo_db) as db:
        survey = db.execute(select(SatisfactionSurvey)).scalar_one()
        assert (survey.kind, survey.how, survey.staff_id, survey.intent, survey.escalation_id) == (
            "agent",
            "buttons",
            ayu_id,
            "human_request",
            first,
        )
        second = escalate(
            db, conversation_id="rest:tanya", channel="rest", reason=EscalationReason.FALLBACK
        ).escalation_id
    _resolve_as_ayu(app, second)
    assert len(_surveys(demo_db)) == 1  # not twice in a day


def test_outside_whatsapps_window_the_survey_is_the_template_or_not_asked(demo_db, tmp_path, monkeypatch):
    with session_scope(demo_db) as db:
        create_staff(db, "ayu", "Ayu", PASSWORD, "agent")
        item = escalate(
            db, conversation_id="whatsapp:6281299990001", channel="whatsapp", reason=EscalationReason.COMPLAINT
        ).escalation_id
    app = _console(demo_db, tmp_path, WhatsAppRasa(age_s=30 * 3600), monkeypatch)  # no template approved, no API
    _resolve_as_ayu(app, item)
    assert _surveys(demo_db) == [("agent", "whatsapp:6281299990001", "skipped", "complaint", None, None)]


def test_the_survey_template_is_checked_and_its_buttons_send_ratings(tmp_path):
    good = {
        "name": "survei_layanan",
        "category": "utility",
        "use": "surveys",
        "body": "Bagaimana pelayanan {{1}}?",
        "parameters": ["brand_name"],
        "examples": ["Mitra"],
        "buttons": [{"text": "Puas", "score": 5}, {"text": "Kurang", "score": 1}],
    }
    spec = templates._spec(good, 0)
    assert spec.use == "surveys"
    row = MessageTemplate(
        name=spec.name,
        language="id",
        category=TemplateCategory.UTILITY,
        body=spec.body,
        parameters=spec.parameters,
        buttons=spec.buttons,
        use="surveys",
        status=TemplateStatus.APPROVED,
    )
    assert templates.quick_reply_payloads(row) == [satisfaction.rating_payload(5), satisfaction.rating_payload(1)]
    for bad in (
        {"buttons": [{"text": "Puas"}]},
        {"parameters": ["customer_name"]},
        {"buttons": [{"text": "X", "score": 9}]},
    ):
        with pytest.raises(templates.TemplateFileError):
            templates._spec({**good, **bad}, 0)
    assert any(s.use == "surveys" for s in templates.read_file())


def test_outside_the_window_an_approved_survey_template_goes_out_with_rating_buttons(demo_db, tmp_path, monkeypatch):
    from tests.fake_graph import ACCESS_TOKEN, FakeGraph

    graph = FakeGraph()
    try:
        with session_scope(demo_db) as db:
            create_staff(db, "ayu", "Ayu", PASSWORD, "agent")
            templates.load(db, templates.read_file())
            row = db.execute(select(MessageTemplate).where(MessageTemplate.use == "surveys")).scalar_one()
            row.status = TemplateStatus.APPROVED
            item = escalate(
                db, conversation_id="whatsapp:6281299990002", channel="whatsapp", reason=EscalationReason.HUMAN_REQUEST
            ).escalation_id
        env = {
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": "1098765432",
            "WHATSAPP_API_URL": graph.url,
            "BRAND_NAME": "Uji Finance",
        }
        app = _console(demo_db, tmp_path, WhatsAppRasa(age_s=30 * 3600), monkeypatch, **env)
        _resolve_as_ayu(app, item)
        sent = graph.templates_sent()
    finally:
        graph.close()
    assert len(sent) == 1 and sent[0]["to"] == "6281299990002"
    template = sent[0]["template"]
    assert template["name"] == "survei_layanan"
    assert template["components"][0]["parameters"] == [{"type": "text", "text": "Uji Finance"}]
    assert [c["parameters"][0]["payload"] for c in template["components"][1:]] == [
        satisfaction.rating_payload(s) for s in policy.CSAT_SCORES
    ]
    assert _surveys(demo_db) == [("agent", "whatsapp:6281299990002", "template", "human_request", None, None)]
