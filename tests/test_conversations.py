"""Conversation ids bound to their channel, and website sessions only the server can issue."""

from __future__ import annotations

import pytest

from crm import conversations


def test_each_channel_names_its_own_conversations():
    assert conversations.make("whatsapp", "6281210000001") == "whatsapp:6281210000001"
    assert conversations.make("rest", "demo") == "rest:demo"
    assert conversations.make("socketio", "a" * 32) == "web:" + "a" * 32
    # the same identifier on another channel is another conversation
    assert conversations.make("rest", "6281210000001") != conversations.make("whatsapp", "6281210000001")


@pytest.mark.parametrize(
    "channel, identifier",
    [
        ("whatsapp", "62812abc"),
        ("whatsapp", "\u0661\u0662\u0663\u0664\u0665\u0666\u0667"),  # Arabic-Indic digits
        ("whatsapp", "12345"),
        ("rest", "\ud800"),
        ("rest", "a\x00b"),
        ("rest", ""),
        ("rest", "a" * 65),
        ("rest", "-starts-with-dash"),
        ("socketio", "A" * 32),
        ("socketio", "a" * 31),
        ("unknown", "x"),
        ("rest", None),
        ("rest", 12),
    ],
)
def test_identifiers_outside_the_issued_format_are_refused(channel, identifier):
    assert conversations.make(channel, identifier) is None


def test_parse_gives_back_channel_and_recipient():
    parsed = conversations.parse("whatsapp:6281210000001")
    assert parsed.channel == "whatsapp" and parsed.identifier == "6281210000001"
    assert conversations.whatsapp_number("whatsapp:6281210000001") == "6281210000001"
    assert conversations.whatsapp_number("rest:6281210000001") is None  # a REST caller proves no number
    assert conversations.recipient("web:" + "b" * 32) == "b" * 32
    assert conversations.parse("6281210000001") is None and conversations.parse("ftp:x") is None


def test_staff_never_see_a_website_session_id_in_full():
    web = "web:" + "0123456789abcdef" * 2
    assert conversations.shown(web) == "web:01234567…"
    assert conversations.shown("whatsapp:6281210000001") == "whatsapp:62812•••••001"


def test_a_website_session_token_is_proved_only_by_the_server_s_secret():
    identifier, token = conversations.issue_web_session("secret")
    assert conversations.valid_identifier("socketio", identifier)
    assert conversations.web_session_from_token("secret", token) == identifier
    assert conversations.web_session_from_token("other secret", token) is None
    assert conversations.web_session_from_token("secret", identifier) is None  # the id alone is nothing
    forged = identifier[:-1] + ("0" if identifier[-1] != "0" else "1") + token[len(identifier) :]
    assert conversations.web_session_from_token("secret", forged) is None
    for junk in (None, "", ".", "a.b.c", "x" * 500, 42, "\ud800.abc"):
        assert conversations.web_session_from_token("secret", junk) is None
    assert conversations.issue_web_session("secret")[0] != identifier  # 128 random bits each time
