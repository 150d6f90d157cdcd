"""The console's handlers in-process (an in-process Sanic server on loopback, a fake Rasa, a real
migrated database): login, CSRF, roles, the claim race and bad input, without starting the
product. The browser tests in tests/integration/ cover the same screens end to end."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from sanic import Sanic

from crm import policy
from crm.console.app import create_app
from crm.db import session_scope
from crm.models import EscalationReason
from crm.services.escalations import escalate
from crm.services.staff import create_staff
from crm.settings import load_settings
from tests.support.console import PASSWORD, FakeRasa, login, run


@pytest.fixture
def console(session_factory, tmp_path, monkeypatch):
    monkeypatch.setattr(policy, "LOGIN_MAX_DELAY_SECONDS", 0)  # the waits are tested in test_queue.py
    # Sanic rewrites some of its own methods at start ("touchup"); a second app in one process
    # needs the originals kept, which is what its test mode does
    monkeypatch.setattr(Sanic, "test_mode", True)
    with session_scope(session_factory) as db:
        create_staff(db, "kepala", "Kepala CRM", PASSWORD, "supervisor")
        create_staff(db, "ayu", "Ayu", PASSWORD, "agent")
        create_staff(db, "bima", "Bima", PASSWORD, "agent")
        item = escalate(
            db, conversation_id="rest:pelanggan", channel="rest", reason=EscalationReason.HUMAN_REQUEST
        ).escalation_id
    rasa = FakeRasa()
    app = create_app(
        load_settings({}, env_file=tmp_path / "none"),
        rasa=rasa,
        factory=session_factory,
        name=f"console_{tmp_path.name}"[:60].replace("-", "_"),
        notify=False,
    )
    return app, rasa, item


def test_login_and_the_pages_need_a_session(console):
    app, _, _ = console

    async def scenario(base):
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.get(base + "/", allow_redirects=False) as page:
                assert page.status == 303 and page.headers["Location"] == "/login"
            async with anonymous.get(base + "/api/queue") as api:
                assert api.status == 401
        wrong, status = await login(base, "ayu", "salah-salah-salah")
        await wrong.close()
        assert status == 401
        ayu, status = await login(base, "ayu")
        async with ayu.get(base + "/api/queue") as api:
            assert api.status == 200 and (await api.json())["total"] == 1
        await ayu.close()
        assert status == 303

    run(app, scenario)


def test_five_failures_lock_the_username_and_address_pair(console):
    app, _, _ = console

    async def scenario(base):
        statuses = []
        for _ in range(policy.LOGIN_MAX_FAILURES + 1):
            http, status = await login(base, "bima", "tebakan-salah")
            await http.close()
            statuses.append(status)
        right, status = await login(base, "bima")
        await right.close()
        return statuses, status

    statuses, right = run(app, scenario)
    assert statuses == [401] * policy.LOGIN_MAX_FAILURES + [429] and right == 429


def test_state_changes_need_the_csrf_token_and_roles_are_checked(console):
    app, rasa, item = console

    async def scenario(base):
        ayu, _ = await login(base, "ayu")
        token = ayu.headers.pop("X-CSRF-Token")
        async with ayu.post(f"{base}/api/items/{item}/claim", json={}) as answer:
            assert answer.status == 403
        async with ayu.get(base + "/api/nlu-inbox") as answer:
            assert answer.status == 403  # supervisors only
        async with ayu.get(base + "/nlu-inbox") as page:
            assert page.status == 403
        ayu.headers["X-CSRF-Token"] = token
        async with ayu.post(f"{base}/api/items/{item}/claim", json={}) as answer:
            assert answer.status == 200
        await ayu.close()
        boss, _ = await login(base, "kepala")
        async with boss.get(base + "/api/nlu-inbox") as answer:
            assert answer.status == 200
        await boss.close()

    run(app, scenario)
    assert rasa.appended and rasa.appended[0][1][0] == {"event": "pause"}


def test_two_agents_claiming_at_once_exactly_one_wins(console):
    app, _, item = console

    async def scenario(base):
        agents = [(await login(base, name))[0] for name in ("ayu", "bima")]

        async def claim(http):
            async with http.post(f"{base}/api/items/{item}/claim", json={}) as answer:
                return answer.status

        statuses = await asyncio.gather(*(claim(http) for http in agents))
        for http in agents:
            await http.close()
        return sorted(statuses)

    assert run(app, scenario) == [200, 409]


def test_bad_input_gets_a_4xx_never_a_500(console):
    app, _, _ = console

    async def scenario(base):
        boss, _ = await login(base, "kepala")
        found = []
        for method, path, kwargs in [
            ("get", "/api/items/99999999999999999999", {}),
            ("get", "/items/99999999999999999999", {}),
            ("post", "/api/items/99999999999999999999/claim", {"json": {}}),
            ("post", "/api/items/1/reply", {"data": "{not json", "headers": {"Content-Type": "application/json"}}),
            ("get", "/api/queue?max_age_hours=nan", {}),
            ("get", "/api/queue?max_age_hours=1e300", {}),
            ("get", "/api/queue?page=0", {}),
            ("post", "/api/verification-locks/xyz/release", {"json": {}}),
        ]:
            async with getattr(boss, method)(base + path, **kwargs) as answer:
                found.append((path, answer.status))
        await boss.close()
        return found

    for path, status in run(app, scenario):
        assert 400 <= status < 500, (path, status)


def test_a_payment_proof_is_shown_to_staff_only_with_its_item(console, session_factory):
    from datetime import datetime

    from crm.models import CaseKind
    from crm.services.cases import attach_proof, file_case

    app, _, other_item = console
    with session_scope(session_factory) as db:
        filed = file_case(
            db,
            kind=CaseKind.PAYMENT_DISPUTE,
            conversation_id="whatsapp:6281234567890",
            channel="whatsapp",
            data={"channel": "ATM bank lain", "paid_on": "2026-11-16", "amount": 6228000, "amount_source": "customer"},
        )
        attached = attach_proof(
            db,
            "whatsapp:6281234567890",
            source="whatsapp",
            content_type="image/png",
            filename="struk atm.png",
            data=b"\x89PNG\r\n\x1a\nproof",
            now=datetime.utcnow(),
        )
    item = filed.escalation.escalation_id
    url = f"/items/{item}/attachments/{attached.attachment_id}"

    async def scenario(base):
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.get(base + url, allow_redirects=False) as answer:
                assert answer.status == 303  # to the login page, not the file
        ayu, _ = await login(base, "ayu")
        async with ayu.get(base + f"/items/{item}") as page:
            html = await page.text()
            assert f'src="{url}"' in html and "struk atm.png" in html
            assert "Rp6.228.000" in html and "ATM bank lain" in html
        async with ayu.get(base + url) as answer:
            assert answer.status == 200 and await answer.read() == b"\x89PNG\r\n\x1a\nproof"
            assert answer.headers["Content-Type"] == "image/png"
            assert answer.headers["Content-Security-Policy"].startswith("sandbox")
            assert answer.headers["Content-Disposition"] == 'inline; filename="struk_atm.png"'
        async with ayu.get(base + f"/items/{other_item}/attachments/{attached.attachment_id}") as answer:
            assert answer.status == 404  # an attachment is reached through its own item only
        await ayu.close()

    run(app, scenario)


def test_after_24_hours_an_agent_sends_the_approved_template_and_it_is_recorded(session_factory, tmp_path, monkeypatch):
    """WhatsApp refuses free text 24 hours after the customer's last message: the agent's words go
    out inside the approved agents' template (to a fake Graph API) and into the transcript."""
    import time as clock

    from crm.models import TemplateStatus
    from crm.services import templates
    from tests.fake_graph import FakeGraph

    monkeypatch.setattr(Sanic, "test_mode", True)
    graph = FakeGraph()
    customer_spoke = clock.time() - 25 * 3600

    class OldConversation(FakeRasa):
        def __init__(self):
            super().__init__()
            self.recorded = []
            self.last = customer_spoke

        async def tracker(self, conversation_id):
            return {"events": [{"event": "user", "text": "halo", "timestamp": self.last, "input_channel": "whatsapp"}]}

        async def record(self, conversation_id, events):
            self.recorded.append((conversation_id, events))

    with session_scope(session_factory) as db:
        create_staff(db, "ayu", "Ayu Lestari", PASSWORD, "agent")
        item = escalate(
            db, conversation_id="whatsapp:6281210000001", channel="whatsapp", reason=EscalationReason.HUMAN_REQUEST
        ).escalation_id
        templates.load(db, templates.read_file())
    rasa = OldConversation()
    settings = load_settings(
        {
            "WHATSAPP_ACCESS_TOKEN": "test-access-token",
            "WHATSAPP_PHONE_NUMBER_ID": "123",
            "WHATSAPP_API_URL": graph.url,
        },
        env_file=tmp_path / "none",
    )
    app = create_app(settings, rasa=rasa, factory=session_factory, name="console_template", notify=False)

    async def scenario(base):
        ayu, _ = await login(base, "ayu")
        async with ayu.post(f"{base}/api/items/{item}/claim") as answer:
            assert "24 jam" in (await answer.json())["warning"]
        async with ayu.post(f"{base}/api/items/{item}/reply", json={"text": "BPKB sudah siap"}) as answer:
            assert answer.status == 409
        async with ayu.post(f"{base}/api/items/{item}/template", json={"text": "BPKB sudah siap"}) as answer:
            assert answer.status == 409 and "disetujui" in (await answer.json())["error"]  # not approved yet
        with session_scope(session_factory) as db:
            for row in templates.all_templates(db, use="agents"):
                row.status = TemplateStatus.APPROVED
        async with ayu.post(
            f"{base}/api/items/{item}/template", json={"text": "BPKB Bapak\nsudah siap diambil mulai Senin."}
        ) as answer:
            assert answer.status == 200, await answer.text()
        async with ayu.get(f"{base}/campaigns", allow_redirects=False) as page:
            assert page.status == 403  # agents do not run campaigns
        rasa.last = clock.time()  # the customer wrote again: free text, not a template
        async with ayu.post(f"{base}/api/items/{item}/template", json={"text": "Baik"}) as answer:
            assert answer.status == 409 and "biasa" in (await answer.json())["error"]
        await ayu.close()

    try:
        run(app, scenario)
    finally:
        graph.close()
    (sent,) = graph.templates_sent()
    assert sent["to"] == "6281210000001" and sent["template"]["name"] == "balasan_petugas"
    values = [p["text"] for p in sent["template"]["components"][0]["parameters"]]
    assert values == ["Ayu", "Mitra Mobil Finance", "BPKB Bapak sudah siap diambil mulai Senin."]
    ((conversation, events),) = rasa.recorded
    assert conversation == "whatsapp:6281210000001" and "sudah siap diambil mulai Senin" in events[0]["text"]
    assert events[0]["metadata"]["template"] == "balasan_petugas"


def test_a_missing_or_impossible_campaign_is_a_404(console):
    app, _, _ = console

    async def scenario(base):
        boss, _ = await login(base, "kepala")
        found = []
        for path in ("/campaigns/999999", "/campaigns/99999999999999999999/edit", "/campaigns/7/recipients.csv"):
            async with boss.get(base + path) as page:
                found.append((page.status, await page.text()))
        await boss.close()
        return found

    for status, text in run(app, scenario):
        assert status == 404 and "tidak ditemukan" in text.lower()
