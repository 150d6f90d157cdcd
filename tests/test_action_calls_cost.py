"""What makes a call to the action server cheap stays correct (crm.runtime.rasa_server): the
answer is validated by the one event kind each event names, with the same verdict as Rasa's
whole schema; calls reuse one connection; our action server keeps it open longer than the
Rasa server does."""

from __future__ import annotations

import asyncio
import copy
import random

import pytest
from aiohttp import web
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from crm.runtime import action_server, rasa_server

SCHEMA = RemoteAction.action_response_format_spec()

VALID = {
    "events": [
        SlotSet("contract_number", "K10124000001").as_dict(),
        SlotSet("verified", True).as_dict(),
        ActiveLoop("verification_form").as_dict(),
        ActiveLoop(None).as_dict(),
        FollowupAction("action_listen").as_dict(),
        BotUttered("Terima kasih", {"buttons": [{"title": "Ya", "payload": "/affirm"}]}).as_dict(),
        UserUttered("halo", {"name": "greet", "confidence": 0.9}).as_dict(),
        ActionExecuted("utter_greet").as_dict(),
        SessionStarted().as_dict(),
        Restarted().as_dict(),
    ],
    "responses": [{"response": "utter_greet", "text": None, "buttons": []}],
}


def mutations(answer: dict, rng: random.Random):
    """Broken and odd variants of a valid answer: each field of each event replaced by values of
    the wrong type, events without a kind or of an unknown kind, wrong top-level shapes."""
    odd_values = [None, 1, 1.5, "x", [], {}, True, [1], {"a": 1}]
    for index, event in enumerate(answer["events"]):
        for key in list(event):
            for value in odd_values:
                changed = copy.deepcopy(answer)
                changed["events"][index][key] = value
                yield changed
            removed = copy.deepcopy(answer)
            del removed["events"][index][key]
            yield removed
    for odd in ("no_such_kind", None, 3, ["slot"]):
        changed = copy.deepcopy(answer)
        changed["events"][0]["event"] = odd
        yield changed
    for value in odd_values:
        yield {**answer, "events": value}
        yield {**answer, "responses": value}
        yield {**answer, "extra": value}
        shuffled = copy.deepcopy(answer)
        shuffled["events"].insert(rng.randrange(len(shuffled["events"]) + 1), value)
        yield shuffled
    yield {}
    yield {"events": []}


def verdict(check, answer) -> bool:
    try:
        check(answer)
        return True
    except ValidationError:
        return False


def test_answers_get_the_same_verdict_as_rasas_whole_schema():
    validate_by_kind = rasa_server.action_answer_validator(SCHEMA)
    answers = [VALID, *mutations(VALID, random.Random(7))]
    verdicts = [(verdict(validate_by_kind, a), verdict(lambda x: validate(x, SCHEMA), a)) for a in answers]
    differing = [answer for answer, (ours, rasas) in zip(answers, verdicts, strict=True) if ours != rasas]
    assert not differing, differing[:3]
    assert verdicts[0] == (True, True)
    assert sum(1 for ours, _ in verdicts if not ours) > 100  # the mutations mostly broke it


def test_rasa_refuses_a_broken_answer_with_its_own_message():
    rasa_server.install_fast_action_validation()
    action = RemoteAction("action_answer_account", None)
    assert action._validate_action_result(VALID)
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "slot", "timestamp": "yesterday"}]})


def test_calls_to_the_action_server_reuse_one_connection():
    from rasa.utils.endpoints import EndpointConfig

    rasa_server.install_pooled_action_connections()
    peers = []

    async def answer(request):
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": []})

    async def scenario():
        app = web.Application()
        app.router.add_post("/webhook", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        try:
            for _ in range(5):
                assert await endpoint.request(json={"next_action": "x"}, method="post") == {
                    "events": [],
                    "responses": [],
                }
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
    assert len(peers) == 5 and len(set(peers)) == 1


def test_the_rasa_server_closes_an_idle_connection_before_the_action_server_does():
    assert rasa_server.ACTION_KEEP_ALIVE_S < action_server.ACTION_SERVER_KEEP_ALIVE_S
    app = action_server.create_app("secret")
    assert app.config.KEEP_ALIVE_TIMEOUT == action_server.ACTION_SERVER_KEEP_ALIVE_S
