"""Customers as the integration tests play them: a WhatsApp number posting signed webhooks (as
Meta does) and a website visitor on socket.io (as the widget does)."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import time
import uuid
from typing import Dict, List, Optional

import requests

WHATSAPP_APP_SECRET = "uji-app-secret"
WHATSAPP_VERIFY_TOKEN = "uji-verify-token"


def webhook(product) -> str:
    return f"{product.rasa_url}/webhooks/whatsapp/webhook"


def body_for(number: str, messages: List[Dict], name: str = "Pelanggan") -> Dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": "1098765432"},
                            "contacts": [{"wa_id": number, "profile": {"name": name}}],
                            "messages": messages,
                        },
                    }
                ],
            }
        ],
    }


def text_message(number: str, text: str, message_id: Optional[str] = None) -> Dict:
    return {
        "from": number,
        "id": message_id or f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }


def post(product, body: Dict, secret: Optional[str] = WHATSAPP_APP_SECRET, signature: Optional[str] = None):
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return requests.post(webhook(product), data=raw, headers=headers, timeout=10)


def wait_for(condition, timeout: float = 60.0):
    """The first true value of `condition()` within `timeout` seconds (or its last value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    return condition()


def number() -> str:
    return "62899" + str(uuid.uuid4().int)[:8]


class WebsiteCustomer:
    """A customer on the website channel, as the widget talks to it: the server issues the
    session (a signed token), and `token` continues one (a page reload)."""

    def __init__(self, url: str, token=None, headers=None):
        import socketio

        self.inbox: queue.Queue[str] = queue.Queue()
        self.attachments: queue.Queue[dict] = queue.Queue()  # files the bot sent (a statement PDF)
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", self._received)
        confirmed = queue.Queue()
        self.sio.on("session_confirm", lambda data: confirmed.put(data))
        self.sio.connect(
            url, socketio_path="socket.io", transports=["websocket"], wait_timeout=20, headers=headers or {}
        )
        self.sio.emit("session_request", {"session_id": token})
        self.token = confirmed.get(timeout=20)
        self.session_id = "web:" + self.token.split(".")[0]  # the conversation id in the tracker store

    def _received(self, data) -> None:
        data = data or {}
        if isinstance(data.get("attachment"), dict):
            self.attachments.put(data["attachment"])
        else:
            self.inbox.put(data.get("text") or "")

    def say(self, text: str, session_id=None) -> None:
        self.sio.emit("user_uttered", {"message": text, **({"session_id": session_id} if session_id else {})})

    def wait_for(self, fragment: str, timeout: float = 60) -> str:
        seen = []
        while True:
            try:
                text = self.inbox.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no message containing {fragment!r}; got {seen}")
            seen.append(text)
            if fragment in text:
                return text

    def drain(self, seconds: float) -> list:
        got = []
        try:
            while True:
                got.append(self.inbox.get(timeout=seconds))
        except queue.Empty:
            return got

    def close(self) -> None:
        self.sio.disconnect()
