"""WhatsApp Business (Cloud API) as a Rasa input channel.

credentials.yml (`make run` adds this section when WHATSAPP_APP_SECRET is set):

    channels.whatsapp.WhatsAppInput:
      verify_token: ${WHATSAPP_VERIFY_TOKEN}
      app_secret: ${WHATSAPP_APP_SECRET}
      access_token: ${WHATSAPP_ACCESS_TOKEN}
      phone_number_id: ${WHATSAPP_PHONE_NUMBER_ID}
      api_url: ${WHATSAPP_API_URL}

Webhook: GET /webhooks/whatsapp/webhook answers Meta's verification handshake; POST is checked
against X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the app secret, compared in
constant time), its messages are stored in the `whatsapp_inbox` table (the message id is the
key: a redelivered message is recognised, also after a restart) and 200 is answered at once;
the messages are then handed to Rasa in the background, in order per sender. Stored but not
processed messages (a crash in between) are processed when the channel starts again.

The conversation is `whatsapp:<wa_id>` (`crm.conversations`; `wa_id` must be ASCII digits), so
no other channel can reach it, and verification checks the number against the contract's phone.
Messages a customer sends while the bot is still answering are merged into one message (one
answer for a burst); every one stays in the transcript, none is dropped. Bodies over 256 KB or
nested deeper than JSON allows here are refused before the signature is computed. Replies go out
through the Graph API
`/{phone-number-id}/messages`: buttons become reply buttons (at most 3, titles of at most 20
characters) or a list (at most 10 rows), text over 4096 characters is split, and 429 / 5xx
answers are retried with backoff.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections import defaultdict
from datetime import datetime
from typing import Any, Awaitable, Callable, Dict, List, Optional

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from channels.inbound import clean, client_key, guard_from_settings, merge_texts, parse_json_body
from crm import conversations, responses
from crm.db import create_db_engine, make_session_factory, session_scope
from crm.formatting import mask_phone
from crm.models import WhatsAppInboxMessage
from crm.settings import load_settings

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://graph.facebook.com/v21.0"
MAX_TEXT = 4096
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20
MAX_ROWS, MAX_ROW_TITLE, MAX_ROW_DESCRIPTION = 10, 24, 72
MAX_BUTTON_BODY = 1024
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)
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


class WhatsAppConfigError(ValueError):
    """The channel is configured wrongly; the message says which setting to fix."""


def signature_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """X-Hub-Signature-256 is 'sha256=' + hex HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


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
        self, api_url: str, phone_number_id: str, access_token: str, retry_delays: tuple = RETRY_DELAYS_S
    ) -> None:
        self.url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self.access_token = access_token
        self.retry_delays = retry_delays

    async def _post(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        if "to" in payload:  # Rasa names the conversation (whatsapp:<wa_id>); the Graph API the number
            payload = {**payload, "to": conversations.recipient(str(payload["to"]))}
        headers = {"Authorization": f"Bearer {self.access_token}"}
        attempt = 0
        while True:
            try:
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
                    async with http.post(self.url, json=payload, headers=headers) as answer:
                        body = await answer.text()
                        if answer.status < 300:
                            return json.loads(body) if body else {}
                        error = GraphApiError(answer.status, body)
                        retry = answer.status == 429 or answer.status >= 500
            except (aiohttp.ClientError, asyncio.TimeoutError) as failure:
                error, retry = GraphApiError(0, repr(failure)), True
            if not retry or attempt >= len(self.retry_delays):
                logger.error(
                    "WhatsApp send to %s failed after %d attempt(s): %s",
                    mask_phone(str(payload.get("to") or "")),
                    attempt + 1,
                    error,
                )
                raise error
            delay = self.retry_delays[attempt]
            logger.warning(
                "WhatsApp send to %s: %s; retrying in %.1f s", mask_phone(str(payload.get("to") or "")), error, delay
            )
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
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self._post({"messaging_product": "whatsapp", "to": recipient_id, **json_message})


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
            value = change.get("value") if isinstance(change.get("value"), dict) else {}
            names = {
                c.get("wa_id"): (c.get("profile") if isinstance(c.get("profile"), dict) else {}).get("name")
                for c in _items(value.get("contacts"))
            }
            for message in _items(value.get("messages")):
                sender, message_id = message.get("from"), message.get("id")
                if isinstance(message_id, str) and message_id and conversations.valid_identifier("whatsapp", sender):
                    found.append({**message, "_profile_name": names.get(sender)})
    return found


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> WhatsAppInput:
        credentials = credentials or {}
        return cls(
            verify_token=str(credentials.get("verify_token") or ""),
            app_secret=str(credentials.get("app_secret") or ""),
            access_token=str(credentials.get("access_token") or ""),
            phone_number_id=str(credentials.get("phone_number_id") or ""),
            api_url=str(credentials.get("api_url") or DEFAULT_API_URL),
        )

    def __init__(
        self,
        verify_token: str,
        app_secret: str,
        access_token: str,
        phone_number_id: str,
        api_url: str = DEFAULT_API_URL,
        database_url: Optional[str] = None,
    ) -> None:
        missing = [
            name
            for name, value in (
                ("app_secret", app_secret),
                ("verify_token", verify_token),
                ("access_token", access_token),
                ("phone_number_id", phone_number_id),
            )
            if not value
        ]
        if missing:
            raise WhatsAppConfigError(
                f"the WhatsApp channel refuses to start without {', '.join(missing)} "
                "(WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID)"
            )
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.output = WhatsAppOutput(api_url, phone_number_id, access_token)
        self.sessions = make_session_factory(create_db_engine(database_url or load_settings().database_url))
        self.queues: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        self.workers: set = set()
        self.tasks: set = set()
        self.max_chars = load_settings().max_message_chars

    def get_output_channel(self) -> OutputChannel:
        return self.output

    # --- the inbox -----------------------------------------------------------------------------

    def store(self, messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Record `messages`; returns the ones not seen before (each id once, ever)."""
        new = []
        for message in messages:
            try:
                with session_scope(self.sessions) as db:
                    db.add(
                        WhatsAppInboxMessage(
                            message_id=str(message["id"])[:128],
                            wa_id=str(message["from"])[:32],
                            kind=str(message.get("type") or "unknown")[:24],
                            payload=message,
                            attempts=0,
                        )
                    )
                new.append(message)
            except IntegrityError:
                logger.info("WhatsApp message %s was delivered again; ignored", str(message["id"])[:40])
        return new

    def pending(self) -> List[Dict[str, Any]]:
        with session_scope(self.sessions) as db:
            rows = (
                db.execute(
                    select(WhatsAppInboxMessage)
                    .where(WhatsAppInboxMessage.processed_at.is_(None))
                    .order_by(WhatsAppInboxMessage.received_at)
                )
                .scalars()
                .all()
            )
            return [row.payload for row in rows]

    def _finish(self, message_id: str) -> None:
        with session_scope(self.sessions) as db:
            row = db.get(WhatsAppInboxMessage, message_id)
            if row is not None:
                row.processed_at = datetime.utcnow().replace(microsecond=0)
                row.attempts = (row.attempts or 0) + 1

    async def process(
        self, messages: List[Dict[str, Any]], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Queue messages per sender; one worker per sender hands them to Rasa in the order they
        came, merging the texts that arrived while the bot was answering into one message."""
        started = []
        for message in messages:
            sender = str(message["from"])
            self.queues[sender].append(message)
            if sender not in self.workers:
                self.workers.add(sender)
                started.append(self._drain(sender, on_new_message))
        await asyncio.gather(*started)

    async def _drain(self, sender: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        try:
            while self.queues[sender]:
                batch = list(self.queues[sender])
                self.queues[sender].clear()
                try:
                    await self._process_batch(sender, batch, on_new_message)
                except Exception:  # keep the rest going; the rows stay pending for a restart
                    logger.exception("WhatsApp messages from %s failed", mask_phone(sender))
                    continue
                for message in batch:
                    self._finish(str(message["id"])[:128])
        finally:
            self.workers.discard(sender)
            self.queues.pop(sender, None)

    async def _process_batch(
        self, sender: str, batch: List[Dict[str, Any]], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        conversation = conversations.make(self.name(), sender)
        if conversation is None:  # stored before the wa_id check existed: never a conversation id
            logger.warning("WhatsApp messages from a malformed wa_id skipped")
            return
        texts: List[str] = []
        last: Dict[str, Any] = {}
        for message in batch:
            text = message_text(message)
            if text is None:
                kind = MEDIA_NAMES.get(str(message.get("type")), "jenis pesan ini")
                await self.output.send_text_message(sender, responses.render("utter_whatsapp_unreadable", kind=kind))
                continue
            texts.append(text)
            last = message
        if not texts:
            return
        metadata = {
            "whatsapp_message_id": last.get("id"),
            "whatsapp_profile_name": last.get("_profile_name"),
            "client": client_key("whatsapp", sender),
        }
        # a button's payload (/inform{...}) stays a message of its own; typed lines are merged,
        # leaving out the empty ones (an empty message alone still gets its polite answer)
        if len(texts) > 1:
            texts = [t for t in texts if clean(t)] or texts[:1]
        pieces = texts if any(t.startswith("/") for t in texts) else merge_texts(texts, self.max_chars)
        for text in pieces:
            await on_new_message(
                UserMessage(text, self.output, conversation, input_channel=self.name(), metadata=metadata)
            )

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- the webhook ---------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("whatsapp_webhook", __name__)
        settings = load_settings()
        # cleaning, polite refusals, typed intents, the per-sender rate limit, apology on failure
        on_new_message = guard_from_settings(on_new_message, settings)
        started = {"done": False}

        def resume_pending() -> None:
            if not started["done"]:
                started["done"] = True
                left = self.pending()
                if left:
                    logger.info("processing %d WhatsApp message(s) stored before a restart", len(left))
                    self._spawn(self.process(left, on_new_message))

        @webhook.listener("after_server_start")
        async def on_start(app, loop) -> None:
            resume_pending()

        @webhook.route("/", methods=["GET"])
        async def health(request: Request):
            resume_pending()
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request):
            if (
                request.args.get("hub.mode") == "subscribe"
                and hmac.compare_digest(str(request.args.get("hub.verify_token") or ""), self.verify_token)
                and request.args.get("hub.challenge")
            ):
                return response.text(str(request.args.get("hub.challenge")))
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            resume_pending()
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.text(f"body over {MAX_BODY_BYTES} bytes", status=413)
            if not signature_valid(self.app_secret, request.body or b"", request.headers.get("x-hub-signature-256")):
                logger.warning("WhatsApp webhook with a missing or wrong signature refused")
                return response.text("invalid signature", status=403)
            body = parse_json_body(request.body)
            if body is None:
                return response.text("malformed or too deeply nested JSON", status=400)
            if not isinstance(body, dict):
                return response.text("JSON object expected", status=400)
            new = self.store(incoming_messages(body))
            if new:
                self._spawn(self.process(new, on_new_message))
            return response.text("ok")

        return webhook
