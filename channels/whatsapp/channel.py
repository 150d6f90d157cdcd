"""WhatsApp Business (Cloud API) as a Rasa input channel (`make run` adds it to credentials.yml
when WHATSAPP_APP_SECRET is set).

GET /webhooks/whatsapp/webhook answers Meta's verification handshake. A POST is refused above
256 KB or without a valid X-Hub-Signature-256 (`webhook.py`); its messages are recorded in the
inbox (`crm.services.whatsapp_inbox`: a redelivery is recognised, a crash loses nothing) and 200
is answered at once. Then, in the background and in order per sender, they go to Rasa as
conversation `whatsapp:<wa_id>`; what a customer sends while the bot is answering is merged into
one message. Replies go out through the Graph API client (`graph.py`). A photo or PDF sent while
the conversation has a payment dispute waiting for its proof is fetched from the Graph API and
kept with the case (`crm.services.cases.attach_proof`); other media get a polite "text please".

With several Rasa workers on one port (RASA_WORKERS) a webhook may reach any of them, and two
workers handing one sender's lines to Rasa would race (order) or both resume the same stored
rows (twice). So one worker drains the inbox: the one holding a file lock under var/run. Every
worker records what it receives; the drainer queues the inbox's pending rows in order when it
receives a webhook and every INBOX_POLL_S, once they are INBOX_SETTLE_S old (rows other workers
recorded a moment earlier are not overtaken). When the drainer stops,
another worker takes the lock and the rows still pending. With one worker nothing changes: it
drains what it receives at once.

"In order" is Meta's timestamp (whole seconds), then the order recorded. Two webhooks of one
sender in flight at the same moment within one second have no order to know: on two workers,
the one that reached a busy worker is recorded second. A worker answers ANSWERED_AT_ONCE senders
at a time, so a burst does not hold the webhook's 200 behind every sender's model work.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from channels.inbound import clean, client_key, guard_from_settings, merge_texts, parse_json_body
from channels.whatsapp.graph import DEFAULT_API_URL, GraphApiError, MediaTooLarge, WhatsAppOutput
from channels.whatsapp.webhook import (
    MAX_BODY_BYTES,
    MEDIA_NAMES,
    incoming_messages,
    message_text,
    signature_valid,
    statuses,
)
from channels.worker_rooms import several_workers
from crm import conversations, policy, responses
from crm.clock import utc_now, utc_now_exact
from crm.db import create_db_engine, make_session_factory, session_scope
from crm.formatting import mask_phone
from crm.runtime import file_lock
from crm.services import campaigns, cases, consent, whatsapp_inbox
from crm.settings import load_settings

logger = logging.getLogger("channels.whatsapp")


INBOX_POLL_S = 0.05
# a row is queued once it is this old: a line another worker recorded a moment earlier, whose
# commit is still on its way, is not overtaken by a later one (two workers reordered a sender's
# lines in the 100-message burst test without it)
INBOX_SETTLE_S = 0.2
# senders answered at the same time by one worker: the model's work holds the event loop, so with
# every sender of a burst answered at once a webhook waited its turn behind all of them (seconds on
# a loaded machine, and Meta times a webhook out); the others wait, and their lines merge meanwhile
ANSWERED_AT_ONCE = 3


class InboxDrainer:
    """Which worker hands WhatsApp messages to Rasa (see the module docstring): with one worker
    (SANIC_WORKERS unset or 1) always this one; with several, the holder of a file lock, which
    the kernel releases when its process ends."""

    def __init__(self, lock_path: Any) -> None:
        self.shared = several_workers()
        self.lock_path = lock_path
        self._file: Any = None

    def is_mine(self) -> bool:
        if not self.shared:
            return True
        if self._file is None:
            self._file = file_lock.hold(Path(self.lock_path))
            if self._file is None:
                return False
            logger.info("this Rasa worker (pid %d) now hands WhatsApp messages to Rasa", os.getpid())
        return True


class WhatsAppConfigError(ValueError):
    """The channel is configured wrongly; the message says which setting to fix."""


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
        self.sessions = make_session_factory(create_db_engine(database_url or load_settings().database_url))
        self.output = WhatsAppOutput(api_url, phone_number_id, access_token, sessions=self.sessions)
        self.queues: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        self.workers: set = set()
        self.tasks: set = set()
        self.taken: set = set()  # message ids this process queued: not finished, or failed until a restart
        self.answering: Dict[Any, asyncio.Semaphore] = {}  # per event loop (one in a server)
        self.max_chars = load_settings().max_message_chars

    def get_output_channel(self) -> OutputChannel:
        return self.output

    # --- the inbox -----------------------------------------------------------------------------

    def store(self, messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Record `messages` (crm.services.whatsapp_inbox); returns the ones not seen before."""
        return whatsapp_inbox.store(self.sessions, messages)

    def pending(self, received_before: Optional[datetime] = None) -> List[Dict[str, Any]]:
        return whatsapp_inbox.pending(self.sessions, received_before)

    def _finish(self, message_id: str) -> None:
        whatsapp_inbox.finish(self.sessions, message_id)

    async def process(
        self, messages: List[Dict[str, Any]], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Queue messages per sender; one worker per sender hands them to Rasa in the order they
        came, merging the texts that arrived while the bot was answering into one message."""
        started = []
        for message in messages:
            if whatsapp_inbox.key(message) in self.taken:
                continue  # already queued here (the drainer read the inbox again)
            self.taken.add(whatsapp_inbox.key(message))
            sender = str(message["from"])
            self.queues[sender].append(message)
            if sender not in self.workers:
                self.workers.add(sender)
                started.append(self._drain(sender, on_new_message))
        await asyncio.gather(*started)

    def _turns(self) -> asyncio.Semaphore:
        """The turns to be answered in this event loop (ANSWERED_AT_ONCE senders at a time)."""
        loop = asyncio.get_running_loop()
        if loop not in self.answering:
            self.answering = {loop: asyncio.Semaphore(ANSWERED_AT_ONCE)}
        return self.answering[loop]

    async def _drain(self, sender: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        try:
            while self.queues[sender]:
                async with self._turns():  # what came in while waiting for a turn joins the batch
                    batch = list(self.queues[sender])
                    self.queues[sender].clear()
                    try:
                        await self._process_batch(sender, batch, on_new_message)
                    except Exception:  # keep the rest going; the rows stay pending for a restart
                        logger.exception("WhatsApp messages from %s failed", mask_phone(sender))
                        continue
                for message in batch:
                    self._finish(whatsapp_inbox.key(message))
                    self.taken.discard(whatsapp_inbox.key(message))
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
            if text is None and await self._take_proof(sender, conversation, message):
                continue
            if text is None:
                kind = MEDIA_NAMES.get(str(message.get("type")), "jenis pesan ini")
                await self.output.send_text_message(sender, responses.render("utter_whatsapp_unreadable", kind=kind))
                continue
            if await self._consent_command(sender, text):
                continue
            texts.append(text)
            last = message
        if not texts:
            return
        with session_scope(self.sessions) as db:
            notice = campaigns.note_reply(db, sender, utc_now())
        metadata = {
            "whatsapp_message_id": last.get("id"),
            "whatsapp_profile_name": last.get("_profile_name"),
            "client": client_key("whatsapp", sender),
            **({"campaign_notice": notice} if notice else {}),
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

    async def _consent_command(self, sender: str, text: str) -> bool:
        """STOP / "stop semua" / START (or a template's STOP button): consent recorded, the customer
        told in one message; False for any other message."""
        command = consent.command(text)
        if command is None:
            return False
        now = utc_now()
        with session_scope(self.sessions) as db:
            if command == "opt_in":
                consent.opt_in(db, sender, "whatsapp_reply", now)
            else:
                consent.opt_out(db, sender, command == "opt_out_all", now)
                campaigns.note_reply(db, sender, now, opted_out=True)
        logger.info("WhatsApp %s: %s", mask_phone(sender), command)
        if command == "opt_out_marketing":
            text = responses.render("utter_opted_out_marketing")
            button = {"title": responses.render("utter_button_stop_all"), "payload": "/opt_out_reminders"}
            await self.output.send_text_with_buttons(sender, text, [button])
        else:
            name = "utter_opted_in" if command == "opt_in" else "utter_opted_out_all"
            await self.output.send_text_message(sender, responses.render(name))
        return True

    async def _take_proof(self, sender: str, conversation: str, message: Dict[str, Any]) -> bool:
        """Keep a photo or PDF as the proof of the conversation's open payment dispute and say so;
        False when the message is not one or no dispute waits for a proof. A Graph API failure
        is raised: the message stays in the inbox and is tried again."""
        kind = str(message.get("type"))
        media = message.get(kind) if kind in ("image", "document") else None
        if not isinstance(media, dict) or not isinstance(media.get("id"), str):
            return False
        with session_scope(self.sessions) as db:
            if cases.awaiting_proof(db, conversation, utc_now()) is None:
                return False
        try:
            data, content_type = await self.output.fetch_media(media["id"], policy.MAX_PROOF_BYTES)
        except MediaTooLarge:
            await self.output.send_text_message(sender, responses.render("utter_payment_proof_refused_too_large"))
            return True
        except GraphApiError:
            logger.error("the proof photo of %s could not be fetched; kept for a retry", mask_phone(sender))
            raise
        extension = "pdf" if "pdf" in content_type else "jpg"
        try:
            with session_scope(self.sessions) as db:
                attached = cases.attach_proof(
                    db,
                    conversation,
                    source="whatsapp",
                    content_type=str(media.get("mime_type") or content_type),
                    filename=str(media.get("filename") or f"bukti-bayar-{media['id'][-12:]}.{extension}"),
                    data=data,
                    now=utc_now(),
                )
        except cases.ProofRefused as refused:
            await self.output.send_text_message(sender, responses.render(f"utter_payment_proof_refused_{refused.code}"))
            return True
        if attached is None:
            return False
        logger.info("payment proof of %s kept with %s", mask_phone(sender), attached.case_reference)
        await self.output.send_text_message(
            sender, responses.render("utter_payment_proof_received", reference=attached.case_reference)
        )
        return True

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
        drainer = InboxDrainer(settings.run_dir / "whatsapp-inbox.lock")

        def resume_pending() -> None:
            if not started["done"] and drainer.is_mine():
                started["done"] = True
                left = self.pending()
                if left:
                    logger.info("processing %d WhatsApp message(s) stored before a restart", len(left))
                    self._spawn(self.process(left, on_new_message))

        def read_inbox() -> None:
            """Several workers: the drainer queues what is pending, in the inbox's order (its own
            rows too, so a line another worker recorded first is not overtaken)."""
            if drainer.is_mine():
                started["done"] = True
                settled = utc_now_exact() - timedelta(seconds=INBOX_SETTLE_S)
                waiting = [m for m in self.pending(settled) if whatsapp_inbox.key(m) not in self.taken]
                if waiting:
                    self._spawn(self.process(waiting, on_new_message))

        async def follow_inbox() -> None:
            while True:
                await asyncio.sleep(INBOX_POLL_S)
                try:
                    read_inbox()
                except Exception:
                    logger.exception("the WhatsApp inbox could not be read; trying again")

        @webhook.listener("after_server_start")
        async def on_start(app, loop) -> None:
            resume_pending()
            if drainer.shared:
                self._spawn(follow_inbox())

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
            reported = statuses(body)
            if reported:
                with session_scope(self.sessions) as db:
                    for status in reported:
                        campaigns.record_status(db, status, utc_now())
            new = self.store(incoming_messages(body))
            if new and drainer.shared:
                read_inbox()  # the drainer: now; another worker: the drainer's next read
            elif new:
                self._spawn(self.process(new, on_new_message))
            return response.text("ok")

        return webhook
