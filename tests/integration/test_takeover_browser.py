"""The whole takeover, end to end with real servers: a website customer (socket.io) asks for a
person, an agent logs in to the console in headless Chromium (Debian's `chromium`, driven by
Playwright), claims, sees the customer's messages live, replies, the customer receives the
reply, the agent resolves, and the bot answers again."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from tests.support.customers import WebsiteCustomer

pytestmark = pytest.mark.integration


def test_agent_takes_over_replies_and_hands_back(product, browser):
    from playwright.sync_api import expect

    password = product.add_staff("rina", "agent", "Rina Wijaya")
    customer = WebsiteCustomer(product.rasa_url)
    try:
        customer.say("halo, saya mau bicara dengan petugas")
        customer.wait_for("sambungkan ke petugas CRM")

        page = browser.new_page()
        page.goto(product.console_url + "/")
        page.fill("input[name=username]", "rina")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(product.console_url + "/")
        row = page.locator("#queue tbody tr", has_text="Minta petugas").filter(has_text="socketio").first
        row.wait_for(timeout=15000)  # appears by itself: the queue refreshes without reloading
        row.locator("a").click()
        page.wait_for_selector("#transcript li")
        assert "saya mau bicara dengan petugas" in page.inner_text("#transcript")

        page.click("#claim")
        assert "Rina" in customer.wait_for("dari tim CRM")
        page.wait_for_selector("#reply-form:not([hidden])")

        attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> tagihan saya salah'
        customer.say(attack)
        expect(page.locator("#transcript")).to_contain_text("tagihan saya salah", timeout=15000)
        assert page.evaluate("() => window.__pwned") is None
        assert "<script>window.__pwned=2</script>" in page.inner_text("#transcript")  # shown as text
        assert customer.drain(3) == []  # the bot stays silent while the agent holds the chat

        page.fill("#reply-text", "Baik Bapak/Ibu, tagihannya kami periksa sekarang.")
        page.click("#reply-form button")
        assert customer.wait_for("tagihannya kami periksa") == "Baik Bapak/Ibu, tagihannya kami periksa sekarang."

        page.fill("#resolve-note", "Tagihan dicek, salah input cabang, sudah dikoreksi.")
        page.click("#resolve-form button")
        customer.wait_for("Percakapan dengan petugas sudah selesai")
        expect(page.locator("#item-status")).to_have_text("Selesai", timeout=15000)

        customer.say("jam buka cabang surabaya besok")
        assert "Cabang Surabaya" in customer.wait_for("Jam layanan")
    finally:
        customer.close()

    with sqlite3.connect(product.tmp / "crm.db") as db:
        actions = [
            a
            for (a,) in db.execute(
                "SELECT action FROM audit_log JOIN staff ON staff.id = audit_log.staff_id "
                "WHERE staff.username = 'rina' ORDER BY audit_log.id"
            )
        ]
        status, note = db.execute(
            "SELECT status, note FROM escalations WHERE conversation_id = ?", (customer.session_id,)
        ).fetchone()
    assert actions[:4] == ["staff_created", "login", "claim", "reply"] and actions[-1] == "resolve"
    assert status == "resolved" and note.startswith("Tagihan dicek")


def test_staff_see_and_release_a_verification_lock_in_the_console(product, browser):
    from playwright.sync_api import expect

    from crm import policy

    contract, born = "K10223000005", "23-11-1988"  # Dewi's loan: no other test guesses it
    for n in range(policy.VERIFY_CONTRACT_MAX_FAILURES):
        sender = f"lock-{n}-{uuid.uuid4().hex[:6]}"
        product.say(sender, "cicilan saya berapa")
        product.say(sender, contract)
        product.say(sender, f"0{n + 1}-01-1970")
    page = browser.new_page()
    page.goto(product.console_url + "/")
    page.fill("input[name=username]", "kepala")
    page.fill("input[name=password]", product.admin_password)
    page.click("button[type=submit]")
    page.wait_for_url(product.console_url + "/")
    row = page.locator("#locks tbody tr", has_text=contract)
    expect(row).to_be_visible(timeout=15000)
    row.locator("button").click()
    expect(page.locator("#locks tbody tr", has_text=contract)).to_have_count(0, timeout=15000)
    owner = f"owner-{uuid.uuid4().hex[:6]}"
    product.say(owner, "cicilan saya berapa")
    product.say(owner, contract)
    assert "verifikasi berhasil" in "\n".join(r.get("text", "") for r in product.say(owner, born))
    with sqlite3.connect(product.tmp / "crm.db") as db:
        released = db.execute("SELECT detail FROM audit_log WHERE action = 'verification_unlock'").fetchall()
    assert (contract,) in released
