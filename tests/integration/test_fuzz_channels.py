"""Every channel's identifiers and texts driven by hypothesis against the running server,
surrogates and control characters included: after each example the server is still up
(issue 14: one request with a lone surrogate used to make Rasa exit)."""

from __future__ import annotations

import json
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.customers import body_for, post

pytestmark = pytest.mark.integration

LIVE = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
nasty = st.one_of(
    st.text(max_size=40),
    st.text(
        alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, blacklist_categories=()),
        min_size=1,
        max_size=4,
    ),
    st.text(alphabet=st.characters(blacklist_categories=()), max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\ud800",
            "a\udfffb",
            "6281299999999",
            "whatsapp:6281299999999",
            "web:" + "a" * 32,
            "\u0666\u0662\u0668",
            "../../etc/passwd",
            "x" * 5000,
        ]
    ),
)


def _up(product) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{product.rasa_url}/", timeout=5).status_code == 200:
                assert "Rasa server stopped unexpectedly" not in product.output
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError("the Rasa server is down after a fuzzed request:\n" + product.output[-2000:])


def _json(value) -> bytes:
    # json.dumps keeps lone surrogates as \\udxxx escapes: exactly what an attacker sends
    return json.dumps(value).encode()


@LIVE
@given(sender=nasty, message=nasty)
def test_rest_identifiers_and_texts(product, sender, message):
    answer = requests.post(
        f"{product.rasa_url}/webhooks/rest/webhook",
        data=_json({"sender": sender, "message": message}),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert answer.status_code < 500, (sender[:20], answer.status_code)
    _up(product)


@LIVE
@given(wa_id=nasty, text=nasty)
def test_whatsapp_identifiers_and_texts(product, wa_id, text):
    message = {"from": wa_id, "id": "wamid.fuzz" + str(time.monotonic_ns()), "type": "text", "text": {"body": text}}
    assert post(product, body_for(wa_id, [message])).status_code < 500
    _up(product)


_SOCKET: dict = {}


def _socket(product):
    """One socket.io connection for every example (a connection costs a handshake)."""
    import socketio

    client = _SOCKET.get("client")
    if client is None or not client.connected:
        client = socketio.Client(reconnection=False)
        client.connect(product.rasa_url, transports=["websocket"], wait_timeout=20)
        _SOCKET["client"] = client
    return client


@LIVE
@given(session=nasty, text=nasty)
def test_socketio_identifiers_and_texts(product, session, text):
    client = _socket(product)
    client.emit("session_request", {"session_id": session})
    client.emit("user_uttered", {"message": text, "session_id": session})
    time.sleep(0.2)
    _up(product)


def test_zz_close_the_fuzzing_socket():
    client = _SOCKET.pop("client", None)
    if client is not None:
        client.disconnect()
