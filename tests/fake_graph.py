"""A fake WhatsApp Graph API on loopback (real HTTP), for tests and the outbound demo
(`make demo-whatsapp` runs it with `python -m tests.fake_graph`).

It records every message sent and answers with scripted statuses (an HTTP status, or a status
with Meta's error code: `(400, 131026, "...")`); serves customers' media (`add_media`: `GET
/{media-id}` gives its URL, the URL gives the bytes, both need the access token) and keeps uploads
to `/{phone-number-id}/media`; lists and accepts message templates (`GET/POST
/{waba-id}/message_templates`); and, given a webhook, reports delivery back like Meta: signed
`statuses` (sent, delivered, read, or failed for `failing` numbers) carrying the message's
`biz_opaque_callback_data`."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

ACCESS_TOKEN = "test-access-token"  # WHATSAPP_ACCESS_TOKEN of the product under test


class FakeGraph:
    def __init__(
        self,
        port: int = 0,
        webhook: Optional[str] = None,
        app_secret: Optional[str] = None,
        template_status: str = "APPROVED",
        access_token: str = ACCESS_TOKEN,
    ) -> None:
        self.sent: List[Dict] = []
        self.attempts = 0
        self.script: List[Any] = []  # answers before the normal 200s: 429, or (400, 131026, "title")
        self.media: Dict[str, tuple] = {}  # media id -> (bytes, mime type): what customers sent
        self.uploads: List[Dict] = []  # what the connector uploaded
        self.templates: Dict[str, Dict[str, Any]] = {}  # meta id -> template as Meta lists it
        self.template_status = template_status  # the state a submitted template gets
        self.webhook, self.app_secret = webhook, app_secret
        self.status_order = ["sent", "delivered", "read"]
        self.shuffle_statuses = False
        self.failing: Dict[str, Tuple[int, str]] = {}  # number -> (code, title) of a failed status
        self.hold_at: Optional[int] = None  # the n-th accepted message waits for `release` before answering
        self.held = threading.Event()  # set once that message arrived
        self.release = threading.Event()
        self.delay_s = 0.0  # per accepted message (a slow Graph API)
        self.reports: List[Dict] = []  # statuses posted to the webhook
        self.access_token = access_token
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, data: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _json(self, status: int, value: Any) -> None:
                self._answer(status, json.dumps(value).encode())

            def do_GET(self):  # noqa: N802 - http.server's naming
                if self.headers.get("Authorization") != f"Bearer {fake.access_token}":
                    return self._answer(401, b'{"error": {"message": "no token", "code": 190}}')
                path = self.path.split("?")[0]
                parts = path.strip("/").split("/")
                if parts[-1] == "message_templates":
                    with fake.lock:
                        return self._json(200, {"data": list(fake.templates.values())})
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
                return self._json(200, info)

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.endswith("/media"):
                    with fake.lock:
                        fake.uploads.append(
                            {"path": self.path, "content_type": self.headers.get("Content-Type"), "body": raw}
                        )
                        media_id = f"uploaded-{len(fake.uploads)}"
                    return self._json(200, {"id": media_id})
                body = json.loads(raw or b"{}")
                if self.path.endswith("/message_templates") or not self.path.endswith("/messages"):
                    return self._json(200, fake.submit_template(self.path, body))
                with fake.lock:
                    fake.attempts += 1
                    scripted = fake.script.pop(0) if fake.script else 200
                    status, code, title = (scripted, None, None) if isinstance(scripted, int) else scripted
                    if status == 200:
                        fake.sent.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                        number = len(fake.sent)
                if status != 200:
                    error = {"message": title or ("rate limited" if status == 429 else "error"), "code": code or status}
                    if title:
                        error["error_user_title"] = title
                    return self._json(status, {"error": error})
                message_id = f"wamid.{number}"
                if fake.hold_at == number:
                    fake.held.set()
                    fake.release.wait(60)
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                fake.report(message_id, body)  # Meta reports even when the sender is gone
                try:
                    self._json(200, {"messaging_product": "whatsapp", "messages": [{"id": message_id}]})
                except OSError:
                    pass  # the sender died while this message was in flight

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # --- templates -----------------------------------------------------------------------------

    def submit_template(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        with self.lock:
            target = path.strip("/").split("/")[-1]
            if target in self.templates:  # an edit: back to review
                item = self.templates[target]
                item.update(components=body.get("components", item["components"]), status=self.template_status)
            else:
                meta_id = str(100000 + len(self.templates) + 1)
                item = {
                    "id": meta_id,
                    "name": body.get("name"),
                    "language": body.get("language"),
                    "category": body.get("category"),
                    "components": body.get("components", []),
                    "status": self.template_status,
                }
                self.templates[meta_id] = item
            return {"id": item["id"], "status": item["status"], "category": item["category"]}

    def set_template_status(self, name: str, status: str) -> None:
        with self.lock:
            for item in self.templates.values():
                if item["name"] == name:
                    item["status"] = status

    # --- statuses back to the webhook ----------------------------------------------------------

    def report(self, message_id: str, body: Dict[str, Any]) -> None:
        """Post this message's statuses to the webhook (in the background), signed like Meta."""
        if not (self.webhook and self.app_secret):
            return
        number = str(body.get("to") or "")
        failure = self.failing.get(number)
        names = ["failed"] if failure else list(self.status_order)
        if self.shuffle_statuses:
            random.shuffle(names)
        statuses = []
        for offset, name in enumerate(names):
            status = {
                "id": message_id,
                "status": name,
                "timestamp": str(int(time.time()) + offset),
                "recipient_id": number,
            }
            if body.get("biz_opaque_callback_data"):
                status["biz_opaque_callback_data"] = body["biz_opaque_callback_data"]
            if failure:
                status["errors"] = [{"code": failure[0], "title": failure[1]}]
            statuses.append(status)
        threading.Thread(target=self.post_statuses, args=(statuses,), daemon=True).start()

    def post_statuses(self, statuses: List[Dict[str, Any]]) -> None:
        for status in statuses:
            self.post_webhook({"entry": [{"changes": [{"field": "messages", "value": {"statuses": [status]}}]}]})
            with self.lock:
                self.reports.append(status)

    def post_webhook(self, body: Dict[str, Any]) -> int:
        raw = json.dumps(body).encode()
        signature = "sha256=" + hmac.new(str(self.app_secret).encode(), raw, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            str(self.webhook), data=raw, headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        )
        for attempt in range(5):  # Meta retries too
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return answer.status
            except OSError:
                time.sleep(0.5 * (attempt + 1))
        return 0

    # --- reading what was sent -----------------------------------------------------------------

    def add_media(self, media_id: str, data: bytes, mime: str) -> None:
        with self.lock:
            self.media[media_id] = (data, mime)

    def to(self, number: str) -> List[Dict]:
        with self.lock:
            return [m for m in self.sent if m.get("to") == number]

    def templates_sent(self) -> List[Dict]:
        with self.lock:
            return [m for m in self.sent if m.get("type") == "template"]

    def texts_to(self, number: str) -> List[str]:
        texts = []
        for m in self.to(number):
            if m.get("type") == "text":
                texts.append(m["text"]["body"])
            elif m.get("type") == "interactive":
                texts.append(m["interactive"]["body"]["text"])
        return texts

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    """`make demo-whatsapp`: a local Graph API that approves templates and reports deliveries."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=5040)
    parser.add_argument("--webhook", required=True, help="the product's WhatsApp webhook URL")
    parser.add_argument("--app-secret", required=True)
    parser.add_argument("--access-token", required=True)
    args = parser.parse_args()
    fake = FakeGraph(args.port, args.webhook, args.app_secret, access_token=args.access_token)
    print(f"fake Graph API on {fake.url}; statuses go to {args.webhook}", flush=True)
    try:
        shown = 0
        while True:
            time.sleep(5)
            with fake.lock:
                count = len(fake.sent)
            if count != shown:
                print(f"{count} message(s) received", flush=True)
                shown = count
    except KeyboardInterrupt:
        fake.close()


if __name__ == "__main__":
    main()
