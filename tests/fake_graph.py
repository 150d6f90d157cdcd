"""A fake WhatsApp Graph API on loopback (real HTTP): records every message the connector sends
and answers with scripted statuses (e.g. 429 then 200); serves customers' media (`add_media`:
`GET /{media-id}` gives its URL, the URL gives the bytes, both need the access token) and keeps
uploads to `/{phone-number-id}/media` (multipart, as Meta takes them)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List

ACCESS_TOKEN = "test-access-token"  # WHATSAPP_ACCESS_TOKEN of the product under test


class FakeGraph:
    def __init__(self) -> None:
        self.sent: List[Dict] = []
        self.attempts = 0
        self.script: List[int] = []  # statuses to answer before the normal 200s
        self.media: Dict[str, tuple] = {}  # media id -> (bytes, mime type): what customers sent
        self.uploads: List[Dict] = []  # what the connector uploaded
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, data: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's naming
                if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                    return self._answer(401, b'{"error": {"message": "no token"}}')
                parts = self.path.strip("/").split("/")
                media_id = parts[-1]
                with fake.lock:
                    found = fake.media.get(media_id)
                if found is None:
                    return self._answer(404, b'{"error": {"message": "unknown media"}}')
                data, mime = found
                if parts[-2:-1] == ["files"]:
                    return self._answer(200, data, mime)
                info = {
                    "url": f"{fake.url}/files/{media_id}",
                    "mime_type": mime,
                    "file_size": len(data),
                    "id": media_id,
                }
                return self._answer(200, json.dumps(info).encode())

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.endswith("/media"):
                    with fake.lock:
                        fake.uploads.append(
                            {"path": self.path, "content_type": self.headers.get("Content-Type"), "body": raw}
                        )
                        media_id = f"uploaded-{len(fake.uploads)}"
                    return self._answer(200, json.dumps({"id": media_id}).encode())
                body = json.loads(raw or b"{}")
                with fake.lock:
                    fake.attempts += 1
                    status = fake.script.pop(0) if fake.script else 200
                    if status == 200:
                        fake.sent.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                answer = (
                    {"messages": [{"id": f"wamid.{len(fake.sent)}"}]}
                    if status == 200
                    else {"error": {"message": "rate limited" if status == 429 else "error", "code": status}}
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_media(self, media_id: str, data: bytes, mime: str) -> None:
        with self.lock:
            self.media[media_id] = (data, mime)

    def to(self, number: str) -> List[Dict]:
        with self.lock:
            return [m for m in self.sent if m.get("to") == number]

    def texts_to(self, number: str) -> List[str]:
        texts = []
        for m in self.to(number):
            if m.get("type") == "text":
                texts.append(m["text"]["body"])
            elif m.get("type") == "interactive":
                texts.append(m["interactive"]["body"]["text"])
        return texts

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
