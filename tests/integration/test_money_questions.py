"""End to end over REST: the money questions (how to pay, late fees, paying off, a payment that
does not show), in customers' words, against the seeded database."""

from __future__ import annotations

import pytest

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


def test_a_payment_in_flight_for_siti(product):
    sender = "money-in-flight"
    product.say(sender, "sy udh bayar kemarin lewat atm kok blm masuk")
    product.say(sender, "K20123000002")
    reply = _texts(product.say(sender, "05-03-1990"))
    assert "sedang diproses" in reply, reply
