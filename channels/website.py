"""The website chat channel: Rasa's socket.io channel with sessions the server issues and binds.

Rasa 3.6's socket.io channel lets a page name any session id: a second socket (or a REST call)
naming a customer's session id continued that conversation and received its answers. Here:
- `session_request` carries the token the widget kept (`crm.conversations`: `<id>.<signature>`,
  signed with SIGNING_SECRET). A valid token continues that conversation (a page reload);
  anything else (no token, a bare id, a forged token) gets a new session and a new token;
- the socket's session is kept server-side (`sio.save_session`); `user_uttered` ignores any
  session id in the event and uses the socket's own, so a socket reaches only its conversation;
- the conversation is `web:<id>` and the socket joins the room of that name (awaited:
  Rasa's unawaited `enter_room` joined nothing, RasaHQ/rasa#13027);
- malformed events are ignored, no client metadata is kept (only the hashed client address, for
  verification limits), events over 16 KB are refused by the transport, and every message goes
  through `channels.inbound.guard`.

With REDIS_URL set (the production profile) rooms are shared through Redis, so a message emitted
on one replica (an agent's reply) reaches a browser connected to another; between the workers of
one server without Redis they are shared through local sockets (channels/worker_rooms.py).

Two HTTP routes serve files for a conversation; the widget sends its session token in the
`X-Chat-Session` header (never in a URL), so only that conversation's page reaches them:
- GET `/webhooks/socketio/statements/<token>`: a document issued to the conversation (a statement
  PDF), until it expires (`crm.services.documents`);
- POST `/webhooks/socketio/proof`: the proof of a payment (photo or PDF, the raw body) for the
  conversation's open payment dispute (`crm.services.cases.attach_proof`); the answer is also
  said in the chat.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, Awaitable, Callable, Dict, Optional
from urllib.parse import unquote

import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request

from channels.inbound import client_key, guard_from_settings
from channels.worker_rooms import WorkerRoomsManager, several_workers
from crm import conversations, responses
from crm.clock import utc_now
from crm.db import create_db_engine, make_session_factory, session_scope
from crm.services import cases, documents
from crm.settings import load_settings

logger = logging.getLogger(__name__)

MAX_EVENT_BYTES = 16 * 1024


def _client_address(environ: Dict[str, Any], trust_forwarded: bool) -> str:
    if trust_forwarded:  # behind our nginx: its X-Forwarded-For holds the browser's address last
        forwarded = str(environ.get("HTTP_X_FORWARDED_FOR") or "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return str(environ.get("REMOTE_ADDR") or "")


class WebsiteSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        sio.eio.max_http_buffer_size = MAX_EVENT_BYTES
        settings = load_settings()
        secret = settings.signing_secret
        if not secret:
            secret = secrets.token_urlsafe(32)
            logger.warning("SIGNING_SECRET is not set: website sessions last until this server stops")
        manager: Optional[socketio.AsyncManager] = None
        if settings.redis_url:
            manager = socketio.AsyncRedisManager(settings.redis_url, channel="crm-socketio")
        elif several_workers():
            manager = WorkerRoomsManager(settings.run_dir / "socketio")
            # a long poll's next request may reach another worker: refused at the handshake,
            # so the widget keeps to WebSocket instead of flapping (docs/OPERATIONS.md)
            sio.eio.transports = ["websocket"]
        if manager is not None:
            sio.manager = manager  # before any client connects; socketio initialises it on the first
            manager.set_server(sio)
        guarded = guard_from_settings(on_new_message, settings)
        clients: Dict[str, str] = {}

        async def connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> None:
            clients[sid] = client_key("ip", _client_address(environ, settings.behind_proxy))

        async def disconnect(sid: str) -> None:
            clients.pop(sid, None)

        async def session_request(sid: str, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            identifier = conversations.web_session_from_token(secret, data.get("session_id"))
            token = data.get("session_id")
            if identifier is None:
                identifier, token = conversations.issue_web_session(secret)
            conversation = conversations.make(self.name(), identifier)
            await sio.save_session(sid, {"conversation": conversation}, namespace=self.namespace)
            await sio.enter_room(sid, conversation, namespace=self.namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)

        async def user_uttered(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                logger.info("socket %s sent a %s instead of a message object; ignored", sid, type(data).__name__)
                return
            session = await sio.get_session(sid, namespace=self.namespace)
            conversation = (session or {}).get("conversation")
            if not conversation:
                logger.info("socket %s sent a message before its session was confirmed; ignored", sid)
                return
            message = data.get("message")
            output = SocketIOOutput(sio, self.bot_message_evt)
            await guarded(
                UserMessage(
                    message if isinstance(message, str) else "",
                    output,
                    conversation,
                    input_channel=self.name(),
                    metadata={"client": clients.get(sid)},
                )
            )

        sessions = make_session_factory(create_db_engine(settings.database_url))

        def conversation_of(request: Request) -> Optional[str]:
            identifier = conversations.web_session_from_token(secret, request.headers.get("x-chat-session"))
            return conversations.make(self.name(), identifier) if identifier else None

        async def say(conversation: str, text: str) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=conversation, namespace=self.namespace)

        @blueprint.route("/statements/<token>", methods=["GET"])
        async def statement(request: Request, token: str):
            conversation = conversation_of(request)
            with session_scope(sessions) as db:
                document = documents.fetch(db, token, conversation, utc_now())
            if document is None:  # unknown, expired or another conversation's: the same answer
                return response.text("not found or expired", status=404)
            return response.raw(
                document.data,
                content_type=document.content_type,
                headers={
                    "Content-Disposition": f'attachment; filename="{document.filename}"',
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                },
            )

        @blueprint.route("/proof", methods=["POST"])
        async def proof(request: Request):
            conversation = conversation_of(request)
            if conversation is None:
                return response.json({"error": "session"}, status=403)
            data = request.body or b""
            filename = unquote(str(request.headers.get("x-filename") or "bukti-bayar"))[:120]
            try:
                with session_scope(sessions) as db:
                    attached = cases.attach_proof(
                        db,
                        conversation,
                        source="website",
                        content_type=str(request.headers.get("content-type") or ""),
                        filename=filename,
                        data=data,
                        now=utc_now(),
                    )
            except cases.ProofRefused as refused:
                await say(conversation, responses.render(f"utter_payment_proof_refused_{refused.code}"))
                return response.json({"error": refused.code}, status=413 if refused.code == "too_large" else 415)
            if attached is None:
                await say(conversation, responses.render("utter_payment_proof_no_case"))
                return response.json({"error": "no_case"}, status=409)
            await say(conversation, responses.render("utter_payment_proof_received", reference=attached.case_reference))
            return response.json({"case": attached.case_reference})

        sio.on("connect", connect, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_uttered, namespace=self.namespace)
        return blueprint
