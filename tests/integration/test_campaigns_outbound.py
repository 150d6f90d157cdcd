"""Outbound campaigns end to end (issue 18): the running product (its campaign sender started by
the supervisor), the console's forms, the fake Graph API reporting statuses to the webhook.
Draft → approvals → 1,000 recipients, the sender killed mid-campaign and restarted by the
supervisor → each sent exactly once; throttling waited out; statuses in random order counted;
STOP keeps the customer out of the next audience. Then the screens in Chromium."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select, text

from crm import db, seed
from crm.clock import to_local, utc_now
from crm.models import CampaignRecipient, Customer
from crm.settings import PROJECT_ROOT
from tests.support.customers import WHATSAPP_APP_SECRET, body_for, post, text_message, wait_for, webhook

pytestmark = pytest.mark.integration
BULK = 1000


def engine_of(product):
    return db.create_db_engine(product.env["DATABASE_URL"])


def add_bulk_customers(product) -> None:
    """1,000 more customers with an active contract and WhatsApp consent (numbers 62877000xxxxx)."""
    engine = engine_of(product)
    try:
        with engine.begin() as connection:
            if connection.execute(
                select(func.count()).select_from(Customer).where(Customer.phone.like("+62877000%"))
            ).scalar_one():
                return
            first = connection.execute(select(func.max(Customer.id))).scalar_one() + 1
            seed.insert_bulk_customers(
                connection, first, BULK, branch_id=1, now=datetime(2025, 1, 1), phone_prefix="+62877000"
            )
    finally:
        engine.dispose()


def submit_templates(product) -> None:
    """`python -m crm templates submit`: the fake Graph API approves what it is sent."""
    done = subprocess.run(
        [sys.executable, "-m", "crm", "templates", "submit"],
        cwd=PROJECT_ROOT,
        env={**product.env, "WHATSAPP_BUSINESS_ACCOUNT_ID": "waba-uji"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ucapan_hari_raya" in done.stdout and "approved" in done.stdout


def console(product, username, password) -> requests.Session:
    web = requests.Session()
    page = web.get(product.console_url + "/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = web.post(
        product.console_url + "/login",
        data={"username": username, "password": password, "csrf_token": csrf},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text
    web.csrf = re.search(r'data-csrf="([^"]+)"', web.get(product.console_url + "/campaigns", timeout=30).text).group(1)
    return web


def template_id(web, product, name) -> str:
    page = web.get(product.console_url + "/campaigns/new", timeout=30).text
    return re.search(rf'<option value="(\d+)"[^>]*>{name} ', page).group(1)


def draft_greeting(web, product, name: str, greeting: str = "Selamat Hari Raya Natal!") -> int:
    tid = template_id(web, product, "ucapan_hari_raya")
    send_at = to_local(utc_now()).strftime("%Y-%m-%dT%H:%M")
    answer = web.post(
        product.console_url + "/campaigns/new",
        timeout=60,
        allow_redirects=False,
        data={
            "csrf_token": web.csrf,
            "template_id": tid,
            "audience": "all_active",
            "parameter_count": "3",
            "name": name,
            "p1": "{customer_name}",
            "p2": greeting,
            "p3": "{brand_name}",
            "send_at": send_at,
        },
    )
    assert answer.status_code == 303, answer.text[:2000]
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def act(web, product, campaign_id: int, action: str) -> str:
    answer = web.post(
        f"{product.console_url}/campaigns/{campaign_id}/{action}",
        data={"csrf_token": web.csrf},
        timeout=60,
        allow_redirects=False,
    )
    assert answer.status_code == 303
    return answer.headers["Location"]


def recipients(product, campaign_id):
    engine = engine_of(product)
    try:
        with engine.connect() as connection:
            return dict(
                connection.execute(
                    select(CampaignRecipient.status, func.count())
                    .where(CampaignRecipient.campaign_id == campaign_id)
                    .group_by(CampaignRecipient.status)
                ).all()
            )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def team(product):
    return {
        role: (role.replace("_", "-"), product.add_staff(role.replace("_", "-"), role, role.title()))
        for role in ("analyst", "department_head", "corporate_secretary")
    }


def test_a_thousand_recipients_exactly_once_through_a_crash_throttling_and_random_statuses(product, graph, team):
    add_bulk_customers(product)
    graph.webhook, graph.app_secret, graph.shuffle_statuses = webhook(product), WHATSAPP_APP_SECRET, True
    try:
        submit_templates(product)
        analyst = console(product, *team["analyst"])
        campaign_id = draft_greeting(analyst, product, "Natal 2026")
        page = analyst.get(f"{product.console_url}/campaigns/{campaign_id}", timeout=60).text
        included = int(re.search(r'id="included">(\d+)<', page).group(1))
        assert included >= BULK and "Selamat Hari Raya Natal!" in page
        head, secretary = console(product, *team["department_head"]), console(product, *team["corporate_secretary"])
        assert "sendiri" not in act(analyst, product, campaign_id, "submit")
        assert "error=" in act(analyst, product, campaign_id, "approve")  # an analyst cannot approve
        already = len(graph.templates_sent())
        graph.hold_at = len(graph.sent) + 400  # the 400th message of this campaign hangs ...
        graph.held.clear()
        graph.release.clear()
        act(head, product, campaign_id, "approve")
        assert recipients(product, campaign_id) == {}  # still waiting for the corporate secretary
        act(secretary, product, campaign_id, "approve")
        assert graph.held.wait(180), "the sender never reached recipient 400"
        sender_pid = product.children()["campaign sender"]
        os.kill(sender_pid, signal.SIGKILL)  # ... and the sender dies while Meta has it
        graph.script = [(429, 130429, "Rate limit hit")]  # the restarted sender is throttled once
        graph.release.set()
        assert wait_for(lambda: product.children()["campaign sender"] != sender_pid, 60)
        done = wait_for(lambda: recipients(product, campaign_id).get("read", 0) == included, 300)
        assert done, recipients(product, campaign_id)
    finally:
        graph.webhook = graph.hold_at = None
        graph.shuffle_statuses = False
    ours = [m for m in graph.templates_sent()[already:] if m["template"]["name"] == "ucapan_hari_raya"]
    numbers = [m["to"] for m in ours]
    assert len(numbers) == included == len(set(numbers))  # each exactly once
    # the sender marks the campaign done on its pass after the last send (it may be backing off)
    page = wait_for(
        lambda: (lambda text: text if 'data-status="done"' in text else None)(
            analyst.get(f"{product.console_url}/campaigns/{campaign_id}", timeout=60).text
        ),
        90,
    )
    assert page, "the campaign was never marked done"
    assert f'id="sent-count">{included}<' in page and f'id="delivered-count">{included}<' in page
    assert "delivery-chart" in page
    csv = analyst.get(f"{product.console_url}/campaigns/{campaign_id}/recipients.csv", timeout=60)
    assert csv.status_code == 200 and csv.text.count("\n") == included + 1 and "+62877000" not in csv.text

    # STOP from one of them: told once, and left out of the next greeting
    stopper = "6287700000007"
    assert post(product, body_for(stopper, [text_message(stopper, "STOP")])).status_code == 200
    assert wait_for(lambda: any("tidak akan menerima info promo" in t for t in graph.texts_to(stopper)), 30)
    repeat = draft_greeting(analyst, product, "Natal 2026 lagi")  # the very same message: nobody twice
    page = analyst.get(f"{product.console_url}/campaigns/{repeat}", timeout=60).text
    assert int(re.search(r'id="included">(\d+)<', page).group(1)) == 0 and "sudah menerima pesan yang sama" in page
    second = draft_greeting(analyst, product, "Tahun Baru 2027", "Selamat Tahun Baru 2027!")
    page = analyst.get(f"{product.console_url}/campaigns/{second}", timeout=60).text
    assert int(re.search(r'id="included">(\d+)<', page).group(1)) == included - 1
    assert "sudah berhenti berlangganan" in page
    engine = engine_of(product)
    try:
        with engine.connect() as connection:
            opted = connection.execute(
                text("SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = :c AND opted_out_at IS NOT NULL"),
                {"c": campaign_id},
            ).scalar_one()
    finally:
        engine.dispose()
    assert opted == 1


def test_campaign_screens_draft_preview_approve_with_a_second_account_and_the_chart(product, graph, team, browser):
    submit_templates(product)
    page = browser.new_page()
    base = product.console_url

    def login_as(username, password):
        page.goto(base + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")

    login_as(*team["analyst"])
    page.goto(base + "/campaigns")
    page.click("#new-campaign")
    option = page.locator("select[name=template_id] option", has_text="autodebit_hari_libur")
    page.select_option("select[name=template_id]", option.get_attribute("value"))
    page.select_option("select[name=audience]", "autodebit_holiday")
    page.click("#step-one button")
    page.fill("input[name=name]", "Autodebit Natal")
    page.fill("input[name=end]", (date.today() + timedelta(days=60)).isoformat())
    page.fill("input[name=send_at]", to_local(utc_now()).strftime("%Y-%m-%dT%H:%M"))  # now: it goes at once
    page.click("#save-campaign")
    page.wait_for_selector("#campaign-status")
    assert page.get_attribute("#campaign-status", "data-status") == "draft"
    assert "Budi" in page.inner_text("#samples") or page.inner_text("#audience-count")
    page.click("#submit")
    page.wait_for_selector("#campaign-status[data-status=submitted]")
    assert page.locator("#approve").count() == 0  # the analyst cannot approve
    url = page.url
    page.click("form[action='/logout'] button")

    login_as(*team["department_head"])
    page.goto(url)
    page.click("#approve")
    page.wait_for_selector(
        ", ".join(f"#campaign-status[data-status={status}]" for status in ("approved", "sending", "done"))
    )
    assert "disetujui oleh Department_Head" in page.inner_text("#approvals")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and page.locator("#delivery-chart").count() == 0:
        time.sleep(1)
        page.reload()
    assert page.locator("#delivery-chart rect").count() == 7
    assert int(page.inner_text("#sent-count")) >= 0


def test_a_reply_to_the_autodebit_notice_is_answered_in_that_conversation_without_asking_the_contract(product, graph):
    """Budi got the autodebit notice in the screens test; his reply lands in the bot, which knows
    the notice's contract and asks only his birth date before answering with the moved debit."""
    budi = "6281210000001"
    notices = [
        m for m in graph.to(budi) if m.get("type") == "template" and m["template"]["name"] == "autodebit_hari_libur"
    ]
    assert notices, "the screens test sends Budi the autodebit notice"
    restart(product, f"whatsapp:{budi}")  # whatever earlier tests left in his conversation
    before = len(graph.texts_to(budi))
    assert (
        post(product, body_for(budi, [text_message(budi, "oh jadi autodebitnya dipotong tgl berapa?")])).status_code
        == 200
    )
    asked = wait_for(lambda: [t for t in graph.texts_to(budi)[before:] if "tanggal lahir" in t], 60)
    replies = graph.texts_to(budi)[before:]
    assert asked, replies
    assert any("berakhiran 0001" in t for t in replies)
    assert not any("nomor kontrak Bapak/Ibu" in t for t in replies)
    before = len(graph.texts_to(budi))
    post(product, body_for(budi, [text_message(budi, "17-08-1985")]))
    answer = wait_for(lambda: [t for t in graph.texts_to(budi)[before:] if "24 Desember" in t], 60)
    assert answer, graph.texts_to(budi)[before:]
    restart(product, f"whatsapp:{budi}")  # leave it as other tests expect it: not verified


def restart(product, conversation: str) -> None:
    """A restart event through Rasa's HTTP API (its token is in the Rasa process's environment,
    never in argv): the conversation starts afresh, unverified."""
    pid = product.children()["Rasa server"]
    environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    token = next(a for a in environ if a.startswith(b"RASA_API_TOKEN=")).split(b"=", 1)[1].decode()
    answer = requests.post(
        f"{product.rasa_url}/conversations/{conversation}/tracker/events",
        params={"token": token},
        json=[{"event": "restart"}],
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
