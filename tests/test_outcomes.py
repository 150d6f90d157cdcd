"""The outcome of a conversation session (issue 19), on hand-built trackers: every outcome and
the edge cases (escalated after being answered, abandoned in a case form, restart mid-flow)."""

from __future__ import annotations

from datetime import datetime

from crm.outcomes import Escalated, classify, rates, sessions_of, split_sessions

T0 = 1_795_000_000.0  # a timestamp (UTC)


class Script:
    """Events as Rasa's tracker store holds them, one second apart."""

    def __init__(self, start: float = T0):
        self.t = start
        self.events: list = []

    def _add(self, event: dict) -> Script:
        self.t += 1
        self.events.append({**event, "timestamp": self.t})
        return self

    def session(self):
        return self._add({"event": "session_started"})

    def user(self, intent: str, confidence: float = 0.95, text: str = "…"):
        return self._add(
            {
                "event": "user",
                "text": text,
                "input_channel": "whatsapp",
                "parse_data": {"intent": {"name": intent, "confidence": confidence}},
            }
        )

    def action(self, name: str):
        return self._add({"event": "action", "name": name})

    def form(self, name, asks=None):
        self._add({"event": "active_loop", "name": name})
        if asks:
            self._add({"event": "slot", "name": "requested_slot", "value": asks})
        return self

    def asks(self, slot):
        return self._add({"event": "slot", "name": "requested_slot", "value": slot})

    def restart(self):
        return self._add({"event": "restart"})

    @property
    def now(self) -> datetime:
        return datetime.utcfromtimestamp(self.t)


def answered_instalment() -> Script:
    s = Script().session().user("greet").action("utter_greet")
    s.user("ask_instalment").form("verification_form", "contract_number").user("inform").asks("date_of_birth")
    s.user("inform").form(None).asks(None).action("action_answer_account")
    return s


def test_an_answered_question_is_self_served():
    s = answered_instalment().user("thank").action("utter_thank")
    result = classify("whatsapp:1", s.events)
    assert result.outcome == "self_served" and result.intents[:2] == ["greet", "ask_instalment"]
    assert result.channel == "whatsapp" and result.messages == 5


def test_escalated_after_being_answered_counts_as_escalated():
    s = answered_instalment().user("request_human").action("action_handover")
    result = classify("whatsapp:1", s.events, [Escalated(s.now, "human_request")])
    assert (result.outcome, result.reason) == ("escalated", "human_request")


def test_abandoned_in_a_case_form_names_the_step():
    s = Script().session().user("report_insurance_claim").form("insurance_claim_form", "case_contract")
    s.user("inform").asks("incident_date")
    result = classify("web:1", s.events)
    assert (result.outcome, result.reason) == ("abandoned", "insurance_claim_form:incident_date")


def test_abandoned_in_verification_even_after_an_earlier_answer():
    s = answered_instalment().user("ask_payoff").form("verification_form", "contract_number")
    assert classify("web:1", s.events).outcome == "abandoned"


def test_a_restart_mid_flow_is_not_an_abandonment():
    s = Script().session().user("ask_instalment").form("verification_form", "contract_number").restart()
    s.user("greet").action("utter_greet")
    assert classify("web:1", s.events).outcome == "no_answer"


def test_fallbacks_without_an_answer_are_not_understood_and_small_talk_is_its_own():
    s = Script().session().user("nlu_fallback", 0.3).action("action_fallback").user("out_of_scope")
    result = classify("rest:1", s.events)
    assert result.outcome == "not_understood" and result.fallbacks == 2
    chat = Script().session().user("greet").user("thank", 0.4).user("goodbye")
    result = classify("rest:2", chat.events)
    assert result.outcome == "small_talk" and result.low_confidence == 1 and not result.real_request


def test_sessions_are_split_and_an_escalation_counts_in_its_own_session_only():
    first = answered_instalment()
    escalated_at = first.now
    second = Script(first.t + 3600).session().user("ask_office_hours").action("action_answer_office_hours")
    events = first.events + second.events
    assert len(split_sessions(events)) == 2
    early = sessions_of("whatsapp:1", events, [Escalated(escalated_at, "verification")])
    assert [s.outcome for s in early] == ["escalated", "self_served"]
    late = sessions_of("whatsapp:1", events, [Escalated(second.now, "complaint")])
    assert [s.outcome for s in late] == ["self_served", "escalated"]


def test_containment_is_over_real_requests():
    served = classify("a", answered_instalment().events)
    chat = classify("b", Script().session().user("greet").events)
    lost = classify("c", Script().session().user("nlu_fallback", 0.2).events)
    s = answered_instalment()
    sent_on = classify("d", s.events, [Escalated(s.now, "fallback")])
    figures = rates([served, chat, lost, sent_on])
    assert figures["sessions"] == 4 and figures["real_requests"] == 3
    assert figures["containment"] == 1 / 3
    assert figures["escalation_by_reason"] == {"fallback": 1 / 3}
    assert rates([])["containment"] is None


def test_outcomes_are_read_from_a_real_tracker_store_and_the_queue(demo_db, tmp_path):
    """Rasa's SQL tracker store (SQLite) and our queue: an answered session, an escalated one and
    one abandoned at the birth date, stored by the refresh and counted by the dashboard's figures."""
    import asyncio
    from datetime import timedelta

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from crm.clock import utc_now
    from crm.db import session_scope
    from crm.models import EscalationReason
    from crm.services import monitoring, session_outcomes
    from crm.services.escalations import escalate
    from crm.settings import PROJECT_ROOT

    domain = Domain.from_path(PROJECT_ROOT / "domain.yml")
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))

    def user(intent):
        return UserUttered("…", {"name": intent, "confidence": 0.9}, input_channel="whatsapp")

    conversations = {
        "whatsapp:1": [SessionStarted(), user("ask_office_hours"), ActionExecuted("action_answer_office_hours")],
        "whatsapp:2": [SessionStarted(), user("request_human"), ActionExecuted("action_handover")],
        "whatsapp:3": [
            SessionStarted(),
            user("ask_instalment"),
            ActiveLoop("verification_form"),
            SlotSet("requested_slot", "date_of_birth"),
        ],
    }
    for sender, events in conversations.items():
        tracker = DialogueStateTracker.from_events(sender, events, slots=domain.slots)
        asyncio.new_event_loop().run_until_complete(store.save(tracker))
    with session_scope(demo_db) as db:
        escalate(db, conversation_id="whatsapp:2", channel="whatsapp", reason=EscalationReason.HUMAN_REQUEST)
    from sqlalchemy import select

    from crm.clock import to_local
    from crm.models import ConversationSession

    now = utc_now()
    with session_scope(demo_db) as db:
        session_outcomes.refresh(db, f"sqlite:///{tmp_path / 'tracker.db'}", now)
    with session_scope(demo_db) as db:
        outcomes = {r.conversation_id: (r.outcome, r.reason) for r in db.execute(select(ConversationSession)).scalars()}
        today = to_local(now).date()
        summary = monitoring.figures(db, monitoring.Period(today - timedelta(days=1), today), now)
    assert outcomes == {
        "whatsapp:1": ("self_served", None),
        "whatsapp:2": ("escalated", "human_request"),
        "whatsapp:3": ("abandoned", "verification_form:date_of_birth"),
    }
    assert summary["containment"] == 1 / 3
    assert summary["by_channel"] == [{"channel": "whatsapp", "sessions": 3, "containment": 1 / 3}]
    assert summary["abandoned_at"] == [{"step": "verification_form:date_of_birth", "sessions": 1}]
