"""socket.io rooms shared by the Rasa workers of one machine, without Redis.

With several workers on one port (RASA_WORKERS), a browser's socket lives in one worker while an
agent's reply (the console calls Rasa's HTTP API) or a proof upload may reach another. Like
python-socketio's Redis manager, every emit is delivered locally and published to the other
workers; here the channel is a directory of Unix datagram sockets under var/run, one per worker
(its pid), readable only by this user. A worker that is gone is removed from the directory by the
first publisher that finds its socket refusing.

Only WebSocket connections work across workers this way: socket.io's long-polling fallback sends
each poll as a new request, which may reach a worker that does not know the session. The widget
connects with WebSocket first; for clients that cannot, run one worker or the production profile
(nginx pins a client to one replica).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Optional

from socketio.async_pubsub_manager import AsyncPubSubManager

logger = logging.getLogger(__name__)

MAX_DATAGRAM = 256 * 1024


def several_workers() -> bool:
    """Whether this Rasa server runs several worker processes on its port (Rasa reads the same
    SANIC_WORKERS, which the supervisor sets from RASA_WORKERS)."""
    return int(os.environ.get("SANIC_WORKERS") or 1) > 1


SEND_TIMEOUT_S = 1.0


class WorkerRoomsManager(AsyncPubSubManager):
    name = "workers"

    def __init__(self, directory: Path, channel: str = "crm-socketio") -> None:
        super().__init__(channel=channel)
        self.directory = Path(directory)
        self._sender: Optional[socket.socket] = None
        self._pid = 0

    def _this_worker(self) -> None:
        """Workers are forked from one parent: each needs its own id and socket."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self.host_id = uuid.uuid4().hex
            self._sender = None

    @property
    def own_path(self) -> Path:
        return self.directory / f"{os.getpid()}.sock"

    def initialize(self) -> None:
        self._this_worker()
        super().initialize()

    async def _publish(self, data: Any) -> None:
        self._this_worker()
        if self._sender is None:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.settimeout(SEND_TIMEOUT_S)
        payload = self.json.dumps(data).encode()
        for path in self.directory.glob("*.sock"):
            if path == self.own_path:
                continue
            try:
                self._sender.sendto(payload, str(path))
            except (ConnectionRefusedError, FileNotFoundError):
                path.unlink(missing_ok=True)  # that worker has stopped
            except OSError as error:
                logger.error("socket.io message for another worker (%s) not delivered: %s", path.name, error)

    async def _listen(self) -> AsyncIterator[bytes]:
        self._this_worker()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.own_path
        path.unlink(missing_ok=True)
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.bind(str(path))
        os.chmod(path, 0o600)
        receiver.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            while True:
                yield await loop.sock_recv(receiver, MAX_DATAGRAM)
        finally:
            receiver.close()
            path.unlink(missing_ok=True)
