"""The REST channel (POST /webhooks/rest/webhook), hardened.

Rasa's own RestInput answers a body that is not a JSON object with a 500, lets the caller
choose `input_channel` (a caller claiming "whatsapp" would have its sender id trusted as a
verified phone number) and stores caller-supplied metadata in the tracker. This one:
- answers 400 with a clear message for anything but a JSON object with a string `message` and
  a string `sender` of at most 128 characters, and 415 for other content types;
- always records the channel as "rest" and ignores metadata;
- passes every message through `crm.inbound.guard` (cleaning, refusing empty or over-long
  messages, typed intents, the per-sender rate limit, an apology when Rasa fails).
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.exceptions import SanicException
from sanic.request import Request

from crm.inbound import RateLimiter, guard
from crm.settings import load_settings

MAX_SENDER_CHARS = 128


class BadRequest(SanicException):
    status_code = 400
    quiet = True


class UnsupportedMediaType(SanicException):
    status_code = 415
    quiet = True


def _body(request: Request) -> Dict[str, Any]:
    if "json" not in (request.content_type or "").lower():
        raise UnsupportedMediaType("Send JSON (Content-Type: application/json).")
    try:
        body = json.loads(request.body or b"")
    except ValueError:
        raise BadRequest("The body is not valid JSON.")
    if not isinstance(body, dict):
        raise BadRequest('Send a JSON object: {"sender": "...", "message": "..."}.')
    return body


class GuardedRestInput(RestInput):
    def __init__(self, limiter: Optional[RateLimiter] = None, max_chars: Optional[int] = None) -> None:
        settings = load_settings()
        self.limiter = limiter or RateLimiter(settings.rate_limit_messages, settings.rate_limit_window_seconds)
        self.max_chars = max_chars or settings.max_message_chars

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> GuardedRestInput:
        return cls()

    async def _extract_sender(self, req: Request) -> Optional[str]:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
            raise BadRequest(f'"sender" must be a non-empty string of at most {MAX_SENDER_CHARS} characters.')
        return sender

    def _extract_message(self, req: Request) -> Optional[str]:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise BadRequest('"message" must be a string.')
        return message

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        return super().blueprint(guard(on_new_message, self.limiter, self.max_chars))
