"""The Graph API client: replies go out through `/{phone-number-id}/messages`. Buttons become reply
buttons (at most 3, titles of at most 20 characters) or a list (at most 10 rows, titles shortened
between words), text over 4096 characters is split, and 429 / 5xx answers are retried with backoff.
A document issued to the conversation (a statement PDF) is uploaded to `/{phone-number-id}/media`
and sent by its media id; a customer's photo is fetched by its media id (`fetch_media`)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

import aiohttp
from rasa.core.channels.channel import OutputChannel
from sqlalchemy.orm import sessionmaker

from crm import conversations
from crm.clock import utc_now
from crm.db import session_scope
from crm.formatting import mask_phone
from crm.services import documents

logger = logging.getLogger("channels.whatsapp")

DEFAULT_API_URL = "https://graph.facebook.com/v21.0"
MAX_TEXT = 4096
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20
MAX_ROWS, MAX_ROW_TITLE, MAX_ROW_DESCRIPTION = 10, 24, 72
MAX_BUTTON_BODY = 1024
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)


def split_text(text: str, limit: int = MAX_TEXT) -> List[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, line or word break if possible."""
    pieces = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def shorten(title: str, limit: int) -> str:
    """`title` within `limit` characters, cut between words (never inside a plate or a date)."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    if title[limit - 1] != " ":  # the cut falls inside a word: drop that word
        cut = cut.rsplit(" ", 1)[0]
    cut = cut.rstrip(" ·-,")
    return (cut or title[: limit - 1]) + "…"


def interactive_payloads(text: str, buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Graph API `interactive` objects for a text with buttons: reply buttons when WhatsApp's
    limits allow (<= 3, titles <= 20 characters), else lists of <= 10 rows."""
    options = [(str(b.get("title") or ""), str(b.get("payload") or b.get("title") or "")) for b in buttons]
    fits_buttons = len(options) <= MAX_BUTTONS and all(len(title) <= MAX_BUTTON_TITLE for title, _ in options)
    if fits_buttons and len(text) <= MAX_BUTTON_BODY:
        return [
            {
                "type": "button",
                "body": {"text": text or "Pilih salah satu:"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": payload[:256], "title": title}} for title, payload in options
                    ]
                },
            }
        ]
    lists = []
    for start in range(0, len(options), MAX_ROWS):
        rows = []
        for title, payload in options[start : start + MAX_ROWS]:
            row = {"id": payload[:200], "title": shorten(title, MAX_ROW_TITLE)}
            if len(title) > MAX_ROW_TITLE:
                row["description"] = shorten(title, MAX_ROW_DESCRIPTION)
            rows.append(row)
        body = text if start == 0 else "Pilihan lainnya:"
        lists.append(
            {
                "type": "list",
                "body": {"text": body[:MAX_TEXT] or "Pilih salah satu:"},
                "action": {"button": "Pilih", "sections": [{"title": "Pilihan", "rows": rows}]},
            }
        )
    return lists


class MediaTooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(f"media of {size} bytes")
        self.size = size


class GraphApiError(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(f"Graph API answered {status}: {body[:300]}")
        self.status = status
        self.body = body


class WhatsAppOutput(OutputChannel):
    """Sends through the Graph API, retrying 429 and 5xx answers with backoff."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(
        self,
        api_url: str,
        phone_number_id: str,
        access_token: str,
        retry_delays: tuple = RETRY_DELAYS_S,
        sessions: Optional[sessionmaker] = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.url = f"{self.api_url}/{phone_number_id}/messages"
        self.media_url = f"{self.api_url}/{phone_number_id}/media"
        self.access_token = access_token
        self.retry_delays = retry_delays
        self.sessions = sessions  # the CRM database: documents issued to a conversation

    async def _post(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        if "to" in payload:  # Rasa names the conversation (whatsapp:<wa_id>); the Graph API the number
            payload = {**payload, "to": conversations.recipient(str(payload["to"]))}
        return await self._send(self.url, str(payload.get("to") or ""), lambda: {"json": payload})

    async def _send(self, url: str, to: str, body: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
        """POST to the Graph API, retrying 429, 5xx and connection failures; `body` makes the
        request's keyword arguments afresh for each attempt (a multipart form is used up once sent)."""
        headers = {"Authorization": f"Bearer {self.access_token}"}
        attempt = 0
        while True:
            try:
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
                    async with http.post(url, headers=headers, **body()) as answer:
                        text = await answer.text()
                        if answer.status < 300:
                            return json.loads(text) if text else {}
                        error = GraphApiError(answer.status, text)
                        retry = answer.status == 429 or answer.status >= 500
            except (aiohttp.ClientError, asyncio.TimeoutError) as failure:
                error, retry = GraphApiError(0, repr(failure)), True
            if not retry or attempt >= len(self.retry_delays):
                logger.error("WhatsApp send to %s failed after %d attempt(s): %s", mask_phone(to), attempt + 1, error)
                raise error
            delay = self.retry_delays[attempt]
            logger.warning("WhatsApp send to %s: %s; retrying in %.1f s", mask_phone(to), error, delay)
            await asyncio.sleep(delay)
            attempt += 1

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text):
            await self._post(
                {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": recipient_id,
                    "type": "text",
                    "text": {"preview_url": False, "body": piece},
                }
            )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        if len(text) > MAX_TEXT:
            pieces = split_text(text)
            for piece in pieces[:-1]:
                await self.send_text_message(recipient_id, piece)
            text = pieces[-1]
        for interactive in interactive_payloads(text, buttons):
            await self._post(
                {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": recipient_id,
                    "type": "interactive",
                    "interactive": interactive,
                }
            )

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._post(
            {"messaging_product": "whatsapp", "to": recipient_id, "type": "image", "image": {"link": image}}
        )

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """A document issued to this conversation (`payload.document`, its token) is uploaded and
        sent as a WhatsApp document; anything else is sent as text."""
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        token = payload.get("document") if isinstance(payload, dict) else None
        if not token or self.sessions is None:
            await self.send_text_message(recipient_id, str(attachment))
            return
        with session_scope(self.sessions) as db:
            document = documents.fetch(db, str(token), recipient_id, utc_now())
        if document is None:
            logger.error("a document for %s expired before it was sent", mask_phone(recipient_id))
            return
        media_id = await self.upload_media(recipient_id, document.data, document.content_type, document.filename)
        await self._post(
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": recipient_id,
                "type": "document",
                "document": {"id": media_id, "filename": document.filename},
            }
        )

    async def upload_media(self, recipient_id: str, data: bytes, content_type: str, filename: str) -> str:
        """Upload a file to the Graph API's media endpoint; returns its media id."""

        def form() -> Dict[str, Any]:
            body = aiohttp.FormData()
            body.add_field("messaging_product", "whatsapp")
            body.add_field("type", content_type)
            body.add_field("file", data, filename=filename, content_type=content_type)
            return {"data": body}

        answer = await self._send(self.media_url, conversations.recipient(recipient_id), form)
        media_id = str(answer.get("id") or "")
        if not media_id:
            raise GraphApiError(200, f"media upload answered without an id: {str(answer)[:200]}")
        return media_id

    async def fetch_media(self, media_id: str, max_bytes: int) -> Tuple[bytes, str]:
        """A customer's media file: its URL from `/{media-id}`, then the file (both with the
        access token). Refuses files over `max_bytes` without reading them whole."""
        headers = {"Authorization": f"Bearer {self.access_token}"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            async with http.get(f"{self.api_url}/{media_id}", headers=headers) as answer:
                if answer.status >= 300:
                    raise GraphApiError(answer.status, await answer.text())
                info = json.loads(await answer.text() or "{}")
            if int(info.get("file_size") or 0) > max_bytes:
                raise MediaTooLarge(int(info["file_size"]))
            async with http.get(str(info.get("url") or ""), headers=headers) as answer:
                if answer.status >= 300:
                    raise GraphApiError(answer.status, await answer.text())
                chunks, size = [], 0
                async for chunk in answer.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaTooLarge(size)
                    chunks.append(chunk)
                return b"".join(chunks), str(info.get("mime_type") or answer.headers.get("Content-Type") or "")

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self._post({"messaging_product": "whatsapp", "to": recipient_id, **json_message})
