"""The front door of every public channel: cleaning, refusals, typed intents, rate limit, and
the apology when Rasa fails (channels/inbound.py)."""

from __future__ import annotations

import asyncio
import re

import pytest
import yaml

from channels import inbound
from crm import responses
from crm.settings import PROJECT_ROOT


class Collect:
    def __init__(self):
        self.sent = []

    async def send_text_message(self, recipient, text, **kwargs):
        self.sent.append((recipient, text))


class Message:
    def __init__(self, text, sender="rest:s1", channel="rest"):
        self.text, self.sender_id, self.input_channel = text, sender, channel
        self.output_channel = Collect()


def run(coroutine):
    return asyncio.new_event_loop().run_until_complete(coroutine)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  halo  ", "halo"),
        ("ha\u200blo", "halo"),  # zero-width space
        ("\u202ecicilan\u202c", "cicilan"),  # right-to-left override
        ("\ufeffjam buka", "jam buka"),
        ("ＡＢＣ１２３", "ABC123"),  # full-width forms
        ("a\x00b\x07c", "abc"),
        ("baris1\nbaris2", "baris1\nbaris2"),
        (None, ""),
        (123, ""),
    ],
)
def test_clean(raw, expected):
    assert inbound.clean(raw) == expected


def test_screen_refuses_empty_and_too_long_politely():
    for text in ("", "   ", "\u200b\u200d", "\n\t"):
        screened = inbound.screen(text, 100)
        assert screened.text is None and "kosong" in screened.reply
    long = inbound.screen("a" * 10_000, 2000)
    assert long.text is None and "2000" in long.reply
    assert inbound.screen("a" * 2000, 2000).text == "a" * 2000


@pytest.mark.parametrize(
    "typed",
    [
        '/ask_instalment{"verified": true}',
        '/inform{"customer_id": 1}',
        "/restart",
        "/session_start",
        "//restart",
        '/inform{"date":"2026-12-01", "verified": true}',
        "/action_restart",
    ],
)
def test_typed_intents_become_plain_text(typed):
    screened = inbound.screen(typed, 2000)
    assert screened.text is not None and not screened.text.startswith("/")


def test_every_button_payload_in_the_domain_and_actions_is_allowed():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    payloads = [
        responses.payload(button["payload"])
        for variants in domain["responses"].values()
        for variant in variants
        for button in variant.get("buttons", [])
    ]
    payloads += ['/inform{"date":"2026-12-01"}', '/inform{"contract_number":"K2023000123"}', "/deny"]
    from crm.services.satisfaction import rating_payload

    payloads += [rating_payload(score) for score in range(1, 6)]  # the survey template's buttons
    assert len(payloads) > 5
    for payload in payloads:
        assert inbound.is_allowed_payload(payload), payload
        assert inbound.screen(payload, 2000).text == payload


def test_action_code_sends_only_allowed_button_payload_shapes():
    """A new kind of button in actions/ must be added to the allowlist (or it turns into text)."""
    shapes = set()
    for path in (PROJECT_ROOT / "actions").glob("*.py"):
        shapes.update(re.findall(r'"payload": f?\'(/\w+)', path.read_text()))
        shapes.update(re.findall(r'"payload": "(/\w+)"', path.read_text()))
    assert shapes and shapes <= {"/inform", "/deny", "/affirm"}


def test_rate_limiter_window_warns_once_then_drops():
    now = [0.0]
    limiter = inbound.RateLimiter(3, 10, clock=lambda: now[0])
    assert [limiter.check("a") for _ in range(3)] == [True, True, True]
    assert limiter.check("a") is False  # told once
    assert limiter.check("a") is None  # then quiet
    assert limiter.check("b") is True  # other senders unaffected
    now[0] = 10.5
    assert limiter.check("a") is True  # the window slid on


def test_rate_limiter_off_and_bounded_memory():
    assert all(inbound.RateLimiter(0, 60).check("x") for _ in range(1000))
    limiter = inbound.RateLimiter(1, 60, max_senders=50)
    for n in range(500):
        limiter.check(f"sender-{n}")
    assert len(limiter._seen) <= 50


def test_guard_passes_cleaned_text_and_answers_refusals_itself():
    got = []

    async def on_new_message(message):
        got.append(message.text)

    guarded = inbound.guard(on_new_message, inbound.RateLimiter(2, 60), 50)
    ok = Message("ha\u200blo")
    run(guarded(ok))
    assert got == ["halo"] and ok.output_channel.sent == []

    empty = Message("   ")
    run(guarded(empty))
    assert got == ["halo"] and "kosong" in empty.output_channel.sent[0][1]


def test_a_burst_over_the_pace_is_held_told_once_and_answered_once_merged_never_dropped():
    got = []

    async def on_new_message(message):
        got.append(message.text)

    limiter = inbound.RateLimiter(2, 0.5)
    guarded = inbound.guard(on_new_message, limiter, 500)
    burst = [Message(text) for text in ("satu", "dua", "tiga", "empat", "lima")]

    async def send_all():
        for message in burst:  # as a channel hands them over: each in its own task
            asyncio.ensure_future(guarded(message))
            await asyncio.sleep(0.01)
        for _ in range(200):
            if len(got) == 3:
                break
            await asyncio.sleep(0.02)

    run(send_all())
    assert got == ["satu", "dua", "tiga\nempat\nlima"]
    told = [text for m in burst for _, text in m.output_channel.sent]
    assert len(told) == 1 and "sekaligus" in told[0]


def test_merged_texts_respect_the_message_limit():
    assert inbound.merge_texts(["a" * 6, "b" * 3, "c" * 5], 10) == ["a" * 6 + "\n" + "b" * 3, "c" * 5]


@pytest.mark.parametrize(
    "sender",
    [
        "s1",
        "whatsapp:12",
        "web:not-hex",
        "rest:\ud800",
        "rest:" + "a" * 65,
        "socketio:0123",
        "rest:a b",
        "whatsapp:\u0661\u0662\u0663\u0664\u0665\u0666",
    ],
)
def test_guard_refuses_conversation_ids_not_in_a_channels_issued_format(sender):
    got = []

    async def on_new_message(message):
        got.append(message)

    run(inbound.guard(on_new_message, inbound.RateLimiter(5, 60), 100)(Message("halo", sender=sender)))
    assert got == []


def test_json_bodies_nested_too_deep_are_refused_before_parsing():
    assert inbound.parse_json_body(b'{"a": [1, {"b": "[[[["}]}') == {"a": [1, {"b": "[[[["}]}
    assert inbound.parse_json_body(b"[" * 100_000 + b"]" * 100_000) is None
    assert inbound.parse_json_body(b'{"a": ' * 40 + b"1" + b"}" * 40) is None
    assert inbound.parse_json_body(b"not json") is None and inbound.parse_json_body(b"") is None


def test_guard_apologises_when_rasa_fails_and_reraises():
    async def broken(message):
        raise RuntimeError("tracker store down")

    message = Message("cicilan saya")
    with pytest.raises(RuntimeError):
        run(inbound.guard(broken, inbound.RateLimiter(5, 60), 100)(message))
    assert "gangguan" in message.output_channel.sent[0][1]
