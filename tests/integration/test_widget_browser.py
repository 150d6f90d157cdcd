"""The website chat widget in headless Chromium (Debian's `chromium`, Playwright): the demo page
embeds it with one snippet; greet, a verified instalment question answered with buttons, a
reload keeps the conversation, a phone-sized screen, and a clear message when the server is
unreachable."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration


def open_widget(page, url: str):
    page.goto(url)
    page.click("#crm-chat .crm-launcher")
    page.wait_for_selector("#crm-chat .crm-banner", state="hidden", timeout=20000)  # connected


def say(page, text: str) -> None:
    page.fill("#crm-chat .crm-input", text)
    page.click("#crm-chat .crm-send")


def test_greet_verify_with_buttons_and_reload(product, browser):
    from playwright.sync_api import expect

    page = browser.new_page()
    open_widget(page, product.website_url + "/")
    log = page.locator("#crm-chat .crm-log")
    say(page, "halo min")
    expect(log).to_contain_text("selamat datang di layanan chat Uji Finance", timeout=30000)

    say(page, "cicilan saya bulan ini berapa ya")
    expect(log).to_contain_text("nomor kontrak", timeout=30000)
    say(page, "K10224000004")
    expect(log).to_contain_text("tanggal lahir", timeout=30000)
    say(page, "23-11-1988")
    expect(log).to_contain_text("verifikasi berhasil", timeout=30000)
    # Dewi has two contracts: the one typed is answered, the other named
    expect(log).to_contain_text("juga memiliki kontrak K10223000005", timeout=30000)
    expect(log).to_contain_text("Rp", timeout=30000)
    say(page, "cara bayarnya gimana")
    choice = page.locator("#crm-chat .crm-buttons button", has_text="Virtual Account")  # one per way to pay
    expect(choice).to_be_visible(timeout=30000)
    choice.click()
    expect(log).to_contain_text("Cara bayar lewat Virtual Account", timeout=30000)
    expect(log).to_contain_text("nomor VA 880810224000004")  # the Raize's, verified
    page.wait_for_selector("#crm-chat .crm-typing", state="hidden", timeout=30000)
    expect(page.locator("#crm-chat .crm-msg.crm-user").last).not_to_have_text("/inform")  # the title is shown
    before = log.inner_text()

    page.reload()
    expect(page.locator("#crm-chat .crm-panel")).to_be_visible()  # still open after the reload
    expect(log).to_contain_text("verifikasi berhasil")
    assert log.inner_text().strip() == before.strip()
    page.wait_for_selector("#crm-chat .crm-banner", state="hidden", timeout=20000)
    say(page, "makasih ya")  # the same conversation goes on server-side
    expect(log).to_contain_text(re.compile(r"Sama-sama|Terima kasih kembali"), timeout=30000)


def test_phone_sized_screen_uses_the_whole_width(product, browser):
    page = browser.new_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    open_widget(page, product.website_url + "/")
    box = page.locator("#crm-chat .crm-panel").bounding_box()
    assert box["width"] == 375 and box["height"] == 667
    send = page.locator("#crm-chat .crm-send").bounding_box()
    assert send["x"] + send["width"] <= 375


def test_unreachable_server_is_said_and_input_waits(product, browser):
    from playwright.sync_api import expect

    page = browser.new_page()
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    page.set_content(
        f'<html><body><script src="{product.website_url}/widget/widget.js" '
        f'data-rasa-url="{dead}"></script></body></html>'
    )
    page.click("#crm-chat .crm-launcher")
    banner = page.locator("#crm-chat .crm-banner")
    expect(banner).to_contain_text("belum dapat dihubungi", timeout=20000)
    expect(page.locator("#crm-chat .crm-send")).to_be_disabled()


def test_typing_indicator_shows_while_waiting(product, browser):
    page = browser.new_page()
    open_widget(page, product.website_url + "/")
    page.evaluate("""() => {
        const typing = document.querySelector('#crm-chat .crm-typing');
        new MutationObserver(() => { if (!typing.hidden) window.__typingSeen = true; })
            .observe(typing, {attributes: true});
    }""")
    say(page, "jam buka cabang surabaya besok")
    page.wait_for_selector("#crm-chat .crm-msg.crm-bot", timeout=30000)
    assert page.evaluate("() => window.__typingSeen") is True
    assert page.locator("#crm-chat .crm-typing").is_hidden()  # gone once the answer arrived


def test_agent_replies_during_a_takeover_arrive_live_in_the_widget(product, browser):
    from playwright.sync_api import expect

    from tests.integration.conftest import item_for, login

    page = browser.new_page()
    open_widget(page, product.website_url + "/")
    log = page.locator("#crm-chat .crm-log")
    say(page, "saya mau bicara dengan petugas")
    expect(log).to_contain_text("petugas CRM", timeout=30000)
    session_id = page.evaluate("""() => {
        const key = Object.keys(localStorage).find(k => k.startsWith('crm-chat:'));
        return "web:" + JSON.parse(localStorage.getItem(key)).sessionToken.split(".")[0];
    }""")
    web = login(product, "kepala", product.admin_password)
    item = item_for(product, web, session_id)
    assert item["channel"] == "socketio"
    assert web.post(f"{product.console_url}/api/items/{item['id']}/claim", json={}, timeout=30).status_code == 200
    expect(log).to_contain_text("dari tim CRM", timeout=15000)
    assert (
        web.post(
            f"{product.console_url}/api/items/{item['id']}/reply",
            json={"text": "Halo, saya bantu cek datanya ya."},
            timeout=30,
        ).status_code
        == 200
    )
    expect(log).to_contain_text("Halo, saya bantu cek datanya ya.", timeout=15000)
    assert (
        web.post(
            f"{product.console_url}/api/items/{item['id']}/resolve", json={"note": "dibantu"}, timeout=30
        ).status_code
        == 200
    )
    expect(log).to_contain_text("Percakapan dengan petugas sudah selesai", timeout=15000)


def test_statement_download_and_proof_upload_from_the_widget(product, browser, tmp_path):
    """A statement asked in the widget downloads as a PDF (cross-origin, with the session token
    in a header); after a payment that cannot be found, the 📎 button sends a photo."""
    from playwright.sync_api import expect

    page = browser.new_page(accept_downloads=True)
    open_widget(page, product.website_url + "/")
    log = page.locator("#crm-chat .crm-log")
    say(page, "min minta rincian pembayaran kontrak saya")
    expect(log).to_contain_text("nomor kontrak", timeout=30000)
    say(page, "K20123000002")
    expect(log).to_contain_text("tanggal lahir", timeout=30000)
    say(page, "05-03-1990")
    button = page.locator("#crm-chat .crm-download")
    expect(button).to_be_visible(timeout=30000)
    with page.expect_download(timeout=30000) as downloading:
        button.click()
    saved = tmp_path / "statement.pdf"
    downloading.value.save_as(saved)
    assert downloading.value.suggested_filename.startswith("rincian-pembayaran-K20123000002")
    assert saved.read_bytes().startswith(b"%PDF")

    say(page, "saya udah bayar kok belum masuk ya")
    expect(log).to_contain_text("Kapan Bapak/Ibu membayar", timeout=30000)
    say(page, "6 hari lalu lewat alfamart")
    expect(log).to_contain_text("belum kami temukan", timeout=30000)
    photo = tmp_path / "struk.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\nstruk")
    with page.expect_file_chooser() as choosing:
        page.click("#crm-chat .crm-attach")
    choosing.value.set_files(str(photo))
    expect(log).to_contain_text("📎 struk.png", timeout=10000)
    expect(log).to_contain_text("bukti bayar sudah kami terima", timeout=30000)
