"""Every date button the bot offers works when clicked, whatever the day and the hour: days 1-12
(where a day-first reading of the ISO payload would turn 2026-12-03 into 12 March) and 13-31, the
last day of a month and of a year, half an hour before and after midnight in WIB."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, select, update

from actions import account, common
from crm.clock import to_utc
from crm.db import session_scope
from crm.models import Contract, Instalment, ServiceRequest
from tests.support.actions import AGUS, BUDI, responses, run, tracker
from tests.support.actions import verified_slots as _verified

DAYS = [date(2026, 12, d) for d in range(1, 32)] + [date(2026, 11, 30), date(2027, 1, 31), date(2027, 2, 28)]
HOURS = [time(23, 30), time(0, 30)]


@pytest.fixture
def clock(monkeypatch, actions_environment):
    """Set the action server's clock to a WIB wall-clock time (no pinned date)."""
    monkeypatch.delenv("CRM_TODAY")

    def set_clock(local: datetime) -> None:
        monkeypatch.setattr("crm.settings.utc_now", lambda: to_utc(local))
        common.reset()

    return set_clock


def _click(slots, button):
    payload = button["payload"]
    entities = []
    if '"date"' in payload:
        entities = [{"entity": "date", "value": payload.split('"date":"')[1].split('"')[0]}]
    intent = "deny" if payload == "/deny" else "inform"
    return run(account.ActionHandleOffer(), tracker(slots=slots, text=payload, intent=intent, entities=entities))


@pytest.mark.parametrize("at", HOURS, ids=lambda t: t.strftime("%H%M"))
def test_every_offered_day_can_be_booked(clock, actions_environment, at):
    verified = {AGUS: _verified(AGUS), BUDI: _verified(BUDI)}
    with session_scope(actions_environment) as session:  # BUDI pays on time: the loan stays possible
        budi = session.execute(select(Contract.id).where(Contract.number == BUDI)).scalar_one()
        session.execute(
            update(Instalment)
            .where(Instalment.contract_id == budi, Instalment.due_date <= date(2027, 3, 31))
            .values(paid_at=datetime(2026, 11, 1), paid_amount=Instalment.amount)
        )
    offers = {"bpkb_pickup": 0, "bpkb_loan": 0}
    for day in DAYS:
        clock(datetime.combine(day, at))
        for number, topic, kind in ((AGUS, "bpkb_pickup", "bpkb_pickup"), (BUDI, "stnk_renewal", "bpkb_loan")):
            messages, _ = run(
                account.ActionAnswerAccount(), tracker(slots={**verified[number], "account_topic": topic})
            )
            offered = [m for m in messages if m.get("buttons")]
            assert offered, (day, at, number, responses(messages))
            offers[kind] += 1
            slots = {**verified[number], "offer_open": True, "pending_offer": kind}
            buttons = offered[0]["buttons"]
            assert buttons[-1]["payload"] == "/deny"
            for button in buttons[:-1]:
                said, _ = _click(slots, button)
                assert responses(said) == ["utter_request_created"], (day, at, button, said)
                with session_scope(actions_environment) as session:
                    session.execute(delete(ServiceRequest))
            declined, _ = _click(slots, buttons[-1])
            assert responses(declined) == ["utter_offer_declined"]
    assert offers == {"bpkb_pickup": len(DAYS), "bpkb_loan": len(DAYS)}


def test_days_offered_start_tomorrow_in_wib(clock):
    """At 00:30 WIB on 3 December (17:30 UTC on the 2nd) the first day offered is 4 December."""
    clock(datetime(2026, 12, 3, 0, 30))
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=_verified(AGUS, account_topic="bpkb_pickup")))
    first = messages[1]["buttons"][0]["payload"]
    assert '"2026-12-04"' in first
    assert date.fromisoformat(first.split('"date":"')[1][:10]) - date(2026, 12, 3) == timedelta(days=1)


def test_every_button_payload_passes_the_front_door_unchanged():
    """A typed /intent is plain text (channels/inbound.py) unless our own buttons send it: every
    payload in domain.yml and every payload the actions build must be one of those."""
    import yaml

    from actions.common import day_buttons
    from channels.inbound import screen
    from crm.responses import payload as as_sent
    from crm.settings import PROJECT_ROOT

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    payloads = {
        as_sent(button["payload"])
        for variants in domain["responses"].values()
        for variant in variants
        for button in variant.get("buttons") or []
    }
    payloads |= {b["payload"] for b in day_buttons([date(2026, 12, 3), date(2027, 1, 12)])}
    assert len(payloads) >= 7
    for payload in payloads:
        assert screen(payload, 2000).text == payload, payload


def test_rasa_sends_every_domain_button_payload_as_written_without_an_error(monkeypatch):
    """Rasa fills {slot} placeholders in buttons too: a literal brace must be doubled in
    domain.yml, or every use logs an error with a stack trace (and costs as much)."""
    import yaml
    from rasa.core.nlg import interpolator

    from crm.responses import payload
    from crm.settings import PROJECT_ROOT

    errors = []
    monkeypatch.setattr(interpolator.structlogger, "exception", lambda *a, **k: errors.append(k))
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    written = [
        button["payload"]
        for variants in domain["responses"].values()
        for variant in variants
        for button in variant.get("buttons") or []
    ]
    assert any("{" in text for text in written)
    for text in written:
        assert interpolator.interpolate_text(text, {"brand_name": "x"}) == payload(text)
    assert errors == []
    assert payload('/inform{{"csat_score":"5"}}') == '/inform{"csat_score":"5"}'
