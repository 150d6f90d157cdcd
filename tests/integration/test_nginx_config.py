"""Debian's nginx accepts the configuration `make run` writes for the production profile. An
integration test because it needs the nginx binary, which `make services` installs: the unit
loop needs no apt."""

from __future__ import annotations

import subprocess

import pytest

from crm.runtime import nginx
from crm.settings import load_settings
from tests.support.production import PRODUCTION

pytestmark = pytest.mark.integration


def test_nginx_accepts_the_generated_config(tmp_path):
    settings = load_settings(PRODUCTION, env_file=tmp_path / "none")
    path = nginx.write_config(settings, tmp_path / "run", tmp_path / "log")
    (tmp_path / "log").mkdir()
    check = subprocess.run(
        [
            nginx.find_nginx("nginx"),
            "-t",
            "-c",
            str(path),
            "-p",
            str(tmp_path / "run"),
            "-e",
            str(tmp_path / "log" / "nginx-error.log"),
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_a_conversations_messages_reach_one_replica_and_conversations_spread(tmp_path):
    """The replica that answered a conversation keeps its tracker in memory, so nginx sends every
    message of a conversation (REST "sender", WhatsApp "from" in the body) to the same one."""
    import http.server
    import json
    import random
    import threading
    import time
    import urllib.request

    from tests.support.localservices import free_replica_port

    base = free_replica_port(2, 1000)
    action_base = free_replica_port(3, 1000)
    settings = load_settings(
        {**PRODUCTION, "RASA_PORT": str(base), "ACTION_PORT": str(action_base), "REPLICA_PORT_STEP": "1000"},
        env_file=tmp_path / "none",
    )
    seen = []

    def replica(number):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                seen.append((number, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"[]")

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", settings.rasa_ports[number]), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    servers = [replica(0), replica(1)]
    (tmp_path / "log").mkdir()
    path = nginx.write_config(settings, tmp_path / "run", tmp_path / "log")
    proxy = subprocess.Popen(
        [nginx.find_nginx("nginx"), "-c", str(path), "-p", str(tmp_path / "run"), "-e", str(tmp_path / "log" / "e.log")]
    )
    try:
        url = f"http://127.0.0.1:{base}/webhooks/rest/webhook"
        rest = [{"sender": f"rest:c{n}", "message": f"pesan {turn}"} for turn in range(4) for n in range(13)]
        whatsapp = [{"entry": [{"changes": [{"value": {"messages": [{"from": f"62812{n}"}]}}]}]} for n in range(3)]
        bodies = rest + whatsapp * 3
        random.Random(5).shuffle(bodies)  # in any order, and round robin would split them
        for body in bodies:
            for _ in range(50):
                try:
                    data = json.dumps(body).encode()
                    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
                    urllib.request.urlopen(request, timeout=5).read()
                    break
                except OSError:
                    time.sleep(0.1)  # nginx starting
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        for server in servers:
            server.shutdown()
    replicas_of = {}
    for number, body in seen:
        text = body.decode()
        conversation = json.loads(text).get("sender") or text.split('"from": "')[1].split('"')[0]
        replicas_of.setdefault(conversation, set()).add(number)
    assert len(seen) == len(bodies) and len(replicas_of) == 16
    assert all(len(replicas) == 1 for replicas in replicas_of.values()), replicas_of
    assert {replica for replicas in replicas_of.values() for replica in replicas} == {0, 1}
