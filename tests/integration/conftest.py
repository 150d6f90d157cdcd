"""The product started once for all integration tests, the way `make run` starts it: on free
ports, with a temporary database and tracker store, and a first supervisor from settings."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

import pytest
import requests

from crm.settings import PROJECT_ROOT
from tests.fake_graph import FakeGraph
from tests.support.customers import WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN  # noqa: F401 - re-exported
from tests.support.localservices import free_port, free_replica_port

START_TIMEOUT_S = 300


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Every test in this folder needs the running product: mark it `integration` even where a
    module forgets its `pytestmark`, so `make test-unit` (-m "not integration") never starts one."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)


class Product:
    """The product started the way `make run` starts it, on free ports and a temporary database."""

    def __init__(self, tmp: Path, graph_url: str, extra_env: Optional[dict] = None):
        extra_env = extra_env or {}
        replicas = max(int(extra_env.get("RASA_REPLICAS", 1)), int(extra_env.get("ACTION_SERVERS", 1)))
        step = int(extra_env.get("REPLICA_PORT_STEP", 1000))
        self.rasa_port, self.action_port = free_replica_port(replicas, step), free_replica_port(replicas, step)
        self.console_port, self.website_port = free_port(), free_port()
        self.admin_password = secrets.token_urlsafe(16)
        self.action_token = secrets.token_urlsafe(16)
        self.tmp = tmp
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp / 'crm.db'}",
            "TRACKER_DB": str(tmp / "tracker.db"),
            "LOG_DIR": str(tmp / "log"),
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "BRAND_NAME": "Uji Finance",
            "SEED_CUSTOMERS": "20",
            "CONSOLE_PORT": str(self.console_port),
            "WEBSITE_PORT": str(self.website_port),
            "CAMPAIGN_SENDER_PORT": str(free_port()),  # the sender runs: WhatsApp is configured
            "WHATSAPP_DAILY_RECIPIENT_LIMIT": "5000",  # the 1,000-recipient campaign plus the seeded customers
            # website tests verify with contract + birth date; test_website_codes.py runs its own product
            "WEBSITE_ONE_TIME_CODES": "false",
            "CONSOLE_ADMIN_USERNAME": "kepala",
            "CONSOLE_ADMIN_PASSWORD": self.admin_password,
            "HANDOVER_WAIT_MINUTES": "0",
            "TRAINING_DATA_DIR": str(tmp / "data"),  # the NLU inbox writes here, not into the repo
            "REVIEW_STORIES_DIR": str(tmp / "stories"),  # the review's test stories too
            "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,
            "WHATSAPP_ACCESS_TOKEN": "test-access-token",
            "WHATSAPP_PHONE_NUMBER_ID": "1098765432",
            "WHATSAPP_API_URL": graph_url,  # every unclaimed item gets the "still waiting" notice at once
            "RASA_TELEMETRY_ENABLED": "false",
            "ACTION_SERVER_TOKEN": self.action_token,
            "RATE_LIMIT_MESSAGES": "20",
            "RATE_LIMIT_WINDOW_SECONDS": "60",
            **(extra_env or {}),
        }
        self.lines: list = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crm", "serve"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Ready in"):
                self.ready.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def child_pids(self) -> list:
        """The current process of each child (a restarted child has a newer pid)."""
        return list(self.children().values())

    def children(self) -> dict:
        return {name: int(pid) for name, pid in re.findall(r"^started (.+?) \(pid (\d+),", self.output, re.M)}

    def say(self, sender: str, text: str, source: Optional[str] = None) -> list:
        """Send `text` as `sender` on the REST channel (conversation `rest:<sender>`) from `source`,
        a loopback address (127.0.0.0/8). By default each sender has an address of its own, as
        customers do, so one test's failed verifications do not count against another's."""
        if source is None:
            digest = hashlib.sha256(sender.encode()).digest()
            source = f"127.{digest[0]}.{digest[1]}.{digest[2] % 254 + 1}"
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.rasa_port, timeout=90, source_address=(source, 0) if source else None
        )
        try:
            connection.request(
                "POST",
                "/webhooks/rest/webhook",
                json.dumps({"sender": sender, "message": text}),
                {"Content-Type": "application/json"},
            )
            answer = connection.getresponse()
            body = answer.read()
            if answer.status != 200:
                raise urllib.error.HTTPError(
                    answer.geturl() if hasattr(answer, "geturl") else "",
                    answer.status,
                    body[:200].decode("utf-8", "replace"),
                    answer.headers,
                    None,
                )
            return json.loads(body)
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    @property
    def website_url(self) -> str:
        return f"http://127.0.0.1:{self.website_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def add_staff(self, username: str, role: str = "agent", name: str = "") -> str:
        """Create a console account with the CLI (`python -m crm staff`); returns its password."""
        password = secrets.token_urlsafe(16)
        subprocess.run(
            [sys.executable, "-m", "crm", "staff", username, "--role", role, "--name", name or username],
            cwd=PROJECT_ROOT,
            env={**self.env, "CRM_STAFF_PASSWORD": password},
            check=True,
            capture_output=True,
            text=True,
        )
        return password


@pytest.fixture(scope="session")
def graph():
    """The fake WhatsApp Graph API the product's WhatsApp channel sends to."""
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def product(tmp_path_factory, graph):
    running = Product(tmp_path_factory.mktemp("product"), graph.url)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not running.ready.wait(1) and running.process.poll() is None and time.monotonic() < deadline:
        pass  # a product that exits (a setup error) fails at once, not after the timeout
    if not running.ready.is_set():
        running.stop()
        pytest.fail(f"the product did not become ready in {START_TIMEOUT_S} s:\n{running.output}")
    yield running
    running.stop()


# --- console helpers shared by the console, widget and WhatsApp tests -----------------------------


def login(product, username: str, password: str) -> requests.Session:
    web = requests.Session()
    page = web.get(product.console_url + "/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = web.post(
        product.console_url + "/login",
        timeout=30,
        allow_redirects=False,
        data={"username": username, "password": password, "csrf_token": csrf},
    )
    assert answer.status_code == 303, answer.text
    web.headers["X-CSRF-Token"] = re.search(r'data-csrf="([^"]+)"', web.get(product.console_url + "/").text).group(1)
    return web


def rest_id(sender: str) -> str:
    """The conversation id a REST sender gets (crm.conversations)."""
    return sender if ":" in sender else f"rest:{sender}"


def turns(rows) -> list:
    """Stored (type_name, data) event rows as turns: each user text with the action names after it.

    Messages of one conversation sent at once to several workers or replicas are taken in the
    order they reach the conversation lock, which need not be the client's; what the lock
    promises is that each is stored once and answered before the next is read.
    """
    taken: list = []
    for type_name, data in rows:
        event = json.loads(data)
        if type_name == "user":
            taken.append((event["text"], []))
        elif type_name == "action" and taken:
            taken[-1][1].append(event["name"])
    return taken


def assert_one_turn_at_a_time(taken: list, lines: list) -> None:
    assert sorted(message for message, _ in taken) == sorted(lines)
    for message, actions in taken:
        assert actions and actions[-1] == "action_listen" and actions.count("action_listen") == 1, (message, actions)


def item_for(product, web: requests.Session, conversation: str, status: str = "open") -> dict:
    """The console's item for a conversation (a REST sender, or a full `channel:id`)."""
    from crm.conversations import shown

    wanted = {rest_id(conversation), shown(rest_id(conversation))}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        items = web.get(
            product.console_url + "/api/queue",
            params={"status": status, "sort": "newest", "per_page": "100"},
            timeout=10,
        ).json()["items"]
        found = [i for i in items if i["conversation_id"] in wanted]
        if found:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"no {status} item for {conversation}")


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    """Headless Debian chromium driven by Playwright (never a browser Playwright downloads)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
