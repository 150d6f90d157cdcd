"""The whole takeover, end to end with real servers: a website customer (socket.io) asks for a
person, an agent logs in to the console in headless Chromium (Debian's `chromium`, driven by
Playwright), claims, sees the customer's messages live, replies, the customer receives the
reply, the agent resolves, and the bot answers again."""

from __future__ import annotations

import sqlite3

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

        attack = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script> tagihan saya salah"
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
        actions = [a for (a,) in db.execute(
            "SELECT action FROM audit_log JOIN staff ON staff.id = audit_log.staff_id "
            "WHERE staff.username = 'rina' ORDER BY audit_log.id")]
        status, note = db.execute(
            "SELECT status, note FROM escalations WHERE conversation_id = ?", (customer.session_id,)).fetchone()
    assert actions[:4] == ["staff_created", "login", "claim", "reply"] and actions[-1] == "resolve"
    assert status == "resolved" and note.startswith("Tagihan dicek")
