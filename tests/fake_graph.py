"""A fake WhatsApp Graph API on loopback (real HTTP): records every message the connector sends
and answers with scripted statuses (e.g. 429 then 200)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List


class FakeGraph:
    def __init__(self) -> None:
        self.sent: List[Dict] = []
        self.attempts = 0
        self.script: List[int] = []  # statuses to answer before the normal 200s
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
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
