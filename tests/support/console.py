"""The console's handlers in-process, as the unit tests drive them: a fake Rasa HTTP API, an
in-process Sanic server on a loopback port, and a logged-in aiohttp client."""

from __future__ import annotations

import asyncio
import re
import socket

import aiohttp

PASSWORD = "rahasia-sekali-123"


class FakeRasa:
    """Rasa's HTTP API as the console uses it: transcripts and appended events, recorded."""

    def __init__(self):
        self.appended = []

    async def tracker(self, conversation_id):
        return {"events": [{"event": "user", "text": "halo", "timestamp": 1.0, "input_channel": "rest"}]}

    async def append(self, conversation_id, events):
        self.appended.append((conversation_id, events))


async def serve(app):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    return server, f"http://127.0.0.1:{port}"


async def login(base, username, password=PASSWORD):
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(base + "/login") as page:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
    async with http.post(
        base + "/login", data={"username": username, "password": password, "csrf_token": csrf}, allow_redirects=False
    ) as answer:
        status = answer.status
    if status == 303:
        async with http.get(base + "/") as page:
            http.headers["X-CSRF-Token"] = re.search(r'data-csrf="([^"]+)"', await page.text()).group(1)
    return http, status


def run(app, scenario):
    async def main():
        server, base = await serve(app)
        try:
            return await scenario(base)
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(main())
