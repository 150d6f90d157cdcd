"""Reading Meta's webhook: the signature over the raw body, and the messages and their texts
(typed text, a reply button or list row's id; media and reactions have none)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Dict, List, Optional

from crm import conversations

MAX_BODY_BYTES = 256 * 1024
MEDIA_NAMES = {
    "image": "gambar",
    "audio": "pesan suara",
    "voice": "pesan suara",
    "sticker": "stiker",
    "location": "lokasi",
    "document": "dokumen",
    "video": "video",
    "contacts": "kontak",
    "reaction": "reaksi",
    "unsupported": "jenis pesan ini",
}


def signature_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """X-Hub-Signature-256 is 'sha256=' + hex HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def message_text(message: Dict[str, Any]) -> Optional[str]:
    """What Rasa gets for a WhatsApp message: the text, or the payload of the button or list row
    the customer chose; None for media and other kinds the bot cannot read. Fields of the wrong
    type count as empty (the channel's front door then answers that the message is empty)."""
    kind = message.get("type")
    if kind == "text":
        return _str(_dict(message.get("text")).get("body"))
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        chosen = _dict(interactive.get("button_reply")) or _dict(interactive.get("list_reply"))
        return _str(chosen.get("id")) or _str(chosen.get("title"))
    if kind == "button":  # a quick-reply button of a template message
        button = _dict(message.get("button"))
        return _str(button.get("payload")) or _str(button.get("text"))
    return None


def _items(value: Any) -> List[Dict[str, Any]]:
    """The dict elements of `value` when it is a list; [] for anything else (bad bodies)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def incoming_messages(body: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The customer messages in a webhook body (delivery and read statuses are left out).
    Anything not shaped like Meta's payload is skipped, never an error."""
    found = []
    for entry in _items(body.get("entry")):
        for change in _items(entry.get("changes")):
            value = _dict(change.get("value"))
            names = {c.get("wa_id"): _dict(c.get("profile")).get("name") for c in _items(value.get("contacts"))}
            for message in _items(value.get("messages")):
                sender, message_id = message.get("from"), message.get("id")
                if isinstance(message_id, str) and message_id and conversations.valid_identifier("whatsapp", sender):
                    found.append({**message, "_profile_name": names.get(sender)})
    return found


def statuses(body: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The delivery statuses in a webhook body (sent, delivered, read, failed), as Meta sent them."""
    found = []
    for entry in _items(body.get("entry")):
        for change in _items(entry.get("changes")):
            for status in _items(_dict(change.get("value")).get("statuses")):
                if isinstance(status.get("id"), str) and isinstance(status.get("status"), str):
                    found.append(status)
    return found
