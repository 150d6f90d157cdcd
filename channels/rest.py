"""The REST channel (POST /webhooks/rest/webhook), hardened.

Rasa's own RestInput answers a body that is not a JSON object with a 500, lets the caller
choose `input_channel` (a caller claiming "whatsapp" would have its sender id trusted as a
verified phone number) and stores caller-supplied metadata in the tracker. This one:
- answers 400 with a clear message for anything but a JSON object with a string `message` and
  a string `sender` of at most 128 characters, and 415 for other content types;
- always records the channel as "rest" and ignores metadata;
- passes every message through `channels.inbound.guard` (cleaning, refusing empty or over-long
  messages, typed intents, the per-sender pace, an apology when Rasa fails);
- names the conversation `rest:<sender>` (`crm.conversations`): REST reaches only REST
  conversations, never a WhatsApp or website one, whatever `sender` says;
- refuses bodies over 16 KB (413) and, when REST_CHANNEL_TOKEN is set, callers without
  `Authorization: Bearer <token>` (401). It is the development and test channel: production
  turns it off (REST_CHANNEL=false, docs/OPERATIONS.md).
"""

from __future__ import annotations

import hmac
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.exceptions import SanicException
from sanic.request import Request

from channels.inbound import RateLimiter, client_key, guard, parse_json_body
from crm import conversations
from crm.settings import load_settings

MAX_SENDER_CHARS = 64
MAX_BODY_BYTES = 16 * 1024


class BadRequest(SanicException):
    status_code = 400
    quiet = True


class UnsupportedMediaType(SanicException):
    status_code = 415
    quiet = True


class Unauthorized(SanicException):
    status_code = 401
    quiet = True


class TooLarge(SanicException):
    status_code = 413
    quiet = True


def _body(request: Request) -> Dict[str, Any]:
    if "json" not in (request.content_type or "").lower():
        raise UnsupportedMediaType("Send JSON (Content-Type: application/json).")
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise TooLarge(f"The body is over {MAX_BODY_BYTES} bytes.")
    body = parse_json_body(request.body)
    if body is None:
        raise BadRequest("The body is not valid JSON.")
    if not isinstance(body, dict):
        raise BadRequest('Send a JSON object: {"sender": "...", "message": "..."}.')
    return body


class GuardedRestInput(RestInput):
    def __init__(self, limiter: Optional[RateLimiter] = None, max_chars: Optional[int] = None) -> None:
        settings = load_settings()
        self.token = settings.rest_channel_token
        self.limiter = limiter or RateLimiter(settings.rate_limit_messages, settings.rate_limit_window_seconds)
        self.max_chars = max_chars or settings.max_message_chars

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> GuardedRestInput:
        return cls()

    async def _extract_sender(self, req: Request) -> Optional[str]:
        if self.token:
            given = req.headers.get("authorization") or ""
            if not hmac.compare_digest(given.encode("utf-8", "replace"), f"Bearer {self.token}".encode()):
                raise Unauthorized("The REST channel needs Authorization: Bearer <REST_CHANNEL_TOKEN>.")
        conversation = conversations.make(self.name(), _body(req).get("sender"))
        if conversation is None:
            raise BadRequest(
                f'"sender" must be 1-{MAX_SENDER_CHARS} ASCII letters, digits or _.@- '
                "(starting with a letter or digit)."
            )
        return conversation

    def _extract_message(self, req: Request) -> Optional[str]:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise BadRequest('"message" must be a string.')
        return message

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        """Only what the server knows: the caller's address, hashed (verification limits)."""
        return {"client": client_key("ip", request.remote_addr or request.ip)}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        return super().blueprint(guard(on_new_message, self.limiter, self.max_chars))
