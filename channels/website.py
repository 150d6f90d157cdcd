"""The website chat channel: Rasa's socket.io channel with its session-persistence bug fixed.

Rasa 3.6's `session_request` handler calls `sio.enter_room()` without `await`. Since
python-socketio 5.10 that method is a coroutine, so the socket never joins the room named after
the session id, and every message sent to the session (the bot's answers, and the console's
agent replies) goes nowhere (RasaHQ/rasa#13027). This channel replaces that one handler; the
rest is Rasa's. Its name stays "socketio", so trackers, the console's `output_channel=latest`
and the widget see the same channel.

It also replaces the `user_uttered` handler: Rasa's raises on a payload that is not an object
and trusts whatever `customData` a page sends as metadata. Ours ignores malformed events,
keeps no client metadata, and passes every message through `crm.inbound.guard` (cleaning,
polite refusals, typed intents, the per-sender rate limit, an apology when Rasa fails).

With REDIS_URL set (the production profile: several Rasa replicas behind nginx) the socket.io
server shares its rooms through Redis, so a message emitted on one replica (an agent's reply sent
through the console, an answer to a REST-delivered event) reaches a browser connected to another.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional

import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from crm.inbound import RateLimiter, guard
from crm.settings import load_settings

logger = logging.getLogger(__name__)


class WebsiteSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        settings = load_settings()
        if settings.redis_url:
            manager = socketio.AsyncRedisManager(settings.redis_url, channel="crm-socketio")
            sio.manager = manager  # before any client connects; socketio initialises it on the first
            manager.set_server(sio)
        guarded = guard(on_new_message, RateLimiter(settings.rate_limit_messages, settings.rate_limit_window_seconds),
                        settings.max_message_chars)

        async def session_request(sid: str, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not session_id.strip() or len(session_id) > 128:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug("socket %s joined session %s", sid, session_id)

        async def user_uttered(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                logger.info("socket %s sent a %s instead of a message object; ignored", sid, type(data).__name__)
                return
            if self.session_persistence:
                session_id = data.get("session_id")
                if not isinstance(session_id, str) or not session_id.strip() or len(session_id) > 128:
                    logger.info("socket %s sent a message without a valid session id; ignored", sid)
                    return
            else:
                session_id = sid
            message = data.get("message")
            output = SocketIOOutput(sio, self.bot_message_evt)
            await guarded(UserMessage(message if isinstance(message, str) else "", output, session_id,
                                      input_channel=self.name()))

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_uttered, namespace=self.namespace)
        return blueprint
