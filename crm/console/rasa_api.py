"""The console's calls to Rasa's HTTP API (token-protected, on loopback).

Reading a transcript reads the conversation's tracker from Rasa's tracker store. Taking over
appends a `pause` event, handing back a `resume` event; an agent's reply is appended as a bot
event carrying the agent in its metadata, with `execute_side_effects=true` and the output channel
of the conversation itself (`crm.conversations`: a `whatsapp:` conversation answers through the
Graph API to the customer's number, a `web:` one to its own socket.io room), never "whoever
wrote last".
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp

from crm import conversations

TIMEOUT_S = 10


class RasaUnavailable(Exception):
    """Rasa did not answer or refused; the message says what happened."""


class RasaClient:
    def __init__(self, base_url: str, token: Optional[str], timeout: float = TIMEOUT_S):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def _url(self, conversation_id: str, suffix: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{suffix}"

    def _params(self, **extra: str) -> Dict[str, str]:
        params = dict(extra)
        if self.token:
            params["token"] = self.token
        return params

    async def tracker(self, conversation_id: str) -> Dict[str, Any]:
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http:
                async with http.get(
                    self._url(conversation_id, "tracker"), params=self._params(include_events="ALL")
                ) as answer:
                    if answer.status != 200:
                        raise RasaUnavailable(f"Rasa answered {answer.status} for the transcript")
                    return await answer.json()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RasaUnavailable(f"Rasa is not reachable ({error.__class__.__name__})") from error

    async def append(self, conversation_id: str, events: List[Dict[str, Any]]) -> None:
        """Append `events`; bot events among them are delivered to the customer."""
        channel = conversations.channel_of(conversation_id)
        if channel is None:
            raise RasaUnavailable(f"{conversations.shown(conversation_id)} is not a conversation of a known channel")
        params = self._params(output_channel=channel, execute_side_effects="true")
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http:
                async with http.post(
                    self._url(conversation_id, "tracker/events"), params=params, json=events
                ) as answer:
                    if answer.status != 200:
                        raise RasaUnavailable(f"Rasa answered {answer.status}: {(await answer.text())[:200]}")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RasaUnavailable(f"Rasa is not reachable ({error.__class__.__name__})") from error

    async def record(self, conversation_id: str, events: List[Dict[str, Any]]) -> None:
        """Append `events` to the transcript without delivering anything (what was already sent
        another way, e.g. a WhatsApp template)."""
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http:
                async with http.post(
                    self._url(conversation_id, "tracker/events"), params=self._params(), json=events
                ) as answer:
                    if answer.status != 200:
                        raise RasaUnavailable(f"Rasa answered {answer.status}")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RasaUnavailable(f"Rasa is not reachable ({error.__class__.__name__})") from error


def bot_event(text: str, **metadata: Any) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": metadata}


def transcript(tracker: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The conversation as lines: who (customer / bot / agent / system), text, timestamp."""
    lines = []
    for event in tracker.get("events") or []:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            intent = (event.get("parse_data") or {}).get("intent") or {}
            lines.append(
                {
                    "who": "customer",
                    "text": text,
                    "at": event.get("timestamp"),
                    "intent": intent.get("name"),
                    "confidence": intent.get("confidence"),
                }
            )
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            who = "agent" if metadata.get("agent") else "bot"
            text = event.get("text") or ""
            buttons = (event.get("data") or {}).get("buttons") or []
            if buttons:
                text += "\n[" + " | ".join(str(b.get("title", "")) for b in buttons) + "]"
            lines.append({"who": who, "text": text, "at": event.get("timestamp"), "agent": metadata.get("agent_name")})
        elif kind in ("pause", "resume"):
            lines.append(
                {
                    "who": "system",
                    "text": "petugas mengambil alih" if kind == "pause" else "bot aktif kembali",
                    "at": event.get("timestamp"),
                }
            )
    return lines


WHATSAPP_WINDOW_S = 24 * 3600


def whatsapp_window_open(tracker: Dict[str, Any], now: float) -> bool:
    """WhatsApp lets a business send free text only within 24 hours of the customer's last
    message (the customer-service window); after that only approved templates."""
    last = max(
        (
            e.get("timestamp") or 0
            for e in tracker.get("events") or []
            if e.get("event") == "user" and e.get("input_channel") == "whatsapp"
        ),
        default=0,
    )
    return bool(last) and now - last < WHATSAPP_WINDOW_S
