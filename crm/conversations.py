"""Conversation ids: which channel a conversation belongs to and whose it is.

Every channel names its conversations `<prefix>:<identifier>` (`whatsapp:6281210000001`,
`web:<32 hex>`, `rest:<dev id>`), so a message on one channel can never reach another channel's
conversation: a REST caller naming a WhatsApp number reaches `rest:6281...`, a new, empty
conversation. The identifier must have the channel's issued format (ASCII only), which also
keeps surrogates and control characters out of the tracker store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

# Rasa channel name -> conversation-id prefix
PREFIXES = {"whatsapp": "whatsapp", "socketio": "web", "rest": "rest"}
CHANNELS = {prefix: channel for channel, prefix in PREFIXES.items()}
_IDENTIFIERS = {
    "whatsapp": re.compile(r"[0-9]{6,20}"),  # wa_id: E.164 digits, ASCII only
    "web": re.compile(r"[0-9a-f]{32}"),  # issued by the server (128 random bits)
    "rest": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}"),  # development and tests
}


@dataclass(frozen=True)
class ConversationId:
    channel: str  # Rasa's channel name: whatsapp, socketio, rest
    identifier: str  # the wa_id, the web session id, the REST sender

    def __str__(self) -> str:
        return f"{PREFIXES[self.channel]}:{self.identifier}"


def valid_identifier(channel: str, identifier: object) -> bool:
    pattern = _IDENTIFIERS.get(PREFIXES.get(channel, ""))
    return isinstance(identifier, str) and pattern is not None and pattern.fullmatch(identifier) is not None


def make(channel: str, identifier: object) -> Optional[str]:
    """The conversation id of `identifier` on `channel`, or None when it is not in the issued format."""
    if not valid_identifier(channel, identifier):
        return None
    return str(ConversationId(channel, str(identifier)))


def parse(conversation_id: object) -> Optional[ConversationId]:
    """The channel and identifier of a namespaced conversation id; None for anything else."""
    if not isinstance(conversation_id, str) or ":" not in conversation_id:
        return None
    prefix, identifier = conversation_id.split(":", 1)
    channel = CHANNELS.get(prefix)
    if channel is None or not valid_identifier(channel, identifier):
        return None
    return ConversationId(channel, identifier)


def channel_of(conversation_id: object) -> Optional[str]:
    parsed = parse(conversation_id)
    return parsed.channel if parsed else None


def whatsapp_number(conversation_id: object) -> Optional[str]:
    """The customer's WhatsApp number when the conversation is a WhatsApp one, else None."""
    parsed = parse(conversation_id)
    return parsed.identifier if parsed and parsed.channel == "whatsapp" else None


def recipient(conversation_id: str) -> str:
    """What a channel's output needs to reach the customer: the bare identifier."""
    parsed = parse(conversation_id)
    return parsed.identifier if parsed else conversation_id


def shown(conversation_id: str) -> str:
    """How staff see a conversation id: WhatsApp numbers masked, web ids shortened (never the
    full id of a website session)."""
    parsed = parse(conversation_id)
    if parsed is None:
        return conversation_id[:12] + "…" if len(conversation_id) > 16 else conversation_id
    if parsed.channel == "whatsapp":
        digits = parsed.identifier
        return f"whatsapp:{digits[:5]}{'•' * max(len(digits) - 8, 0)}{digits[-3:]}"
    if parsed.channel == "socketio":
        return f"web:{parsed.identifier[:8]}…"
    return conversation_id


def verified_customer_id(tracker: Any) -> Optional[int]:
    """The verified customer of a conversation (slots `verified` and `customer_id`), else None.
    Works on Rasa's tracker and on rasa-sdk's (both have `get_slot`)."""
    try:
        if tracker.get_slot("verified") and tracker.get_slot("customer_id") is not None:
            return int(tracker.get_slot("customer_id"))
    except (TypeError, ValueError, KeyError):
        pass
    return None


# --- website sessions ------------------------------------------------------------------------
# The widget keeps a token `<id>.<signature>`; only the server, which holds the secret, can make
# one. A socket or REST call that names the id alone gets nothing: the id is not a credential.


def _signature(secret: str, identifier: str) -> str:
    import base64
    import hashlib
    import hmac

    digest = hmac.new(secret.encode("utf-8"), f"web-session:{identifier}".encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def issue_web_session(secret: str) -> tuple:
    """A new website session: (identifier, token for the widget to keep)."""
    import secrets

    identifier = secrets.token_hex(16)
    return identifier, f"{identifier}.{_signature(secret, identifier)}"


def web_session_from_token(secret: str, token: object) -> Optional[str]:
    """The session identifier a token proves, or None for a forged, altered or malformed one."""
    import hmac

    if not secret or not isinstance(token, str) or len(token) > 100 or token.count(".") != 1:
        return None
    identifier, signature = token.split(".")
    if not valid_identifier("socketio", identifier):
        return None
    return identifier if hmac.compare_digest(signature, _signature(secret, identifier)) else None
