"""The website chat channel: Rasa's socket.io channel with its session-persistence bug fixed.

Rasa 3.6's `session_request` handler calls `sio.enter_room()` without `await`. Since
python-socketio 5.10 that method is a coroutine, so the socket never joins the room named after
the session id, and every message sent to the session (the bot's answers, and the console's
agent replies) goes nowhere (RasaHQ/rasa#13027). This channel replaces that one handler; the
rest is Rasa's. Its name stays "socketio", so trackers, the console's `output_channel=latest`
and the widget see the same channel.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class WebsiteSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio

        async def session_request(sid: str, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not session_id.strip() or len(session_id) > 128:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug("socket %s joined session %s", sid, session_id)

        sio.on("session_request", session_request, namespace=self.namespace)
        return blueprint
