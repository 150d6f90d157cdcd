"""End to end over REST: the money questions (how to pay, late fees, paying off, a payment that
does not show), in customers' words, against the seeded database."""

from __future__ import annotations

import calendar

import pytest
import requests

from crm.clock import to_local, utc_now
from crm.formatting import long_date

pytestmark = pytest.mark.integration


def _texts(replies: list) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_how_to_pay_without_and_with_verification(product):
    sender = "money-methods"
    general = product.say(sender, "kak angsuran bisa dibayar lewat mana aja ya")
    text = _texts(general)
    assert "Virtual Account" in text and "Alfamart" in text and "8808" not in text, text
    buttons = [b for r in general for b in r.get("buttons", [])]
    steps = _texts(product.say(sender, buttons[1]["payload"]))
    assert "Cara bayar lewat" in steps and "verifikasi" in steps, steps


def test_late_fee_breakdown_for_siti(product):
    sender = "money-late-fee"
    product.say(sender, "min kok dendanya segini sih")
    product.say(sender, "K20123000002")
    reply = _texts(product.say(sender, "05-03-1990"))
    assert "Denda keterlambatan kontrak K20123000002" in reply and reply.count("terlambat") >= 2, reply


def test_payoff_for_budi(product):
    sender = "money-payoff"
    product.say(sender, "kalo mau lunasin kredit sekarang berapa kak")
    product.say(sender, "K10124000001")
    reply = _texts(product.say(sender, "17-08-1985"))
    assert "Perkiraan pelunasan kontrak K10124000001" in reply and "Sisa pokok" in reply, reply


def test_payoff_for_the_end_of_the_month_and_for_a_month_that_is_no_day(product):
    today = to_local(utc_now()).date()
    month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    product.say("money-payoff-end", "kalau mau lunas akhir bulan ini totalnya brp")
    product.say("money-payoff-end", "K10124000001")
    reply = _texts(product.say("money-payoff-end", "17-08-1985"))
    assert f"K10124000001 per {long_date(month_end)}" in reply, reply
    product.say("money-payoff-month", "sy mau lunasin bulan depan brp")
    product.say("money-payoff-month", "K10124000001")
    reply = _texts(product.say("money-payoff-month", "17-08-1985"))
    assert "sebutkan tanggalnya" in reply and f"K10124000001 per {long_date(today)}" in reply, reply


def test_a_payment_in_flight_for_siti(product):
    sender = "money-in-flight"
    product.say(sender, "sy udh bayar kemarin lewat atm kok blm masuk")
    product.say(sender, "K20123000002")
    reply = _texts(product.say(sender, "05-03-1990"))
    assert "sedang diproses" in reply, reply


def test_payoff_letter_requested_over_rest(product):
    sender = "money-payoff-letter"
    product.say(sender, "total pelunasan mobil saya berapa")
    product.say(sender, "K10124000001")
    quote = product.say(sender, "17-08-1985")
    assert any(b["payload"] == "/affirm" for r in quote for b in r.get("buttons", [])), quote
    reply = _texts(product.say(sender, "/affirm"))
    assert "nomor referensi REQ-" in reply and "Surat keterangan pelunasan" in reply, reply


def test_statement_on_the_website_opens_only_in_its_conversation(product):
    from tests.support.customers import WebsiteCustomer

    customer = WebsiteCustomer(product.rasa_url)
    other = WebsiteCustomer(product.rasa_url)
    try:
        customer.say("min minta kartu piutang kontrak saya")
        customer.wait_for("tulis nomor kontrak")
        customer.say("K20123000002")
        customer.wait_for("tanggal lahir pemilik kontrak")
        customer.say("05-03-1990")
        ready = customer.wait_for("Rincian pembayaran (kartu piutang) kontrak K20123000002")
        assert "30 menit" in ready and "denda berjalan" in ready, ready
        attachment = customer.attachments.get(timeout=30)
        url = product.rasa_url + attachment["payload"]["url"]
        pdf = requests.get(url, headers={"X-Chat-Session": customer.token}, timeout=10)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["Content-Type"] == "application/pdf" and "attachment;" in pdf.headers["Content-Disposition"]
        import io

        from pypdf import PdfReader

        text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
        assert "K20123000002" in text and "Siti" in text
        for refused in ({}, {"X-Chat-Session": other.token}, {"X-Chat-Session": customer.session_id}):
            assert requests.get(url, headers=refused, timeout=10).status_code == 404
    finally:
        customer.close()
        other.close()


def test_payment_not_found_on_the_website_takes_an_uploaded_proof(product):
    from tests.integration.conftest import item_for, login
    from tests.support.customers import WebsiteCustomer

    customer = WebsiteCustomer(product.rasa_url)
    proof_url = product.rasa_url + "/webhooks/socketio/proof"
    try:
        early = requests.post(
            proof_url, data=b"\xff\xd8x", headers={"X-Chat-Session": customer.token, "Content-Type": "image/jpeg"}
        )
        assert early.status_code == 409  # no dispute waits for a proof yet
        customer.say("sy udh bayar kok blm masuk ya")
        customer.wait_for("tulis nomor kontrak")
        customer.say("K10223000005")
        customer.wait_for("tanggal lahir pemilik kontrak")
        customer.say("23-11-1988")
        customer.wait_for("juga memiliki kontrak K10224000004")  # Dewi's other contract, named
        customer.wait_for("Kapan Bapak/Ibu membayar")
        customer.say("6 hari lalu lewat atm 4,5 juta")
        found = customer.wait_for("belum kami temukan")
        assert "CASE-" in found and "📎" in found, found
        headers = {"X-Chat-Session": customer.token, "Content-Type": "image/png", "X-Filename": "struk%20atm.png"}
        assert requests.post(proof_url, data=b"\x89PNG-proof", headers=headers, timeout=10).status_code == 200
        customer.wait_for("bukti bayar sudah kami terima")
        forged = {**headers, "X-Chat-Session": customer.session_id}
        assert requests.post(proof_url, data=b"x", headers=forged, timeout=10).status_code == 403
        wrong = {**headers, "Content-Type": "text/html"}
        assert requests.post(proof_url, data=b"<b>", headers=wrong, timeout=10).status_code == 415
    finally:
        customer.close()
    web = login(product, "kepala", product.admin_password)
    item = item_for(product, web, customer.session_id)
    case = web.get(f"{product.console_url}/api/items/{item['id']}", timeout=10).json()["item"]["case"]
    assert case["kind"] == "Pembayaran belum masuk"
    assert {"name": "Jumlah", "value": "Rp4.500.000"} in case["fields"]
    assert [a["filename"] for a in case["attachments"]] == ["struk atm.png"]
    file = web.get(product.console_url + case["attachments"][0]["url"], timeout=10)
    assert file.status_code == 200 and file.content == b"\x89PNG-proof"
