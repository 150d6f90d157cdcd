"""crm.nlu.styles: the ways customers type, applied to held-out messages the same way every run."""

from __future__ import annotations

import random

from crm.nlu.evaluate import Prediction, right
from crm.nlu.styles import (
    STYLES,
    called,
    capitals,
    joined,
    rewritten,
    stretched,
    swapped,
    without_vowels,
    wrapped,
)


def test_each_style_rewrites_as_customers_type():
    rng = random.Random(7)
    assert capitals("cicilan saya berapa", rng) == "CICILAN SAYA BERAPA"
    assert stretched("cicilan saya berapa", rng) == "cicilaaan saya berapa"
    assert without_vowels("pembayaran saya belum masuk", rng) == "pmbyrn saya belum masuk"
    assert without_vowels("ya", rng) is None  # nothing long enough
    assert wrapped("bpkb kapan bisa diambil", rng) == "Selamat siang kak. Bpkb kapan bisa diambil? Terima kasih."
    assert called("denda saya berapa", rng) == "min denda saya berapa ya min"
    swap = swapped("pembayaran saya belum masuk", rng)
    assert swap != "pembayaran saya belum masuk" and sorted(swap) == sorted("pembayaran saya belum masuk")
    assert joined("kapan bpkb bisa diambil", rng).count(" ") == 2


def test_the_same_messages_are_rewritten_the_same_way_every_run():
    examples = [("pembayaran saya belum masuk", "report_payment_not_posted"), ("ya", "affirm")]
    for _, style in STYLES.values():
        assert rewritten(examples, style) == rewritten(examples, style)
    assert rewritten(examples, without_vowels) == [("pmbyrn saya belum masuk", "report_payment_not_posted")]


def test_an_unrelated_message_is_right_at_the_fallback():
    def read(predicted: str, expected: str) -> Prediction:
        return Prediction("pesan", expected, predicted, 0.9)

    assert right(read("nlu_fallback", "out_of_scope")) and right(read("out_of_scope", "out_of_scope"))
    assert right(read("ask_instalment", "ask_instalment")) and not right(read("nlu_fallback", "ask_instalment"))
