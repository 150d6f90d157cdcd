"""Customers whose item nobody claimed within HANDOVER_WAIT_MINUTES are told, once, when to expect
an answer (customer care's next opening), through Rasa's API. Runs in the console process."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sanic import Sanic

from crm import responses as messages
from crm.console.rasa_api import RasaUnavailable, bot_event
from crm.db import session_scope
from crm.services import escalations as queue_actions
from crm.services import staff as staff_service
from crm.services.hours import customer_care_availability, expected_answer

log = logging.getLogger("crm.console")
NOTIFIER_INTERVAL_S = 5


async def notify_waiting_customers(app: Sanic) -> int:
    """Tell customers whose item nobody claimed in time when to expect an answer."""
    settings, sessions = app.ctx.settings, app.ctx.sessions
    wait = timedelta(minutes=settings.handover_wait_minutes)
    sent = 0
    with session_scope(sessions) as db:
        waiting = [(e.id, e.conversation_id) for e in queue_actions.waiting_too_long(db, wait)]
        availability = customer_care_availability(db, settings.current_time())
    expected = expected_answer(availability)
    text = messages.render("utter_handover_still_waiting", expected=expected)
    for item_id, conversation_id in waiting:
        with session_scope(sessions) as db:
            if not queue_actions.take_notice(db, item_id):
                continue  # claimed since it was listed: the agent is there, nobody is busy
        try:
            await app.ctx.rasa.append(conversation_id, [bot_event(text, system="waiting_notice")])
        except RasaUnavailable as failure:
            log.warning("could not tell conversation of item %s it is waiting: %s", item_id, failure)
            with session_scope(sessions) as db:
                queue_actions.release_notice(db, item_id)
            continue
        with session_scope(sessions) as db:
            staff_service.audit(db, "waiting_notice", escalation_id=item_id, detail=expected)
        sent += 1
    return sent


async def notifier_loop(app: Sanic) -> None:
    while True:
        try:
            await notify_waiting_customers(app)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("waiting-customer notifier failed")
        await asyncio.sleep(NOTIFIER_INTERVAL_S)


def install(app: Sanic) -> None:
    """Run the notifier while the console serves."""

    async def start_notifier(app_: Sanic, loop: Any) -> None:
        app_.ctx.notifier = loop.create_task(notifier_loop(app_))

    async def stop_notifier(app_: Sanic, loop: Any) -> None:
        task = getattr(app_.ctx, "notifier", None)
        if task:
            task.cancel()

    app.register_listener(start_notifier, "after_server_start")
    app.register_listener(stop_notifier, "before_server_stop")

    app.ctx.notify_waiting_customers = lambda: notify_waiting_customers(app)
